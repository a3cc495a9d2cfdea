//! The checking variants a program built with `_FORTIFY_SOURCE` calls in
//! place of the plain functions (`__read_chk` for `read` when the buffer's
//! size is known, `__open_2` for a two-argument `open`, `__printf_chk` for
//! every `printf`). Each is counted under the plain function's name (a
//! fortified `printf` is a `printf`) and forwarded to glibc's own checking
//! function, looked up by name, so its checks still run. The `printf`
//! family's are defined in C (`variadic.c`), and reach glibc's through
//! the `va_list` forms this module looks up.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::AtomicUsize;

use libc::{FILE, nfds_t, off_t, off64_t, pollfd, sigset_t, sockaddr, socklen_t, timespec};

use crate::real::{cached, forwarded};

/// glibc's checking functions this crate forwards to, each under its own
/// name.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Checked {
    ReadChk,
    PreadChk,
    Pread64Chk,
    RecvChk,
    RecvfromChk,
    PollChk,
    PpollChk,
    FreadChk,
    FgetsChk,
    Open2,
    Open64_2,
    Openat2,
    Openat64_2,
    VprintfChk,
    VfprintfChk,
    VdprintfChk,
}

impl Checked {
    const ALL: [Checked; 16] = [
        Checked::ReadChk,
        Checked::PreadChk,
        Checked::Pread64Chk,
        Checked::RecvChk,
        Checked::RecvfromChk,
        Checked::PollChk,
        Checked::PpollChk,
        Checked::FreadChk,
        Checked::FgetsChk,
        Checked::Open2,
        Checked::Open64_2,
        Checked::Openat2,
        Checked::Openat64_2,
        Checked::VprintfChk,
        Checked::VfprintfChk,
        Checked::VdprintfChk,
    ];

    /// Its name in the C library.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Checked::ReadChk => "__read_chk",
            Checked::PreadChk => "__pread_chk",
            Checked::Pread64Chk => "__pread64_chk",
            Checked::RecvChk => "__recv_chk",
            Checked::RecvfromChk => "__recvfrom_chk",
            Checked::PollChk => "__poll_chk",
            Checked::PpollChk => "__ppoll_chk",
            Checked::FreadChk => "__fread_chk",
            Checked::FgetsChk => "__fgets_chk",
            Checked::Open2 => "__open_2",
            Checked::Open64_2 => "__open64_2",
            Checked::Openat2 => "__openat_2",
            Checked::Openat64_2 => "__openat64_2",
            Checked::VprintfChk => "__vprintf_chk",
            Checked::VfprintfChk => "__vfprintf_chk",
            Checked::VdprintfChk => "__vdprintf_chk",
        }
    }
}

/// The C library's addresses, 0 until looked up, one slot per
/// [`Checked`].
static REAL: [AtomicUsize; Checked::ALL.len()] =
    [const { AtomicUsize::new(0) }; Checked::ALL.len()];

/// The C library's definition of `f`.
#[inline(always)]
pub(crate) fn real(f: Checked) -> usize {
    cached(&REAL[f as usize], || (f.name(), None))
}

/// Looks up every checking function, so that calls made in scopes never
/// do.
pub(crate) fn resolve_all() {
    for f in Checked::ALL {
        real(f);
    }
}

/// The address forwarded to for a checking function's `name`, if it is
/// one. For tests.
pub(crate) fn forwarded_address(name: &str) -> Option<usize> {
    Checked::ALL
        .into_iter()
        .find(|f| f.name() == name)
        .map(real)
}

/// Defines a checking variant: counted as `$call`, forwarded to the C
/// library's function of the same name.
macro_rules! checked {
    ($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $call:ident, $f:ident) => {
        forwarded!(
            #[doc = concat!("`", stringify!($name), "` (`_FORTIFY_SOURCE`), counted as [`BlockingCall::", stringify!($call), "`](allocgate::BlockingCall::", stringify!($call), "); forwarded to glibc's `", stringify!($name), "`, whose checks run.")]
            $name($($arg: $ty),*) -> $ret = $call via real(Checked::$f)
        );
    };
}

checked!(__read_chk(fd: c_int, buf: *mut c_void, count: usize, size: usize) -> isize = Read, ReadChk);
checked!(
    __pread_chk(fd: c_int, buf: *mut c_void, count: usize, offset: off_t, size: usize) -> isize = Pread, PreadChk
);
checked!(
    __pread64_chk(fd: c_int, buf: *mut c_void, count: usize, offset: off64_t, size: usize) -> isize = Pread64, Pread64Chk
);
checked!(
    __recv_chk(fd: c_int, buf: *mut c_void, len: usize, size: usize, flags: c_int) -> isize = Recv, RecvChk
);
checked!(
    __recvfrom_chk(
        fd: c_int,
        buf: *mut c_void,
        len: usize,
        size: usize,
        flags: c_int,
        from: *mut sockaddr,
        from_len: *mut socklen_t
    ) -> isize = RecvFrom, RecvfromChk
);
checked!(__poll_chk(fds: *mut pollfd, n: nfds_t, timeout: c_int, size: usize) -> c_int = Poll, PollChk);
checked!(
    __ppoll_chk(
        fds: *mut pollfd,
        n: nfds_t,
        timeout: *const timespec,
        mask: *const sigset_t,
        size: usize
    ) -> c_int = Ppoll, PpollChk
);
checked!(
    __fread_chk(buf: *mut c_void, size: usize, item: usize, n: usize, stream: *mut FILE) -> usize = Fread, FreadChk
);
checked!(__fgets_chk(buf: *mut c_char, size: usize, n: c_int, stream: *mut FILE) -> *mut c_char = Fgets, FgetsChk);
checked!(__open_2(path: *const c_char, flags: c_int) -> c_int = Open, Open2);
checked!(__open64_2(path: *const c_char, flags: c_int) -> c_int = Open64, Open64_2);
checked!(__openat_2(dir: c_int, path: *const c_char, flags: c_int) -> c_int = OpenAt, Openat2);
checked!(__openat64_2(dir: c_int, path: *const c_char, flags: c_int) -> c_int = OpenAt64, Openat64_2);

/// Defines a function the C side calls to count `$call` and get the C
/// library's checking function `$f` to forward to.
macro_rules! forward {
    ($entry:ident = $call:ident, $f:ident) => {
        #[unsafe(no_mangle)]
        extern "C" fn $entry() -> usize {
            allocgate::c_level::record_blocking(allocgate::BlockingCall::$call);
            real(Checked::$f)
        }
    };
}

forward!(allocgate_interpose_forward_printf_chk = Printf, VprintfChk);
forward!(
    allocgate_interpose_forward_vprintf_chk = Vprintf,
    VprintfChk
);
forward!(
    allocgate_interpose_forward_fprintf_chk = Fprintf,
    VfprintfChk
);
forward!(
    allocgate_interpose_forward_vfprintf_chk = Vfprintf,
    VfprintfChk
);
forward!(
    allocgate_interpose_forward_dprintf_chk = Dprintf,
    VdprintfChk
);
forward!(
    allocgate_interpose_forward_vdprintf_chk = Vdprintf,
    VdprintfChk
);

/// Refers to every definition (see
/// [`alloc::keep_definitions`](crate::alloc)).
pub(crate) fn keep_definitions() {
    let table: [*const c_void; 13] = [
        __read_chk as *const c_void,
        __pread_chk as *const c_void,
        __pread64_chk as *const c_void,
        __recv_chk as *const c_void,
        __recvfrom_chk as *const c_void,
        __poll_chk as *const c_void,
        __ppoll_chk as *const c_void,
        __fread_chk as *const c_void,
        __fgets_chk as *const c_void,
        __open_2 as *const c_void,
        __open64_2 as *const c_void,
        __openat_2 as *const c_void,
        __openat64_2 as *const c_void,
    ];
    std::hint::black_box(table);
}
