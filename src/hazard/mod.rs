//! Real-time hazards beyond the allocator, counted per callback the way
//! allocations are:
//!
//! - page faults and context switches of the calling thread
//!   ([`ThreadUsage`]: Linux `getrusage(RUSAGE_THREAD)`, read before and
//!   after a callback, only when asked, since each read is a system call;
//!   macOS has no per-thread figures);
//! - acquisitions of locks that go through [`TrackedMutex`] and
//!   [`TrackedRwLock`] (use them for the locks your callback shares), and
//!   how many of them found the lock taken ([`lock_counts`]: per-thread
//!   counters, always on). Other locks, `std::sync::Mutex` included, are
//!   not seen: a contended one shows only as a voluntary context switch;
//! - with a C-level layer attached (see [`c_level`](crate::c_level)), the
//!   C library's blocking calls (`pthread_mutex_lock`, `nanosleep`, …),
//!   counted by name in [`Stats::blocking`](crate::Stats::blocking).
//!
//! [`CallbackGate::check_hazards`](crate::CallbackGate::check_hazards)
//! judges every invocation of a callback on them; [`observe`] runs one
//! closure between two readings and returns the difference as
//! [`Hazards`]. Reading the counters never allocates, locks or blocks.

mod lock;
mod usage;

pub use lock::{LockCounts, TrackedMutex, TrackedRwLock, lock_counts};
pub use usage::{RUSAGE_SUPPORTED, ThreadUsage, UsageError, check_usage};

/// What one callback did besides calling the allocator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Hazards {
    /// Page faults served without I/O (a fresh page, a page in cache).
    pub minor_faults: u32,
    /// Page faults that waited for I/O.
    pub major_faults: u32,
    /// Times the thread gave up the CPU to wait (sleep, lock, I/O).
    pub voluntary_switches: u32,
    /// Times the scheduler took the CPU away (preemption).
    pub involuntary_switches: u32,
    /// Tracked locks taken.
    pub lock_acquisitions: u32,
    /// Of those, how many were held by another thread when asked for.
    pub lock_contentions: u32,
    /// Blocking C library calls a C-level layer counted outside permitted
    /// regions (their names are in the callback's
    /// [`Stats::blocking`](crate::Stats::blocking)); zero without a layer.
    pub blocking_calls: u32,
    /// The four usage counters were read around this callback (off: they
    /// read zero because nobody looked, not because nothing happened).
    pub usage_sampled: bool,
}

impl Hazards {
    /// Nothing observed, usage not sampled.
    pub const NONE: Hazards = Hazards {
        minor_faults: 0,
        major_faults: 0,
        voluntary_switches: 0,
        involuntary_switches: 0,
        lock_acquisitions: 0,
        lock_contentions: 0,
        blocking_calls: 0,
        usage_sampled: false,
    };

    /// Page faults of both kinds.
    pub fn faults(&self) -> u32 {
        self.minor_faults.saturating_add(self.major_faults)
    }
}

/// Hazards over a set of callbacks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct HazardTotals {
    /// Callbacks whose usage was sampled.
    pub sampled: u64,
    /// Minor page faults.
    pub minor_faults: u64,
    /// Major page faults.
    pub major_faults: u64,
    /// Voluntary context switches.
    pub voluntary_switches: u64,
    /// Involuntary context switches.
    pub involuntary_switches: u64,
    /// Tracked lock acquisitions.
    pub lock_acquisitions: u64,
    /// Contended acquisitions.
    pub lock_contentions: u64,
    /// Blocking C library calls (see [`Hazards::blocking_calls`]).
    pub blocking_calls: u64,
    /// Callbacks with at least one page fault.
    pub callbacks_faulting: u64,
    /// Callbacks with at least one voluntary context switch.
    pub callbacks_switching: u64,
    /// Callbacks that took at least one tracked lock.
    pub callbacks_locking: u64,
    /// Callbacks that made at least one blocking C library call.
    pub callbacks_blocking: u64,
}

impl HazardTotals {
    /// Adds one callback's hazards.
    #[inline]
    pub fn record(&mut self, h: &Hazards) {
        self.sampled += u64::from(h.usage_sampled);
        self.minor_faults += u64::from(h.minor_faults);
        self.major_faults += u64::from(h.major_faults);
        self.voluntary_switches += u64::from(h.voluntary_switches);
        self.involuntary_switches += u64::from(h.involuntary_switches);
        self.lock_acquisitions += u64::from(h.lock_acquisitions);
        self.lock_contentions += u64::from(h.lock_contentions);
        self.blocking_calls += u64::from(h.blocking_calls);
        self.callbacks_faulting += u64::from(h.faults() > 0);
        self.callbacks_switching += u64::from(h.voluntary_switches > 0);
        self.callbacks_locking += u64::from(h.lock_acquisitions > 0);
        self.callbacks_blocking += u64::from(h.blocking_calls > 0);
    }

    /// Adds other totals to these.
    pub fn merge(&mut self, o: &HazardTotals) {
        self.sampled += o.sampled;
        self.minor_faults += o.minor_faults;
        self.major_faults += o.major_faults;
        self.voluntary_switches += o.voluntary_switches;
        self.involuntary_switches += o.involuntary_switches;
        self.lock_acquisitions += o.lock_acquisitions;
        self.lock_contentions += o.lock_contentions;
        self.blocking_calls += o.blocking_calls;
        self.callbacks_blocking += o.callbacks_blocking;
        self.callbacks_faulting += o.callbacks_faulting;
        self.callbacks_switching += o.callbacks_switching;
        self.callbacks_locking += o.callbacks_locking;
    }
}

/// Runs `f` between two readings of this thread's lock counters and, when
/// `usage` is true, of its resource usage; returns `f`'s value and the
/// difference. A usage reading that fails leaves
/// [`Hazards::usage_sampled`] false. Never allocates, locks or blocks.
#[inline]
pub fn observe<R>(usage: bool, f: impl FnOnce() -> R) -> (R, Hazards) {
    let locks_before = lock_counts();
    let usage_before = if usage { ThreadUsage::now() } else { None };
    let value = f();
    let usage_after = if usage { ThreadUsage::now() } else { None };
    let locks = lock_counts().since(&locks_before);
    let mut h = Hazards {
        lock_acquisitions: narrow(locks.acquisitions),
        lock_contentions: narrow(locks.contentions),
        ..Hazards::NONE
    };
    if let (Some(a), Some(b)) = (usage_before, usage_after) {
        let d = b.since(&a);
        h.minor_faults = narrow(d.minor_faults);
        h.major_faults = narrow(d.major_faults);
        h.voluntary_switches = narrow(d.voluntary_switches);
        h.involuntary_switches = narrow(d.involuntary_switches);
        h.usage_sampled = true;
    }
    (value, h)
}

fn narrow(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observing_counts_the_tracked_locks_taken_inside_only() {
        let m = TrackedMutex::new(0u32);
        *m.lock() += 1;
        let ((), h) = observe(false, || {
            *m.lock() += 1;
            *m.lock() += 1;
        });
        assert_eq!((h.lock_acquisitions, h.lock_contentions), (2, 0));
        assert!(!h.usage_sampled);
        assert_eq!(h.voluntary_switches, 0);
    }

    #[test]
    fn totals_add_up_and_count_callbacks_per_hazard() {
        let mut t = HazardTotals::default();
        let a = Hazards {
            minor_faults: 3,
            voluntary_switches: 2,
            usage_sampled: true,
            ..Hazards::NONE
        };
        let b = Hazards {
            lock_acquisitions: 1,
            lock_contentions: 1,
            ..Hazards::NONE
        };
        t.record(&a);
        t.record(&b);
        t.record(&Hazards::NONE);
        let mut u = HazardTotals::default();
        u.merge(&t);
        u.merge(&t);
        assert_eq!(
            (
                t.sampled,
                t.minor_faults,
                t.voluntary_switches,
                t.lock_contentions
            ),
            (1, 3, 2, 1)
        );
        assert_eq!(
            (
                t.callbacks_faulting,
                t.callbacks_switching,
                t.callbacks_locking
            ),
            (1, 1, 1)
        );
        assert_eq!((u.minor_faults, u.callbacks_locking), (6, 2));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_sleep_observed_with_usage_is_a_voluntary_switch() {
        let ((), h) = observe(true, || {
            std::thread::sleep(std::time::Duration::from_micros(200))
        });
        assert!(h.usage_sampled);
        assert!(h.voluntary_switches >= 1, "{h:?}");
        assert_eq!(h.lock_acquisitions, 0);
    }
}
