//! The C library's blocking calls: each records its name and forwards to
//! glibc's own implementation.
//!
//! `nanosleep` and `sched_yield` forward to the aliases glibc exports under
//! a default version, `__nanosleep` and `__sched_yield`. The others have
//! no such alias (glibc 2.36 exports `__pthread_mutex_lock` and the like
//! only as compatibility versions, which a program cannot link against), so
//! their addresses are looked up once with `dlsym(RTLD_NEXT, …)`: when
//! [`install!`](crate::install) runs, or at the first call if one comes
//! earlier (another library's load-time constructor). The lookup is made
//! from this executable, so `RTLD_NEXT` finds the C library's definition,
//! never this module's; it takes the dynamic linker's own lock, which is
//! not a `pthread_mutex_lock` call, and, when it succeeds, allocates
//! nothing (a test measures it).

use std::ffi::{CStr, c_int, c_uint, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};

use allocgate::BlockingCall;
use allocgate::c_level;
use libc::{clockid_t, pthread_mutex_t, pthread_rwlock_t, pthread_spinlock_t, sem_t, timespec};

use crate::errno::keeping_errno;

// Exported by glibc under a default version (GLIBC_2.2.6 and GLIBC_2.2.5
// on x86-64); calling them does not go back through this module.
unsafe extern "C" {
    fn __nanosleep(req: *const timespec, rem: *mut timespec) -> c_int;
    fn __sched_yield() -> c_int;
}

/// The functions found with `dlsym`, by slot.
const NAMES: [&CStr; 11] = [
    c"pthread_mutex_lock",
    c"pthread_mutex_timedlock",
    c"pthread_mutex_trylock",
    c"pthread_rwlock_rdlock",
    c"pthread_rwlock_wrlock",
    c"pthread_spin_lock",
    c"sem_wait",
    c"sem_timedwait",
    c"clock_nanosleep",
    c"usleep",
    c"sleep",
];
const SLOTS: usize = NAMES.len();

/// The C library's addresses, 0 until looked up. Written once per slot
/// (two threads racing write the same value), read with one relaxed load.
static REAL: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];

/// Looks up every function, so that calls made in scopes never do.
pub(crate) fn resolve_all() {
    for slot in 0..SLOTS {
        real(slot);
    }
}

/// The C library's address of the function in `slot`. Aborts, with a
/// message, if the C library lacks it: a forwarded call has nowhere else to
/// go.
#[inline(always)]
fn real(slot: usize) -> usize {
    let address = REAL[slot].load(Ordering::Relaxed);
    if address != 0 {
        return address;
    }
    look_up(slot)
}

#[cold]
fn look_up(slot: usize) -> usize {
    let symbol = NAMES[slot];
    // SAFETY: a NUL-terminated name; `RTLD_NEXT` asks for the definition
    // after this executable's. `dlerror` state may change, `errno` is kept.
    let address = keeping_errno(|| unsafe { libc::dlsym(libc::RTLD_NEXT, symbol.as_ptr()) });
    if address.is_null() {
        let text =
            b"allocgate-interpose: the C library does not define a function it forwards to\n";
        // SAFETY: writes a static buffer to standard error, then ends the
        // process, which cannot forward the call.
        unsafe {
            libc::write(2, text.as_ptr().cast(), text.len());
            libc::abort();
        }
    }
    REAL[slot].store(address as usize, Ordering::Relaxed);
    address as usize
}

/// Defines a forwarded function: records `$call`, then calls the C
/// library's `$slot` with the same arguments.
macro_rules! forwarded {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $slot:expr, $call:ident) => {
        $(#[$doc])*
        ///
        /// # Safety
        /// The C library's contract for this function.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
            c_level::record_blocking(BlockingCall::$call);
            let address = real($slot);
            // SAFETY: `address` is the C library's definition of this
            // function (looked up by its name), with this signature.
            let f: unsafe extern "C" fn($($ty),*) -> $ret = unsafe { std::mem::transmute(address) };
            // SAFETY: forwarded unchanged (caller's contract).
            unsafe { f($($arg),*) }
        }
    };
}

forwarded!(
    /// `pthread_mutex_lock`, counted as [`BlockingCall::MutexLock`].
    pthread_mutex_lock(m: *mut pthread_mutex_t) -> c_int = 0, MutexLock
);
forwarded!(
    /// `pthread_mutex_timedlock`, counted as [`BlockingCall::MutexTimedLock`].
    pthread_mutex_timedlock(m: *mut pthread_mutex_t, abstime: *const timespec) -> c_int = 1, MutexTimedLock
);
forwarded!(
    /// `pthread_mutex_trylock`, counted as [`BlockingCall::MutexTryLock`].
    pthread_mutex_trylock(m: *mut pthread_mutex_t) -> c_int = 2, MutexTryLock
);
forwarded!(
    /// `pthread_rwlock_rdlock`, counted as [`BlockingCall::RwLockRead`].
    pthread_rwlock_rdlock(rw: *mut pthread_rwlock_t) -> c_int = 3, RwLockRead
);
forwarded!(
    /// `pthread_rwlock_wrlock`, counted as [`BlockingCall::RwLockWrite`].
    pthread_rwlock_wrlock(rw: *mut pthread_rwlock_t) -> c_int = 4, RwLockWrite
);
forwarded!(
    /// `pthread_spin_lock`, counted as [`BlockingCall::SpinLock`].
    pthread_spin_lock(lock: *mut pthread_spinlock_t) -> c_int = 5, SpinLock
);
forwarded!(
    /// `sem_wait`, counted as [`BlockingCall::SemWait`].
    sem_wait(sem: *mut sem_t) -> c_int = 6, SemWait
);
forwarded!(
    /// `sem_timedwait`, counted as [`BlockingCall::SemTimedWait`].
    sem_timedwait(sem: *mut sem_t, abstime: *const timespec) -> c_int = 7, SemTimedWait
);
forwarded!(
    /// `clock_nanosleep`, counted as [`BlockingCall::ClockNanoSleep`].
    clock_nanosleep(clock: clockid_t, flags: c_int, req: *const timespec, rem: *mut timespec) -> c_int = 8, ClockNanoSleep
);
forwarded!(
    /// `usleep`, counted as [`BlockingCall::Usleep`].
    usleep(usec: libc::useconds_t) -> c_int = 9, Usleep
);
forwarded!(
    /// `sleep`, counted as [`BlockingCall::Sleep`].
    sleep(seconds: c_uint) -> c_uint = 10, Sleep
);

/// `nanosleep`, counted as [`BlockingCall::NanoSleep`].
///
/// # Safety
/// The C library's contract for `nanosleep`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nanosleep(req: *const timespec, rem: *mut timespec) -> c_int {
    c_level::record_blocking(BlockingCall::NanoSleep);
    // SAFETY: forwarded unchanged.
    unsafe { __nanosleep(req, rem) }
}

/// `sched_yield`, counted as [`BlockingCall::SchedYield`].
///
/// # Safety
/// The C library's contract for `sched_yield` (none).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sched_yield() -> c_int {
    c_level::record_blocking(BlockingCall::SchedYield);
    // SAFETY: takes no argument.
    unsafe { __sched_yield() }
}

/// Refers to every function defined here (see
/// [`alloc::keep_definitions`](crate::alloc)).
pub(crate) fn keep_definitions() {
    let table: [*const c_void; 13] = [
        pthread_mutex_lock as *const c_void,
        pthread_mutex_timedlock as *const c_void,
        pthread_mutex_trylock as *const c_void,
        pthread_rwlock_rdlock as *const c_void,
        pthread_rwlock_wrlock as *const c_void,
        pthread_spin_lock as *const c_void,
        sem_wait as *const c_void,
        sem_timedwait as *const c_void,
        clock_nanosleep as *const c_void,
        usleep as *const c_void,
        sleep as *const c_void,
        nanosleep as *const c_void,
        sched_yield as *const c_void,
    ];
    std::hint::black_box(table);
}
