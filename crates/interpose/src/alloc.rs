//! The C allocation functions: each records its call and forwards to
//! glibc's own entry point.

use std::ffi::{c_int, c_void};

use allocgate::c_level::{self, CAllocCall, Call};

use crate::errno::keeping_errno;

// glibc's exported entry points behind `malloc` and its family, present
// since glibc 2.2.5 on x86-64. Calling them does not go back through the
// symbols this module defines.
unsafe extern "C" {
    fn __libc_malloc(size: usize) -> *mut c_void;
    fn __libc_free(ptr: *mut c_void);
    fn __libc_calloc(count: usize, size: usize) -> *mut c_void;
    fn __libc_realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
    fn __libc_memalign(align: usize, size: usize) -> *mut c_void;
    fn __libc_valloc(size: usize) -> *mut c_void;
    fn __libc_pvalloc(size: usize) -> *mut c_void;
}

/// Refers to every function defined here, so that the linker takes them
/// all from this crate once [`install!`](crate::install) refers to this.
pub(crate) fn keep_definitions() {
    let table: [*const c_void; 10] = [
        malloc as *const c_void,
        free as *const c_void,
        calloc as *const c_void,
        realloc as *const c_void,
        reallocarray as *const c_void,
        posix_memalign as *const c_void,
        aligned_alloc as *const c_void,
        memalign as *const c_void,
        valloc as *const c_void,
        pvalloc as *const c_void,
    ];
    std::hint::black_box(table);
}

/// The usable size of a live block, counted as its size where the C
/// library does not say how large it was asked to be.
///
/// # Safety
/// `ptr` is a live block from this allocator.
#[inline(always)]
unsafe fn block_size(ptr: *mut c_void) -> usize {
    // SAFETY: the caller passes a live block; glibc reads its chunk header
    // and neither allocates nor locks.
    unsafe { libc::malloc_usable_size(ptr) }
}

/// Records an allocation of `size` bytes, zeroed or not. Outside a scope
/// this is one thread-local read.
#[inline(always)]
pub fn record_alloc_of(function: CAllocCall, size: usize, zeroed: bool) {
    if c_level::counting() {
        c_level::record(function, Call::Alloc { size, zeroed });
    }
}

/// Records an allocation of `size` bytes through `function`, not zeroed.
#[inline(always)]
fn record_alloc(function: CAllocCall, size: usize) {
    record_alloc_of(function, size, false);
}

/// Records a reallocation of `ptr` to `size` bytes as the C library
/// performs it (see the crate docs' table).
///
/// # Safety
/// `ptr` is null or a live block from this allocator.
#[inline(always)]
pub unsafe fn record_realloc(function: CAllocCall, ptr: *mut c_void, size: usize) {
    if ptr.is_null() {
        record_alloc(function, size);
    } else if c_level::counting() {
        // SAFETY: `ptr` is live (caller's contract).
        let old = unsafe { block_size(ptr) };
        c_level::record(
            function,
            if size == 0 {
                Call::Free { size: old }
            } else {
                Call::Realloc { old, new: size }
            },
        );
    }
}

/// `malloc`, counted as an allocation of `size` bytes.
///
/// # Safety
/// The C library's contract for `malloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    if c_level::counting() {
        // SAFETY: the caller's contract.
        return unsafe { counted_malloc(size) };
    }
    // SAFETY: forwarded unchanged.
    unsafe { __libc_malloc(size) }
}

/// `malloc` inside a scope, out of line (and with the C calling
/// convention, so that `malloc` jumps to it) to keep the path outside
/// scopes a thread-local read and a tail call.
///
/// # Safety
/// The C library's contract for `malloc`.
#[inline(never)]
unsafe extern "C" fn counted_malloc(size: usize) -> *mut c_void {
    c_level::record(
        CAllocCall::Malloc,
        Call::Alloc {
            size,
            zeroed: false,
        },
    );
    // SAFETY: forwarded unchanged.
    unsafe { __libc_malloc(size) }
}

/// `free`, counted as a deallocation of the block's usable size; `free`
/// of a null pointer is not counted. Keeps `errno`.
///
/// # Safety
/// The C library's contract for `free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn free(ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    if c_level::counting() {
        // SAFETY: the caller's contract, and `ptr` is not null.
        return unsafe { counted_free(ptr) };
    }
    // SAFETY: forwarded unchanged; glibc's `free` keeps `errno` itself.
    unsafe { __libc_free(ptr) }
}

/// `free` of a non-null block inside a scope, out of line as
/// [`counted_malloc`] is.
///
/// # Safety
/// The C library's contract for `free`; `ptr` is not null.
#[inline(never)]
unsafe extern "C" fn counted_free(ptr: *mut c_void) {
    // SAFETY: `ptr` is a live block (caller's contract).
    unsafe { record_free(CAllocCall::Free, ptr) };
    // SAFETY: forwarded unchanged; glibc's `free` keeps `errno` itself.
    unsafe { __libc_free(ptr) }
}

/// Records the deallocation of a live block, of its usable size.
///
/// # Safety
/// `ptr` is a live, non-null block from this allocator.
#[inline(always)]
pub unsafe fn record_free(function: CAllocCall, ptr: *mut c_void) {
    // `errno` is untouched: `malloc_usable_size` does not set it, counting
    // is arithmetic, and a stack capture (site tracing) restores it.
    // SAFETY: `ptr` is a live block (caller's contract).
    let size = unsafe { block_size(ptr) };
    c_level::record(function, Call::Free { size });
}

/// `calloc`, counted as a zeroed allocation of `count * size` bytes.
///
/// # Safety
/// The C library's contract for `calloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
    record_alloc_of(CAllocCall::Calloc, count.saturating_mul(size), true);
    // SAFETY: forwarded unchanged; glibc checks the product for overflow.
    unsafe { __libc_calloc(count, size) }
}

/// `realloc`, counted as the C library performs it: an allocation for a
/// null `ptr`, a deallocation for `size` 0, a reallocation otherwise.
///
/// # Safety
/// The C library's contract for `realloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: `ptr` is null or live (caller's contract).
    unsafe { record_realloc(CAllocCall::Realloc, ptr, size) };
    // SAFETY: forwarded unchanged.
    unsafe { __libc_realloc(ptr, size) }
}

/// `reallocarray`: `realloc` to `count * size` bytes, failing with
/// `ENOMEM` (uncounted, before the allocator) when that overflows.
///
/// # Safety
/// The C library's contract for `reallocarray`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn reallocarray(ptr: *mut c_void, count: usize, size: usize) -> *mut c_void {
    let Some(bytes) = count.checked_mul(size) else {
        // SAFETY: this thread's errno, valid for the thread's life.
        unsafe { *libc::__errno_location() = libc::ENOMEM };
        return std::ptr::null_mut();
    };
    // SAFETY: `ptr` is null or live (caller's contract).
    unsafe { record_realloc(CAllocCall::ReallocArray, ptr, bytes) };
    // SAFETY: forwarded with the checked product.
    unsafe { __libc_realloc(ptr, bytes) }
}

/// `posix_memalign`: returns `EINVAL` (uncounted) for an alignment that is
/// not a power of two multiple of the pointer size, else counts an
/// allocation of `size` bytes and returns 0 or `ENOMEM`. Keeps `errno`.
///
/// # Safety
/// The C library's contract for `posix_memalign`: `out` is valid for a
/// pointer-sized write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> c_int {
    if !align.is_power_of_two() || !align.is_multiple_of(size_of::<*mut c_void>()) {
        return libc::EINVAL;
    }
    record_alloc(CAllocCall::PosixMemalign, size);
    // SAFETY: a valid alignment, checked above; errno restored since the
    // result is reported through the return value.
    let block = keeping_errno(|| unsafe { __libc_memalign(align, size) });
    if block.is_null() {
        return libc::ENOMEM;
    }
    // SAFETY: `out` is valid for a write (caller's contract).
    unsafe { *out = block };
    0
}

/// `aligned_alloc`, counted as an allocation of `size` bytes. glibc's own
/// `aligned_alloc` is `memalign` before version 2.38.
///
/// # Safety
/// The C library's contract for `aligned_alloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
    record_alloc(CAllocCall::AlignedAlloc, size);
    // SAFETY: forwarded unchanged.
    unsafe { __libc_memalign(align, size) }
}

/// `memalign`, counted as an allocation of `size` bytes.
///
/// # Safety
/// The C library's contract for `memalign`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
    record_alloc(CAllocCall::Memalign, size);
    // SAFETY: forwarded unchanged.
    unsafe { __libc_memalign(align, size) }
}

/// `valloc`, counted as an allocation of `size` bytes.
///
/// # Safety
/// The C library's contract for `valloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn valloc(size: usize) -> *mut c_void {
    record_alloc(CAllocCall::Valloc, size);
    // SAFETY: forwarded unchanged.
    unsafe { __libc_valloc(size) }
}

/// `pvalloc`, counted as an allocation of `size` bytes (glibc rounds the
/// block up to whole pages).
///
/// # Safety
/// The C library's contract for `pvalloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pvalloc(size: usize) -> *mut c_void {
    record_alloc(CAllocCall::Pvalloc, size);
    // SAFETY: forwarded unchanged.
    unsafe { __libc_pvalloc(size) }
}
