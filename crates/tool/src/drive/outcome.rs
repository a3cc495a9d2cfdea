//! What a run did, whichever driver ran it (the simulated clock, JACK,
//! CoreAudio): how far it has got while it runs ([`Progress`]), and its
//! [`Outcome`] at the end.

use std::time::Duration;

use crate::drive::integrity::IntegrityReport;
use crate::drive::sim::PacingReport;
use crate::interrupt::Interrupt;
use crate::metrics::Record;
use allocgate::Stats;
use allocgate::hazard::HazardTotals;
use allocgate_engine::input::InputReport;
use allocgate_engine::output::OutputReport;
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

/// Every callback of one kind, added up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindTotals {
    /// Callbacks run.
    pub callbacks: u64,
    /// Of those, callbacks within a warm-up.
    pub warm_up_callbacks: u64,
    /// Every callback's allocator figures, merged.
    pub stats: Stats,
    /// The figures of callbacks past warm-up, merged.
    pub steady: Stats,
    /// The longest callback, in nanoseconds of wall time.
    pub max_wall_ns: u64,
    /// Every callback's hazards, added up.
    pub hazards: HazardTotals,
}

impl KindTotals {
    /// Adds one callback's record and figures.
    pub(crate) fn add(&mut self, record: &Record, stats: &Stats) {
        self.callbacks += 1;
        self.stats.merge(stats);
        if record.warm_up {
            self.warm_up_callbacks += 1;
        } else {
            self.steady.merge(stats);
        }
        self.max_wall_ns = self.max_wall_ns.max(record.wall_ns);
        self.hazards.record(&record.hazards);
    }
}

/// Under- and overruns over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Xruns {
    /// Output callbacks that found the ring short.
    pub underruns: u64,
    /// Input callbacks that found the ring too full and dropped bytes.
    pub overruns: u64,
    /// Bytes those input callbacks dropped.
    pub bytes_dropped: u64,
    /// Input writes that ended mid-frame.
    pub partial_frames: u64,
}

impl Xruns {
    /// Counts what an input callback's ring write lost.
    pub(crate) fn add_input(&mut self, report: &InputReport) {
        if report.dropped_bytes > 0 {
            self.overruns += 1;
            self.bytes_dropped += report.dropped_bytes as u64;
        }
        self.partial_frames += u64::from(report.partial_frame);
    }

    /// Counts an output callback's underrun.
    pub(crate) fn add_output(&mut self, report: &OutputReport) {
        self.underruns += u64::from(report.underrun);
    }

    /// Underruns and overruns.
    pub fn total(&self) -> u64 {
        self.underruns + self.overruns
    }
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Input callbacks.
    pub input: KindTotals,
    /// Output callbacks.
    pub output: KindTotals,
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

    /// The totals of `kind`.
    pub fn totals(&self, kind: CallbackKind) -> &KindTotals {
        match kind {
            CallbackKind::Input => &self.input,
            CallbackKind::Output => &self.output,
        }
    }
}
