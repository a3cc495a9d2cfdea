//! The counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};

use super::stats::Event;
use super::thread_state::{counted, record_fast};

/// A global allocator that counts the calls made inside measured scopes and
/// passes every call on to the allocator it wraps.
///
/// It wraps [`System`] by default, or any other [`GlobalAlloc`] (a peer
/// profiler such as `dhat::Alloc`), which then sees exactly the same calls.
/// Counting is per thread and per scope; outside a scope a call costs one
/// thread-local read on top of the wrapped allocator. It never allocates,
/// never locks, never panics and never aborts: a verdict is given after the
/// scope closes, never inside the allocator.
///
/// ```rust,standalone_crate
/// #[global_allocator]
/// static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();
///
/// // Or stacked on another allocator, which sees the very same calls:
/// // static ALLOC: allocgate::CountingAlloc<dhat::Alloc> = allocgate::CountingAlloc::new(dhat::Alloc);
/// # fn main() {
/// # allocgate::check_installed().unwrap();
/// # }
/// ```
#[derive(Debug)]
pub struct CountingAlloc<A = System> {
    inner: A,
    /// Whether `inner` may call back into the global allocator, so that
    /// calls made while it runs must be told apart.
    guard_reentry: bool,
}

impl CountingAlloc<System> {
    /// Counting on top of the system allocator. The system allocator never
    /// calls back into the global allocator, so the re-entrancy guard is
    /// left out of its counted path.
    pub const fn system() -> Self {
        CountingAlloc {
            inner: System,
            guard_reentry: false,
        }
    }
}

impl Default for CountingAlloc<System> {
    fn default() -> Self {
        Self::system()
    }
}

impl<A> CountingAlloc<A> {
    /// Counting on top of `inner`. Calls `inner` makes back into the global
    /// allocator while serving a counted call (profilers' bookkeeping) are
    /// not counted.
    pub const fn new(inner: A) -> Self {
        CountingAlloc {
            inner,
            guard_reentry: true,
        }
    }

    /// The wrapped allocator (to read a peer's own figures, say).
    pub const fn inner(&self) -> &A {
        &self.inner
    }
}

impl<A: GlobalAlloc> CountingAlloc<A> {
    // The slow paths (permit, tracing, probe, re-entrancy guard), out of
    // line so the fast path (no scope open, or plain counting) stays a mode
    // test, a few counter updates and a tail call. `GUARD` is
    // `guard_reentry` as a constant: read from the global allocator static,
    // it folds at the call site, and the unguarded path can tail-call the
    // wrapped allocator.

    #[cold]
    #[inline(never)]
    unsafe fn alloc_counted<const GUARD: bool>(&self, layout: Layout) -> *mut u8 {
        let event = Event::Alloc {
            size: layout.size(),
            zeroed: false,
        };
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        counted(GUARD, event, || unsafe { self.inner.alloc(layout) })
    }

    #[cold]
    #[inline(never)]
    unsafe fn alloc_zeroed_counted<const GUARD: bool>(&self, layout: Layout) -> *mut u8 {
        let event = Event::Alloc {
            size: layout.size(),
            zeroed: true,
        };
        // SAFETY: forwarded unchanged.
        counted(GUARD, event, || unsafe { self.inner.alloc_zeroed(layout) })
    }

    #[cold]
    #[inline(never)]
    unsafe fn dealloc_counted<const GUARD: bool>(&self, ptr: *mut u8, layout: Layout) {
        let event = Event::Dealloc {
            size: layout.size(),
        };
        // SAFETY: forwarded unchanged; `ptr` came from this allocator, hence
        // from `inner`.
        counted(GUARD, event, || unsafe { self.inner.dealloc(ptr, layout) })
    }

    #[cold]
    #[inline(never)]
    unsafe fn realloc_counted<const GUARD: bool>(
        &self,
        ptr: *mut u8,
        layout: Layout,
        new_size: usize,
    ) -> *mut u8 {
        let event = Event::Realloc {
            old: layout.size(),
            new: new_size,
        };
        // SAFETY: forwarded unchanged.
        counted(GUARD, event, || unsafe {
            self.inner.realloc(ptr, layout, new_size)
        })
    }
}

// SAFETY: every method forwards to the wrapped allocator with the caller's
// arguments unchanged, so `inner`'s guarantees are ours; the counting around
// the calls touches only thread-local integers.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let event = Event::Alloc {
            size: layout.size(),
            zeroed: false,
        };
        if !record_fast(self.guard_reentry, event) {
            // SAFETY: same contract as this method.
            return unsafe {
                if self.guard_reentry {
                    self.alloc_counted::<true>(layout)
                } else {
                    self.alloc_counted::<false>(layout)
                }
            };
        }
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { self.inner.alloc(layout) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let event = Event::Alloc {
            size: layout.size(),
            zeroed: true,
        };
        if !record_fast(self.guard_reentry, event) {
            // SAFETY: same contract as this method.
            return unsafe {
                if self.guard_reentry {
                    self.alloc_zeroed_counted::<true>(layout)
                } else {
                    self.alloc_zeroed_counted::<false>(layout)
                }
            };
        }
        // SAFETY: forwarded unchanged.
        unsafe { self.inner.alloc_zeroed(layout) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let event = Event::Dealloc {
            size: layout.size(),
        };
        if !record_fast(self.guard_reentry, event) {
            // SAFETY: same contract as this method.
            return unsafe {
                if self.guard_reentry {
                    self.dealloc_counted::<true>(ptr, layout)
                } else {
                    self.dealloc_counted::<false>(ptr, layout)
                }
            };
        }
        // SAFETY: forwarded unchanged; `ptr` came from this allocator, hence
        // from `inner`.
        unsafe { self.inner.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let event = Event::Realloc {
            old: layout.size(),
            new: new_size,
        };
        if !record_fast(self.guard_reentry, event) {
            // SAFETY: same contract as this method.
            return unsafe {
                if self.guard_reentry {
                    self.realloc_counted::<true>(ptr, layout, new_size)
                } else {
                    self.realloc_counted::<false>(ptr, layout, new_size)
                }
            };
        }
        // SAFETY: forwarded unchanged.
        unsafe { self.inner.realloc(ptr, layout, new_size) }
    }
}
