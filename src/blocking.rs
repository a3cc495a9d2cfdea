//! Blocking calls counted by name: the locks, waits and sleeps a C-level
//! layer (see [`c_level`](crate::c_level)) sees C code make. Each scope
//! keeps one counter per [`BlockingCall`] in
//! [`Stats::blocking`](crate::Stats::blocking) (and, for calls made in a
//! [`permit`](crate::permit) region,
//! [`Stats::permitted_blocking`](crate::Stats::permitted_blocking)).
//! Counting is an addition to a fixed array: it never allocates.

use std::fmt;

/// A C library call that can block the calling thread, named after the
/// function. A call is counted when it is made, whether it waited or not
/// (an uncontended `pthread_mutex_lock` returns at once, but the next one
/// may wait), and whether or not it succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
#[repr(u8)]
pub enum BlockingCall {
    /// `pthread_mutex_lock`.
    MutexLock,
    /// `pthread_mutex_timedlock`.
    MutexTimedLock,
    /// `pthread_mutex_trylock` (never waits, but takes a lock a real-time
    /// thread may then hold against others).
    MutexTryLock,
    /// `pthread_rwlock_rdlock`.
    RwLockRead,
    /// `pthread_rwlock_wrlock`.
    RwLockWrite,
    /// `pthread_spin_lock`.
    SpinLock,
    /// `sem_wait`.
    SemWait,
    /// `sem_timedwait`.
    SemTimedWait,
    /// `nanosleep`.
    NanoSleep,
    /// `clock_nanosleep`.
    ClockNanoSleep,
    /// `usleep`.
    Usleep,
    /// `sleep`.
    Sleep,
    /// `sched_yield`.
    SchedYield,
}

impl BlockingCall {
    /// Number of calls named.
    pub const COUNT: usize = 13;

    /// Every call, in the order of their counters.
    pub const ALL: [BlockingCall; Self::COUNT] = [
        BlockingCall::MutexLock,
        BlockingCall::MutexTimedLock,
        BlockingCall::MutexTryLock,
        BlockingCall::RwLockRead,
        BlockingCall::RwLockWrite,
        BlockingCall::SpinLock,
        BlockingCall::SemWait,
        BlockingCall::SemTimedWait,
        BlockingCall::NanoSleep,
        BlockingCall::ClockNanoSleep,
        BlockingCall::Usleep,
        BlockingCall::Sleep,
        BlockingCall::SchedYield,
    ];

    /// The C function's name, as in `"pthread_mutex_lock"`.
    pub const fn name(self) -> &'static str {
        match self {
            BlockingCall::MutexLock => "pthread_mutex_lock",
            BlockingCall::MutexTimedLock => "pthread_mutex_timedlock",
            BlockingCall::MutexTryLock => "pthread_mutex_trylock",
            BlockingCall::RwLockRead => "pthread_rwlock_rdlock",
            BlockingCall::RwLockWrite => "pthread_rwlock_wrlock",
            BlockingCall::SpinLock => "pthread_spin_lock",
            BlockingCall::SemWait => "sem_wait",
            BlockingCall::SemTimedWait => "sem_timedwait",
            BlockingCall::NanoSleep => "nanosleep",
            BlockingCall::ClockNanoSleep => "clock_nanosleep",
            BlockingCall::Usleep => "usleep",
            BlockingCall::Sleep => "sleep",
            BlockingCall::SchedYield => "sched_yield",
        }
    }
}

impl fmt::Display for BlockingCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Blocking calls counted per [`BlockingCall`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BlockingCounts {
    calls: [u64; BlockingCall::COUNT],
}

impl BlockingCounts {
    /// No call counted.
    pub const fn new() -> Self {
        BlockingCounts {
            calls: [0; BlockingCall::COUNT],
        }
    }

    /// Calls to `call`.
    pub fn get(&self, call: BlockingCall) -> u64 {
        self.calls[call as usize]
    }

    /// Calls of every name.
    pub fn total(&self) -> u64 {
        self.calls.iter().fold(0, |a, &n| a.saturating_add(n))
    }

    /// True when no blocking call was counted.
    pub fn is_zero(&self) -> bool {
        self.calls.iter().all(|&n| n == 0)
    }

    /// The calls made, with their counts, in [`BlockingCall::ALL`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (BlockingCall, u64)> + '_ {
        BlockingCall::ALL
            .iter()
            .map(|&c| (c, self.get(c)))
            .filter(|&(_, n)| n > 0)
    }

    /// Adds other counts to these.
    pub fn merge(&mut self, o: &BlockingCounts) {
        for (a, b) in self.calls.iter_mut().zip(o.calls) {
            *a = a.saturating_add(b);
        }
    }

    // A wrapping addition on the layer's path, as for `Counts`: it must
    // never panic.
    #[inline(always)]
    pub(crate) fn add(&mut self, call: BlockingCall) {
        let n = &mut self.calls[call as usize];
        *n = n.wrapping_add(1);
    }
}

impl fmt::Display for BlockingCounts {
    /// `2 x pthread_mutex_lock, 1 x nanosleep`; `none` when nothing was
    /// counted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut separator = "";
        for (call, n) in self.iter() {
            write!(f, "{separator}{n} x {call}")?;
            separator = ", ";
        }
        if separator.is_empty() {
            f.write_str("none")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_has_its_own_counter_in_order() {
        for (i, call) in BlockingCall::ALL.iter().enumerate() {
            assert_eq!(*call as usize, i, "{call}");
        }
    }

    #[test]
    fn counts_add_merge_and_print_by_name() {
        let mut a = BlockingCounts::new();
        a.add(BlockingCall::NanoSleep);
        a.add(BlockingCall::MutexLock);
        a.add(BlockingCall::MutexLock);
        let mut b = BlockingCounts::new();
        b.add(BlockingCall::NanoSleep);
        b.merge(&a);
        assert_eq!(b.get(BlockingCall::MutexLock), 2);
        assert_eq!(b.get(BlockingCall::NanoSleep), 2);
        assert_eq!(b.total(), 4);
        assert_eq!(b.to_string(), "2 x pthread_mutex_lock, 2 x nanosleep");
        assert_eq!(BlockingCounts::new().to_string(), "none");
        assert!(BlockingCounts::new().is_zero() && !b.is_zero());
    }
}
