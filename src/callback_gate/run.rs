//! A finished gate run: the figures kept and the verdicts.

use std::fmt::Write as _;

use super::message::{Verdict, failure};
use super::record::{CallFigures, Offender, Recorder};
#[cfg(feature = "backtrace")]
use super::sites::CallSite;
use super::{CallbackGate, KEPT_OFFENDERS};
use crate::hazard::HazardTotals;
use crate::stats::{Counts, Stats};
use crate::text::count;

/// What a gate measured: a compact record of every invocation, the first
/// offenders in full, exact totals and, with site tracing, the call sites.
#[derive(Debug, Clone)]
pub struct GateRun {
    pub(super) gate: CallbackGate,
    pub(super) invocations: u64,
    pub(super) warm_up: u64,
    counts: Vec<[u32; 3]>,
    hazard_log: Vec<[u32; 4]>,
    pub(super) offenders: Vec<Offender>,
    pub(super) warm: super::record::Part,
    pub(super) steady: super::record::Part,
    #[cfg(feature = "backtrace")]
    pub(super) sites: Vec<CallSite>,
    /// Traced calls whose stack found no room in the site table.
    #[cfg(feature = "backtrace")]
    pub(super) untraced: u64,
}

impl GateRun {
    pub(super) fn new(gate: CallbackGate, recorder: Recorder) -> GateRun {
        let Recorder {
            warm_up,
            counts,
            hazard_log,
            offenders,
            warm,
            steady,
            ..
        } = recorder;
        GateRun {
            gate,
            invocations: counts.len() as u64,
            warm_up,
            counts,
            hazard_log,
            offenders,
            warm,
            steady,
            #[cfg(feature = "backtrace")]
            sites: Vec::new(),
            #[cfg(feature = "backtrace")]
            untraced: 0,
        }
    }

    /// Takes the traced sites, and names each kept offender's.
    #[cfg(feature = "backtrace")]
    pub(super) fn with_sites(mut self, sites: Vec<CallSite>, untraced: u64) -> GateRun {
        for o in &mut self.offenders {
            o.sites = sites
                .iter()
                .filter(|s| s.invocations.contains(&o.index))
                .map(|s| s.function.clone())
                .collect();
        }
        self.sites = sites;
        self.untraced = untraced;
        self
    }

    /// The callback's name.
    pub fn name(&self) -> &str {
        &self.gate.name
    }

    /// Invocations run.
    pub fn invocations(&self) -> u64 {
        self.invocations
    }

    /// Each invocation's figures, in order.
    pub fn calls(&self) -> impl ExactSizeIterator<Item = CallFigures> + '_ {
        self.counts.iter().enumerate().map(|(i, c)| {
            let h = self.hazard_log.get(i).copied().unwrap_or_default();
            CallFigures {
                allocations: c[0],
                deallocations: c[1],
                reallocations: c[2],
                lock_acquisitions: h[0],
                page_faults: h[1],
                voluntary_switches: h[2],
                blocking_calls: h[3],
            }
        })
    }

    /// Every invocation's allocator counts added up (exact).
    pub fn total(&self) -> Counts {
        let mut c = self.warm.stats.counts;
        c.merge(&self.steady.stats.counts);
        c
    }

    /// The warm-up invocations' counts added up.
    pub fn warm_up_total(&self) -> Counts {
        self.warm.stats.counts
    }

    /// The other invocations' counts added up.
    pub fn steady_total(&self) -> Counts {
        self.steady.stats.counts
    }

    /// Every invocation's figures added up, sizes and permitted calls
    /// included.
    pub fn stats(&self) -> Stats {
        let mut s = self.warm.stats;
        s.merge(&self.steady.stats);
        s
    }

    /// Every invocation's hazards added up, or `None` when hazards were
    /// not checked. Its `sampled` count is zero where per-thread usage
    /// does not exist (page faults and switches were not read).
    pub fn hazards(&self) -> Option<HazardTotals> {
        self.gate.hazards.then(|| {
            let mut h = self.warm.hazards;
            h.merge(&self.steady.hazards);
            h
        })
    }

    /// The first offending invocations, in order, kept in full: up to
    /// [`KEPT_OFFENDERS`] that made an allocator call and as many with a
    /// hazard. Warm-up invocations offend only when warm-up is checked.
    pub fn offenders(&self) -> &[Offender] {
        &self.offenders
    }

    /// Invocations that made an allocator call where none is allowed
    /// (all of them, not only those kept).
    pub fn allocating_invocations(&self) -> u64 {
        self.warm.allocating + self.steady.allocating
    }

    /// Invocations with a hazard where none is allowed (zero unless
    /// hazards are checked).
    pub fn hazardous_invocations(&self) -> u64 {
        self.warm.hazardous + self.steady.hazardous
    }

    /// With site tracing: every call site, most calls first; otherwise
    /// empty.
    #[cfg(feature = "backtrace")]
    pub fn sites(&self) -> &[CallSite] {
        &self.sites
    }

    /// True when no checked invocation made an allocator call.
    pub fn is_allocation_free(&self) -> bool {
        self.allocating_invocations() == 0
    }

    /// True when no checked invocation made an allocator call or, with
    /// hazards checked, took a tracked lock, faulted or switched
    /// voluntarily.
    pub fn is_clean(&self) -> bool {
        self.is_allocation_free() && self.hazardous_invocations() == 0
    }

    /// Panics, listing the first offending invocations, the totals and
    /// (with site tracing) the call sites, unless
    /// [`is_allocation_free`](Self::is_allocation_free).
    #[track_caller]
    pub fn assert_allocation_free(&self) {
        if !self.is_allocation_free() {
            panic!("{}", failure(self, Verdict::AllocationFree));
        }
    }

    /// Panics, listing the offending invocations and what they did, unless
    /// [`is_clean`](Self::is_clean): no allocator call and, with
    /// [`check_hazards`](CallbackGate::check_hazards), no tracked lock,
    /// page fault or voluntary context switch in any checked invocation.
    #[track_caller]
    pub fn assert_clean(&self) {
        if !self.is_clean() {
            panic!("{}", failure(self, Verdict::Clean));
        }
    }

    /// Panics unless invocation `i` made exactly `expected(i)`
    /// allocations, deallocations and reallocations, for every `i` (warm-up
    /// included): the check for code that allocates by design, with counts
    /// worked out from what it does.
    #[track_caller]
    pub fn assert_counts(&self, expected: impl Fn(u64) -> (u64, u64, u64)) {
        let mut wrong = String::new();
        let mut n = 0;
        for (i, c) in self.calls().enumerate() {
            let want = expected(i as u64);
            let got = (
                u64::from(c.allocations),
                u64::from(c.deallocations),
                u64::from(c.reallocations),
            );
            if got != want {
                n += 1;
                if n <= KEPT_OFFENDERS {
                    let _ = writeln!(
                        wrong,
                        "  invocation {i}: (allocations, deallocations, reallocations) = \
                         {got:?}, expected {want:?}"
                    );
                }
            }
        }
        if n > KEPT_OFFENDERS {
            let _ = writeln!(wrong, "  … and {} more", n - KEPT_OFFENDERS);
        }
        if n > 0 {
            panic!(
                "callback '{}': {n} of {} made other counts than expected:\n{wrong}",
                self.gate.name,
                count(self.invocations, "invocation")
            );
        }
    }
}
