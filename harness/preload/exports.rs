//! The library's dynamic symbols: the C-level layer's functions, the C
//! ones included (a second version script exports them), glibc's entry
//! points and aliases, the JACK wrappers, `dlsym` and the marking
//! functions.

use std::process::Command;

use crate::rig::{library, on_path, require};

#[test]
fn the_layer_the_wrappers_and_the_markers_are_exported() {
    if !require(on_path("nm"), "exports", "nm is not on PATH (binutils)") {
        return;
    }
    let o = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(library())
        .output()
        .expect("nm runs");
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    let exported: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, kind, name) = (f.next()?, f.next()?, f.next()?);
            (kind == "T").then_some(name)
        })
        .collect();
    for name in [
        // C functions of the layer (variadic.c)
        "printf",
        "fprintf",
        "syscall",
        "open",
        "openat64",
        "dprintf",
        "__printf_chk",
        "__fprintf_chk",
        "__vprintf_chk",
        "__vfprintf_chk",
        "__dprintf_chk",
        "__vdprintf_chk",
        // Rust functions of the layer
        "malloc",
        "free",
        "calloc",
        "realloc",
        "pthread_mutex_lock",
        "nanosleep",
        "write",
        // their _FORTIFY_SOURCE variants
        "__read_chk",
        "__pread64_chk",
        "__recv_chk",
        "__recvfrom_chk",
        "__poll_chk",
        "__ppoll_chk",
        "__fread_chk",
        "__fgets_chk",
        "__open_2",
        "__open64_2",
        "__openat_2",
        "__openat64_2",
        // glibc's entry points and aliases, for programs that define the
        // public functions themselves
        "__libc_malloc",
        "__libc_free",
        "__libc_memalign",
        "__write",
        "_IO_vfprintf",
        // this library's
        "dlsym",
        "jack_set_process_callback",
        "jack_set_process_thread",
        "jack_cycle_wait",
        "jack_cycle_signal",
        "jack_set_buffer_size_callback",
        "allocgate_callback_begin",
        "allocgate_callback_end",
    ] {
        assert!(exported.contains(&name), "{name} is not exported");
    }
}
