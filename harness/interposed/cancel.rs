//! Thread cancellation through the layer: a thread cancelled while it
//! waits in one of the layer's functions unwinds through it and ends as
//! cancelled, as it would in the C library's own function (libjack cancels
//! its threads this way when a client closes). The calls are declared
//! `C-unwind` here, as C code sees them: the `libc` crate's `extern "C"`
//! declarations would stop the unwind in this file, not in the layer.

use std::ffi::{c_int, c_void};
use std::ptr;
use std::thread::sleep;
use std::time::Duration;

unsafe extern "C-unwind" {
    fn read(fd: c_int, buf: *mut c_void, count: usize) -> isize;
    fn poll(fds: *mut libc::pollfd, n: libc::nfds_t, timeout: c_int) -> c_int;
    fn nanosleep(req: *const libc::timespec, rem: *mut libc::timespec) -> c_int;
    fn pthread_cond_wait(cond: *mut libc::pthread_cond_t, m: *mut libc::pthread_mutex_t) -> c_int;
    fn open(path: *const libc::c_char, flags: c_int, ...) -> c_int;
}

/// What joining a cancelled thread gives back (`PTHREAD_CANCELED`).
const CANCELED: *mut c_void = usize::MAX as *mut c_void;

/// A pipe whose read end never becomes readable while the test runs.
fn idle_pipe() -> [c_int; 2] {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    fds
}

extern "C-unwind" fn reads(arg: *mut c_void) -> *mut c_void {
    let mut byte = 0u8;
    // SAFETY: a valid descriptor (the caller's pipe) and a one-byte buffer.
    unsafe { read(arg as usize as c_int, (&raw mut byte).cast(), 1) };
    ptr::null_mut()
}

extern "C-unwind" fn polls(arg: *mut c_void) -> *mut c_void {
    let mut fd = libc::pollfd {
        fd: arg as usize as c_int,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd; no timeout.
    unsafe { poll(&mut fd, 1, -1) };
    ptr::null_mut()
}

extern "C-unwind" fn sleeps(_: *mut c_void) -> *mut c_void {
    let long = libc::timespec {
        tv_sec: 3600,
        tv_nsec: 0,
    };
    // SAFETY: a valid request; no remainder wanted.
    unsafe { nanosleep(&long, ptr::null_mut()) };
    ptr::null_mut()
}

extern "C-unwind" fn waits(_: *mut c_void) -> *mut c_void {
    // Statics: the cancelled thread leaves the mutex locked and these are
    // never used again.
    static mut COND: libc::pthread_cond_t = libc::PTHREAD_COND_INITIALIZER;
    static mut MUTEX: libc::pthread_mutex_t = libc::PTHREAD_MUTEX_INITIALIZER;
    // SAFETY: statics used by this one thread only; never signalled.
    unsafe {
        libc::pthread_mutex_lock(&raw mut MUTEX);
        pthread_cond_wait(&raw mut COND, &raw mut MUTEX);
    }
    ptr::null_mut()
}

extern "C-unwind" fn opens(arg: *mut c_void) -> *mut c_void {
    // SAFETY: a NUL-terminated path to a FIFO nobody opens for writing, so
    // the open waits for a writer.
    unsafe { open(arg.cast(), libc::O_RDONLY) };
    ptr::null_mut()
}

/// Starts `body` on a new thread, cancels it once it is waiting, and
/// returns what joining it gave back.
fn cancelled(
    body: extern "C-unwind" fn(*mut c_void) -> *mut c_void,
    arg: *mut c_void,
) -> *mut c_void {
    // SAFETY: same signature and calling convention; the C library calls
    // the start routine and handles the unwind that ends it.
    let start: extern "C" fn(*mut c_void) -> *mut c_void = unsafe { std::mem::transmute(body) };
    let mut thread: libc::pthread_t = 0;
    // SAFETY: default attributes; `start` runs with `arg`.
    assert_eq!(
        unsafe { libc::pthread_create(&mut thread, ptr::null(), start, arg) },
        0
    );
    // A cancellation sent before the wait starts acts when it starts
    // (each of these calls is a cancellation point), so the sleep only
    // makes the usual case the one tested: a thread already waiting.
    sleep(Duration::from_millis(50));
    let mut result = ptr::null_mut();
    // SAFETY: a joinable thread started above, joined once.
    unsafe {
        assert_eq!(libc::pthread_cancel(thread), 0);
        assert_eq!(libc::pthread_join(thread, &mut result), 0);
    }
    result
}

#[test]
fn a_thread_cancelled_while_waiting_in_the_layer_ends_as_cancelled() {
    let pipe = idle_pipe();
    let dir = crate::TempDir::new("cancel");
    let fifo = dir.file("fifo");
    // SAFETY: a NUL-terminated path in a fresh directory.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    let fd = pipe[0] as usize as *mut c_void;
    for (name, body, arg) in [
        ("read", reads as extern "C-unwind" fn(_) -> _, fd),
        ("poll", polls, fd),
        ("nanosleep", sleeps, ptr::null_mut()),
        ("pthread_cond_wait", waits, ptr::null_mut()),
        ("open", opens, fifo.as_ptr() as *mut c_void),
    ] {
        assert_eq!(cancelled(body, arg), CANCELED, "{name}");
    }
    // SAFETY: the pipe's descriptors, closed once.
    unsafe {
        libc::close(pipe[0]);
        libc::close(pipe[1]);
    }
}
