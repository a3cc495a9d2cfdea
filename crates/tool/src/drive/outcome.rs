//! What a run did, whichever driver ran it (the simulated clock, JACK,
//! CoreAudio): how far it has got while it runs ([`Progress`]), and its
//! [`Outcome`] at the end.

use std::time::Duration;

use crate::drive::integrity::IntegrityReport;
use crate::drive::sim::PacingReport;
use crate::interrupt::Interrupt;
use crate::metrics::{Record, RunTotals, Xruns};
use allocgate::Stats;
use allocgate_engine::sites::CallbackKind;

/// How far a run has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Device time reached (simulated, or played on a real backend).
    pub simulated: Duration,
    /// Device time the run lasts.
    pub total: Duration,
    /// Callbacks run so far, both kinds.
    pub callbacks: u64,
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Input callbacks.
    pub input: RunTotals,
    /// Output callbacks.
    pub output: RunTotals,
    /// Under- and overruns.
    pub xruns: Xruns,
    /// The integrity verdict.
    pub integrity: IntegrityReport,
    /// Device time run. On the simulated clock: the run's duration, or,
    /// when it was stopped, the time of the first event it did not run
    /// (every callback before it ran); on a real backend: the output
    /// frames played. Rates divide by this.
    pub simulated: Duration,
    /// Wall time the run took.
    pub wall: Duration,
    /// Paced runs on the simulated clock: how well they kept time.
    pub pacing: Option<PacingReport>,
    /// Why the run stopped before its end, if it did (a stop requested
    /// through a [`Stop`](crate::interrupt::Stop) token).
    pub interrupted: Option<Interrupt>,
}

impl Outcome {
    /// Simulated seconds per wall second.
    pub fn speed(&self) -> f64 {
        self.simulated.as_secs_f64() / self.wall.as_secs_f64().max(1e-9)
    }

    /// An outcome with nothing run yet: no callback, integrity not
    /// checked, no time.
    pub fn empty() -> Outcome {
        Outcome {
            input: RunTotals::default(),
            output: RunTotals::default(),
            xruns: Xruns::default(),
            integrity: IntegrityReport::disabled(),
            simulated: Duration::ZERO,
            wall: Duration::ZERO,
            pacing: None,
            interrupted: None,
        }
    }

    /// Adds one callback: its record and allocator figures to its kind's
    /// totals, what it lost to the xruns. Never allocates.
    pub fn add(&mut self, record: &Record, stats: &Stats) {
        match record.kind {
            CallbackKind::Input => self.input.add(record, stats),
            CallbackKind::Output => self.output.add(record, stats),
        }
        self.xruns.record(record);
    }

    /// Callbacks run, both kinds.
    pub fn callbacks(&self) -> u64 {
        self.input.all.callbacks + self.output.all.callbacks
    }
}
