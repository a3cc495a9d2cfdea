//! glibc's `__libc_malloc` family, defined here as well, for programs
//! that define `malloc` themselves and forward to these names (a program
//! linked with allocgate's C-level layer does: the `allocgate` binary).
//!
//! An executable's definitions come before a preloaded library's, so in
//! such a program this library's `malloc`, `free`, … are never called and
//! count nothing; the program's own reach glibc's allocator through these
//! entry points, which this library then defines first. Each call is
//! counted once in the library's scopes:
//!
//! - when the process's `malloc` is this library's (the usual case), that
//!   `malloc` counted the call already: these only forward;
//! - otherwise each counts as the C-level layer counts the function of its
//!   name (`__libc_malloc` as `malloc`, `__libc_free` as `free`, …), then
//!   forwards. The program's `reallocarray` arrives as `__libc_realloc`,
//!   its `posix_memalign` and `aligned_alloc` as `__libc_memalign`, and
//!   are named so.
//!
//! glibc's own functions are looked up with `dlvsym(RTLD_NEXT, name,
//! "GLIBC_2.2.5")` when the library loads, or at the first call if one
//! comes earlier (another library's load-time constructor).

use std::ffi::{CStr, c_void};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use allocgate::c_level::CAllocCall;
use allocgate_interpose::count;

use crate::glibc;

/// The entry points defined here, in [`REAL`]'s order.
#[derive(Clone, Copy)]
enum Entry {
    Malloc,
    Free,
    Calloc,
    Realloc,
    Memalign,
    Valloc,
    Pvalloc,
}

impl Entry {
    const ALL: [Entry; 7] = [
        Entry::Malloc,
        Entry::Free,
        Entry::Calloc,
        Entry::Realloc,
        Entry::Memalign,
        Entry::Valloc,
        Entry::Pvalloc,
    ];

    fn symbol(self) -> &'static CStr {
        match self {
            Entry::Malloc => c"__libc_malloc",
            Entry::Free => c"__libc_free",
            Entry::Calloc => c"__libc_calloc",
            Entry::Realloc => c"__libc_realloc",
            Entry::Memalign => c"__libc_memalign",
            Entry::Valloc => c"__libc_valloc",
            Entry::Pvalloc => c"__libc_pvalloc",
        }
    }
}

/// glibc's addresses, 0 until looked up.
static REAL: [AtomicUsize; 7] = [const { AtomicUsize::new(0) }; 7];

/// True when the process's `malloc` is not this library's: the calls that
/// reach the entry points here are then counted here.
static PROGRAM_MALLOC: AtomicBool = AtomicBool::new(false);

/// Looks glibc's functions up and finds out whose `malloc` the process
/// uses. Run when the library loads.
pub(crate) fn resolve() {
    for entry in Entry::ALL {
        real(entry);
    }
    PROGRAM_MALLOC.store(glibc::program_defines(c"malloc"), Ordering::Relaxed);
}

/// True when a call reaching these entry points is to be counted here.
#[inline(always)]
fn counted_here() -> bool {
    PROGRAM_MALLOC.load(Ordering::Relaxed)
}

/// glibc's address of `entry`.
#[inline(always)]
fn real(entry: Entry) -> usize {
    let address = REAL[entry as usize].load(Ordering::Relaxed);
    if address != 0 {
        return address;
    }
    look_up(entry)
}

#[cold]
fn look_up(entry: Entry) -> usize {
    let address = glibc::next(entry.symbol(), Some(c"GLIBC_2.2.5"));
    REAL[entry as usize].store(address, Ordering::Relaxed);
    address
}

type Alloc = unsafe extern "C" fn(usize) -> *mut c_void;
type Free = unsafe extern "C" fn(*mut c_void);
type Calloc = unsafe extern "C" fn(usize, usize) -> *mut c_void;
type Realloc = unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void;
type Memalign = unsafe extern "C" fn(usize, usize) -> *mut c_void;

/// glibc's `__libc_malloc`, counted as `malloc` when the program's
/// `malloc` is its own.
///
/// # Safety
/// The C library's contract for `malloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __libc_malloc(size: usize) -> *mut c_void {
    if counted_here() {
        count::alloc(CAllocCall::Malloc, size, false);
    }
    // SAFETY: glibc's `__libc_malloc`, whose type this is.
    let f = unsafe { std::mem::transmute::<usize, Alloc>(real(Entry::Malloc)) };
    // SAFETY: forwarded unchanged.
    unsafe { f(size) }
}

/// glibc's `__libc_free`, counted as `free` (of the block's usable size;
/// a null pointer is not counted) when the program's `malloc` is its own.
///
/// # Safety
/// The C library's contract for `free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __libc_free(ptr: *mut c_void) {
    if counted_here() && !ptr.is_null() {
        // SAFETY: a live block (caller's contract), not null.
        unsafe { count::free(CAllocCall::Free, ptr) };
    }
    // SAFETY: glibc's `__libc_free`, whose type this is.
    let f = unsafe { std::mem::transmute::<usize, Free>(real(Entry::Free)) };
    // SAFETY: forwarded unchanged.
    unsafe { f(ptr) }
}

/// glibc's `__libc_calloc`, counted as `calloc` when the program's
/// `malloc` is its own.
///
/// # Safety
/// The C library's contract for `calloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __libc_calloc(n: usize, size: usize) -> *mut c_void {
    if counted_here() {
        count::alloc(CAllocCall::Calloc, n.saturating_mul(size), true);
    }
    // SAFETY: glibc's `__libc_calloc`, whose type this is.
    let f = unsafe { std::mem::transmute::<usize, Calloc>(real(Entry::Calloc)) };
    // SAFETY: forwarded unchanged; glibc checks the product for overflow.
    unsafe { f(n, size) }
}

/// glibc's `__libc_realloc`, counted as `realloc` when the program's
/// `malloc` is its own.
///
/// # Safety
/// The C library's contract for `realloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __libc_realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    if counted_here() {
        // SAFETY: `ptr` is null or live (caller's contract).
        unsafe { count::realloc(CAllocCall::Realloc, ptr, size) };
    }
    // SAFETY: glibc's `__libc_realloc`, whose type this is.
    let f = unsafe { std::mem::transmute::<usize, Realloc>(real(Entry::Realloc)) };
    // SAFETY: forwarded unchanged.
    unsafe { f(ptr, size) }
}

/// glibc's `__libc_memalign`, counted as `memalign` when the program's
/// `malloc` is its own.
///
/// # Safety
/// The C library's contract for `memalign`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __libc_memalign(align: usize, size: usize) -> *mut c_void {
    if counted_here() {
        count::alloc(CAllocCall::Memalign, size, false);
    }
    // SAFETY: glibc's `__libc_memalign`, whose type this is.
    let f = unsafe { std::mem::transmute::<usize, Memalign>(real(Entry::Memalign)) };
    // SAFETY: forwarded unchanged.
    unsafe { f(align, size) }
}

/// glibc's `__libc_valloc`, counted as `valloc` when the program's
/// `malloc` is its own.
///
/// # Safety
/// The C library's contract for `valloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __libc_valloc(size: usize) -> *mut c_void {
    if counted_here() {
        count::alloc(CAllocCall::Valloc, size, false);
    }
    // SAFETY: glibc's `__libc_valloc`, whose type this is.
    let f = unsafe { std::mem::transmute::<usize, Alloc>(real(Entry::Valloc)) };
    // SAFETY: forwarded unchanged.
    unsafe { f(size) }
}

/// glibc's `__libc_pvalloc`, counted as `pvalloc` when the program's
/// `malloc` is its own.
///
/// # Safety
/// The C library's contract for `pvalloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __libc_pvalloc(size: usize) -> *mut c_void {
    if counted_here() {
        count::alloc(CAllocCall::Pvalloc, size, false);
    }
    // SAFETY: glibc's `__libc_pvalloc`, whose type this is.
    let f = unsafe { std::mem::transmute::<usize, Alloc>(real(Entry::Pvalloc)) };
    // SAFETY: forwarded unchanged.
    unsafe { f(size) }
}
