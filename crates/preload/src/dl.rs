//! `dlsym`, interposed: a program (or a library such as the Rust `jack`
//! crate) that opens libjack itself with `dlopen` and looks its functions
//! up in that handle never reaches the JACK wrappers through the global
//! symbol scope; for the names the library wraps, the lookup returns the
//! wrapper and remembers the real function.
//!
//! Every other lookup is the C library's own. `dlsym(RTLD_NEXT, …)`
//! searches the objects after the one that called it, which glibc finds
//! from the return address: for `RTLD_NEXT` the interposed `dlsym` is a
//! bare jump to the real one, leaving the caller's return address in
//! place.

use std::ffi::{CStr, c_char, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};

type Dlsym = unsafe extern "C" fn(*mut c_void, *const c_char) -> *mut c_void;

/// The C library's `dlsym`, once looked up.
static REAL_DLSYM: AtomicUsize = AtomicUsize::new(0);

/// The C library's `dlsym`: the default version of current glibc, or the
/// one before 2.34 moved it out of libdl.
extern "C" fn real_dlsym() -> usize {
    let known = REAL_DLSYM.load(Ordering::Acquire);
    if known != 0 {
        return known;
    }
    for version in [c"GLIBC_2.34", c"GLIBC_2.2.5"] {
        // SAFETY: both strings are NUL-terminated; RTLD_NEXT from this
        // library finds the next object's definition, the C library's.
        let found = unsafe { libc::dlvsym(libc::RTLD_NEXT, c"dlsym".as_ptr(), version.as_ptr()) };
        if !found.is_null() {
            REAL_DLSYM.store(found as usize, Ordering::Release);
            return found as usize;
        }
    }
    0
}

/// Looks `name` up the C library's way, from this library.
///
/// # Safety
/// `name` is a NUL-terminated string; `handle` is valid for `dlsym`.
pub(crate) unsafe fn lookup_real(handle: *mut c_void, name: &CStr) -> *mut c_void {
    let real = real_dlsym();
    if real == 0 {
        return std::ptr::null_mut();
    }
    // SAFETY: `real` is the address of the C library's `dlsym`, whose
    // type this is.
    let real: Dlsym = unsafe { std::mem::transmute::<usize, Dlsym>(real) };
    // SAFETY: the caller's promises are `dlsym`'s.
    unsafe { real(handle, name.as_ptr()) }
}

/// Every lookup but `RTLD_NEXT`: the real answer, or a JACK wrapper in
/// place of the function it wraps.
unsafe extern "C" fn lookup(handle: *mut c_void, name: *const c_char) -> *mut c_void {
    if name.is_null() {
        // SAFETY: passed on as given; the C library reports the error.
        return unsafe { lookup_real_raw(handle, name) };
    }
    // SAFETY: `dlsym`'s contract: `name` is a NUL-terminated string.
    let name = unsafe { CStr::from_ptr(name) };
    // SAFETY: as above.
    let found = unsafe { lookup_real(handle, name) };
    if found.is_null() {
        return found;
    }
    crate::jack::substitute(handle, name, found)
}

/// # Safety
/// As `dlsym`.
unsafe fn lookup_real_raw(handle: *mut c_void, name: *const c_char) -> *mut c_void {
    let real = real_dlsym();
    if real == 0 {
        return std::ptr::null_mut();
    }
    // SAFETY: `real` is the C library's `dlsym`.
    let real: Dlsym = unsafe { std::mem::transmute::<usize, Dlsym>(real) };
    // SAFETY: the caller's arguments, passed on.
    unsafe { real(handle, name) }
}

/// The program's `dlsym`. `RTLD_NEXT` (`-1` on glibc) jumps to the real
/// `dlsym` with the caller's return address untouched, looking the real
/// one up first if needed (saving the argument registers around the
/// call); every other handle goes to [`lookup`].
#[cfg(target_arch = "x86_64")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void {
    core::arch::naked_asm!(
        "cmp rdi, -1",
        "jne {lookup}",
        "mov rax, qword ptr [rip + {real}]",
        "test rax, rax",
        "jz 2f",
        "jmp rax",
        "2:",
        "push rdi",
        "push rsi",
        "sub rsp, 8",
        "call {resolve}",
        "add rsp, 8",
        "pop rsi",
        "pop rdi",
        "jmp rax",
        lookup = sym lookup,
        real = sym REAL_DLSYM,
        resolve = sym real_dlsym,
    )
}
