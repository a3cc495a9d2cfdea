//! Running a configuration: a validated [`RunConfig`] through the
//! simulated clock ([`execute`]) or a real backend, its records aggregated
//! into a [`Report`], written atomically ([`write_run`]), and judged
//! ([`failures`]). The soak ([`soak`](mod@soak)) is a long run of the same
//! kind. The command line builds the configurations and prints the
//! results; the sweep, the demo and the tests call in here directly.

mod config;
mod error;
mod failure;
mod heap_profile;
mod realtime;
mod sim;
pub mod soak;

#[cfg(test)]
mod tests;

use allocgate::trace::SiteTable;
use allocgate_engine::sites::CallbackKind;

use crate::drive::callback::WARM_UP_CALLBACKS;
use crate::drive::outcome::{Outcome, Progress};
use crate::drive::sim::Mode;
use crate::files::Outputs;
use crate::metrics::{Aggregates, Aggregator};
use crate::report::{
    Environment, Integrity, Report, ReportConfig, site_names, write_hdr_log, write_json,
};

pub use config::{
    BackendChoice, C_LEVEL_NOT_ATTACHED, DHAT_BUILD_HINT, JACK_BUILD_HINT, RunConfig, TraceConfig,
    c_level_missing,
};
pub use error::RunError;
pub use failure::{RunFailure, failures};
pub use realtime::ended_early;
pub use sim::{execute, sim_config};

use heap_profile::HeapProfile;

/// The `backend` of reports the simulated clock produced.
pub const BACKEND: &str = "sim";

/// A finished run: its report (written or not) and the driver's outcome.
#[derive(Debug)]
pub struct Run {
    /// The report.
    pub report: Report,
    /// What the report was made from, histograms included (what
    /// `--hdr-log` exports).
    pub aggregates: Aggregates,
    /// What the driver counted, including wall time.
    pub outcome: Outcome,
    /// With `--trace-sites`: how the trace itself went.
    pub trace: Option<TraceSummary>,
}

/// The site trace's own figures (`--trace-sites`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceSummary {
    /// Allocator calls recorded.
    pub calls: u64,
    /// Distinct stacks.
    pub stacks: usize,
    /// Calls whose stack found no free row in the table.
    pub overflowed: u64,
    /// Calls whose stack was cut at [`MAX_FRAMES`](allocgate::trace::MAX_FRAMES).
    pub truncated: u64,
    /// Allocator calls made while capturing a stack (none expected).
    pub nested: u64,
}

impl TraceSummary {
    fn of(t: &SiteTable) -> TraceSummary {
        TraceSummary {
            calls: t.calls(),
            stacks: t.len(),
            overflowed: t.overflowed(),
            truncated: t.truncated(),
            nested: t.nested(),
        }
    }
}

/// The report's `config` section for `c`.
pub fn report_config(c: &RunConfig) -> ReportConfig {
    ReportConfig {
        variant: c.variant.name().to_owned(),
        sites: site_names(c.sites),
        sample_rate: c.engine.sample_rate,
        frames: u32::try_from(c.frames).unwrap_or(u32::MAX),
        channels: u32::try_from(c.engine.channels).unwrap_or(u32::MAX),
        seconds: c.seconds,
        seed: c.seed,
        backend: c.backend.name().to_owned(),
        mode: match c.mode {
            Mode::Virtual => "virtual",
            Mode::Paced => "paced",
        }
        .to_owned(),
        convolution: c.engine.convolution,
        preset: c.preset_name.clone(),
        warm_up_callbacks: WARM_UP_CALLBACKS,
        scenario: c.scenario.as_ref().map(|s| s.name.clone()),
        trace_sites: c.trace.is_some(),
        rusage: c.rusage,
        c_level: c.c_level,
    }
}

/// The files `c` writes: the report, and the HdrHistogram log and the
/// DHAT profile when asked for.
pub fn outputs(c: &RunConfig) -> Outputs {
    let mut o = Outputs::new();
    o.add("--out", &c.out);
    if let Some(p) = &c.hdr_log {
        o.add("--hdr-log", p);
    }
    if let Some(p) = &c.dhat {
        o.add("--dhat", p);
    }
    o
}

/// The report of a finished run: `aggregator` finished over the run's
/// time, the outcome's sizes, integrity, pacing and wall time; and the
/// aggregates it was made from.
pub(crate) fn assemble(
    config: ReportConfig,
    outcome: &Outcome,
    aggregator: Aggregator,
) -> (Report, Aggregates) {
    let mut aggregator = aggregator;
    aggregator.add_sizes(CallbackKind::Input, &outcome.input.stats);
    aggregator.add_sizes(CallbackKind::Output, &outcome.output.stats);
    let aggregates = aggregator.finish(outcome.simulated);
    let mut report = Report::from_aggregates(
        config,
        Environment::detect(),
        &aggregates,
        Integrity::from(&outcome.integrity),
    );
    report.pacing = outcome.pacing.as_ref().map(Into::into);
    report.interrupted = outcome.interrupted.map(|i| i.name().to_owned());
    report.harness.wall_ns = u64::try_from(outcome.wall.as_nanos()).unwrap_or(u64::MAX);
    report.harness.speed = outcome.speed();
    (report, aggregates)
}

/// [`run_checked`], then [`write_run`].
///
/// A run stopped through `c.stop` is written too, marked interrupted,
/// unless it was stopped before its first callback ([`ran_nothing`]):
/// then nothing is written and the files already there are left as they
/// were.
pub fn run_and_write(c: &RunConfig, progress: &mut dyn FnMut(&Progress)) -> Result<Run, RunError> {
    let run = run_checked(c, progress)?;
    write_run(c, &run)?;
    Ok(run)
}

/// Checks every output of `c` ([`outputs`]), so that a bad path fails
/// before the run rather than after it, then runs `c` (on the simulated
/// clock or a real backend); with `c.dhat`, a DHAT heap profile of the
/// process over the run is written. Writes neither the report nor the
/// HdrHistogram log: [`write_run`] does.
pub fn run_checked(c: &RunConfig, progress: &mut dyn FnMut(&Progress)) -> Result<Run, RunError> {
    if c_level_missing(c.c_level) {
        return Err(RunError::CLevelNotAttached);
    }
    outputs(c).check().map_err(RunError::Output)?;
    let profile = c.dhat.as_deref().map(HeapProfile::start).transpose()?;
    let run = if c.backend.is_real() {
        realtime::execute(c, progress)
    } else {
        execute(c, progress)
    };
    // Stopped even when the run failed: the profile of what ran is
    // written either way, and the run's own error comes first.
    let profiled = profile.map(HeapProfile::finish).transpose();
    let run = run?;
    profiled?;
    Ok(run)
}

/// Writes `run`'s report to `c.out` and, when asked for, the
/// HdrHistogram log to `c.hdr_log`, each atomically.
pub fn write_run(c: &RunConfig, run: &Run) -> Result<(), RunError> {
    if ran_nothing(run) {
        return Ok(());
    }
    write_json(&c.out, &run.report).map_err(RunError::Report)?;
    if let Some(path) = &c.hdr_log {
        write_hdr_log(path, &run.aggregates).map_err(RunError::HdrLog)?;
    }
    Ok(())
}

/// True when the run was stopped before its first callback: there is
/// nothing to report, and [`run_and_write`] writes nothing.
pub fn ran_nothing(run: &Run) -> bool {
    run.outcome.interrupted.is_some() && run.outcome.callbacks() == 0
}
