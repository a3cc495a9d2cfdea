//! A C library compiled by the test with the system C compiler, loaded
//! with `dlopen`: its calls reach the layer through its own procedure
//! linkage table, as a real plugin's or codec's would.

use std::ffi::{CString, c_char, c_int, c_void};
use std::process::Command;

use allocgate::{BlockingCall, CallbackGate};

use crate::{TempDir, blocking, dev_null, on_ci};

const SOURCE: &str = r#"
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long sink;

/* Invocation i: i % 3 + 1 blocks of 24, 48, ... bytes, each freed;
 * i % 2 + 1 lock and unlock pairs; one zero-length nanosleep. */
void fixture_callback(unsigned long i) {
    void *blocks[3];
    unsigned long n = i % 3 + 1;
    for (unsigned long k = 0; k < n; k++) {
        blocks[k] = malloc(24 * (k + 1));
        sink += (unsigned long)blocks[k];
    }
    for (unsigned long k = 0; k < n; k++)
        free(blocks[k]);
    for (unsigned long k = 0; k < i % 2 + 1; k++) {
        pthread_mutex_lock(&lock);
        sink++;
        pthread_mutex_unlock(&lock);
    }
    struct timespec zero = {0, 0};
    nanosleep(&zero, NULL);
}

/* The va_list forms, which Rust cannot call itself. */
int fixture_vprintf(const char *format, ...) {
    va_list args;
    va_start(args, format);
    int n = vprintf(format, args);
    va_end(args);
    return n;
}

int fixture_vfprintf(FILE *stream, const char *format, ...) {
    va_list args;
    va_start(args, format);
    int n = vfprintf(stream, format, args);
    va_end(args);
    return n;
}

int fixture_vdprintf(int fd, const char *format, ...) {
    va_list args;
    va_start(args, format);
    int n = vdprintf(fd, format, args);
    va_end(args);
    return n;
}
"#;

/// The fixture compiled and loaded, or `None` (said on standard error)
/// when no C compiler is found outside CI; under CI its absence fails.
fn fixture(dir: &TempDir) -> Option<*mut c_void> {
    // Unoptimised and without _FORTIFY_SOURCE (on by default in some
    // distributions' compilers), so that the calls are the plain ones.
    compile(dir, SOURCE, &["-O0", "-U_FORTIFY_SOURCE"]).map(|(handle, _)| handle)
}

/// `source` compiled with `flags` into a shared library in `dir` and
/// loaded: its handle and path, or `None` (said on standard error) when
/// no C compiler is found outside CI; under CI its absence fails.
pub fn compile(
    dir: &TempDir,
    source: &str,
    flags: &[&str],
) -> Option<(*mut c_void, std::path::PathBuf)> {
    let path = dir.0.join("fixture.c");
    let library = dir.0.join("libfixture.so");
    std::fs::write(&path, source).unwrap();
    let compiled = Command::new("cc")
        .args(["-shared", "-fPIC"])
        .args(flags)
        .arg("-o")
        .arg(&library)
        .arg(&path)
        .arg("-lpthread")
        .output();
    let output = match compiled {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !on_ci() => {
            eprintln!("skipped: no C compiler (`cc`) to build the C fixture");
            return None;
        }
        Err(e) => panic!("cannot run the C compiler `cc`: {e}"),
    };
    assert!(
        output.status.success(),
        "cc failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let path = CString::new(library.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path to the library just built; RTLD_NOW
    // binds every call at load, outside any scope.
    let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    assert!(!handle.is_null(), "dlopen failed");
    Some((handle, library))
}

/// The address of `name` in the fixture.
pub fn symbol(handle: *mut c_void, name: &std::ffi::CStr) -> *mut c_void {
    // SAFETY: a live handle and a NUL-terminated name.
    let address = unsafe { libc::dlsym(handle, name.as_ptr()) };
    assert!(!address.is_null(), "{name:?}");
    address
}

#[test]
fn a_c_fixture_is_counted_exactly_per_invocation() {
    const INVOCATIONS: u64 = 30;
    let dir = TempDir::new("c-fixture");
    let Some(handle) = fixture(&dir) else { return };
    // SAFETY: the fixture's function has this signature.
    let callback: unsafe extern "C" fn(u64) =
        unsafe { std::mem::transmute(symbol(handle, c"fixture_callback")) };
    let run = CallbackGate::new("c-fixture")
        .check_hazards()
        // SAFETY: the fixture's function takes any index.
        .run(INVOCATIONS, |i| unsafe { callback(i) })
        .unwrap();

    // From the fixture's source: i % 3 + 1 blocks of 24 (k + 1) bytes,
    // i % 2 + 1 locks, one nanosleep per invocation.
    let blocks = |i: u64| i % 3 + 1;
    let locks = |i: u64| i % 2 + 1;
    run.assert_counts(|i| (blocks(i), blocks(i), 0));
    for (i, call) in run.calls().enumerate() {
        let i = i as u64;
        assert_eq!(
            u64::from(call.blocking_calls),
            locks(i) + 1,
            "invocation {i}"
        );
    }
    let total = run.total();
    let bytes: u64 = (0..INVOCATIONS)
        .map(|i| (0..blocks(i)).map(|k| 24 * (k + 1)).sum::<u64>())
        .sum();
    assert_eq!(total.allocations, (0..INVOCATIONS).map(blocks).sum::<u64>());
    assert_eq!(total.bytes_allocated, bytes);
    let stats = run.stats();
    assert_eq!(
        stats.blocking.get(BlockingCall::MutexLock),
        (0..INVOCATIONS).map(locks).sum::<u64>()
    );
    assert_eq!(stats.blocking.get(BlockingCall::NanoSleep), INVOCATIONS);
    assert_eq!(
        stats.blocking.total(),
        (0..INVOCATIONS).map(|i| locks(i) + 1).sum::<u64>(),
        "{}",
        stats.blocking
    );
    assert_eq!(run.hazardous_invocations(), INVOCATIONS);
    assert!(!run.is_clean());
}

#[test]
fn the_va_list_printf_forms_are_counted_by_name() {
    let dir = TempDir::new("c-fixture-vprintf");
    let Some(handle) = fixture(&dir) else { return };
    type Vprintf = unsafe extern "C" fn(*const c_char, ...) -> c_int;
    type Vfprintf = unsafe extern "C" fn(*mut libc::FILE, *const c_char, ...) -> c_int;
    type Vdprintf = unsafe extern "C" fn(c_int, *const c_char, ...) -> c_int;
    // SAFETY: the fixture's functions have these signatures.
    let (vprintf, vfprintf, vdprintf) = unsafe {
        (
            std::mem::transmute::<*mut c_void, Vprintf>(symbol(handle, c"fixture_vprintf")),
            std::mem::transmute::<*mut c_void, Vfprintf>(symbol(handle, c"fixture_vfprintf")),
            std::mem::transmute::<*mut c_void, Vdprintf>(symbol(handle, c"fixture_vdprintf")),
        )
    };
    let fd = dev_null(libc::O_WRONLY);
    // SAFETY: a descriptor opened above, its stream owning it from here.
    let stream = unsafe { libc::fdopen(fd, c"w".as_ptr()) };
    assert!(!stream.is_null());
    let mut written = [0; 3];
    // SAFETY: formats matching their arguments; vprintf prints nothing.
    let b = blocking(|| unsafe {
        written[0] = vprintf(c"%s".as_ptr(), c"".as_ptr());
        written[1] = vfprintf(stream, c"%d".as_ptr(), 123);
        written[2] = vdprintf(fd, c"%s".as_ptr(), c"ab".as_ptr());
    });
    // SAFETY: the stream, closed once (with its descriptor).
    unsafe { libc::fclose(stream) };
    assert_eq!(written, [0, 3, 2]);
    for call in [
        BlockingCall::Vprintf,
        BlockingCall::Vfprintf,
        BlockingCall::Vdprintf,
    ] {
        assert_eq!(b.get(call), 1, "{call}: {b}");
    }
    assert_eq!(b.total(), 3, "{b}");
}
