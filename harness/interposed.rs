//! A test binary opted in to the C-level layer: C code's allocation calls
//! show in allocgate's scopes with their exact sizes, and Rust's are still
//! counted once; the C library's blocking calls show by name.

use std::ffi::{CStr, c_void};
use std::hint::black_box;
use std::ptr;

use allocgate::{BlockingCall, BlockingCounts, CallbackGate, Counts, measure, permit};

#[global_allocator]
static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();

allocgate_interpose::install!();

/// What `f` made the allocator do on this thread, forbidden calls only.
fn counts(f: impl FnOnce()) -> Counts {
    let m = measure(f);
    assert_eq!(m.stats.permitted, Counts::new(), "nothing runs permitted");
    m.stats.counts
}

fn errno() -> i32 {
    // SAFETY: this thread's errno, valid for the thread's life.
    unsafe { *libc::__errno_location() }
}

fn set_errno(value: i32) {
    // SAFETY: as in `errno`.
    unsafe { *libc::__errno_location() = value };
}

#[test]
fn the_process_calls_this_crates_malloc() {
    // The dynamic linker's answer for the whole process, not only for this
    // binary's own calls.
    for (name, ours) in [
        (c"malloc", allocgate_interpose::malloc as *const c_void),
        (c"free", allocgate_interpose::free as *const c_void),
        (c"calloc", allocgate_interpose::calloc as *const c_void),
        (c"realloc", allocgate_interpose::realloc as *const c_void),
    ] {
        // SAFETY: a NUL-terminated name; RTLD_DEFAULT searches the global scope.
        let found = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
        assert_eq!(found as *const c_void, ours, "{name:?} resolves elsewhere");
    }
    assert!(allocgate::c_level::is_attached());
}

#[test]
fn a_gate_around_c_malloc_and_free_fails_with_every_call_counted() {
    const INVOCATIONS: u64 = 100;
    const SIZE: usize = 48;
    let run = CallbackGate::new("c-malloc")
        .run(INVOCATIONS, |_| {
            // SAFETY: a fresh block, freed once.
            unsafe { libc::free(black_box(libc::malloc(SIZE))) }
        })
        .unwrap();
    assert!(!run.is_allocation_free());
    assert_eq!(run.allocating_invocations(), INVOCATIONS);
    let total = run.total();
    assert_eq!(total.allocations, INVOCATIONS);
    assert_eq!(total.bytes_allocated, INVOCATIONS * SIZE as u64);
    assert_eq!(total.deallocations, INVOCATIONS);
    assert_eq!(total.largest_request, SIZE as u64);
    assert_eq!(run.stats().counts, total);
    let failure = std::panic::catch_unwind(|| run.assert_allocation_free());
    assert!(failure.is_err(), "the gate must fail");
}

#[test]
fn a_traced_gate_records_a_site_for_every_c_call() {
    const INVOCATIONS: u64 = 10;
    let run = CallbackGate::new("c-malloc-traced")
        .trace_sites()
        .run(INVOCATIONS, |_| {
            // SAFETY: a fresh block, freed once.
            unsafe { libc::free(black_box(libc::malloc(48))) }
        })
        .unwrap();
    let sites = run.sites();
    let allocations: u64 = sites.iter().map(|s| s.allocations()).sum();
    let deallocations: u64 = sites.iter().map(|s| s.deallocations()).sum();
    assert_eq!((allocations, deallocations), (INVOCATIONS, INVOCATIONS));
}

#[test]
fn assert_no_alloc_catches_a_c_malloc() {
    let caught = std::panic::catch_unwind(|| {
        allocgate::assert_no_alloc(|| {
            // SAFETY: a fresh block, freed once.
            unsafe { libc::free(black_box(libc::malloc(16))) }
        })
    });
    assert!(caught.is_err());
}

#[test]
fn strdup_is_counted_through_the_c_librarys_own_malloc_call() {
    let text: &CStr = c"a string the C library copies";
    let mut copy = ptr::null_mut();
    let c = counts(|| {
        // SAFETY: a NUL-terminated string.
        copy = unsafe { libc::strdup(text.as_ptr()) };
    });
    assert!(!copy.is_null());
    let len = text.to_bytes().len() as u64;
    assert_eq!((c.allocations, c.deallocations, c.reallocations), (1, 0, 0));
    assert_eq!(c.bytes_allocated, len + 1, "the text and its NUL");
    // SAFETY: strdup's block, freed once.
    unsafe { libc::free(copy.cast()) };
}

#[test]
fn calloc_counts_a_zeroed_allocation_of_the_product() {
    const COUNT: usize = 7;
    const SIZE: usize = 12;
    let mut block = ptr::null_mut();
    // SAFETY: a plain request.
    let c = counts(|| block = unsafe { libc::calloc(COUNT, SIZE) });
    assert!(!block.is_null());
    assert_eq!((c.allocations, c.zeroed), (1, 1));
    assert_eq!(c.bytes_allocated, (COUNT * SIZE) as u64);
    // SAFETY: calloc's block holds COUNT * SIZE bytes.
    let bytes = unsafe { std::slice::from_raw_parts(block.cast::<u8>(), COUNT * SIZE) };
    assert!(bytes.iter().all(|&b| b == 0));
    // SAFETY: calloc's block, freed once.
    unsafe { libc::free(block) };
}

#[test]
fn realloc_counts_a_reallocation_from_the_usable_size() {
    const NEW: usize = 4096;
    // SAFETY: a plain request; the block is live until freed below.
    let block = unsafe { libc::malloc(24) };
    assert!(!block.is_null());
    // SAFETY: a live block.
    let usable = unsafe { libc::malloc_usable_size(block) } as u64;
    assert!(usable >= 24);
    let mut grown = ptr::null_mut();
    // SAFETY: a live block, replaced by the result.
    let c = counts(|| grown = unsafe { libc::realloc(block, NEW) });
    assert!(!grown.is_null());
    assert_eq!((c.allocations, c.deallocations, c.reallocations), (0, 0, 1));
    assert_eq!(c.realloc_bytes_from, usable);
    assert_eq!(c.realloc_bytes_to, NEW as u64);
    assert_eq!(c.realloc_bytes_grown, NEW as u64 - usable);
    // SAFETY: realloc's block, freed once.
    unsafe { libc::free(grown) };
}

#[test]
fn realloc_of_null_allocates_and_to_zero_frees() {
    let mut block = ptr::null_mut();
    // SAFETY: realloc of null is malloc.
    let c = counts(|| block = unsafe { libc::realloc(ptr::null_mut(), 40) });
    assert_eq!(
        (c.allocations, c.reallocations, c.bytes_allocated),
        (1, 0, 40)
    );
    // SAFETY: a live block.
    let usable = unsafe { libc::malloc_usable_size(block) } as u64;
    // SAFETY: glibc frees the block and returns null.
    let c = counts(|| block = unsafe { libc::realloc(block, 0) });
    assert!(block.is_null());
    assert_eq!((c.deallocations, c.reallocations), (1, 0));
    assert_eq!(c.bytes_deallocated, usable);
}

#[test]
fn reallocarray_counts_the_product_and_rejects_an_overflow_uncounted() {
    let mut block = ptr::null_mut();
    // SAFETY: reallocarray of null allocates.
    let c = counts(|| block = unsafe { libc::reallocarray(ptr::null_mut(), 3, 20) });
    assert!(!block.is_null());
    assert_eq!((c.allocations, c.bytes_allocated), (1, 60));
    let mut failed = ptr::null_mut();
    set_errno(0);
    // SAFETY: the product overflows; the block stays live.
    let c = counts(|| failed = unsafe { libc::reallocarray(block, usize::MAX, 2) });
    assert!(failed.is_null());
    assert_eq!(errno(), libc::ENOMEM);
    assert!(c.is_zero());
    // SAFETY: the live block, freed once.
    unsafe { libc::free(block) };
}

#[test]
fn posix_memalign_counts_the_size_and_keeps_errno() {
    const ALIGN: usize = 64;
    const SIZE: usize = 200;
    let mut block = ptr::null_mut();
    let mut result = -1;
    set_errno(libc::EDOM);
    // SAFETY: `block` is valid for the write.
    let c = counts(|| result = unsafe { libc::posix_memalign(&mut block, ALIGN, SIZE) });
    assert_eq!(result, 0);
    assert_eq!(errno(), libc::EDOM);
    assert_eq!(block as usize % ALIGN, 0);
    assert_eq!((c.allocations, c.bytes_allocated), (1, SIZE as u64));
    // SAFETY: posix_memalign's block, freed once.
    unsafe { libc::free(block) };

    // An alignment that is not a power of two fails before the allocator.
    let mut none = ptr::null_mut();
    // SAFETY: `none` is valid for the write.
    let c = counts(|| result = unsafe { libc::posix_memalign(&mut none, 24, SIZE) });
    assert_eq!(result, libc::EINVAL);
    assert!(c.is_zero());
}

#[test]
fn aligned_alloc_memalign_valloc_and_pvalloc_count_the_requested_bytes() {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    let calls: [(
        &str,
        usize,
        usize,
        unsafe extern "C" fn(usize) -> *mut c_void,
    ); 2] = [
        ("valloc", 100, page, allocgate_interpose::valloc),
        ("pvalloc", 100, page, allocgate_interpose::pvalloc),
    ];
    for (name, size, align, call) in calls {
        let mut block = ptr::null_mut();
        // SAFETY: a plain request.
        let c = counts(|| block = unsafe { call(size) });
        assert_eq!(block as usize % align, 0, "{name}");
        assert_eq!(
            (c.allocations, c.bytes_allocated),
            (1, size as u64),
            "{name}"
        );
        // SAFETY: the block, freed once.
        unsafe { libc::free(block) };
    }
    let aligned: [(&str, unsafe extern "C" fn(usize, usize) -> *mut c_void); 2] = [
        ("aligned_alloc", libc::aligned_alloc),
        ("memalign", libc::memalign),
    ];
    for (name, call) in aligned {
        const ALIGN: usize = 256;
        const SIZE: usize = 512;
        let mut block = ptr::null_mut();
        // SAFETY: a power-of-two alignment dividing the size.
        let c = counts(|| block = unsafe { call(ALIGN, SIZE) });
        assert_eq!(block as usize % ALIGN, 0, "{name}");
        assert_eq!(
            (c.allocations, c.bytes_allocated),
            (1, SIZE as u64),
            "{name}"
        );
        // SAFETY: the block, freed once.
        unsafe { libc::free(block) };
    }
}

#[test]
fn rust_allocations_are_counted_once() {
    // One allocation and one deallocation of 36 bytes, as without the layer.
    let c = counts(|| drop(black_box(Box::new([0u8; 36]))));
    assert_eq!((c.allocations, c.deallocations, c.reallocations), (1, 1, 0));
    assert_eq!((c.bytes_allocated, c.bytes_deallocated), (36, 36));

    // Zeroed (System calls calloc), grown (realloc) and over-aligned
    // (posix_memalign) requests: one call each.
    let c = counts(|| {
        let mut v = black_box(vec![0u8; 100]);
        v.reserve_exact(900);
        drop(v);
    });
    assert_eq!((c.allocations, c.zeroed, c.reallocations), (1, 1, 1));
    assert_eq!(c.bytes_allocated, 100);
    assert_eq!((c.realloc_bytes_from, c.realloc_bytes_to), (100, 1000));
    assert_eq!((c.deallocations, c.bytes_deallocated), (1, 1000));

    #[repr(align(4096))]
    struct Page([u8; 4096]);
    let c = counts(|| assert_eq!(black_box(Box::new(Page([7; 4096]))).0[4095], 7));
    assert_eq!((c.allocations, c.deallocations), (1, 1));
    assert_eq!(c.bytes_allocated, 4096);
}

#[test]
fn free_of_null_is_not_counted_and_free_keeps_errno() {
    // SAFETY: free of null does nothing.
    let c = counts(|| unsafe { libc::free(ptr::null_mut()) });
    assert!(c.is_zero());

    // Inside a scope (the layer's counting path) and outside it.
    for in_scope in [true, false] {
        // SAFETY: a plain request.
        let block = unsafe { libc::malloc(8) };
        assert!(!block.is_null());
        set_errno(libc::EDOM);
        // SAFETY: the block, freed once.
        let free = || unsafe { libc::free(block) };
        if in_scope {
            assert_eq!(counts(free).deallocations, 1);
        } else {
            free();
        }
        assert_eq!(errno(), libc::EDOM, "in scope: {in_scope}");
    }
}

/// The blocking calls `f` made on this thread, forbidden ones only.
fn blocking(f: impl FnOnce()) -> BlockingCounts {
    let m = measure(f);
    assert!(
        m.stats.permitted_blocking.is_zero(),
        "nothing runs permitted"
    );
    m.stats.blocking
}

/// Makes one call to `call` that returns at once.
fn make(call: BlockingCall) {
    let zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: each call gets valid arguments and returns at once.
    unsafe {
        match call {
            BlockingCall::NanoSleep => assert_eq!(libc::nanosleep(&zero, ptr::null_mut()), 0),
            BlockingCall::SchedYield => assert_eq!(libc::sched_yield(), 0),
            other => unreachable!("{other} is not made by this helper"),
        }
    }
}

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
    // layer has nothing to count.
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
