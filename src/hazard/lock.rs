//! Locks that count themselves: [`TrackedMutex`] and [`TrackedRwLock`]
//! wrap `std`'s, try the lock first, and add to the calling thread's
//! [`LockCounts`]: one acquisition per lock taken, one contention when the
//! try found it held elsewhere (the caller then blocks as `std` would).
//! The counters are a `const`-initialised thread-local without a
//! destructor: reading or bumping them never allocates.
//!
//! A poisoned lock is taken anyway (its data is plain counters or a
//! pointer here; a panic elsewhere must not become a panic on the audio
//! thread).

use std::cell::Cell;
use std::sync::{
    Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError, TryLockResult,
};

/// Tracked locks taken on one thread since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct LockCounts {
    /// Locks taken.
    pub acquisitions: u64,
    /// Of those, how many were held elsewhere when asked for.
    pub contentions: u64,
}

impl LockCounts {
    /// The counts gained since `earlier` (a reading on the same thread).
    pub fn since(&self, earlier: &LockCounts) -> LockCounts {
        LockCounts {
            acquisitions: self.acquisitions.wrapping_sub(earlier.acquisitions),
            contentions: self.contentions.wrapping_sub(earlier.contentions),
        }
    }
}

thread_local! {
    static COUNTS: Cell<LockCounts> = const {
        Cell::new(LockCounts { acquisitions: 0, contentions: 0 })
    };
}

/// This thread's tracked-lock counts.
#[inline]
pub fn lock_counts() -> LockCounts {
    COUNTS.with(Cell::get)
}

#[inline]
fn note(contended: bool) {
    COUNTS.with(|c| {
        let mut n = c.get();
        n.acquisitions = n.acquisitions.wrapping_add(1);
        n.contentions = n.contentions.wrapping_add(u64::from(contended));
        c.set(n);
    });
}

/// Tries first; on `WouldBlock` notes a contention and blocks with
/// `block`. Poison is ignored.
fn take<G>(attempt: TryLockResult<G>, block: impl FnOnce() -> G) -> G {
    match attempt {
        Ok(g) => {
            note(false);
            g
        }
        Err(TryLockError::Poisoned(p)) => {
            note(false);
            p.into_inner()
        }
        Err(TryLockError::WouldBlock) => {
            note(true);
            block()
        }
    }
}

/// A `std` mutex whose acquisitions count on the taking thread.
#[derive(Debug, Default)]
pub struct TrackedMutex<T>(Mutex<T>);

impl<T> TrackedMutex<T> {
    /// A mutex around `value`.
    pub const fn new(value: T) -> Self {
        TrackedMutex(Mutex::new(value))
    }

    /// Takes the lock (blocking if it is held), counted.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.lock_or_else(|| {})
    }

    /// As [`lock`](Self::lock), calling `before_blocking` first when the
    /// lock is held elsewhere (to say that this thread now waits).
    pub fn lock_or_else(&self, before_blocking: impl FnOnce()) -> MutexGuard<'_, T> {
        take(self.0.try_lock(), || {
            before_blocking();
            self.0.lock().unwrap_or_else(|p| p.into_inner())
        })
    }
}

/// A `std` reader-writer lock whose acquisitions count on the taking
/// thread (reads and writes alike).
#[derive(Debug, Default)]
pub struct TrackedRwLock<T>(RwLock<T>);

impl<T> TrackedRwLock<T> {
    /// A lock around `value`.
    pub const fn new(value: T) -> Self {
        TrackedRwLock(RwLock::new(value))
    }

    /// Takes a read lock (blocking while a writer holds it), counted.
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        take(self.0.try_read(), || {
            self.0.read().unwrap_or_else(|p| p.into_inner())
        })
    }

    /// Takes the write lock (blocking while anyone holds it), counted.
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        take(self.0.try_write(), || {
            self.0.write().unwrap_or_else(|p| p.into_inner())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::mpsc;

    #[test]
    fn an_uncontended_lock_counts_one_acquisition_and_no_contention() {
        let before = lock_counts();
        let l = TrackedRwLock::new(1);
        assert_eq!(*l.read(), 1);
        *l.write() = 2;
        let d = lock_counts().since(&before);
        assert_eq!((d.acquisitions, d.contentions), (2, 0));
    }

    #[test]
    fn a_lock_held_by_another_thread_counts_as_contended_and_is_still_taken() {
        let m = Arc::new(TrackedMutex::new(0u32));
        let (held, wait_held) = mpsc::channel();
        let (go, wait_go) = mpsc::channel::<()>();
        let holder = {
            let m = Arc::clone(&m);
            std::thread::spawn(move || {
                let mut g = m.lock();
                held.send(()).unwrap();
                wait_go.recv().unwrap();
                std::thread::sleep(std::time::Duration::from_millis(20));
                *g = 7;
            })
        };
        wait_held.recv().unwrap();
        let before = lock_counts();
        go.send(()).unwrap();
        let value = *m.lock();
        let d = lock_counts().since(&before);
        holder.join().unwrap();
        assert_eq!(value, 7, "the lock waited for the holder");
        assert_eq!((d.acquisitions, d.contentions), (1, 1));
    }

    #[test]
    fn counts_belong_to_their_thread() {
        let before = lock_counts();
        std::thread::spawn(|| {
            let m = TrackedMutex::new(());
            drop(m.lock());
            assert_eq!(lock_counts().acquisitions, 1);
        })
        .join()
        .unwrap();
        assert_eq!(lock_counts().since(&before), LockCounts::default());
    }
}
