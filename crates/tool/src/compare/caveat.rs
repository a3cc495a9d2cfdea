//! What makes two runs' figures not like for like, found from their
//! reports, and which rows each difference affects.

use serde::{Deserialize, Serialize};

use crate::report::Report;

/// A kind of difference between two runs, and the mark it puts on the
/// rows it affects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Caveat {
    /// Sample rate, frames per callback or channels differ: the engine
    /// did other work per callback, so every figure differs with it.
    Configuration,
    /// The runs measured different lengths (asked for, or one ended
    /// early): totals add up over different spans, and rates, averages
    /// and percentiles weigh the warm-up and rare callbacks differently.
    Length,
    /// One run traced allocation sites (`--trace-sites`): the stack walk
    /// on each allocation slows its callbacks several times and touches
    /// pages the other run never reads.
    Tracing,
    /// One run read page faults and context switches around each
    /// callback (`--rusage`) and the other did not: its usage counts are
    /// measured, the other's are 0 over 0 callbacks sampled.
    UsageSampling,
    /// One run counted the C library's calls (`--c-level`) and the other
    /// did not: C code's allocations are in one run's counts only, and
    /// its blocking calls were not counted in the other at all.
    CLevel,
}

impl Caveat {
    /// The mark's word, as the tables show it.
    pub fn name(self) -> &'static str {
        match self {
            Caveat::Configuration => "configuration",
            Caveat::Length => "length",
            Caveat::Tracing => "tracing",
            Caveat::UsageSampling => "usage sampling",
            Caveat::CLevel => "C level",
        }
    }

    /// Whether a row resting on `basis` is affected, for two runs of
    /// which `runs` tells what matters here.
    pub(super) fn affects(self, basis: Basis, runs: Runs) -> bool {
        match self {
            Caveat::Configuration | Caveat::Length => basis != Basis::Verdict,
            Caveat::Tracing => match basis {
                Basis::Timing => true,
                // Unwinding faults in pages of unwind tables: a traced run
                // shows more page faults where usage was read at all.
                Basis::Usage => runs.sampled,
                // In real time a slower callback can starve the device.
                Basis::Xrun => runs.paced,
                Basis::Count | Basis::Sampling | Basis::Verdict => false,
            },
            Caveat::UsageSampling => matches!(basis, Basis::Usage | Basis::Sampling),
            Caveat::CLevel => basis == Basis::Count,
        }
    }
}

/// What of two runs decides whether a caveat reaches a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Runs {
    /// Either run kept real time (paced, or on a real backend).
    pub paced: bool,
    /// Either run read page faults and context switches.
    pub sampled: bool,
}

impl Runs {
    pub(super) fn of(before: &Report, after: &Report) -> Runs {
        Runs {
            paced: [before, after].iter().any(|r| r.config.mode != "virtual"),
            sampled: sampled(before) || sampled(after),
        }
    }
}

/// What a row's figures rest on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Basis {
    /// Allocator calls and locks: counted exactly, however the run was
    /// observed.
    Count,
    /// Wall-clock durations of the callbacks, and what follows from them
    /// (deadline misses, locks found held).
    Timing,
    /// Page faults and context switches, read only where sampled.
    Usage,
    /// How many callbacks usage was read around.
    Sampling,
    /// Under- and overruns: set by the clock in virtual time, by the
    /// callbacks' durations in real time.
    Xrun,
    /// The integrity verdict: a word about each run on its own.
    Verdict,
}

/// One way two runs differ, and the caveat it puts on rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// The mark on the rows it affects.
    pub caveat: Caveat,
    /// What differs, as a phrase ("only the after run traced allocation
    /// sites (--trace-sites)").
    pub text: String,
}

impl Difference {
    fn new(caveat: Caveat, text: String) -> Difference {
        Difference { caveat, text }
    }
}

/// Whether the run traced sites: the config says so, or (a report from
/// before the config recorded it) it names sites, which only tracing
/// fills in.
fn traced(r: &Report) -> bool {
    r.config.trace_sites || !r.sites.is_empty()
}

/// Whether the run read usage: the config says so, or (an older report)
/// it sampled callbacks.
fn sampled(r: &Report) -> bool {
    let h = &r.totals;
    r.config.rusage || h.input.hazards.callbacks_sampled + h.output.hazards.callbacks_sampled > 0
}

/// `only the before run …` or `only the after run …`, when `holds`
/// is true of one run alone.
fn only(holds: fn(&Report) -> bool, before: &Report, after: &Report, what: &str) -> Option<String> {
    match (holds(before), holds(after)) {
        (true, false) => Some(format!("only the before run {what}")),
        (false, true) => Some(format!("only the after run {what}")),
        _ => None,
    }
}

/// Where two runs differ in ways that change what their figures mean:
/// rate, frames per callback, channels, length asked for, a run that
/// ended early or is partial (an attached program that crashed or was
/// killed), site tracing, usage sampling, C-level counting.
pub fn differences(before: &Report, after: &Report) -> Vec<Difference> {
    let (b, a) = (&before.config, &after.config);
    let mut d = Vec::new();
    if b.sample_rate != a.sample_rate {
        d.push(Difference::new(
            Caveat::Configuration,
            format!(
                "sample rate {} Hz against {} Hz",
                b.sample_rate, a.sample_rate
            ),
        ));
    }
    if b.frames != a.frames {
        d.push(Difference::new(
            Caveat::Configuration,
            format!(
                "{} per callback against {}",
                allocgate_engine::text::count(b.frames, "frame"),
                a.frames
            ),
        ));
    }
    if b.channels != a.channels {
        d.push(Difference::new(
            Caveat::Configuration,
            format!(
                "{} against {}",
                allocgate_engine::text::count(b.channels, "channel"),
                a.channels
            ),
        ));
    }
    if b.seconds != a.seconds {
        d.push(Difference::new(
            Caveat::Length,
            format!("{} s against {} s", b.seconds, a.seconds),
        ));
    }
    for (which, r) in [("before", before), ("after", after)] {
        if let Some(why) = r.backend.as_ref().and_then(|b| b.ended_early.as_deref()) {
            d.push(Difference::new(
                Caveat::Length,
                format!(
                    "the {which} run ended early, after {} s of {} s ({why})",
                    (r.rates.seconds * 1000.0).round() / 1000.0,
                    r.config.seconds
                ),
            ));
        }
        if let Some(why) = r.attach.as_ref().and_then(|a| a.partial.as_deref()) {
            d.push(Difference::new(
                Caveat::Length,
                format!("the {which} run is partial ({why})"),
            ));
        }
        if let Some(signal) = r.interrupted.as_deref() {
            d.push(Difference::new(
                Caveat::Length,
                format!(
                    "the {which} run was interrupted by {signal} after {} s of {} s",
                    (r.rates.seconds * 1000.0).round() / 1000.0,
                    r.config.seconds
                ),
            ));
        }
    }
    if let Some(text) = only(
        traced,
        before,
        after,
        "traced allocation sites (--trace-sites), which slows its callbacks",
    ) {
        d.push(Difference::new(Caveat::Tracing, text));
    }
    if let Some(text) = only(
        sampled,
        before,
        after,
        "read page faults and context switches (--rusage)",
    ) {
        d.push(Difference::new(Caveat::UsageSampling, text));
    }
    if let Some(text) = only(
        |r| r.config.c_level,
        before,
        after,
        "counted the C library's calls (--c-level)",
    ) {
        d.push(Difference::new(Caveat::CLevel, text));
    }
    d
}
