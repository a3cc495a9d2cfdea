//! The calling thread's page faults and context switches, from Linux's
//! `getrusage(RUSAGE_THREAD)`.
//!
//! One reading is one system call (no allocation, no lock; it copies a
//! `struct rusage` out of the kernel), so it is only taken when asked.
//!
//! macOS has no per-thread equivalent: its `getrusage` knows only the
//! process (`RUSAGE_SELF`, every thread together), and Mach's
//! `thread_info` gives a thread's CPU time but not its faults or
//! switches. [`ThreadUsage::now`] is `None` there and [`check_usage`]
//! says so; lock tracking works on every platform.

use std::fmt;

/// True where [`ThreadUsage::now`] can read per-thread usage (Linux).
pub const RUSAGE_SUPPORTED: bool = cfg!(target_os = "linux");

/// One reading of the calling thread's counters since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ThreadUsage {
    /// Page faults served without I/O.
    pub minor_faults: u64,
    /// Page faults that needed I/O.
    pub major_faults: u64,
    /// Voluntary context switches (the thread waited).
    pub voluntary_switches: u64,
    /// Involuntary context switches (the thread was preempted).
    pub involuntary_switches: u64,
}

impl ThreadUsage {
    /// The calling thread's counters now; `None` where unsupported or when
    /// the call fails.
    #[cfg(target_os = "linux")]
    #[inline]
    pub fn now() -> Option<ThreadUsage> {
        let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: `ru` is a valid, writable `rusage`; RUSAGE_THREAD reads
        // the calling thread's counters and writes only into `ru`.
        let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, ru.as_mut_ptr()) };
        if rc != 0 {
            return None;
        }
        // SAFETY: zero-initialised, and filled in by the kernel on success.
        let ru = unsafe { ru.assume_init() };
        let n = |v: libc::c_long| u64::try_from(v).unwrap_or(0);
        Some(ThreadUsage {
            minor_faults: n(ru.ru_minflt),
            major_faults: n(ru.ru_majflt),
            voluntary_switches: n(ru.ru_nvcsw),
            involuntary_switches: n(ru.ru_nivcsw),
        })
    }

    /// Unsupported here: always `None`.
    #[cfg(not(target_os = "linux"))]
    #[inline]
    pub fn now() -> Option<ThreadUsage> {
        None
    }

    /// The counts gained since `earlier` (a reading on the same thread).
    pub fn since(&self, earlier: &ThreadUsage) -> ThreadUsage {
        ThreadUsage {
            minor_faults: self.minor_faults.saturating_sub(earlier.minor_faults),
            major_faults: self.major_faults.saturating_sub(earlier.major_faults),
            voluntary_switches: self
                .voluntary_switches
                .saturating_sub(earlier.voluntary_switches),
            involuntary_switches: self
                .involuntary_switches
                .saturating_sub(earlier.involuntary_switches),
        }
    }
}

/// Why usage cannot be measured here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageError {
    /// Not Linux: no per-thread counters.
    Unsupported,
    /// `getrusage(RUSAGE_THREAD)` failed.
    CallFailed,
    /// The counters did not move across a sleep: they would read zero
    /// whatever a callback did, and a check on them would pass vacuously.
    Frozen,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UsageError::Unsupported => {
                "--rusage needs per-thread resource usage (Linux getrusage(RUSAGE_THREAD)); \
                 this platform only has process-wide figures"
            }
            UsageError::CallFailed => "getrusage(RUSAGE_THREAD) failed",
            UsageError::Frozen => {
                "getrusage(RUSAGE_THREAD) did not count a sleep as a voluntary context switch, \
                 so its figures cannot be trusted"
            }
        })
    }
}

impl std::error::Error for UsageError {}

/// Checks that per-thread usage can be read and that it moves: sleeps
/// 1 ms on the calling thread between two readings and requires a
/// voluntary context switch, so a check on these figures can never pass
/// vacuously.
pub fn check_usage() -> Result<(), UsageError> {
    if !RUSAGE_SUPPORTED {
        return Err(UsageError::Unsupported);
    }
    let before = ThreadUsage::now().ok_or(UsageError::CallFailed)?;
    std::thread::sleep(std::time::Duration::from_millis(1));
    let after = ThreadUsage::now().ok_or(UsageError::CallFailed)?;
    if after.since(&before).voluntary_switches == 0 {
        return Err(UsageError::Frozen);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_matches_the_platform() {
        let expected = if RUSAGE_SUPPORTED {
            Ok(())
        } else {
            Err(UsageError::Unsupported)
        };
        assert_eq!(check_usage(), expected);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn touching_fresh_pages_counts_minor_faults() {
        let before = ThreadUsage::now().unwrap();
        // 64 MiB: past glibc's mmap threshold even at its dynamic maximum
        // (32 MiB), so fresh pages from the kernel, never a reused block.
        let mut pages = std::hint::black_box(vec![0u8; 64 << 20]);
        for i in (0..pages.len()).step_by(4096) {
            pages[i] = 1;
        }
        std::hint::black_box(&pages);
        let d = ThreadUsage::now().unwrap().since(&before);
        assert!(d.minor_faults >= 1, "{d:?}");
    }
}
