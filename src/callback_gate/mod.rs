//! The gate for your own callback in `cargo test`: run it many times, each
//! invocation measured on its own, then fail on any allocator call in any
//! invocation (warm-up included unless you say otherwise), on counts that
//! differ from the ones you expect, or, with
//! [`check_hazards`](CallbackGate::check_hazards), on a tracked lock, a
//! page fault or a voluntary context switch.
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

mod message;
mod record;
mod run;
#[cfg(feature = "backtrace")]
mod sites;

use std::fmt;

use crate::error::Error;
use crate::hazard::{RUSAGE_SUPPORTED, check_usage};
use crate::scope::check_installed;
use record::Recorder;

pub use record::{CallFigures, Offender};
pub use run::GateRun;
#[cfg(feature = "backtrace")]
pub use sites::{CallSite, SiteSize};

/// Offending invocations a gate keeps in full (figures, sizes, sites) and
/// a failure message lists, for allocations and for hazards each; the
/// others are counted exactly but not kept.
pub const KEPT_OFFENDERS: usize = 8;

/// Runs a callback under measurement and judges it: each call in its own
/// measured scope, then [`GateRun::assert_allocation_free`],
/// [`GateRun::assert_clean`] or [`GateRun::assert_counts`].
///
/// What it cannot see: allocations made by C code that calls `malloc`
/// directly (only calls through Rust's global allocator are counted), and
/// locks other than [`TrackedMutex`](crate::hazard::TrackedMutex) and
/// [`TrackedRwLock`](crate::hazard::TrackedRwLock): an uncontended
/// `std::sync::Mutex` leaves no trace, and a contended one shows only as a
/// voluntary context switch under [`check_hazards`](Self::check_hazards)
/// on Linux.
///
/// Memory: the gate keeps 12 bytes per invocation (28 with hazards
/// checked), the first [`KEPT_OFFENDERS`] offenders in full, and exact
/// totals; all of it allocated before the first call.
#[derive(Debug, Clone)]
pub struct CallbackGate {
    pub(crate) name: String,
    pub(crate) warm_up: u64,
    pub(crate) check_warm_up: bool,
    pub(crate) hazards: bool,
    #[cfg(feature = "backtrace")]
    pub(crate) trace_sites: bool,
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
    /// [`check_hazards`](CallbackGate::check_hazards) on a platform that
    /// has per-thread usage counters, but they could not be read or did
    /// not move: page faults and switches would read zero whatever the
    /// callback did.
    UsageUnreadable,
}

impl fmt::Display for GateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GateError::NotInstalled(e) => write!(f, "{e}"),
            GateError::NoInvocations => {
                f.write_str("a gate needs at least one invocation; zero would pass vacuously")
            }
            GateError::UsageUnreadable => f.write_str(
                "check_hazards could not read this thread's page faults and context switches \
                 (getrusage(RUSAGE_THREAD) failed or did not count a sleep), so they would \
                 pass vacuously",
            ),
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
            hazards: false,
            #[cfg(feature = "backtrace")]
            trace_sites: false,
        }
    }

    /// Marks the first `invocations` as warm-up: reported apart, and still
    /// checked unless [`allow_warm_up`](Self::allow_warm_up) is set.
    pub fn warm_up(mut self, invocations: u64) -> CallbackGate {
        self.warm_up = invocations;
        self
    }

    /// Lets warm-up invocations use the allocator and, with
    /// [`check_hazards`](Self::check_hazards), take locks, fault and
    /// switch (a callback that sets itself up on its first call). They are
    /// still counted and reported.
    pub fn allow_warm_up(mut self) -> CallbackGate {
        self.check_warm_up = false;
        self
    }

    /// Also observes each invocation's real-time hazards
    /// ([`hazard::observe`](crate::hazard::observe)): tracked locks taken
    /// and, where `getrusage(RUSAGE_THREAD)` exists (Linux), page faults
    /// and voluntary context switches. An invocation with any of them is an
    /// offender for [`GateRun::assert_clean`], under the same warm-up rules
    /// as allocations. Involuntary switches (preemption) are reported,
    /// never held against the callback.
    ///
    /// A first call that runs code or touches memory for the first time
    /// (its code pages, a buffer allocated but never written, fresh stack)
    /// page-faults: give the callback a [`warm_up`](Self::warm_up) of one
    /// invocation with [`allow_warm_up`](Self::allow_warm_up), or run it
    /// and touch its memory before the gate. The gate's own bookkeeping is
    /// written outside the observed region, and its measuring path is run
    /// once before the first call.
    pub fn check_hazards(mut self) -> CallbackGate {
        self.hazards = true;
        self
    }

    /// Records where each allocator call comes from while the gate runs
    /// (site tracing, [`trace`](crate::trace)): a failure message then
    /// names each call site, the first frame in your code or a third-party
    /// crate's (not std's or allocgate's), with its sizes and counts and a
    /// short backtrace, and [`GateRun::sites`] lists them.
    ///
    /// Each traced allocator call walks the stack: slower, and it may
    /// page-fault or take the dynamic loader's lock inside calls that
    /// already offend. The table is made before the first call; names are
    /// looked up after the last. Function names in release builds need
    /// symbols (the default); inlined frames are named when the build
    /// keeps line tables (`debug = 1` or more).
    #[cfg(feature = "backtrace")]
    pub fn trace_sites(mut self) -> CallbackGate {
        self.trace_sites = true;
        self
    }

    /// Calls `callback(index)` `invocations` times on this thread, each
    /// call in its own measured scope. Everything the gate keeps is
    /// allocated before the first call; between calls the gate allocates
    /// nothing.
    pub fn run(
        &self,
        invocations: u64,
        mut callback: impl FnMut(u64),
    ) -> Result<GateRun, GateError> {
        if invocations == 0 {
            return Err(GateError::NoInvocations);
        }
        check_installed().map_err(GateError::NotInstalled)?;
        let usage = self.hazards && RUSAGE_SUPPORTED;
        if usage {
            check_usage().map_err(|_| GateError::UsageUnreadable)?;
        }
        let mut recorder = Recorder::new(self, invocations, usage);
        #[cfg(feature = "backtrace")]
        if self.trace_sites {
            let mut table = crate::trace::SiteTable::new();
            crate::trace::trace(&mut table, || recorder.run(invocations, &mut callback));
            let sites = sites::sites(&table, recorder.tagged_calls());
            return Ok(GateRun::new(self.clone(), recorder).with_sites(sites, table.overflowed()));
        }
        recorder.run(invocations, &mut callback);
        Ok(GateRun::new(self.clone(), recorder))
    }
}
