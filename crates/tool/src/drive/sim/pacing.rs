//! Real-time pacing: the driver thread sleeps until each callback's wall
//! deadline (run start + the callback's simulated time), at `SCHED_FIFO`
//! priority when the system grants it, and counts the wake-ups that came
//! late.

use std::fmt;
use std::time::{Duration, Instant};

/// A wake-up later than this after its deadline counts as late: about a
/// tenth of a 512-frame period at 48 kHz, well past scheduler jitter on
/// an idle machine.
pub const LATE_WAKEUP: Duration = Duration::from_millis(1);

/// The `SCHED_FIFO` priority asked for (1 is the lowest, 99 the highest;
/// JACK's default for its clients is a little under 70). Modest, so the
/// simulation cannot starve the system's own real-time threads.
pub const FIFO_PRIORITY: i32 = 20;

/// Whether the driver thread ran at real-time priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Realtime {
    /// `SCHED_FIFO` at this priority.
    Granted {
        /// The priority.
        priority: i32,
    },
    /// The system refused `SCHED_FIFO` (usually `EPERM`: no
    /// `CAP_SYS_NICE` and no real-time limit for the user); the run went
    /// on at normal priority.
    Refused {
        /// The error number `pthread_setschedparam` returned.
        errno: i32,
    },
    /// Not available on this platform.
    Unsupported,
}

impl fmt::Display for Realtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Realtime::Granted { priority } => write!(f, "SCHED_FIFO at priority {priority}"),
            Realtime::Refused { errno } => write!(
                f,
                "SCHED_FIFO refused ({}); normal priority",
                std::io::Error::from_raw_os_error(*errno)
            ),
            Realtime::Unsupported => f.write_str("no real-time scheduling on this platform"),
        }
    }
}

/// How well the paced run kept time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacingReport {
    /// Real-time priority, or why not.
    pub realtime: Realtime,
    /// Callbacks paced.
    pub wakeups: u64,
    /// Callbacks that started more than [`LATE_WAKEUP`] after their
    /// deadline (a late wake-up, or the run falling behind).
    pub late_wakeups: u64,
    /// The latest start after a deadline, in nanoseconds.
    pub max_late_ns: u64,
}

/// Sleeps the current thread from deadline to deadline.
#[derive(Debug)]
pub(crate) struct Pacer {
    start: Instant,
    report: PacingReport,
    _priority: Option<fifo::Restore>,
}

impl Pacer {
    /// Asks for `SCHED_FIFO` and starts the wall clock now.
    pub(crate) fn start() -> Pacer {
        let (realtime, restore) = fifo::raise(FIFO_PRIORITY);
        Pacer {
            start: Instant::now(),
            report: PacingReport {
                realtime,
                wakeups: 0,
                late_wakeups: 0,
                max_late_ns: 0,
            },
            _priority: restore,
        }
    }

    /// Sleeps until `at_ns` after the start, or returns at once if that
    /// has passed; returns the deadline. Never allocates.
    pub(crate) fn sleep_until(&self, at_ns: u128) -> Duration {
        let deadline = Duration::from_nanos(u64::try_from(at_ns).unwrap_or(u64::MAX));
        if let Some(ahead) = deadline.checked_sub(self.start.elapsed()) {
            std::thread::sleep(ahead);
        }
        deadline
    }

    /// Sleeps until a callback's deadline, `at_ns` after the start, and
    /// notes how late it woke. Never allocates.
    pub(crate) fn wait_until(&mut self, at_ns: u128) {
        let deadline = self.sleep_until(at_ns);
        let late = self.start.elapsed().saturating_sub(deadline);
        self.report.wakeups += 1;
        if late > LATE_WAKEUP {
            self.report.late_wakeups += 1;
        }
        let late_ns = u64::try_from(late.as_nanos()).unwrap_or(u64::MAX);
        self.report.max_late_ns = self.report.max_late_ns.max(late_ns);
    }

    /// The figures; the thread's scheduling is restored when the pacer is
    /// dropped.
    pub(crate) fn report(&self) -> PacingReport {
        self.report
    }
}

#[cfg(target_os = "linux")]
mod fifo {
    use super::Realtime;

    /// The thread's scheduling before it was raised, put back on drop.
    pub(crate) struct Restore {
        policy: libc::c_int,
        param: libc::sched_param,
        /// Scheduling is per thread: keep the restore on the thread raised.
        _not_send: std::marker::PhantomData<*const ()>,
    }

    // `libc::sched_param` implements Debug only with libc's extra traits.
    impl std::fmt::Debug for Restore {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Restore")
                .field("policy", &self.policy)
                .field("priority", &self.param.sched_priority)
                .finish()
        }
    }

    /// Raises the calling thread to `SCHED_FIFO` at `priority`.
    pub(crate) fn raise(priority: i32) -> (Realtime, Option<Restore>) {
        // SAFETY: pthread_self is always safe to call; the out-pointers
        // point at live, properly aligned locals.
        unsafe {
            let thread = libc::pthread_self();
            let mut policy: libc::c_int = 0;
            let mut old: libc::sched_param = std::mem::zeroed();
            if libc::pthread_getschedparam(thread, &mut policy, &mut old) != 0 {
                return (Realtime::Unsupported, None);
            }
            let lo = libc::sched_get_priority_min(libc::SCHED_FIFO);
            let hi = libc::sched_get_priority_max(libc::SCHED_FIFO);
            let priority = priority.clamp(lo, hi.max(lo));
            let mut param: libc::sched_param = std::mem::zeroed();
            param.sched_priority = priority;
            match libc::pthread_setschedparam(thread, libc::SCHED_FIFO, &param) {
                0 => (
                    Realtime::Granted { priority },
                    Some(Restore {
                        policy,
                        param: old,
                        _not_send: std::marker::PhantomData,
                    }),
                ),
                errno => (Realtime::Refused { errno }, None),
            }
        }
    }

    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: restores the policy and parameters read from this
            // same thread (`Restore` is not Send, so it is dropped on the
            // thread that raised itself).
            unsafe {
                libc::pthread_setschedparam(libc::pthread_self(), self.policy, &self.param);
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod fifo {
    use super::Realtime;

    #[derive(Debug)]
    pub(crate) struct Restore;

    pub(crate) fn raise(_priority: i32) -> (Realtime, Option<Restore>) {
        (Realtime::Unsupported, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_waits_for_each_deadline_and_restores_the_thread() {
        let mut pacer = Pacer::start();
        let t0 = Instant::now();
        for ms in [2u128, 4, 6] {
            pacer.wait_until(ms * 1_000_000);
        }
        assert!(t0.elapsed() >= Duration::from_millis(5));
        let report = pacer.report();
        assert_eq!(report.wakeups, 3);
        assert!(report.late_wakeups <= 3);
        drop(pacer);
        // Whatever was granted, the thread is back at normal priority.
        #[cfg(target_os = "linux")]
        // SAFETY: reads this thread's policy into a local.
        unsafe {
            let mut policy = 0;
            let mut param: libc::sched_param = std::mem::zeroed();
            libc::pthread_getschedparam(libc::pthread_self(), &mut policy, &mut param);
            assert_ne!(policy, libc::SCHED_FIFO);
        }
    }
}
