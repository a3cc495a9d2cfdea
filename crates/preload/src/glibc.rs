//! What the library's definitions of glibc's own entry points share
//! (`libc_alloc`, `libc_aliases`): whether the program defines a function
//! itself, and glibc's definition of a name.

use std::ffi::{CStr, c_void};

/// True when `name`, as the process finds it (`dlsym(RTLD_DEFAULT, …)`,
/// the executable first), is defined outside this library: the program
/// defines it itself.
pub(crate) fn program_defines(name: &CStr) -> bool {
    // SAFETY: a NUL-terminated name; RTLD_DEFAULT searches the process's
    // global scope.
    let process = unsafe { crate::dl::lookup_real(libc::RTLD_DEFAULT, name) };
    let ours = program_defines as fn(&CStr) -> bool as *const c_void;
    match (object_of(process), object_of(ours)) {
        (Some(process), Some(ours)) => process != ours,
        _ => false,
    }
}

/// The base address of the object that defines `address`.
fn object_of(address: *const c_void) -> Option<usize> {
    if address.is_null() {
        return None;
    }
    let mut info = libc::Dl_info {
        dli_fname: std::ptr::null(),
        dli_fbase: std::ptr::null_mut(),
        dli_sname: std::ptr::null(),
        dli_saddr: std::ptr::null_mut(),
    };
    // SAFETY: `info` is a valid, writable Dl_info; dladdr only reads the
    // address.
    let found = unsafe { libc::dladdr(address, &mut info) };
    (found != 0).then_some(info.dli_fbase as usize)
}

/// glibc's definition of `symbol` (in `version`, else the default one):
/// the next object's after this library. Keeps `errno`; ends the process
/// with a message if glibc lacks it, since a forwarded call has nowhere
/// else to go.
#[cold]
pub(crate) fn next(symbol: &CStr, version: Option<&CStr>) -> usize {
    // SAFETY: this thread's errno, valid for the thread's life.
    let errno = unsafe { *libc::__errno_location() };
    // SAFETY: NUL-terminated name and version; RTLD_NEXT from this library
    // finds the next object's definition, the C library's.
    let address = unsafe {
        match version {
            Some(version) => libc::dlvsym(libc::RTLD_NEXT, symbol.as_ptr(), version.as_ptr()),
            None => crate::dl::lookup_real(libc::RTLD_NEXT, symbol),
        }
    };
    if address.is_null() {
        let text = b"allocgate-preload: the C library lacks a function the library forwards to\n";
        // SAFETY: a static buffer to standard error through the system
        // call, then the process ends.
        unsafe {
            libc::syscall(libc::SYS_write, 2, text.as_ptr(), text.len());
            libc::abort();
        }
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
    address as usize
}
