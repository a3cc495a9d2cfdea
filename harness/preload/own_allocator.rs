//! A program that defines `malloc`, `free`, …, `pthread_mutex_lock`,
//! `write` and `fputs` itself (fixtures/own_allocator.c), as a program
//! linked with the C-level layer does: its definitions come before the
//! library's, forward to glibc's `__libc_*` entry points, to
//! `dlsym(RTLD_NEXT)` and to glibc's aliases `__write` and `_IO_fputs`,
//! and each call is counted exactly once in the library's scopes.

use allocgate_wire::Role;

use crate::rig::{compile, read, run_under, scratch};

/// ROUNDS in own_allocator.c.
const ROUNDS: u64 = 60;

#[test]
fn a_program_with_its_own_allocator_is_counted_once_per_call() {
    let dir = scratch("own");
    let Some(exe) = compile("own", &["own_allocator.c"], &dir.join("own"), false) else {
        return;
    };
    let stream = dir.join("stream");
    let o = run_under(&exe, &[], None, &stream, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let c = read(&stream);
    assert!(c.is_complete(), "{:?}", c.problem);
    assert_eq!(c.clients.len(), 1, "{:?}", c.clients);
    assert_eq!(c.clients[0].role, Role::Manual);
    let calls: Vec<_> = c.callbacks_of(c.clients[0].slot).collect();
    assert_eq!(calls.len() as u64, ROUNDS);
    let mut own = 0;
    for (i, call) in calls.iter().enumerate() {
        let i = i as u64;
        assert_eq!(call.index, i);
        let small = u64::from(i.is_multiple_of(2));
        let grown = u64::from(i.is_multiple_of(3));
        let aligned = u64::from(i.is_multiple_of(5));
        let locked = u64::from(i.is_multiple_of(4));
        let written = u64::from(i.is_multiple_of(6));
        let put = u64::from(i.is_multiple_of(7));
        let k = &call.counts;
        assert_eq!(
            (k.allocations, k.zeroed, k.deallocations, k.reallocations),
            (
                small + grown + aligned,
                grown,
                small + grown + aligned,
                grown
            ),
            "invocation {i}"
        );
        assert_eq!(
            k.bytes_allocated,
            40 * small + 3 * 16 * grown + 96 * aligned,
            "invocation {i}"
        );
        assert_eq!(k.realloc_bytes_to, 200 * grown, "invocation {i}");
        let mut blocking: Vec<_> = c.blocking(call).collect();
        blocking.sort_unstable();
        let expected: Vec<(&str, u64)> = [
            ("fputs", put),
            ("pthread_mutex_lock", locked),
            ("write", written),
        ]
        .into_iter()
        .filter(|&(_, n)| n > 0)
        .collect();
        assert_eq!(blocking, expected, "invocation {i}");
        // The program's own definitions took every one of these calls.
        own += 2 * small + 3 * grown + 2 * aligned + locked + written + put;
    }
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("own {own}\n"),
        "the program's definitions were the ones called"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
