//! `allocgate run`: a validated [`RunConfig`] through the simulated clock,
//! its records aggregated into a [`Report`] and written atomically.
//!
//! The simulation runs on its own thread, which stands for the audio
//! thread: it only runs callbacks, feeds the
//! [`Aggregator`] (which never allocates once built) and stores progress
//! in atomics. The calling thread polls those atomics for the progress
//! bar, and builds and writes the report once the run is over. The whole
//! run is measured on the driver thread too, so the report says what the
//! driver did with the allocator outside the callbacks: nothing, unless a
//! scheduled action (on the control side) did.

use std::fmt::{self, Write as _};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use crate::drive::backend::OutsideCalls;
use crate::drive::record::Record;
use crate::drive::sim::{
    FrameSequence, IntegrityMode, Mode, Outcome, Progress, SimConfig, SimError, Simulation,
    WARM_UP_CALLBACKS,
};
use crate::files::{OutputError, Outputs};
use crate::metrics::{Aggregates, Aggregator};
use crate::report::{
    AllocatorCalls, BackendReport, Environment, HdrLogError, Integrity, MacosRegion, Report,
    ReportConfig, ReportError, Verdict, engine_sites, site_names, site_reports, write_hdr_log,
    write_json,
};
use allocgate::trace::{SiteTable, trace};
use allocgate::{Counts, measure};
use allocgate_engine::sites::CallbackKind;

use super::RunConfig;
use super::heap_profile::HeapProfile;
use super::run_args::DHAT_BUILD_HINT;
use allocgate_engine::text::{allocator_calls, count};

/// The `backend` of reports the simulated clock produced.
pub const BACKEND: &str = "sim";

/// How often the calling thread looks at the run's progress.
const POLL: Duration = Duration::from_millis(50);

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

/// Why a run produced no report.
#[derive(Debug)]
pub enum RunError {
    /// The simulation refused its configuration.
    Sim(SimError),
    /// An output was refused before the run (its directory could not be
    /// made, it is not a regular file, it cannot be created, or two name
    /// the same file).
    Output(OutputError),
    /// The report could not be written (an existing report is left as it
    /// was).
    Report(ReportError),
    /// The driver thread could not be started.
    Thread(io::Error),
    /// A real backend refused to start.
    Backend(crate::drive::backend::BackendError),
    /// The HdrHistogram log could not be written (`--hdr-log`; the JSON
    /// report is written by then).
    HdrLog(HdrLogError),
    /// `--dhat` in a build without the `dhat-heap` feature.
    DhatNotBuilt,
    /// The DHAT profile's file cannot be written (checked before the
    /// run).
    DhatFile {
        /// The profile's path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// dhat did not write its profile (its own message, on standard
    /// error, says why).
    DhatNotWritten {
        /// The profile's path.
        path: PathBuf,
    },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Sim(e) => write!(f, "{e}"),
            RunError::Output(e) => write!(f, "{e}"),
            RunError::Report(e) => write!(f, "{e}"),
            RunError::Thread(e) => write!(f, "cannot start the driver thread: {e}"),
            RunError::Backend(e) => write!(f, "{e}"),
            RunError::HdrLog(e) => write!(f, "{e}"),
            RunError::DhatNotBuilt => f.write_str(DHAT_BUILD_HINT),
            RunError::DhatFile { path, source } => {
                write!(
                    f,
                    "cannot write dhat profile '{}': {source}",
                    path.display()
                )
            }
            RunError::DhatNotWritten { path } => write!(
                f,
                "dhat did not write its profile to '{}' (its message above says why)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for RunError {}

impl From<SimError> for RunError {
    fn from(e: SimError) -> Self {
        RunError::Sim(e)
    }
}

/// The simulated run a [`RunConfig`] asks for.
pub fn sim_config(c: &RunConfig) -> SimConfig {
    let integrity = if c.integrity {
        IntegrityMode::default()
    } else {
        IntegrityMode::Off
    };
    let mut config = match &c.scenario {
        Some(s) => s
            .sim_config(c.variant, c.sites)
            .with_mode(c.mode)
            .with_integrity(integrity)
            .with_rusage(c.rusage),
        None => SimConfig::new(
            c.engine.clone(),
            FrameSequence::Fixed(u32::try_from(c.frames).unwrap_or(u32::MAX)),
            Duration::from_secs_f64(c.seconds),
        )
        .with_drift(c.drift)
        .with_seed(c.seed)
        .with_mode(c.mode)
        .with_integrity(integrity)
        .with_rusage(c.rusage),
    };
    if c.scenario.is_none() {
        // No preset when the layout maps no speaker (passthrough only).
        config.preset = c.preset.clone();
    }
    config.stop = c.stop.clone();
    config
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

/// Runs `c` and builds its report, calling `progress` on this thread
/// about every 50 ms of wall time and once at the end. Writes nothing.
pub fn execute(c: &RunConfig, progress: &mut dyn FnMut(&Progress)) -> Result<Run, RunError> {
    let config = sim_config(c);
    let shared = Arc::new(Shared::default());
    let total = config.duration;
    let tracing = c.trace.is_some();
    let driver = {
        let shared = Arc::clone(&shared);
        let caller = thread::current();
        thread::Builder::new()
            .name("allocgate-sim".to_owned())
            .spawn(move || {
                // Built here: the device buffers hold raw pointers, so a
                // simulation stays on the thread that made it. The trace
                // table too is made before the run: recording into it
                // never allocates.
                let mut table = tracing.then(SiteTable::new);
                let result = Simulation::new(&config)
                    .map_err(RunError::from)
                    .and_then(|mut simulation| match table.as_mut() {
                        Some(t) => trace(t, || drive(&mut simulation, &shared)),
                        None => drive(&mut simulation, &shared),
                    })
                    .map(|driven| (driven, table));
                shared.done.store(true, Ordering::Release);
                caller.unpark();
                result
            })
            .map_err(RunError::Thread)?
    };
    while !shared.done.load(Ordering::Acquire) {
        thread::park_timeout(POLL);
        progress(&shared.progress(total));
    }
    let (driven, table) = match driver.join() {
        Ok(r) => r?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    progress(&shared.progress(total));
    let Driven {
        outcome,
        aggregator,
        outside,
    } = driven;
    let (mut report, aggregates) = assemble(report_config(c), &outcome, aggregator);
    report.harness.driver_outside_callbacks = outside;
    let trace = match (table, &c.trace) {
        (Some(table), Some(tc)) => {
            // Named here, on the calling thread, after the run.
            let groups = engine_sites(&table, &tc.skip);
            report.sites = site_reports(&groups, report.totals.callbacks);
            Some(TraceSummary::of(&table))
        }
        _ => None,
    };
    Ok(Run {
        report,
        aggregates,
        outcome,
        trace,
    })
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
    outputs(c).check().map_err(RunError::Output)?;
    let profile = c.dhat.as_deref().map(HeapProfile::start).transpose()?;
    let run = if c.backend.is_real() {
        super::realtime::execute(c, progress)
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
    run.outcome.interrupted.is_some()
        && run.outcome.input.callbacks + run.outcome.output.callbacks == 0
}

/// Progress, shared between the driver thread (which stores) and the
/// calling thread (which loads): atomics only, so the driver never locks.
#[derive(Debug, Default)]
struct Shared {
    simulated_ns: AtomicU64,
    callbacks: AtomicU64,
    done: AtomicBool,
}

impl Shared {
    fn progress(&self, total: Duration) -> Progress {
        Progress {
            simulated: Duration::from_nanos(self.simulated_ns.load(Ordering::Relaxed)),
            total,
            callbacks: self.callbacks.load(Ordering::Relaxed),
        }
    }
}

struct Driven {
    outcome: Outcome,
    aggregator: Aggregator,
    outside: AllocatorCalls,
}

/// The driver thread's work: the run, measured as a whole.
fn drive(simulation: &mut Simulation, shared: &Shared) -> Result<Driven, RunError> {
    let mut aggregator = Aggregator::new();
    let whole = measure(|| {
        let mut sink = |r: &Record| aggregator.record(r);
        simulation.run_with_progress(&mut sink, &mut |p: &Progress| {
            let ns = u64::try_from(p.simulated.as_nanos()).unwrap_or(u64::MAX);
            shared.simulated_ns.store(ns, Ordering::Relaxed);
            shared.callbacks.store(p.callbacks, Ordering::Relaxed);
        })
    });
    let outcome = whole.value?;
    let mut inside = Counts::new();
    inside.merge(&outcome.input.stats.counts);
    inside.merge(&outcome.output.stats.counts);
    let mut outside = OutsideCalls::default();
    outside.add_cycle(&whole.stats.counts, &inside);
    let outside = AllocatorCalls::from(outside);
    Ok(Driven {
        outcome,
        aggregator,
        outside,
    })
}

/// Whether the run failed what it promised: the integrity check found a
/// wrong sample, or a configuration with no site switched on (`fixed`, no
/// `--sites`) touched the allocator or took a tracked lock in a callback.
pub fn failures(c: &RunConfig, report: &Report) -> Vec<String> {
    let mut why = Vec::new();
    let ran = &report.totals.callbacks;
    for (kind, n) in [("input", ran.input), ("output", ran.output)] {
        if n == 0 {
            why.push(format!(
                "no {kind} callback ran, so nothing of that kind was measured or checked"
            ));
        }
    }
    if report.integrity.verdict == Verdict::Fail {
        why.push(format!(
            "integrity check failed: {}",
            report
                .integrity
                .reason
                .as_deref()
                .unwrap_or("a sample differed")
        ));
    }
    let t = &report.totals;
    if c.sites.is_empty() && t.callbacks_touching_allocator > 0 {
        why.push(format!(
            "{} touched the allocator with no site switched on ({})",
            count(t.callbacks_touching_allocator, "callback"),
            allocator_calls(t.allocations, t.deallocations, t.reallocations)
        ));
    }
    let locks = t.input.hazards.lock_acquisitions + t.output.hazards.lock_acquisitions;
    if c.sites.is_empty() && locks > 0 {
        why.push(format!(
            "{} taken in callbacks with no site switched on",
            count(locks, "tracked lock")
        ));
    }
    why
}

/// The short summary printed after a run.
pub fn render_summary(c: &RunConfig, run: &Run, out: Option<&Path>) -> String {
    let r = &run.report;
    let t = &r.totals;
    let mut s = String::new();
    let sites = if c.sites.is_empty() {
        "no sites".to_owned()
    } else {
        c.sites.to_string()
    };
    let variant = c.variant.name();
    if let Some(sc) = &c.scenario {
        let _ = writeln!(
            s,
            "scenario {} ({}): {}",
            sc.name, sc.source, sc.description
        );
    }
    let rendering = match (c.engine.convolution, &c.preset_name) {
        (true, Some(preset)) => format!("convolution with preset {preset}"),
        (true, None) => "convolution, no preset (channels 0 and 1 copied through)".to_owned(),
        (false, _) => "passthrough".to_owned(),
    };
    match &r.backend {
        None => {
            let _ = writeln!(
                s,
                "{variant} ({sites}): {} ch at {} Hz, {} frames, {} s simulated, {rendering}, {}, \
                 drift {}",
                c.engine.channels,
                c.engine.sample_rate,
                c.frames,
                c.seconds,
                r.config.mode,
                c.drift,
            );
        }
        Some(b) => {
            let _ = writeln!(
                s,
                "{variant} ({sites}): {} ch on {} '{}' at {} Hz, {} frames, {} s, {rendering}",
                c.engine.channels, b.name, b.input, b.sample_rate, b.period, c.seconds,
            );
        }
    }
    let _ = writeln!(
        s,
        "  callbacks      input {}, output {} ({} touched the allocator)",
        t.callbacks.input, t.callbacks.output, t.callbacks_touching_allocator
    );
    let rate = if r.rates.is_extrapolated() {
        format!(
            "in {} s ({:.1}/s, extrapolated from a run shorter than 1 s)",
            r.rates.seconds, r.rates.allocations_per_second
        )
    } else {
        format!("({:.1}/s)", r.rates.allocations_per_second)
    };
    let _ = writeln!(
        s,
        "  allocator      {} {rate}, {}, {}, {}",
        count(t.allocations, "allocation"),
        count(t.deallocations, "deallocation"),
        count(t.reallocations, "reallocation"),
        count(t.bytes, "byte")
    );
    for (kind, l, load, misses) in [
        (
            "input",
            &r.latency.input.all,
            &r.cpu_load.input,
            r.deadline_misses.input,
        ),
        (
            "output",
            &r.latency.output.all,
            &r.cpu_load.output,
            r.deadline_misses.output,
        ),
    ] {
        let _ = writeln!(
            s,
            "  {kind:<6} latency p50 {} / p99 {} / max {}; load mean {:.2} %, max {:.2} %; {}",
            micros(l.p50_ns),
            micros(l.p99_ns),
            micros(l.max_ns),
            load.mean * 100.0,
            load.max * 100.0,
            count(misses, "deadline miss"),
        );
    }
    for (kind, h) in [
        ("input", &r.totals.input.hazards),
        ("output", &r.totals.output.hazards),
    ] {
        let usage = if h.callbacks_sampled == 0 {
            "faults and switches not sampled (--rusage)".to_owned()
        } else {
            format!(
                "faults {} minor / {} major, context switches {} voluntary / {} involuntary \
                 ({} sampled)",
                h.minor_faults,
                h.major_faults,
                h.voluntary_switches,
                h.involuntary_switches,
                count(h.callbacks_sampled, "callback")
            )
        };
        let _ = writeln!(
            s,
            "  {kind:<6} hazards {} ({} contended); {usage}",
            count(h.lock_acquisitions, "lock acquisition"),
            h.lock_contentions
        );
    }
    let x = &r.xruns;
    let _ = writeln!(
        s,
        "  xruns          {}, {} ({} dropped)",
        count(x.underruns, "underrun"),
        count(x.overruns, "overrun"),
        count(x.bytes_dropped, "byte")
    );
    let i = &r.integrity;
    let verdict = match i.verdict {
        Verdict::Pass => format!("pass ({} checked)", count(i.frames_checked, "frame")),
        v => format!("{} ({})", v.word(), i.reason.as_deref().unwrap_or("")),
    };
    // On a real backend, beside the verdict: the server's xruns, and the
    // output callbacks they (or a lost recording) kept from being heard.
    let beside = match &r.backend {
        Some(b) => format!(
            "; {} server xruns, {} output callbacks not heard intact (followed, not compared)",
            b.backend_xruns, i.unheard
        ),
        None => String::new(),
    };
    let _ = writeln!(s, "  integrity      {verdict}{beside}");
    if let Some(p) = &r.pacing {
        let _ = writeln!(
            s,
            "  pacing         {}; {} of {} late, latest {}",
            p.realtime,
            p.late_wakeups,
            count(p.wakeups, "wake-up"),
            micros(p.max_late_ns)
        );
    }
    match &r.backend {
        None => {
            let o = &r.harness.driver_outside_callbacks;
            let _ = writeln!(
                s,
                "  harness        {:.1} simulated s per wall s; driver thread outside callbacks: {}",
                r.harness.speed,
                allocator_calls(o.allocations, o.deallocations, o.reallocations)
            );
        }
        Some(b) => s.push_str(&render_backend(b)),
    }
    if let Some(why) = &r.interrupted {
        let _ = writeln!(
            s,
            "  interrupted    by {why} after {:.3} s of {} s; the figures cover what ran",
            r.rates.seconds, c.seconds
        );
    }
    if let Some(path) = out {
        let _ = writeln!(s, "  report         {}", path.display());
        if let Some(log) = &c.hdr_log {
            let _ = writeln!(
                s,
                "  hdr log        {} (HdrHistogram interval log, ns)",
                log.display()
            );
        }
        if let Some(profile) = &c.dhat {
            let _ = writeln!(
                s,
                "  dhat profile   {} (open it in dhat's dh_view.html)",
                profile.display()
            );
        }
    }
    if let Some(t) = &run.trace {
        s.push_str(&render_sites(r, t));
    }
    s
}

/// The summary's lines about a real backend.
fn render_backend(b: &BackendReport) -> String {
    let mut s = String::new();
    let realtime = match b.realtime {
        Some(true) => "real-time",
        Some(false) => "not real-time",
        None => "scheduling unknown",
    };
    let _ = writeln!(
        s,
        "  backend        {} '{}': {} Hz, {} frames, audio thread {realtime}; {} \
         reported; {} before the run; {} and {} lost",
        b.name,
        b.input,
        b.sample_rate,
        b.period,
        count(b.backend_xruns, "xrun"),
        count(b.idle_cycles, "idle cycle"),
        count(b.measurements_lost, "measurement"),
        count(b.blocks_lost, "block")
    );
    let outside = match &b.audio_thread_outside_callbacks {
        Some(o) => allocator_calls(o.allocations, o.deallocations, o.reallocations),
        None => "unknown (the stream did not stop cleanly)".to_owned(),
    };
    let k = &b.collector_thread;
    let _ = writeln!(
        s,
        "  harness        audio thread outside callbacks: {outside}; collector thread: {} \
         (never in a callback's figures)",
        count(k.allocations, "allocation")
    );
    if let Some(why) = &b.ended_early {
        let _ = writeln!(s, "  ended early    {why}");
    }
    s
}

/// Rows of the site table in the summary; the report has them all.
const SUMMARY_SITES: usize = 12;

/// The summary's site table (`--trace-sites`).
pub fn render_sites(r: &Report, t: &TraceSummary) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "  site trace     {}, {} ({} overflowed, {} truncated, {} nested)",
        count(t.calls, "call"),
        count(t.stacks, "stack"),
        t.overflowed,
        t.truncated,
        t.nested
    );
    if r.sites.is_empty() {
        let _ = writeln!(s, "  (no allocator call in any callback)");
        return s;
    }
    let _ = writeln!(
        s,
        "  {:<6} {:>6} {:>10} {:>8} {:>9} {:>8} {:>8}  function",
        "kind", "size", "class", "allocs", "/callback", "frees", "reallocs"
    );
    for site in r.sites.iter().take(SUMMARY_SITES) {
        let class = match (site.class_bytes, site.class) {
            (Some(b), Some(region)) => format!("{b} {}", region_name(region)),
            (None, _) => "large".to_owned(),
            (Some(b), None) => b.to_string(),
        };
        let _ = writeln!(
            s,
            "  {:<6} {:>6} {:>10} {:>8} {:>9.2} {:>8} {:>8}  {}",
            site.kind,
            site.size,
            class,
            site.count,
            site.per_callback,
            site.deallocations,
            site.reallocations,
            site.function
        );
    }
    if r.sites.len() > SUMMARY_SITES {
        let _ = writeln!(
            s,
            "  … {} more in the report",
            count(r.sites.len() - SUMMARY_SITES, "row")
        );
    }
    s
}

fn region_name(region: MacosRegion) -> &'static str {
    match region {
        MacosRegion::Tiny => "tiny",
        MacosRegion::Small => "small",
        MacosRegion::Large => "large",
    }
}

fn micros(ns: u64) -> String {
    format!("{:.1} µs", ns as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::RunArgs;
    use crate::drive::sim::IntegrityReport;
    use crate::metrics::Aggregator;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Wrapper {
        #[command(flatten)]
        run: RunArgs,
    }

    #[test]
    fn a_run_in_which_no_callback_of_a_kind_ran_fails_whatever_else_it_says() {
        let c = Wrapper::try_parse_from(["run"])
            .expect("flags parse")
            .run
            .validate()
            .expect("the defaults");
        let outcome = Outcome {
            input: Default::default(),
            output: Default::default(),
            xruns: Default::default(),
            integrity: IntegrityReport {
                verdict: crate::drive::sim::Verdict::Pass,
                ..IntegrityReport::disabled()
            },
            simulated: Duration::ZERO,
            wall: Duration::ZERO,
            pacing: None,
            interrupted: None,
        };
        let (report, _) = assemble(report_config(&c), &outcome, Aggregator::new());
        assert_eq!(report.integrity.verdict, Verdict::Pass, "what it says");
        assert_eq!(
            failures(&c, &report),
            [
                "no input callback ran, so nothing of that kind was measured or checked",
                "no output callback ran, so nothing of that kind was measured or checked",
            ]
        );
    }
}
