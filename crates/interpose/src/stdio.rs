//! The C library's stream calls: each records its name and forwards to
//! glibc's own implementation (see [`real`](crate::real) for how each is
//! reached). The `printf` family, variadic, is defined in C (see
//! [`variadic`](crate::variadic)).

use std::ffi::{c_char, c_int, c_void};

use libc::FILE;

use crate::real::{aliased, forwarded};

// Exported by glibc under a default version (GLIBC_2.2.5 on x86-64): the
// functions behind the names this module defines, under their older
// libio names. Calling them does not go back through this module.
unsafe extern "C-unwind" {
    fn _IO_fopen(path: *const c_char, mode: *const c_char) -> *mut FILE;
    fn _IO_fclose(stream: *mut FILE) -> c_int;
    fn _IO_fread(buf: *mut c_void, size: usize, count: usize, stream: *mut FILE) -> usize;
    fn _IO_fwrite(buf: *const c_void, size: usize, count: usize, stream: *mut FILE) -> usize;
    fn _IO_fflush(stream: *mut FILE) -> c_int;
    fn _IO_fputs(text: *const c_char, stream: *mut FILE) -> c_int;
    fn _IO_puts(text: *const c_char) -> c_int;
    fn _IO_putc(c: c_int, stream: *mut FILE) -> c_int;
    fn _IO_fgets(buf: *mut c_char, size: c_int, stream: *mut FILE) -> *mut c_char;
}

aliased!(fopen(path: *const c_char, mode: *const c_char) -> *mut FILE = Fopen, _IO_fopen);
forwarded!(fopen64(path: *const c_char, mode: *const c_char) -> *mut FILE = Fopen64);
aliased!(fclose(stream: *mut FILE) -> c_int = Fclose, _IO_fclose);
aliased!(
    fread(buf: *mut c_void, size: usize, count: usize, stream: *mut FILE) -> usize = Fread, _IO_fread
);
aliased!(
    fwrite(buf: *const c_void, size: usize, count: usize, stream: *mut FILE) -> usize = Fwrite, _IO_fwrite
);
aliased!(fflush(stream: *mut FILE) -> c_int = Fflush, _IO_fflush);
aliased!(fputs(text: *const c_char, stream: *mut FILE) -> c_int = Fputs, _IO_fputs);
aliased!(puts(text: *const c_char) -> c_int = Puts, _IO_puts);
forwarded!(fputc(c: c_int, stream: *mut FILE) -> c_int = Fputc);
aliased!(putc(c: c_int, stream: *mut FILE) -> c_int = Putc, _IO_putc);
forwarded!(putchar(c: c_int) -> c_int = Putchar);
aliased!(
    fgets(buf: *mut c_char, size: c_int, stream: *mut FILE) -> *mut c_char = Fgets, _IO_fgets
);

/// Refers to every function defined here (see
/// [`alloc::keep_definitions`](crate::alloc)).
pub(crate) fn keep_definitions() {
    let table: [*const c_void; 12] = [
        fopen as *const c_void,
        fopen64 as *const c_void,
        fclose as *const c_void,
        fread as *const c_void,
        fwrite as *const c_void,
        fflush as *const c_void,
        fputs as *const c_void,
        puts as *const c_void,
        fputc as *const c_void,
        putc as *const c_void,
        putchar as *const c_void,
        fgets as *const c_void,
    ];
    std::hint::black_box(table);
}
