//! What a measured scope saw: counts, bytes and size-class histograms.

use std::fmt;

use super::blocking::{BlockingCall, BlockingCounts};
use super::c_level::{CAllocCall, CAllocCounts};
use super::size_class::{MacosHistogram, RequestHistogram, SizeTally};
use crate::text::count;

/// One call into the allocator, as the counting allocator records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// `alloc` (`zeroed: false`) or `alloc_zeroed` (`zeroed: true`).
    Alloc { size: usize, zeroed: bool },
    /// `dealloc` of a block of this size.
    Dealloc { size: usize },
    /// `realloc` from `old` to `new` bytes: one event of its own kind, not
    /// an allocation plus a deallocation.
    Realloc { old: usize, new: usize },
}

/// Counters for one class of allocator calls (forbidden or permitted).
///
/// Every call is counted when it is made, whether or not it succeeds: a
/// request that fails has still entered the allocator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Counts {
    /// Calls to `alloc` and `alloc_zeroed`.
    pub allocations: u64,
    /// Of [`allocations`](Self::allocations), those made by `alloc_zeroed`.
    pub zeroed: u64,
    /// Calls to `dealloc`.
    pub deallocations: u64,
    /// Calls to `realloc`.
    pub reallocations: u64,
    /// Bytes requested by `alloc` and `alloc_zeroed`.
    pub bytes_allocated: u64,
    /// Bytes released by `dealloc`.
    pub bytes_deallocated: u64,
    /// Sum of the old sizes passed to `realloc`.
    pub realloc_bytes_from: u64,
    /// Sum of the new sizes requested by `realloc`.
    pub realloc_bytes_to: u64,
    /// Sum of the growth of the `realloc` calls that grew a block.
    pub realloc_bytes_grown: u64,
    /// Sum of the shrinkage of the `realloc` calls that shrank a block.
    pub realloc_bytes_shrunk: u64,
    /// Largest size requested by one `alloc`, `alloc_zeroed` or `realloc`.
    pub largest_request: u64,
}

impl Counts {
    /// All counters at zero.
    pub const fn new() -> Self {
        Counts {
            allocations: 0,
            zeroed: 0,
            deallocations: 0,
            reallocations: 0,
            bytes_allocated: 0,
            bytes_deallocated: 0,
            realloc_bytes_from: 0,
            realloc_bytes_to: 0,
            realloc_bytes_grown: 0,
            realloc_bytes_shrunk: 0,
            largest_request: 0,
        }
    }

    /// Allocator calls of every kind: allocations, deallocations and
    /// reallocations.
    pub fn calls(&self) -> u64 {
        self.allocations
            .saturating_add(self.deallocations)
            .saturating_add(self.reallocations)
    }

    /// True when no allocator call was counted.
    pub fn is_zero(&self) -> bool {
        self.calls() == 0
    }

    /// Bytes asked for: allocations plus the new sizes of reallocations.
    pub fn bytes_requested(&self) -> u64 {
        self.bytes_allocated.saturating_add(self.realloc_bytes_to)
    }

    /// Change in live heap bytes over the scope (negative when it freed
    /// more than it obtained).
    pub fn net_bytes(&self) -> i128 {
        i128::from(self.bytes_allocated) - i128::from(self.bytes_deallocated)
            + i128::from(self.realloc_bytes_to)
            - i128::from(self.realloc_bytes_from)
    }

    // Plain wrapping additions on the allocator's path: a u64 counter does
    // not wrap in practice (2^64 calls at 10^9 a second take 584 years), and
    // the allocator must never panic.
    #[inline(always)]
    pub(crate) fn apply(&mut self, event: Event) {
        let requested = match event {
            Event::Alloc { size, zeroed } => {
                self.allocations = self.allocations.wrapping_add(1);
                self.zeroed = self.zeroed.wrapping_add(u64::from(zeroed));
                self.bytes_allocated = self.bytes_allocated.wrapping_add(size as u64);
                size
            }
            Event::Dealloc { size } => {
                self.deallocations = self.deallocations.wrapping_add(1);
                self.bytes_deallocated = self.bytes_deallocated.wrapping_add(size as u64);
                return;
            }
            Event::Realloc { old, new } => {
                self.reallocations = self.reallocations.wrapping_add(1);
                self.realloc_bytes_from = self.realloc_bytes_from.wrapping_add(old as u64);
                self.realloc_bytes_to = self.realloc_bytes_to.wrapping_add(new as u64);
                let grown = new.saturating_sub(old) as u64;
                let shrunk = old.saturating_sub(new) as u64;
                self.realloc_bytes_grown = self.realloc_bytes_grown.wrapping_add(grown);
                self.realloc_bytes_shrunk = self.realloc_bytes_shrunk.wrapping_add(shrunk);
                new
            }
        };
        self.largest_request = self.largest_request.max(requested as u64);
    }

    /// Adds other counts to these; the largest request is the larger one.
    pub fn merge(&mut self, o: &Counts) {
        self.allocations = self.allocations.saturating_add(o.allocations);
        self.zeroed = self.zeroed.saturating_add(o.zeroed);
        self.deallocations = self.deallocations.saturating_add(o.deallocations);
        self.reallocations = self.reallocations.saturating_add(o.reallocations);
        self.bytes_allocated = self.bytes_allocated.saturating_add(o.bytes_allocated);
        self.bytes_deallocated = self.bytes_deallocated.saturating_add(o.bytes_deallocated);
        self.realloc_bytes_from = self.realloc_bytes_from.saturating_add(o.realloc_bytes_from);
        self.realloc_bytes_to = self.realloc_bytes_to.saturating_add(o.realloc_bytes_to);
        self.realloc_bytes_grown = self
            .realloc_bytes_grown
            .saturating_add(o.realloc_bytes_grown);
        self.realloc_bytes_shrunk = self
            .realloc_bytes_shrunk
            .saturating_add(o.realloc_bytes_shrunk);
        self.largest_request = self.largest_request.max(o.largest_request);
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}), {}, {}",
            count(self.allocations, "allocation"),
            count(self.bytes_allocated, "byte"),
            count(self.reallocations, "reallocation"),
            count(self.deallocations, "deallocation")
        )
    }
}

/// Everything the counting allocator saw on one thread during one measured
/// scope (nested scopes included).
///
/// Calls made inside a [`permit`](crate::permit) region are counted in
/// [`permitted`](Self::permitted) and nowhere else; the size histograms
/// ([`requested`](Self::requested), [`macos_classes`](Self::macos_classes))
/// cover the other calls, the ones a gate cares about: one entry per
/// allocation and per reallocation (by its new size).
///
/// Blocking calls (`pthread_mutex_lock`, `nanosleep`, …) are counted by
/// name in [`blocking`](Self::blocking) and
/// [`permitted_blocking`](Self::permitted_blocking) only when a C-level
/// layer is attached (see [`c_level`](crate::c_level)); they read zero
/// otherwise. They are not allocator calls:
/// [`is_allocation_free`](Self::is_allocation_free) ignores them, and
/// [`CallbackGate::check_hazards`](crate::CallbackGate::check_hazards)
/// holds them against a callback. Allocator calls C code makes through
/// the layer count in [`counts`](Self::counts) like Rust's, and by the C
/// function called in [`c_allocator`](Self::c_allocator).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Calls made outside any permitted region.
    pub counts: Counts,
    /// Calls made inside a permitted region: accepted, but not hidden.
    pub permitted: Counts,
    /// Blocking calls made outside any permitted region, by name.
    pub blocking: BlockingCounts,
    /// Blocking calls made inside a permitted region, by name.
    pub permitted_blocking: BlockingCounts,
    /// C-level allocator calls made outside any permitted region, by the C
    /// function called (`malloc`, `free`, …); already counted in
    /// [`counts`](Self::counts) too.
    pub c_allocator: CAllocCounts,
    /// C-level allocator calls made inside a permitted region, by name;
    /// already counted in [`permitted`](Self::permitted) too.
    pub permitted_c_allocator: CAllocCounts,
    sizes: SizeTally,
}

impl Stats {
    /// Empty figures.
    pub const fn new() -> Self {
        Stats {
            counts: Counts::new(),
            permitted: Counts::new(),
            blocking: BlockingCounts::new(),
            permitted_blocking: BlockingCounts::new(),
            c_allocator: CAllocCounts::new(),
            permitted_c_allocator: CAllocCounts::new(),
            sizes: SizeTally::new(),
        }
    }

    /// Requests (allocations, and reallocations by new size) per
    /// power-of-two size range.
    pub fn requested(&self) -> RequestHistogram {
        self.sizes.requested()
    }

    /// The same requests per macOS malloc size class.
    pub fn macos_classes(&self) -> MacosHistogram {
        self.sizes.macos()
    }

    /// Adds `n` requests of `size` bytes to the size histograms
    /// ([`requested`](Self::requested), [`macos_classes`](Self::macos_classes))
    /// and nothing else: for figures measured elsewhere (another process)
    /// and carried here as sizes and counts. The counts are left as they
    /// are.
    ///
    /// ```
    /// let mut s = allocgate::Stats::new();
    /// s.add_requests(36, 3);
    /// assert_eq!(s.macos_classes().count_like(48), 3);
    /// assert_eq!(s.counts.allocations, 0);
    /// ```
    pub fn add_requests(&mut self, size: usize, n: u64) {
        self.sizes.add_n(size, n);
    }

    /// True when the scope made no allocation, deallocation or reallocation
    /// outside a permitted region: the verdict a real-time gate wants.
    pub fn is_allocation_free(&self) -> bool {
        self.counts.is_zero()
    }

    #[inline(always)]
    pub(crate) fn apply(&mut self, event: Event, permitted: bool) {
        if permitted {
            self.permitted.apply(event);
            return;
        }
        self.counts.apply(event);
        let requested = match event {
            Event::Alloc { size, .. } => Some(size),
            Event::Realloc { new, .. } => Some(new),
            Event::Dealloc { .. } => None,
        };
        if let Some(size) = requested {
            self.sizes.add(size);
        }
    }

    /// Counts one blocking call, as permitted or forbidden.
    #[inline(always)]
    pub(crate) fn add_blocking(&mut self, call: BlockingCall, permitted: bool) {
        if permitted {
            self.permitted_blocking.add(call);
        } else {
            self.blocking.add(call);
        }
    }

    /// Counts one C-level allocator call by the function called, as
    /// permitted or forbidden.
    #[inline(always)]
    pub(crate) fn add_c_allocator(&mut self, call: CAllocCall, permitted: bool) {
        if permitted {
            self.permitted_c_allocator.add(call);
        } else {
            self.c_allocator.add(call);
        }
    }

    /// Adds another scope's figures to these.
    pub fn merge(&mut self, other: &Stats) {
        self.counts.merge(&other.counts);
        self.permitted.merge(&other.permitted);
        self.blocking.merge(&other.blocking);
        self.permitted_blocking.merge(&other.permitted_blocking);
        self.c_allocator.merge(&other.c_allocator);
        self.permitted_c_allocator
            .merge(&other.permitted_c_allocator);
        self.sizes.merge(&other.sizes);
    }
}

/// What introduces the size classes in [`Stats`]' text: on macOS the
/// allocator's own; elsewhere the classes macOS would round these requests
/// to, which this platform's allocator does not use.
const MACOS_CLASSES_LABEL: &str = if cfg!(target_os = "macos") {
    "; size classes:"
} else {
    "; in macOS's size classes (not this platform's):"
};

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.counts)?;
        if !self.c_allocator.is_zero() {
            write!(f, "; C allocator calls: {}", self.c_allocator)?;
        }
        if !self.permitted.is_zero() {
            write!(f, "; permitted: {}", self.permitted)?;
        }
        if !self.blocking.is_zero() {
            write!(f, "; blocking calls: {}", self.blocking)?;
        }
        if !self.permitted_blocking.is_zero() {
            write!(f, "; permitted blocking calls: {}", self.permitted_blocking)?;
        }
        let classes = self.macos_classes();
        let mut classes = classes.iter().peekable();
        if classes.peek().is_some() {
            f.write_str(MACOS_CLASSES_LABEL)?;
            let mut separator = " ";
            for (class, n) in classes {
                write!(f, "{separator}{n} x {class}")?;
                separator = ", ";
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_realloc_is_its_own_kind_and_tracks_growth_and_shrinkage() {
        let mut c = Counts::default();
        c.apply(Event::Realloc { old: 16, new: 64 });
        c.apply(Event::Realloc { old: 64, new: 8 });
        assert_eq!((c.allocations, c.deallocations, c.reallocations), (0, 0, 2));
        assert_eq!((c.realloc_bytes_from, c.realloc_bytes_to), (80, 72));
        assert_eq!((c.realloc_bytes_grown, c.realloc_bytes_shrunk), (48, 56));
        assert_eq!(c.largest_request, 64);
        assert_eq!(c.net_bytes(), -8);
    }

    #[test]
    fn permitted_calls_are_counted_apart_and_left_out_of_histograms() {
        let mut s = Stats::new();
        s.apply(
            Event::Alloc {
                size: 36,
                zeroed: false,
            },
            false,
        );
        s.apply(
            Event::Alloc {
                size: 36,
                zeroed: true,
            },
            true,
        );
        s.apply(Event::Dealloc { size: 36 }, true);
        assert_eq!(s.counts.allocations, 1);
        assert_eq!(s.permitted.allocations, 1);
        assert_eq!(s.permitted.zeroed, 1);
        assert_eq!(s.permitted.deallocations, 1);
        assert_eq!(s.macos_classes().count_like(48), 1);
        assert_eq!(s.requested().total(), 1);
        assert!(!s.is_allocation_free());
    }

    #[test]
    fn merge_adds_counts_and_keeps_the_largest_request() {
        let mut a = Stats::new();
        a.apply(
            Event::Alloc {
                size: 100,
                zeroed: false,
            },
            false,
        );
        let mut b = Stats::new();
        b.apply(
            Event::Alloc {
                size: 10,
                zeroed: false,
            },
            false,
        );
        b.apply(Event::Dealloc { size: 10 }, false);
        a.merge(&b);
        assert_eq!(a.counts.allocations, 2);
        assert_eq!(a.counts.deallocations, 1);
        assert_eq!(a.counts.bytes_allocated, 110);
        assert_eq!(a.counts.largest_request, 100);
        assert_eq!(a.macos_classes().total(), 2);
    }
}
