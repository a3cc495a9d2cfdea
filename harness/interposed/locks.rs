//! Locks, waits and sleeps, counted by name.

use std::ffi::c_void;
use std::ptr;

use allocgate::{BlockingCall, CallbackGate, measure, permit};

use crate::{blocking, errno, make, set_errno};

#[test]
fn the_process_calls_this_crates_blocking_functions() {
    for (name, ours) in [
        (
            c"pthread_mutex_lock",
            allocgate_interpose::pthread_mutex_lock as *const c_void,
        ),
        (
            c"nanosleep",
            allocgate_interpose::nanosleep as *const c_void,
        ),
        (
            c"sched_yield",
            allocgate_interpose::sched_yield as *const c_void,
        ),
        (c"usleep", allocgate_interpose::usleep as *const c_void),
    ] {
        // SAFETY: a NUL-terminated name; RTLD_DEFAULT searches the global scope.
        let found = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
        assert_eq!(found as *const c_void, ours, "{name:?} resolves elsewhere");
    }
}

#[test]
fn looking_up_the_c_librarys_functions_allocates_nothing() {
    let m = measure(|| {
        // SAFETY: a NUL-terminated name; RTLD_NEXT asks past this executable.
        unsafe { libc::dlsym(libc::RTLD_NEXT, c"pthread_mutex_lock".as_ptr()) }
    });
    assert!(!m.value.is_null());
    assert_ne!(
        m.value as *const c_void,
        allocgate_interpose::pthread_mutex_lock as *const c_void
    );
    assert!(m.stats.is_allocation_free(), "{}", m.stats);
    assert!(m.stats.blocking.is_zero(), "{}", m.stats);
}

struct CMutex(std::cell::UnsafeCell<libc::pthread_mutex_t>);
// SAFETY: a pthread mutex is made to be shared between threads.
unsafe impl Sync for CMutex {}
static C_MUTEX: CMutex = CMutex(std::cell::UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER));

#[test]
fn a_hazard_gate_around_a_c_mutex_fails_naming_pthread_mutex_lock() {
    const INVOCATIONS: u64 = 20;
    let run = CallbackGate::new("c-mutex")
        .check_hazards()
        .run(INVOCATIONS, |_| {
            // SAFETY: a statically initialised mutex, locked and unlocked
            // once by this thread.
            unsafe {
                assert_eq!(libc::pthread_mutex_lock(C_MUTEX.0.get()), 0);
                assert_eq!(libc::pthread_mutex_unlock(C_MUTEX.0.get()), 0);
            }
        })
        .unwrap();
    // One lock per invocation; unlocking is not a blocking call.
    assert!(run.is_allocation_free());
    assert_eq!(run.hazardous_invocations(), INVOCATIONS);
    assert!(
        run.calls()
            .all(|c| c.blocking_calls == 1 && !c.is_hazard_free())
    );
    let stats = run.stats();
    assert_eq!(stats.blocking.get(BlockingCall::MutexLock), INVOCATIONS);
    assert_eq!(stats.blocking.total(), INVOCATIONS);
    let totals = run.hazards().unwrap();
    assert_eq!(
        (totals.blocking_calls, totals.callbacks_blocking),
        (INVOCATIONS, INVOCATIONS)
    );
    run.assert_allocation_free();
    let failure = std::panic::catch_unwind(|| run.assert_clean()).unwrap_err();
    let message = failure.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("invocation 0: blocking calls: 1 x pthread_mutex_lock"),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "{INVOCATIONS} blocking calls in {INVOCATIONS} callbacks ({INVOCATIONS} x pthread_mutex_lock)"
        )),
        "{message}"
    );
}

#[test]
fn a_gate_without_hazard_checks_does_not_hold_blocking_calls_against_it() {
    let run = CallbackGate::new("c-mutex-unchecked")
        .run(3, |_| {
            // SAFETY: as in the hazard gate's test.
            unsafe {
                libc::pthread_mutex_lock(C_MUTEX.0.get());
                libc::pthread_mutex_unlock(C_MUTEX.0.get());
            }
        })
        .unwrap();
    assert!(run.is_clean());
    assert!(run.calls().all(|c| c.blocking_calls == 0));
}

#[test]
fn a_zero_nanosleep_is_counted_once_per_call() {
    const CALLS: u64 = 5;
    let b = blocking(|| {
        for _ in 0..CALLS {
            make(BlockingCall::NanoSleep);
        }
    });
    assert_eq!(b.get(BlockingCall::NanoSleep), CALLS);
    assert_eq!(b.total(), CALLS);
}

#[test]
fn a_failing_nanosleep_is_counted_and_keeps_its_errno() {
    let bad = libc::timespec {
        tv_sec: 0,
        tv_nsec: -1,
    };
    set_errno(0);
    // SAFETY: a readable request; glibc rejects it with EINVAL.
    let b = blocking(|| assert_eq!(unsafe { libc::nanosleep(&bad, ptr::null_mut()) }, -1));
    assert_eq!(errno(), libc::EINVAL);
    assert_eq!(b.get(BlockingCall::NanoSleep), 1);
}

#[test]
fn sched_yield_is_counted() {
    const CALLS: u64 = 3;
    let b = blocking(|| {
        for _ in 0..CALLS {
            make(BlockingCall::SchedYield);
        }
    });
    assert_eq!(b.get(BlockingCall::SchedYield), CALLS);
    assert_eq!(b.total(), CALLS);
}

#[test]
fn usleep_and_sleep_count_once_not_again_as_their_internal_nanosleep() {
    // glibc's usleep and sleep call its internal nanosleep directly, not
    // through the exported symbol: one call each.
    // SAFETY: zero-length sleeps.
    let b = blocking(|| unsafe {
        assert_eq!(libc::usleep(0), 0);
        assert_eq!(libc::sleep(0), 0);
    });
    assert_eq!(b.get(BlockingCall::Usleep), 1);
    assert_eq!(b.get(BlockingCall::Sleep), 1);
    assert_eq!(b.total(), 2, "{b}");
}

#[test]
fn every_other_lock_wait_and_sleep_is_counted_by_name() {
    let zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let mut mutex = libc::PTHREAD_MUTEX_INITIALIZER;
    let mut rwlock = libc::PTHREAD_RWLOCK_INITIALIZER;
    let mut spin: libc::pthread_spinlock_t = 0;
    // SAFETY: a zeroed sem_t is storage for sem_init.
    let mut sem: libc::sem_t = unsafe { std::mem::zeroed() };
    // SAFETY: initialising local objects before use.
    unsafe {
        assert_eq!(libc::pthread_spin_init(&mut spin, 0), 0);
        assert_eq!(libc::sem_init(&mut sem, 0, 2), 0);
    }
    let far = libc::timespec {
        tv_sec: i64::from(i32::MAX),
        tv_nsec: 0,
    };
    // SAFETY: each object is initialised and only this thread uses it;
    // every lock is free when taken and released after; the semaphore
    // holds 2, taken twice.
    let b = blocking(|| unsafe {
        assert_eq!(libc::pthread_mutex_trylock(&mut mutex), 0);
        assert_eq!(libc::pthread_mutex_unlock(&mut mutex), 0);
        assert_eq!(libc::pthread_mutex_timedlock(&mut mutex, &far), 0);
        assert_eq!(libc::pthread_mutex_unlock(&mut mutex), 0);
        assert_eq!(libc::pthread_rwlock_rdlock(&mut rwlock), 0);
        assert_eq!(libc::pthread_rwlock_unlock(&mut rwlock), 0);
        assert_eq!(libc::pthread_rwlock_wrlock(&mut rwlock), 0);
        assert_eq!(libc::pthread_rwlock_unlock(&mut rwlock), 0);
        assert_eq!(libc::pthread_spin_lock(&mut spin), 0);
        assert_eq!(libc::pthread_spin_unlock(&mut spin), 0);
        assert_eq!(libc::sem_wait(&mut sem), 0);
        assert_eq!(libc::sem_timedwait(&mut sem, &far), 0);
        assert_eq!(
            libc::clock_nanosleep(libc::CLOCK_MONOTONIC, 0, &zero, ptr::null_mut()),
            0
        );
    });
    // SAFETY: destroying the objects initialised above, no longer used.
    unsafe {
        libc::sem_destroy(&mut sem);
        libc::pthread_spin_destroy(&mut spin);
    }
    for call in [
        BlockingCall::MutexTryLock,
        BlockingCall::MutexTimedLock,
        BlockingCall::RwLockRead,
        BlockingCall::RwLockWrite,
        BlockingCall::SpinLock,
        BlockingCall::SemWait,
        BlockingCall::SemTimedWait,
        BlockingCall::ClockNanoSleep,
    ] {
        assert_eq!(b.get(call), 1, "{call}: {b}");
    }
    assert_eq!(b.total(), 8, "{b}");
}

#[test]
fn an_uncontended_std_mutex_is_not_seen() {
    // Rust's std::sync::Mutex on Linux is a futex word: an uncontended lock
    // is one atomic operation and calls no C library function, so the
    // layer has nothing to count. Only a contended lock waits, through
    // `syscall(SYS_futex, …)`, and is counted (see the contended test).
    let m = std::sync::Mutex::new(0u32);
    let b = blocking(|| *m.lock().unwrap() += 1);
    assert!(b.is_zero(), "{b}");
}

#[test]
fn only_the_calling_threads_scope_counts_and_permitted_calls_stay_apart() {
    // A call before the scope opens, and calls on a thread without a
    // scope, are not counted.
    make(BlockingCall::SchedYield);
    let worker = std::thread::spawn(|| {
        for _ in 0..10 {
            make(BlockingCall::SchedYield);
        }
    });
    let m = measure(|| {
        make(BlockingCall::NanoSleep);
        permit(|| make(BlockingCall::SchedYield));
    });
    worker.join().unwrap();
    assert_eq!(m.stats.blocking.get(BlockingCall::NanoSleep), 1);
    assert_eq!(m.stats.blocking.total(), 1, "{}", m.stats.blocking);
    assert_eq!(m.stats.permitted_blocking.get(BlockingCall::SchedYield), 1);
    assert_eq!(m.stats.permitted_blocking.total(), 1);
    assert!(
        m.stats
            .to_string()
            .contains("blocking calls: 1 x nanosleep")
    );
}

#[test]
fn cond_waits_forward_to_the_current_symbol_version() {
    for name in [c"pthread_cond_wait", c"pthread_cond_timedwait"] {
        // SAFETY: NUL-terminated names; RTLD_NEXT asks past this executable.
        let current =
            unsafe { libc::dlvsym(libc::RTLD_NEXT, name.as_ptr(), c"GLIBC_2.3.2".as_ptr()) };
        assert!(!current.is_null(), "{name:?}");
        let forwarded = allocgate_interpose::forwarded_address(name.to_str().unwrap());
        assert_eq!(forwarded, Some(current as usize), "{name:?}");
        // SAFETY: as above.
        let ours = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
        assert_ne!(ours, current, "{name:?} is this crate's in the process");
        #[cfg(target_arch = "x86_64")]
        {
            // The compatibility version, for the older condition layout,
            // is another function.
            // SAFETY: as above.
            let old =
                unsafe { libc::dlvsym(libc::RTLD_NEXT, name.as_ptr(), c"GLIBC_2.2.5".as_ptr()) };
            assert!(!old.is_null() && old != current, "{name:?}");
        }
    }
}

struct CondPair {
    mutex: std::cell::UnsafeCell<libc::pthread_mutex_t>,
    cond: std::cell::UnsafeCell<libc::pthread_cond_t>,
    ready: std::sync::atomic::AtomicBool,
}
// SAFETY: pthread objects are made to be shared between threads.
unsafe impl Sync for CondPair {}

#[test]
fn a_timed_cond_wait_times_out_and_is_counted() {
    let pair = CondPair {
        mutex: std::cell::UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER),
        cond: std::cell::UnsafeCell::new(libc::PTHREAD_COND_INITIALIZER),
        ready: std::sync::atomic::AtomicBool::new(false),
    };
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock and output.
    assert_eq!(
        unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) },
        0
    );
    // 20 ms from now.
    let deadline = libc::timespec {
        tv_sec: now.tv_sec + (now.tv_nsec + 20_000_000) / 1_000_000_000,
        tv_nsec: (now.tv_nsec + 20_000_000) % 1_000_000_000,
    };
    let started = std::time::Instant::now();
    let mut result = 0;
    // SAFETY: initialised objects; the mutex is locked by this thread
    // around the wait, as the wait requires. Nobody signals.
    let b = blocking(|| unsafe {
        assert_eq!(libc::pthread_mutex_lock(pair.mutex.get()), 0);
        result = libc::pthread_cond_timedwait(pair.cond.get(), pair.mutex.get(), &deadline);
        assert_eq!(libc::pthread_mutex_unlock(pair.mutex.get()), 0);
    });
    assert_eq!(result, libc::ETIMEDOUT);
    assert!(started.elapsed() >= std::time::Duration::from_millis(15));
    // The wait's own re-acquisition of the mutex is glibc's internal call.
    assert_eq!(b.get(BlockingCall::CondTimedWait), 1, "{b}");
    assert_eq!(b.get(BlockingCall::MutexLock), 1, "{b}");
    assert_eq!(b.total(), 2, "{b}");
}

#[test]
fn a_signalled_cond_wait_is_counted_once_per_wait() {
    use std::sync::atomic::Ordering;
    let pair = std::sync::Arc::new(CondPair {
        mutex: std::cell::UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER),
        cond: std::cell::UnsafeCell::new(libc::PTHREAD_COND_INITIALIZER),
        ready: std::sync::atomic::AtomicBool::new(false),
    });
    // The signaller can take the mutex only once this thread waits, so
    // the first check of `ready` is false and the loop waits at least
    // once; a spurious wake-up waits again, and each wait is counted.
    // SAFETY: an initialised mutex, locked by this thread.
    assert_eq!(unsafe { libc::pthread_mutex_lock(pair.mutex.get()) }, 0);
    let signaller = {
        let pair = pair.clone();
        std::thread::spawn(move || {
            // SAFETY: initialised objects, the mutex held around the change.
            unsafe {
                assert_eq!(libc::pthread_mutex_lock(pair.mutex.get()), 0);
                pair.ready.store(true, Ordering::Relaxed);
                assert_eq!(libc::pthread_cond_signal(pair.cond.get()), 0);
                assert_eq!(libc::pthread_mutex_unlock(pair.mutex.get()), 0);
            }
        })
    };
    let mut waits = 0;
    // SAFETY: this thread holds the mutex, as the wait requires.
    let b = blocking(|| unsafe {
        while !pair.ready.load(Ordering::Relaxed) {
            waits += 1;
            assert_eq!(
                libc::pthread_cond_wait(pair.cond.get(), pair.mutex.get()),
                0
            );
        }
        assert_eq!(libc::pthread_mutex_unlock(pair.mutex.get()), 0);
    });
    signaller.join().unwrap();
    assert!(waits >= 1);
    assert_eq!(b.get(BlockingCall::CondWait), waits, "{b}");
    assert_eq!(b.total(), waits, "{b}");
}

#[test]
fn a_contended_std_mutex_is_counted_as_a_futex_wait() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let mutex = std::sync::Arc::new(std::sync::Mutex::new(0u32));
    let held = std::sync::Arc::new(AtomicBool::new(false));
    let holder = {
        let (mutex, held) = (mutex.clone(), held.clone());
        std::thread::spawn(move || {
            let guard = mutex.lock().unwrap();
            held.store(true, Ordering::Release);
            std::thread::sleep(std::time::Duration::from_millis(50));
            drop(guard);
        })
    };
    while !held.load(Ordering::Acquire) {
        std::thread::yield_now();
    }
    // The lock is held for about 50 ms more: std's mutex spins briefly,
    // then waits in `syscall(SYS_futex, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)`.
    // How many waits it takes is not fixed: a wait returns early when the
    // word changed before it slept, or spuriously, and the mutex then waits
    // again. At least one, and nothing else.
    let b = blocking(|| *mutex.lock().unwrap() += 1);
    holder.join().unwrap();
    assert!(b.get(BlockingCall::Futex) >= 1, "{b}");
    assert_eq!(b.total(), b.get(BlockingCall::Futex), "{b}");
}

#[test]
fn futex_waits_through_syscall_are_counted_and_wakes_and_other_calls_are_not() {
    let word = std::sync::atomic::AtomicU32::new(1);
    let mut results = [0; 4];
    set_errno(0);
    // SAFETY: a live futex word; a wait for a value the word does not hold
    // returns EAGAIN at once; a wake with nobody waiting wakes none.
    let b = blocking(|| unsafe {
        results[0] = libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            0u32,
            ptr::null::<libc::timespec>(),
        );
        results[1] = libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        );
        results[2] = libc::syscall(libc::SYS_getpid);
        results[3] = libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT_BITSET | libc::FUTEX_PRIVATE_FLAG | libc::FUTEX_CLOCK_REALTIME,
            0u32,
            ptr::null::<libc::timespec>(),
            ptr::null::<u32>(),
            u32::MAX,
        );
    });
    assert_eq!(results[0], -1);
    assert_eq!(results[1], 0, "nobody to wake");
    // SAFETY: no preconditions.
    assert_eq!(results[2], i64::from(unsafe { libc::getpid() }));
    assert_eq!(results[3], -1);
    assert_eq!(errno(), libc::EAGAIN, "the C library's errno, kept");
    assert_eq!(b.get(BlockingCall::Futex), 2, "{b}");
    assert_eq!(b.total(), 2, "{b}");
}
