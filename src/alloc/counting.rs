//! The counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};

use super::stats::Event;
use super::thread_state::{self, CountedCall};

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
#[derive(Debug, Default)]
pub struct CountingAlloc<A = System> {
    inner: A,
}

impl CountingAlloc<System> {
    /// Counting on top of the system allocator.
    pub const fn system() -> Self {
        CountingAlloc { inner: System }
    }
}

impl<A> CountingAlloc<A> {
    /// Counting on top of `inner`.
    pub const fn new(inner: A) -> Self {
        CountingAlloc { inner }
    }

    /// The wrapped allocator (to read a peer's own figures, say).
    pub const fn inner(&self) -> &A {
        &self.inner
    }
}

/// Runs one allocator call and records it when a scope is counting.
/// Kept out of line so the unarmed fast path stays small.
#[inline(never)]
fn counted<R>(call: impl FnOnce() -> R, event: impl FnOnce(&R) -> Option<Event>) -> R {
    let counting = CountedCall::begin();
    let result = call();
    if let Some(counting) = counting
        && let Some(event) = event(&result)
    {
        counting.record(event);
    }
    result
}

// SAFETY: every method forwards to the wrapped allocator with the caller's
// arguments unchanged, so `inner`'s guarantees are ours; the counting around
// the calls touches only thread-local integers.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !thread_state::armed() {
            // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
            return unsafe { self.inner.alloc(layout) };
        }
        counted(
            // SAFETY: as above.
            || unsafe { self.inner.alloc(layout) },
            |p| {
                (!p.is_null()).then_some(Event::Alloc {
                    size: layout.size(),
                    zeroed: false,
                })
            },
        )
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !thread_state::armed() {
            // SAFETY: forwarded unchanged.
            return unsafe { self.inner.alloc_zeroed(layout) };
        }
        counted(
            // SAFETY: forwarded unchanged.
            || unsafe { self.inner.alloc_zeroed(layout) },
            |p| {
                (!p.is_null()).then_some(Event::Alloc {
                    size: layout.size(),
                    zeroed: true,
                })
            },
        )
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !thread_state::armed() {
            // SAFETY: forwarded unchanged; `ptr` came from this allocator,
            // hence from `inner`.
            return unsafe { self.inner.dealloc(ptr, layout) };
        }
        counted(
            // SAFETY: as above.
            || unsafe { self.inner.dealloc(ptr, layout) },
            |_| {
                Some(Event::Dealloc {
                    size: layout.size(),
                })
            },
        )
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !thread_state::armed() {
            // SAFETY: forwarded unchanged.
            return unsafe { self.inner.realloc(ptr, layout, new_size) };
        }
        counted(
            // SAFETY: forwarded unchanged.
            || unsafe { self.inner.realloc(ptr, layout, new_size) },
            |p| {
                (!p.is_null()).then_some(Event::Realloc {
                    old: layout.size(),
                    new: new_size,
                })
            },
        )
    }
}
