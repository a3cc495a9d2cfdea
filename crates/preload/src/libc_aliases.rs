//! glibc's internal aliases of the blocking calls (`__write`, `__read`,
//! `_IO_fputs`, `_IO_vfprintf`, …), defined here as well, for programs
//! that define the public functions themselves and forward to these names
//! (a program linked with allocgate's C-level layer forwards 25 of its
//! blocking calls so). Their definitions come before this library's, so
//! its `write` is never called; the program's calls reach glibc through
//! these names, which this library then defines first.
//!
//! Each alias counts one call of the public function it stands for (the
//! `BlockingCall` of that name) when the program defines that function
//! itself, and only forwards otherwise (this library's own definition
//! counted the call and forwards here). `_IO_vfprintf` stands for all of
//! `printf`, `fprintf`, `vprintf` and `vfprintf` and is counted as
//! `vfprintf`, `__open` and `__open64` as `open` and `open64`. glibc's
//! definitions are looked up when the library loads, or at the first call
//! if one comes earlier.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use allocgate::BlockingCall;
use allocgate::c_level::record_blocking;
use libc::{FILE, fd_set, mode_t, nfds_t, off64_t, pollfd, timespec, timeval};

use crate::glibc;

/// Defines each alias: `index: symbol(args) -> ret = call, "public"`.
macro_rules! aliases {
    ($($index:ident: $alias:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $call:ident, $public:literal;)*) => {
        /// The aliases, in [`ALIASES`]' order.
        #[derive(Clone, Copy)]
        enum Alias { $($index),* }

        /// Each alias's symbol and the public function it stands for.
        const ALIASES: &[(&CStr, &CStr)] = &[$((
            match CStr::from_bytes_with_nul(concat!(stringify!($alias), "\0").as_bytes()) {
                Ok(name) => name,
                Err(_) => panic!("a symbol name"),
            },
            $public,
        )),*];

        $(
            #[doc = concat!("glibc's `", stringify!($alias), "`, counted as `", stringify!($call), "` when the program defines `", stringify!($call), "` itself.")]
            ///
            /// # Safety
            /// The C library's contract for the function.
            #[unsafe(no_mangle)]
            pub unsafe extern "C-unwind" fn $alias($($arg: $ty),*) -> $ret {
                if COUNTED[Alias::$index as usize].load(Ordering::Relaxed) {
                    record_blocking(BlockingCall::$call);
                }
                // SAFETY: glibc's definition of this symbol, whose type
                // this is.
                let f = unsafe {
                    std::mem::transmute::<usize, unsafe extern "C-unwind" fn($($ty),*) -> $ret>(
                        real(Alias::$index),
                    )
                };
                // SAFETY: forwarded unchanged (the caller's contract).
                unsafe { f($($arg),*) }
            }
        )*
    };
}

aliases! {
    NanoSleep: __nanosleep(req: *const timespec, rem: *mut timespec) -> c_int = NanoSleep, c"nanosleep";
    SchedYield: __sched_yield() -> c_int = SchedYield, c"sched_yield";
    Poll: __poll(fds: *mut pollfd, n: nfds_t, timeout: c_int) -> c_int = Poll, c"poll";
    Select: __select(n: c_int, read: *mut fd_set, write: *mut fd_set, except: *mut fd_set, timeout: *mut timeval) -> c_int = Select, c"select";
    Read: __read(fd: c_int, buf: *mut c_void, count: usize) -> isize = Read, c"read";
    Write: __write(fd: c_int, buf: *const c_void, count: usize) -> isize = Write, c"write";
    Pread64: __pread64(fd: c_int, buf: *mut c_void, count: usize, offset: off64_t) -> isize = Pread64, c"pread64";
    Pwrite64: __pwrite64(fd: c_int, buf: *const c_void, count: usize, offset: off64_t) -> isize = Pwrite64, c"pwrite64";
    Close: __close(fd: c_int) -> c_int = Close, c"close";
    Send: __send(fd: c_int, buf: *const c_void, len: usize, flags: c_int) -> isize = Send, c"send";
    // Variadic in C (a mode follows for O_CREAT and O_TMPFILE): on x86-64
    // the mode is the third integer register whether or not the caller
    // set it, and glibc reads it only for those flags.
    Open: __open(path: *const c_char, flags: c_int, mode: mode_t) -> c_int = Open, c"open";
    Open64: __open64(path: *const c_char, flags: c_int, mode: mode_t) -> c_int = Open64, c"open64";
    Fopen: _IO_fopen(path: *const c_char, mode: *const c_char) -> *mut FILE = Fopen, c"fopen";
    Fclose: _IO_fclose(stream: *mut FILE) -> c_int = Fclose, c"fclose";
    Fread: _IO_fread(buf: *mut c_void, size: usize, count: usize, stream: *mut FILE) -> usize = Fread, c"fread";
    Fwrite: _IO_fwrite(buf: *const c_void, size: usize, count: usize, stream: *mut FILE) -> usize = Fwrite, c"fwrite";
    Fflush: _IO_fflush(stream: *mut FILE) -> c_int = Fflush, c"fflush";
    Fputs: _IO_fputs(text: *const c_char, stream: *mut FILE) -> c_int = Fputs, c"fputs";
    Puts: _IO_puts(text: *const c_char) -> c_int = Puts, c"puts";
    Putc: _IO_putc(c: c_int, stream: *mut FILE) -> c_int = Putc, c"putc";
    Fgets: _IO_fgets(buf: *mut c_char, size: c_int, stream: *mut FILE) -> *mut c_char = Fgets, c"fgets";
    // A `va_list` is passed as a pointer on x86-64.
    Vfprintf: _IO_vfprintf(stream: *mut FILE, format: *const c_char, args: *mut c_void) -> c_int = Vfprintf, c"vfprintf";
}

/// glibc's addresses, 0 until looked up.
static REAL: [AtomicUsize; ALIASES.len()] = [const { AtomicUsize::new(0) }; ALIASES.len()];

/// Per alias: the program defines the public function itself, so calls
/// reaching the alias are counted here.
static COUNTED: [AtomicBool; ALIASES.len()] = [const { AtomicBool::new(false) }; ALIASES.len()];

/// Looks glibc's definitions up and finds out which public functions the
/// program defines itself. Run when the library loads.
pub(crate) fn resolve() {
    for (i, &(symbol, public)) in ALIASES.iter().enumerate() {
        if REAL[i].load(Ordering::Relaxed) == 0 {
            REAL[i].store(glibc::next(symbol, None), Ordering::Relaxed);
        }
        COUNTED[i].store(glibc::program_defines(public), Ordering::Relaxed);
    }
}

/// glibc's address of `alias`.
#[inline(always)]
fn real(alias: Alias) -> usize {
    let i = alias as usize;
    let address = REAL[i].load(Ordering::Relaxed);
    if address != 0 {
        return address;
    }
    let address = glibc::next(ALIASES[i].0, None);
    REAL[i].store(address, Ordering::Relaxed);
    address
}
