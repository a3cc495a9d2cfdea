//! The hazard sites: callbacks that allocate nothing and still miss
//! deadlines. Each one does on purpose what a real callback does by
//! accident, so that `--rusage` and lock tracking can be shown to catch
//! it ([`allocgate::hazard`]):
//!
//! - [`Site::Sleep`](super::Site::Sleep): sleeps [`SLEEP`] (a voluntary
//!   context switch);
//! - [`Site::FreshPages`](super::Site::FreshPages): maps
//!   [`FRESH_PAGES`] pages straight from the kernel (`mmap`, not the
//!   allocator), writes one byte to each and unmaps them: one minor page
//!   fault per page;
//! - [`Site::ContendedLock`](super::Site::ContendedLock): takes a mutex
//!   that a helper thread ([`LockHog`]) is holding, and waits for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use allocgate::hazard::TrackedMutex;

/// How long [`Site::Sleep`](super::Site::Sleep) sleeps.
pub const SLEEP: Duration = Duration::from_micros(100);

/// Pages [`Site::FreshPages`](super::Site::FreshPages) touches.
pub const FRESH_PAGES: usize = 16;

/// How long the hog keeps the lock once the audio thread waits for it:
/// long past std's brief spin, so the waiter really sleeps in the kernel.
pub const HOG_HOLD: Duration = Duration::from_micros(200);

/// How long the audio thread waits for the hog to take the lock again
/// before giving up (the acquisition is then uncontended and the gate's
/// formula catches it).
const HOG_PATIENCE: Duration = Duration::from_millis(100);

/// [`Site::Sleep`](super::Site::Sleep).
#[inline(never)]
pub(crate) fn sleep_briefly() {
    std::thread::sleep(SLEEP);
}

/// The system's page size (4 KiB if it cannot be read).
#[cfg(unix)]
pub fn page_size() -> usize {
    // SAFETY: sysconf only reads a system constant.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).ok().filter(|&n| n > 0).unwrap_or(4096)
}

/// 4 KiB: not read off Unix.
#[cfg(not(unix))]
pub fn page_size() -> usize {
    4096
}

/// Off Unix the site does nothing and returns 0. Faults are not read
/// there either (`--rusage` is Linux only), so no check passes on it.
#[cfg(not(unix))]
#[inline(never)]
pub(crate) fn touch_fresh_pages(_page: usize) -> usize {
    0
}

/// [`Site::FreshPages`](super::Site::FreshPages): maps [`FRESH_PAGES`]
/// pages of `page` bytes, writes to each, unmaps them. Returns the pages
/// touched (0 if the mapping failed).
#[cfg(unix)]
#[inline(never)]
pub(crate) fn touch_fresh_pages(page: usize) -> usize {
    let len = FRESH_PAGES * page;
    // SAFETY: a private anonymous mapping of `len` bytes that nothing else
    // knows of; it is checked against MAP_FAILED, written only within its
    // `len` bytes (one byte per page, volatile so the writes happen), and
    // unmapped with the same address and length before returning.
    // MADV_NOHUGEPAGE keeps each page a page of its own (no huge page
    // serving all of them in one fault).
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANON,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return 0;
        }
        #[cfg(target_os = "linux")]
        libc::madvise(p, len, libc::MADV_NOHUGEPAGE);
        for i in 0..FRESH_PAGES {
            std::ptr::write_volatile(p.cast::<u8>().add(i * page), 1);
        }
        libc::munmap(p, len);
    }
    FRESH_PAGES
}

#[derive(Debug, Default)]
struct HogState {
    lock: TrackedMutex<u64>,
    holding: AtomicBool,
    waiting: AtomicBool,
    stop: AtomicBool,
}

/// A thread that holds a mutex and lets the audio thread have it only
/// after the audio thread has found it held and started to wait: every
/// `contend` is exactly one contended acquisition.
#[derive(Debug)]
pub struct LockHog {
    state: Arc<HogState>,
    thread: Option<JoinHandle<()>>,
}

impl LockHog {
    /// Starts the hog. Control thread.
    pub fn start() -> std::io::Result<LockHog> {
        let state = Arc::new(HogState::default());
        let shared = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("allocgate-lock-hog".into())
            .spawn(move || hog(&shared))?;
        Ok(LockHog {
            state,
            thread: Some(thread),
        })
    }

    /// [`Site::ContendedLock`](super::Site::ContendedLock): waits (up to
    /// 100 ms) for the hog to hold the lock, then takes it, blocking until
    /// the hog lets go. Audio thread (on purpose).
    #[inline(never)]
    pub(crate) fn contend(&self) -> u64 {
        let s = &*self.state;
        let start = Instant::now();
        while !s.holding.load(Ordering::Acquire) && start.elapsed() < HOG_PATIENCE {
            std::thread::yield_now();
        }
        let mut g = s
            .lock
            .lock_or_else(|| s.waiting.store(true, Ordering::Release));
        s.waiting.store(false, Ordering::Release);
        *g += 1;
        *g
    }
}

fn hog(s: &HogState) {
    let nap = Duration::from_micros(20);
    while !s.stop.load(Ordering::Acquire) {
        let g = s.lock.lock();
        s.holding.store(true, Ordering::Release);
        while !s.waiting.load(Ordering::Acquire) && !s.stop.load(Ordering::Acquire) {
            std::thread::sleep(nap);
        }
        std::thread::sleep(HOG_HOLD);
        s.holding.store(false, Ordering::Release);
        drop(g);
        // Let the waiter through before taking the lock again.
        while s.waiting.load(Ordering::Acquire) && !s.stop.load(Ordering::Acquire) {
            std::thread::sleep(nap);
        }
    }
}

impl Drop for LockHog {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use allocgate::hazard::lock_counts;

    #[test]
    fn every_contend_is_one_contended_acquisition() {
        let hog = LockHog::start().unwrap();
        let before = lock_counts();
        for i in 1..=5 {
            assert_eq!(hog.contend(), i);
        }
        let d = lock_counts().since(&before);
        assert_eq!((d.acquisitions, d.contentions), (5, 5));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn fresh_pages_fault_once_each() {
        use allocgate::hazard::ThreadUsage;
        let page = page_size();
        touch_fresh_pages(page);
        let before = ThreadUsage::now().unwrap();
        let touched = touch_fresh_pages(page);
        let d = ThreadUsage::now().unwrap().since(&before);
        assert_eq!(touched, FRESH_PAGES);
        assert_eq!(d.minor_faults, FRESH_PAGES as u64, "{d:?}");
    }
}
