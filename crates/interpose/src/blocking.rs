//! The C library's locks, waits and sleeps: each records its name and
//! forwards to glibc's own implementation (see [`real`](crate::real) for
//! how each is reached).

use std::ffi::{c_int, c_uint, c_void};

use libc::{
    clockid_t, pthread_cond_t, pthread_mutex_t, pthread_rwlock_t, pthread_spinlock_t, sem_t,
    timespec,
};

use crate::real::{aliased, forwarded};

// Exported by glibc under a default version (GLIBC_2.2.6 and GLIBC_2.2.5
// on x86-64); calling them does not go back through this module.
unsafe extern "C-unwind" {
    fn __nanosleep(req: *const timespec, rem: *mut timespec) -> c_int;
    fn __sched_yield() -> c_int;
}

forwarded!(pthread_mutex_lock(m: *mut pthread_mutex_t) -> c_int = MutexLock);
forwarded!(
    pthread_mutex_timedlock(m: *mut pthread_mutex_t, abstime: *const timespec) -> c_int = MutexTimedLock
);
forwarded!(pthread_mutex_trylock(m: *mut pthread_mutex_t) -> c_int = MutexTryLock);
forwarded!(pthread_rwlock_rdlock(rw: *mut pthread_rwlock_t) -> c_int = RwLockRead);
forwarded!(pthread_rwlock_wrlock(rw: *mut pthread_rwlock_t) -> c_int = RwLockWrite);
forwarded!(pthread_spin_lock(lock: *mut pthread_spinlock_t) -> c_int = SpinLock);
forwarded!(
    /// Forwarded to glibc's `GLIBC_2.3.2` version, the one programs link
    /// against, not the compatibility one.
    pthread_cond_wait(cond: *mut pthread_cond_t, m: *mut pthread_mutex_t) -> c_int = CondWait
);
forwarded!(
    /// Forwarded to glibc's `GLIBC_2.3.2` version, as `pthread_cond_wait`.
    pthread_cond_timedwait(
        cond: *mut pthread_cond_t,
        m: *mut pthread_mutex_t,
        abstime: *const timespec
    ) -> c_int = CondTimedWait
);
forwarded!(sem_wait(sem: *mut sem_t) -> c_int = SemWait);
forwarded!(sem_timedwait(sem: *mut sem_t, abstime: *const timespec) -> c_int = SemTimedWait);
forwarded!(
    clock_nanosleep(clock: clockid_t, flags: c_int, req: *const timespec, rem: *mut timespec) -> c_int = ClockNanoSleep
);
forwarded!(usleep(usec: libc::useconds_t) -> c_int = Usleep);
forwarded!(sleep(seconds: c_uint) -> c_uint = Sleep);
aliased!(nanosleep(req: *const timespec, rem: *mut timespec) -> c_int = NanoSleep, __nanosleep);
aliased!(sched_yield() -> c_int = SchedYield, __sched_yield);

/// Refers to every function defined here (see
/// [`alloc::keep_definitions`](crate::alloc)).
pub(crate) fn keep_definitions() {
    let table: [*const c_void; 15] = [
        pthread_mutex_lock as *const c_void,
        pthread_mutex_timedlock as *const c_void,
        pthread_mutex_trylock as *const c_void,
        pthread_rwlock_rdlock as *const c_void,
        pthread_rwlock_wrlock as *const c_void,
        pthread_spin_lock as *const c_void,
        pthread_cond_wait as *const c_void,
        pthread_cond_timedwait as *const c_void,
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
