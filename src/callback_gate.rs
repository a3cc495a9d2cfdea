//! The gate for your own callback in `cargo test`: run it many times, each
//! invocation measured on its own, then fail on any allocator call in any
//! invocation (warm-up included unless you say otherwise), or on counts
//! that differ from the ones you expect.
//!
//! ```rust,standalone_crate
//! #[global_allocator]
//! static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();
//!
//! struct Gain { gain: f32, scratch: Vec<f32> }
//!
//! impl Gain {
//!     fn process(&mut self, out: &mut [f32]) {
//!         self.scratch[..out.len()].copy_from_slice(out);
//!         for (o, s) in out.iter_mut().zip(&self.scratch) {
//!             *o = s * self.gain;
//!         }
//!     }
//! }
//!
//! # fn main() {
//! let mut gain = Gain { gain: 0.5, scratch: vec![0.0; 512] }; // allocated up front
//! let mut out = vec![0.25f32; 512];
//! let run = allocgate::CallbackGate::new("gain")
//!     .run(1000, |_| gain.process(&mut out))
//!     .unwrap();
//! run.assert_allocation_free();
//! # }
//! ```

use std::fmt::{self, Write as _};

use super::callback::{CallLog, Probe};
use super::error::Error;
use super::stats::{Counts, Stats};
use crate::text::count;

/// How many offending invocations a failure message lists.
const LISTED: usize = 8;

/// Runs a callback under measurement and judges it: each call in its own
/// measured scope, then [`GateRun::assert_allocation_free`] or
/// [`GateRun::assert_counts`].
#[derive(Debug, Clone)]
pub struct CallbackGate {
    name: String,
    warm_up: u64,
    check_warm_up: bool,
}

/// Why a gate could not run at all.
#[derive(Debug)]
#[non_exhaustive]
pub enum GateError {
    /// The counting allocator is not the global allocator: nothing could
    /// be measured, so nothing can pass.
    NotInstalled(Error),
    /// Zero invocations were asked for: a gate over nothing would pass
    /// vacuously.
    NoInvocations,
}

impl fmt::Display for GateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GateError::NotInstalled(e) => write!(f, "{e}"),
            GateError::NoInvocations => {
                f.write_str("a gate needs at least one invocation; zero would pass vacuously")
            }
        }
    }
}

impl std::error::Error for GateError {}

impl CallbackGate {
    /// A gate for a callback called `name` (used in failure messages). By
    /// default no invocation is warm-up: every one must be clean.
    pub fn new(name: impl Into<String>) -> CallbackGate {
        CallbackGate {
            name: name.into(),
            warm_up: 0,
            check_warm_up: true,
        }
    }

    /// Marks the first `invocations` as warm-up: reported apart, and still
    /// checked unless [`allow_warm_up`](Self::allow_warm_up) is set.
    pub fn warm_up(mut self, invocations: u64) -> CallbackGate {
        self.warm_up = invocations;
        self
    }

    /// Lets warm-up invocations use the allocator (a callback that sets
    /// itself up on its first call). They are still counted and reported.
    pub fn allow_warm_up(mut self) -> CallbackGate {
        self.check_warm_up = false;
        self
    }

    /// Calls `callback(index)` `invocations` times on this thread, each
    /// call in its own measured scope. The per-invocation log is allocated
    /// before the first call; between calls the gate allocates nothing.
    pub fn run(
        &self,
        invocations: u64,
        mut callback: impl FnMut(u64),
    ) -> Result<GateRun, GateError> {
        if invocations == 0 {
            return Err(GateError::NoInvocations);
        }
        let capacity = usize::try_from(invocations).unwrap_or(usize::MAX);
        let mut probe =
            Probe::new(CallLog::with_capacity(capacity)).map_err(GateError::NotInstalled)?;
        for i in 0..invocations {
            probe.run(|| callback(i));
        }
        Ok(GateRun {
            gate: self.clone(),
            log: probe.into_sink(),
        })
    }
}

/// What a gate measured: every invocation's figures.
#[derive(Debug, Clone)]
pub struct GateRun {
    gate: CallbackGate,
    log: CallLog,
}

impl GateRun {
    /// Each invocation's figures, in order.
    pub fn invocations(&self) -> &[Stats] {
        self.log.entries()
    }

    /// Every invocation's counts added up.
    pub fn total(&self) -> Counts {
        self.sum(0..self.invocations().len())
    }

    /// The warm-up invocations' counts added up.
    pub fn warm_up_total(&self) -> Counts {
        self.sum(0..self.warm_up_len())
    }

    /// The other invocations' counts added up.
    pub fn steady_total(&self) -> Counts {
        self.sum(self.warm_up_len()..self.invocations().len())
    }

    fn warm_up_len(&self) -> usize {
        usize::try_from(self.gate.warm_up)
            .unwrap_or(usize::MAX)
            .min(self.invocations().len())
    }

    fn sum(&self, range: std::ops::Range<usize>) -> Counts {
        let mut c = Counts::new();
        for s in &self.invocations()[range] {
            c.merge(&s.counts);
        }
        c
    }

    /// The invocations the gate holds to zero that made an allocator call
    /// (allocation, deallocation or reallocation), by index.
    pub fn offenders(&self) -> impl Iterator<Item = (u64, &Stats)> {
        let first_checked = if self.gate.check_warm_up {
            0
        } else {
            self.warm_up_len()
        };
        self.invocations()
            .iter()
            .enumerate()
            .skip(first_checked)
            .filter(|(_, s)| !s.is_allocation_free())
            .map(|(i, s)| (i as u64, s))
    }

    /// True when no checked invocation made an allocator call.
    pub fn is_allocation_free(&self) -> bool {
        self.offenders().next().is_none()
    }

    /// Panics, listing the first offending invocations and the totals,
    /// unless [`is_allocation_free`](Self::is_allocation_free).
    #[track_caller]
    pub fn assert_allocation_free(&self) {
        if self.is_allocation_free() {
            return;
        }
        let n = self.offenders().count();
        let mut msg = format!(
            "callback '{}' touched the allocator in {n} of {}{}:\n",
            self.gate.name,
            count(self.invocations().len(), "invocation"),
            if self.gate.check_warm_up {
                ""
            } else {
                " past warm-up"
            }
        );
        for (i, s) in self.offenders().take(LISTED) {
            let _ = writeln!(msg, "  invocation {i}: {s}");
        }
        if n > LISTED {
            let _ = writeln!(msg, "  … and {} more", n - LISTED);
        }
        let _ = write!(msg, "  in all: {}", self.total());
        panic!("{msg}");
    }

    /// Panics unless invocation `i` made exactly `expected(i)`
    /// allocations, deallocations and reallocations, for every `i` (warm-up
    /// included): the check for code that allocates by design, with counts
    /// worked out from what it does.
    #[track_caller]
    pub fn assert_counts(&self, expected: impl Fn(u64) -> (u64, u64, u64)) {
        let mut wrong = String::new();
        let mut n = 0;
        for (i, s) in self.invocations().iter().enumerate() {
            let want = expected(i as u64);
            let c = &s.counts;
            let got = (c.allocations, c.deallocations, c.reallocations);
            if got != want {
                n += 1;
                if n <= LISTED {
                    let _ = writeln!(
                        wrong,
                        "  invocation {i}: (allocations, deallocations, reallocations) = \
                         {got:?}, expected {want:?}"
                    );
                }
            }
        }
        if n > 0 {
            panic!(
                "callback '{}': {n} of {} made other counts than expected:\n{wrong}",
                self.gate.name,
                count(self.invocations().len(), "invocation")
            );
        }
    }
}
