//! The C library's own functions behind the ones this crate defines, and
//! the two ways a definition reaches them.
//!
//! Where glibc exports an alias under a default version (`__read`,
//! `__write`, `__close`, `__open64`, `__nanosleep`, `_IO_fputs`, …), a
//! definition calls it directly: no lookup, and the call cannot come back
//! here. The other functions are looked up once with `dlsym(RTLD_NEXT, …)`
//! (`dlvsym` for the `pthread_cond_*` waits, see [`version`]): when
//! [`install!`](crate::install) or [`link!`](crate::link) runs, or at the
//! first call if one comes earlier (another library's load-time
//! constructor). The lookup is made from this executable, so `RTLD_NEXT`
//! finds the C library's definition, never this crate's; it takes the
//! dynamic linker's own lock, which is not a `pthread_mutex_lock` call,
//! and, when it succeeds, allocates nothing (a test measures it). Each
//! address has one slot, indexed by the [`BlockingCall`] named after the
//! function.

use std::ffi::{CStr, c_char};
use std::sync::atomic::{AtomicUsize, Ordering};

use allocgate::BlockingCall;

use crate::errno::keeping_errno;

/// The functions reached through a lookup, each under its own name.
const LOOKED_UP: [BlockingCall; 42] = [
    BlockingCall::MutexLock,
    BlockingCall::MutexTimedLock,
    BlockingCall::MutexTryLock,
    BlockingCall::RwLockRead,
    BlockingCall::RwLockWrite,
    BlockingCall::SpinLock,
    BlockingCall::SemWait,
    BlockingCall::SemTimedWait,
    BlockingCall::ClockNanoSleep,
    BlockingCall::Usleep,
    BlockingCall::Sleep,
    BlockingCall::CondWait,
    BlockingCall::CondTimedWait,
    BlockingCall::Ppoll,
    BlockingCall::Pselect,
    BlockingCall::EpollWait,
    BlockingCall::EpollPwait,
    BlockingCall::OpenAt,
    BlockingCall::OpenAt64,
    BlockingCall::Creat,
    BlockingCall::Creat64,
    BlockingCall::Pread,
    BlockingCall::Pwrite,
    BlockingCall::Readv,
    BlockingCall::Writev,
    BlockingCall::Fsync,
    BlockingCall::Fdatasync,
    BlockingCall::Fopen64,
    BlockingCall::Fputc,
    BlockingCall::Putchar,
    BlockingCall::Vdprintf,
    BlockingCall::SendTo,
    BlockingCall::SendMsg,
    BlockingCall::Recv,
    BlockingCall::RecvFrom,
    BlockingCall::RecvMsg,
    BlockingCall::Mmap,
    BlockingCall::Mmap64,
    BlockingCall::Munmap,
    BlockingCall::Mprotect,
    BlockingCall::Madvise,
    BlockingCall::Mremap,
];

/// The C library's addresses, 0 until looked up, one slot per
/// [`BlockingCall`] (those reached through an alias stay 0). Written once
/// per slot (two threads racing write the same value), read with one
/// relaxed load.
static REAL: [AtomicUsize; BlockingCall::COUNT] =
    [const { AtomicUsize::new(0) }; BlockingCall::COUNT];

/// `syscall`'s address: not a [`BlockingCall`] of its own (its waiting
/// `futex` operations are counted as [`BlockingCall::Futex`]).
static SYSCALL: AtomicUsize = AtomicUsize::new(0);

/// Looks up every function, so that calls made in scopes never do.
pub(crate) fn resolve_all() {
    for call in LOOKED_UP {
        real(call);
    }
    syscall();
    crate::fortify::resolve_all();
}

/// The symbol version to ask for, where glibc keeps more than one.
///
/// `pthread_cond_wait` and `pthread_cond_timedwait` exist in two versions
/// on the architectures glibc supported before 2.3.2: the current one
/// (`GLIBC_2.3.2`, the default a program links against) and a
/// compatibility one for an older, smaller `pthread_cond_t`. The lookup
/// asks for the current one by name; where it does not exist the function
/// has a single version and the plain lookup finds it.
fn version(call: BlockingCall) -> Option<&'static CStr> {
    match call {
        BlockingCall::CondWait | BlockingCall::CondTimedWait => Some(c"GLIBC_2.3.2"),
        _ => None,
    }
}

/// The C library's address of the function named after `call`. Aborts,
/// with a message, if the C library lacks it: a forwarded call has nowhere
/// else to go.
#[inline(always)]
pub(crate) fn real(call: BlockingCall) -> usize {
    cached(&REAL[call as usize], || (call.name(), version(call)))
}

/// The C library's `syscall`.
#[inline(always)]
pub(crate) fn syscall() -> usize {
    cached(&SYSCALL, || ("syscall", None))
}

/// The address in `slot`; the first time, looked up by the name (and
/// version) `what` gives, and kept there.
#[inline(always)]
pub(crate) fn cached(
    slot: &AtomicUsize,
    what: impl FnOnce() -> (&'static str, Option<&'static CStr>),
) -> usize {
    let address = slot.load(Ordering::Relaxed);
    if address != 0 {
        return address;
    }
    let (name, version) = what();
    let address = look_up(name, version);
    slot.store(address, Ordering::Relaxed);
    address
}

/// The C library's address this crate forwards `name` to, for a function
/// reached through a lookup (`None` for the others). For tests.
pub fn forwarded_address(name: &str) -> Option<usize> {
    if name == "syscall" {
        return Some(syscall());
    }
    LOOKED_UP
        .into_iter()
        .find(|c| c.name() == name)
        .map(real)
        .or_else(|| crate::fortify::forwarded_address(name))
}

#[cold]
fn look_up(name: &str, version: Option<&CStr>) -> usize {
    // The name with its NUL, on the stack: the lookup allocates nothing of
    // its own. Every name forwarded is far shorter than the buffer.
    let mut buffer = [0 as c_char; 32];
    for (to, &from) in buffer.iter_mut().zip(name.as_bytes()) {
        *to = from as c_char;
    }
    let symbol = buffer.as_ptr();
    // SAFETY: `symbol` is NUL-terminated (the buffer is longer than the
    // name and zero-filled); `RTLD_NEXT` asks for the definition after
    // this executable's. `dlerror` state may change, `errno` is kept.
    let address = keeping_errno(|| unsafe {
        let versioned = match version {
            Some(version) => libc::dlvsym(libc::RTLD_NEXT, symbol, version.as_ptr()),
            None => std::ptr::null_mut(),
        };
        if versioned.is_null() {
            libc::dlsym(libc::RTLD_NEXT, symbol)
        } else {
            versioned
        }
    });
    if address.is_null() {
        missing();
    }
    address as usize
}

/// Ends the process: a forwarded call has nowhere to go.
#[cold]
fn missing() -> ! {
    let text = b"allocgate-interpose: the C library does not define a function it forwards to\n";
    // SAFETY: writes a static buffer to standard error through glibc's
    // alias (not this crate's `write`), then ends the process.
    unsafe {
        crate::io::__write(2, text.as_ptr().cast(), text.len());
        libc::abort();
    }
}

/// Defines a function forwarded through a lookup: records `$call`, then
/// calls the C library's function of the same name with the same
/// arguments.
macro_rules! forwarded {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $call:ident) => {
        $crate::real::forwarded!(
            $(#[$doc])*
            #[doc = concat!("`", stringify!($name), "`, counted as [`BlockingCall::", stringify!($call), "`](allocgate::BlockingCall::", stringify!($call), ").")]
            $name($($arg: $ty),*) -> $ret = $call via $crate::real::real(allocgate::BlockingCall::$call)
        );
    };
    // Counted as `$call`, forwarded to the function at `$address`.
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $call:ident via $address:expr) => {
        $(#[$doc])*
        ///
        /// # Safety
        /// The C library's contract for this function.
        #[unsafe(no_mangle)]
        pub unsafe extern "C-unwind" fn $name($($arg: $ty),*) -> $ret {
            allocgate::c_level::record_blocking(allocgate::BlockingCall::$call);
            let address = $address;
            // SAFETY: `address` is the C library's definition of this
            // function (looked up by its name), with this signature.
            let f: unsafe extern "C-unwind" fn($($ty),*) -> $ret = unsafe { std::mem::transmute(address) };
            // SAFETY: forwarded unchanged (caller's contract).
            unsafe { f($($arg),*) }
        }
    };
}

/// Defines a function forwarded to a glibc alias: records `$call`, then
/// calls `$alias` with the same arguments.
macro_rules! aliased {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $call:ident, $alias:path) => {
        $(#[$doc])*
        #[doc = concat!("`", stringify!($name), "`, counted as [`BlockingCall::", stringify!($call), "`](allocgate::BlockingCall::", stringify!($call), "); forwarded to glibc's `", stringify!($alias), "`.")]
        ///
        /// # Safety
        /// The C library's contract for this function.
        #[unsafe(no_mangle)]
        pub unsafe extern "C-unwind" fn $name($($arg: $ty),*) -> $ret {
            allocgate::c_level::record_blocking(allocgate::BlockingCall::$call);
            // SAFETY: forwarded unchanged (caller's contract).
            unsafe { $alias($($arg),*) }
        }
    };
}

pub(crate) use {aliased, forwarded};
