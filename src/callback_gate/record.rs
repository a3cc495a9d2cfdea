//! What a gate keeps while it runs: a compact record per invocation, the
//! first offenders in full, exact totals. All storage is reserved before
//! the first call; recording an invocation never allocates.

use std::hint::black_box;

use super::{CallbackGate, KEPT_OFFENDERS};
use crate::hazard::{HazardTotals, Hazards, observe};
use crate::scope::{Measured, measure_installed};
use crate::stats::Stats;

/// One invocation's figures as a gate keeps them for every invocation.
/// Each figure saturates at `u32::MAX`; totals are kept exactly apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CallFigures {
    /// Calls to `alloc` and `alloc_zeroed` (outside [`permit`](crate::permit)).
    pub allocations: u32,
    /// Calls to `dealloc`.
    pub deallocations: u32,
    /// Calls to `realloc`.
    pub reallocations: u32,
    /// Tracked locks taken (zero unless hazards are checked).
    pub lock_acquisitions: u32,
    /// Page faults, minor and major (zero unless hazards are checked on a
    /// platform with per-thread usage).
    pub page_faults: u32,
    /// Voluntary context switches (as for page faults).
    pub voluntary_switches: u32,
    /// Blocking C library calls (zero unless hazards are checked with a
    /// C-level layer attached).
    pub blocking_calls: u32,
}

impl CallFigures {
    /// True when the invocation made no allocator call.
    pub fn is_allocation_free(&self) -> bool {
        self.allocations == 0 && self.deallocations == 0 && self.reallocations == 0
    }

    /// True when the invocation took no tracked lock, made no blocking C
    /// library call, and neither faulted nor switched voluntarily.
    pub fn is_hazard_free(&self) -> bool {
        self.lock_acquisitions == 0
            && self.page_faults == 0
            && self.voluntary_switches == 0
            && self.blocking_calls == 0
    }
}

/// An offending invocation, kept in full.
#[derive(Debug, Clone)]
pub struct Offender {
    /// Which invocation (counting from 0).
    pub index: u64,
    /// It was a warm-up invocation (checked because warm-up was not
    /// allowed).
    pub warm_up: bool,
    /// Its allocator figures, sizes included.
    pub stats: Stats,
    /// Its hazards ([`Hazards::NONE`] unless hazards are checked).
    pub hazards: Hazards,
    /// With site tracing: the functions of the call sites it went through
    /// (see [`GateRun::sites`](super::GateRun::sites)); empty otherwise.
    pub sites: Vec<String>,
}

impl Offender {
    /// It made an allocator call.
    pub fn allocated(&self) -> bool {
        !self.stats.is_allocation_free()
    }

    /// It took a tracked lock, made a blocking C library call, faulted or
    /// switched voluntarily.
    pub fn hazardous(&self) -> bool {
        is_hazardous(&self.hazards)
    }
}

pub(super) fn is_hazardous(h: &Hazards) -> bool {
    h.lock_acquisitions > 0 || h.faults() > 0 || h.voluntary_switches > 0 || h.blocking_calls > 0
}

/// Calls that recorded traced stacks get their own trace tag (1 to 255),
/// so that sites can name the invocations they occurred in; later ones
/// share tag 0.
pub(super) const TAGS: usize = 255;

/// Figures of a part of the run (warm-up or steady).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Part {
    pub(super) stats: Stats,
    pub(super) hazards: HazardTotals,
    pub(super) allocating: u64,
    pub(super) hazardous: u64,
    /// Invocations that did either.
    pub(super) offending: u64,
}

/// The state of a running gate.
#[derive(Debug)]
pub(super) struct Recorder {
    pub(super) warm_up: u64,
    check_warm_up: bool,
    hazards: bool,
    usage: bool,
    pub(super) counts: Vec<[u32; 3]>,
    pub(super) hazard_log: Vec<[u32; 4]>,
    pub(super) offenders: Vec<Offender>,
    kept_allocating: usize,
    kept_hazardous: usize,
    pub(super) warm: Part,
    pub(super) steady: Part,
    /// Invocation of each trace tag, `tags_used` of them.
    tag_calls: [u64; TAGS],
    tags_used: usize,
}

#[cfg(feature = "backtrace")]
use crate::trace::tagged;

/// Without site tracing there are no tags to set.
#[cfg(not(feature = "backtrace"))]
fn tagged<R>(_tag: u8, f: impl FnOnce() -> R) -> R {
    f()
}

fn narrow(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Recorder {
    /// Reserves everything for `invocations` calls (off the measured
    /// thread's calls: before the first).
    pub(super) fn new(gate: &CallbackGate, invocations: u64, usage: bool) -> Recorder {
        let n = usize::try_from(invocations).unwrap_or(usize::MAX);
        Recorder {
            warm_up: gate.warm_up.min(invocations),
            check_warm_up: gate.check_warm_up,
            hazards: gate.hazards,
            usage,
            counts: Vec::with_capacity(n),
            hazard_log: Vec::with_capacity(if gate.hazards { n } else { 0 }),
            offenders: Vec::with_capacity(2 * KEPT_OFFENDERS),
            kept_allocating: 0,
            kept_hazardous: 0,
            warm: Part::default(),
            steady: Part::default(),
            tag_calls: [0; TAGS],
            tags_used: 0,
        }
    }

    /// The invocation of each trace tag from 1 on.
    #[cfg(feature = "backtrace")]
    pub(super) fn tagged_calls(&self) -> &[u64] {
        &self.tag_calls[..self.tags_used]
    }

    /// Runs and records every invocation.
    pub(super) fn run(&mut self, invocations: u64, callback: &mut impl FnMut(u64)) {
        // One empty measurement first, so that the first invocation's
        // figures do not include the measuring path's own first touches
        // (its stack, the lock counters' thread-local).
        black_box(self.measure(&mut |_| {}, 0));
        for i in 0..invocations {
            let (stats, hazards) = self.measure(callback, i);
            self.record(i, &stats, &hazards);
        }
    }

    fn next_tag(&self) -> u8 {
        if self.tags_used < TAGS {
            (self.tags_used + 1) as u8
        } else {
            0
        }
    }

    #[inline(never)]
    fn measure(&self, callback: &mut impl FnMut(u64), i: u64) -> (Stats, Hazards) {
        let tag = self.next_tag();
        let once = || {
            if self.hazards {
                let (Measured { stats, .. }, mut h) =
                    observe(self.usage, || measure_installed(|| callback(i)));
                h.blocking_calls = narrow(stats.blocking.total());
                (stats, h)
            } else {
                (measure_installed(|| callback(i)).stats, Hazards::NONE)
            }
        };
        tagged(tag, once)
    }

    fn record(&mut self, i: u64, stats: &Stats, hazards: &Hazards) {
        let c = &stats.counts;
        self.counts.push([
            narrow(c.allocations),
            narrow(c.deallocations),
            narrow(c.reallocations),
        ]);
        if self.hazards {
            self.hazard_log.push([
                hazards.lock_acquisitions,
                hazards.faults(),
                hazards.voluntary_switches,
                hazards.blocking_calls,
            ]);
        }
        let traced = !c.is_zero() || !stats.permitted.is_zero();
        if traced && self.tags_used < TAGS {
            self.tag_calls[self.tags_used] = i;
            self.tags_used += 1;
        }
        let warm_up = i < self.warm_up;
        let checked = self.check_warm_up || !warm_up;
        let allocating = checked && !c.is_zero();
        let hazardous = checked && is_hazardous(hazards);
        let part = if warm_up {
            &mut self.warm
        } else {
            &mut self.steady
        };
        let blocked = !stats.blocking.is_zero() || !stats.permitted_blocking.is_zero();
        if traced || blocked {
            part.stats.merge(stats);
        }
        part.hazards.record(hazards);
        part.allocating += u64::from(allocating);
        part.hazardous += u64::from(hazardous);
        part.offending += u64::from(allocating || hazardous);
        let keep_allocating = allocating && self.kept_allocating < KEPT_OFFENDERS;
        let keep_hazardous = hazardous && self.kept_hazardous < KEPT_OFFENDERS;
        if keep_allocating || keep_hazardous {
            self.kept_allocating += usize::from(allocating);
            self.kept_hazardous += usize::from(hazardous);
            // Within the capacity reserved: never allocates.
            self.offenders.push(Offender {
                index: i,
                warm_up,
                stats: *stats,
                hazards: *hazards,
                sites: Vec::new(),
            });
        }
    }
}
