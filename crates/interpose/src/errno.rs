//! Keeping the caller's `errno` across the layer's own work.

/// Runs `f` with `errno` restored afterwards.
#[inline(always)]
pub(crate) fn keeping_errno<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: `__errno_location` returns the calling thread's errno, valid
    // for the thread's life.
    let errno = unsafe { libc::__errno_location() };
    // SAFETY: as above; a plain read and write of this thread's int.
    let saved = unsafe { *errno };
    let result = f();
    // SAFETY: as above.
    unsafe { *errno = saved };
    result
}
