//! Blocking calls counted by name: the locks, waits, sleeps, I/O and
//! memory mapping calls a C-level layer (see [`c_level`](crate::c_level))
//! sees C code make. Each scope keeps one counter per [`BlockingCall`] in
//! [`Stats::blocking`](crate::Stats::blocking) (and, for calls made in a
//! [`permit`](crate::permit) region,
//! [`Stats::permitted_blocking`](crate::Stats::permitted_blocking)).
//! Counting is an addition to a fixed array: it never allocates.

use std::fmt;

/// A C library call a real-time thread should not make, named after the
/// function: locks, waits and sleeps, file, stream and socket I/O, and
/// memory mapping, each of which can block the calling thread or enter the
/// kernel for an unbounded time. A call is counted when it is made,
/// whether it waited or not (an uncontended `pthread_mutex_lock` returns at
/// once, but the next one may wait), and whether or not it succeeded.
///
/// Each C symbol has its own variant, `open` and `open64` included (glibc
/// exports both, and Rust's standard library calls the `64` ones).
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
    /// `pthread_cond_wait`.
    CondWait,
    /// `pthread_cond_timedwait`.
    CondTimedWait,
    /// A waiting `futex` operation made through `syscall(SYS_futex, …)`:
    /// `FUTEX_WAIT`, `FUTEX_WAIT_BITSET`, `FUTEX_LOCK_PI`, `FUTEX_LOCK_PI2` or
    /// `FUTEX_WAIT_REQUEUE_PI` (how Rust's `std::sync` types and thread parking
    /// wait when contended). Wakes and other system calls are not counted.
    Futex,
    /// `poll`.
    Poll,
    /// `ppoll`.
    Ppoll,
    /// `select`.
    Select,
    /// `pselect`.
    Pselect,
    /// `epoll_wait`.
    EpollWait,
    /// `epoll_pwait`.
    EpollPwait,
    /// `open`.
    Open,
    /// `open64`.
    Open64,
    /// `openat`.
    OpenAt,
    /// `openat64`.
    OpenAt64,
    /// `creat`.
    Creat,
    /// `creat64`.
    Creat64,
    /// `read`.
    Read,
    /// `write`.
    Write,
    /// `pread`.
    Pread,
    /// `pread64`.
    Pread64,
    /// `pwrite`.
    Pwrite,
    /// `pwrite64`.
    Pwrite64,
    /// `readv`.
    Readv,
    /// `writev`.
    Writev,
    /// `close`.
    Close,
    /// `fsync`.
    Fsync,
    /// `fdatasync`.
    Fdatasync,
    /// `fopen`.
    Fopen,
    /// `fopen64`.
    Fopen64,
    /// `fclose`.
    Fclose,
    /// `fread`.
    Fread,
    /// `fwrite`.
    Fwrite,
    /// `fflush`.
    Fflush,
    /// `fputs`.
    Fputs,
    /// `puts`.
    Puts,
    /// `fputc`.
    Fputc,
    /// `putc`.
    Putc,
    /// `putchar`.
    Putchar,
    /// `fgets`.
    Fgets,
    /// `printf`.
    Printf,
    /// `fprintf`.
    Fprintf,
    /// `vprintf`.
    Vprintf,
    /// `vfprintf`.
    Vfprintf,
    /// `dprintf`.
    Dprintf,
    /// `vdprintf`.
    Vdprintf,
    /// `send`.
    Send,
    /// `sendto`.
    SendTo,
    /// `sendmsg`.
    SendMsg,
    /// `recv`.
    Recv,
    /// `recvfrom`.
    RecvFrom,
    /// `recvmsg`.
    RecvMsg,
    /// `mmap`.
    Mmap,
    /// `mmap64`.
    Mmap64,
    /// `munmap`.
    Munmap,
    /// `mprotect`.
    Mprotect,
    /// `madvise`.
    Madvise,
    /// `mremap`.
    Mremap,
}

impl BlockingCall {
    /// Number of calls named.
    pub const COUNT: usize = 69;

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
        BlockingCall::CondWait,
        BlockingCall::CondTimedWait,
        BlockingCall::Futex,
        BlockingCall::Poll,
        BlockingCall::Ppoll,
        BlockingCall::Select,
        BlockingCall::Pselect,
        BlockingCall::EpollWait,
        BlockingCall::EpollPwait,
        BlockingCall::Open,
        BlockingCall::Open64,
        BlockingCall::OpenAt,
        BlockingCall::OpenAt64,
        BlockingCall::Creat,
        BlockingCall::Creat64,
        BlockingCall::Read,
        BlockingCall::Write,
        BlockingCall::Pread,
        BlockingCall::Pread64,
        BlockingCall::Pwrite,
        BlockingCall::Pwrite64,
        BlockingCall::Readv,
        BlockingCall::Writev,
        BlockingCall::Close,
        BlockingCall::Fsync,
        BlockingCall::Fdatasync,
        BlockingCall::Fopen,
        BlockingCall::Fopen64,
        BlockingCall::Fclose,
        BlockingCall::Fread,
        BlockingCall::Fwrite,
        BlockingCall::Fflush,
        BlockingCall::Fputs,
        BlockingCall::Puts,
        BlockingCall::Fputc,
        BlockingCall::Putc,
        BlockingCall::Putchar,
        BlockingCall::Fgets,
        BlockingCall::Printf,
        BlockingCall::Fprintf,
        BlockingCall::Vprintf,
        BlockingCall::Vfprintf,
        BlockingCall::Dprintf,
        BlockingCall::Vdprintf,
        BlockingCall::Send,
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

    /// The C function's name, as in `"pthread_mutex_lock"`;
    /// [`Futex`](Self::Futex) is named after the system call, `"futex"`.
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
            BlockingCall::CondWait => "pthread_cond_wait",
            BlockingCall::CondTimedWait => "pthread_cond_timedwait",
            BlockingCall::Futex => "futex",
            BlockingCall::Poll => "poll",
            BlockingCall::Ppoll => "ppoll",
            BlockingCall::Select => "select",
            BlockingCall::Pselect => "pselect",
            BlockingCall::EpollWait => "epoll_wait",
            BlockingCall::EpollPwait => "epoll_pwait",
            BlockingCall::Open => "open",
            BlockingCall::Open64 => "open64",
            BlockingCall::OpenAt => "openat",
            BlockingCall::OpenAt64 => "openat64",
            BlockingCall::Creat => "creat",
            BlockingCall::Creat64 => "creat64",
            BlockingCall::Read => "read",
            BlockingCall::Write => "write",
            BlockingCall::Pread => "pread",
            BlockingCall::Pread64 => "pread64",
            BlockingCall::Pwrite => "pwrite",
            BlockingCall::Pwrite64 => "pwrite64",
            BlockingCall::Readv => "readv",
            BlockingCall::Writev => "writev",
            BlockingCall::Close => "close",
            BlockingCall::Fsync => "fsync",
            BlockingCall::Fdatasync => "fdatasync",
            BlockingCall::Fopen => "fopen",
            BlockingCall::Fopen64 => "fopen64",
            BlockingCall::Fclose => "fclose",
            BlockingCall::Fread => "fread",
            BlockingCall::Fwrite => "fwrite",
            BlockingCall::Fflush => "fflush",
            BlockingCall::Fputs => "fputs",
            BlockingCall::Puts => "puts",
            BlockingCall::Fputc => "fputc",
            BlockingCall::Putc => "putc",
            BlockingCall::Putchar => "putchar",
            BlockingCall::Fgets => "fgets",
            BlockingCall::Printf => "printf",
            BlockingCall::Fprintf => "fprintf",
            BlockingCall::Vprintf => "vprintf",
            BlockingCall::Vfprintf => "vfprintf",
            BlockingCall::Dprintf => "dprintf",
            BlockingCall::Vdprintf => "vdprintf",
            BlockingCall::Send => "send",
            BlockingCall::SendTo => "sendto",
            BlockingCall::SendMsg => "sendmsg",
            BlockingCall::Recv => "recv",
            BlockingCall::RecvFrom => "recvfrom",
            BlockingCall::RecvMsg => "recvmsg",
            BlockingCall::Mmap => "mmap",
            BlockingCall::Mmap64 => "mmap64",
            BlockingCall::Munmap => "munmap",
            BlockingCall::Mprotect => "mprotect",
            BlockingCall::Madvise => "madvise",
            BlockingCall::Mremap => "mremap",
        }
    }
}

impl fmt::Display for BlockingCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Blocking calls counted per [`BlockingCall`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockingCounts {
    calls: [u64; BlockingCall::COUNT],
}

impl Default for BlockingCounts {
    fn default() -> Self {
        BlockingCounts::new()
    }
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

    /// Adds `n` calls to `call`: for counts made elsewhere (another
    /// process) and carried here by name.
    ///
    /// ```
    /// use allocgate::{BlockingCall, BlockingCounts};
    /// let mut b = BlockingCounts::new();
    /// b.add_calls(BlockingCall::Printf, 3);
    /// assert_eq!(b.to_string(), "3 x printf");
    /// ```
    pub fn add_calls(&mut self, call: BlockingCall, n: u64) {
        let c = &mut self.calls[call as usize];
        *c = c.saturating_add(n);
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
    fn every_call_has_its_own_name() {
        let mut names: Vec<&str> = BlockingCall::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), BlockingCall::COUNT);
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
