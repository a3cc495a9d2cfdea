//! `allocgate gate`: every scenario of a matrix run with the same sites
//! (by default `fixed`, none), every callback checked, warm-up included.
//!
//! A scenario passes when callbacks of both kinds ran, no callback
//! made any allocator call (allocation, deallocation or reallocation), the integrity check did
//! not fail, and every callback's counts equal the site formulas
//! ([`expect::Formulas`]; for `fixed` that is zero). Hazards are judged
//! the same way: every callback's tracked-lock acquisitions equal the
//! formulas (for `fixed`, none), and with [`GateConfig::rusage`] every
//! callback was sampled, made no voluntary context switch and no major
//! page fault the formulas do not expect, and past its warm-up no minor
//! fault either. [`run_matrix`]
//! gives a [`GateOutcome`]; [`render_table`] and [`junit::render`] show
//! it. A matrix stopped through a [`Stop`] ([`run_matrix_until`]) keeps
//! the scenarios that finished and gives no verdict on the others.

pub mod expect;
mod failure;
pub mod junit;
mod plan;
mod verdict;

use std::fmt::{self, Write as _};
use std::time::{Duration, Instant};

use crate::baseline::{Baseline, SiteKey};
use crate::drive::integrity::{IntegrityMode, Verdict};
use crate::drive::sim::{SimError, Simulation};
use crate::interrupt::{Interrupt, Stop};
use crate::metrics::{Record, Xruns};
use crate::report::engine_sites;
use crate::scenario::Scenario;
use allocgate::hazard::{HazardTotals, RUSAGE_SUPPORTED};
use allocgate::trace::{SiteGroup, SiteTable, trace};
use allocgate::{BlockingCounts, Counts};
use allocgate_engine::sites::CallbackKind;
use allocgate_engine::sites::SiteSet;
use allocgate_engine::sites::expected::{Expected, ExpectedHazards};
use allocgate_engine::text::{allocator_calls, count};
use allocgate_engine::variant::Variant;

use expect::{Formulas, measured};

pub use failure::GateFailure;
pub use plan::{GatePlan, GateRunError, Hold, gate_outputs, run_gate, write_junit};
pub use verdict::{GateVerdict, conclude, fails_besides_allocating};

/// What the gate runs each scenario with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateConfig {
    /// The variant named (for display).
    pub variant: Variant,
    /// The sites switched on: the variant's plus any named.
    pub sites: SiteSet,
    /// Check the output's integrity (on by default).
    pub integrity: bool,
    /// Trace allocation sites (needed for a baseline; slower).
    pub trace_sites: bool,
    /// Read each callback's page faults and context switches and gate
    /// on them (by default where [`RUSAGE_SUPPORTED`]: Linux).
    pub rusage: bool,
    /// Count the C library's calls too (`--c-level`; the program has
    /// attached the C-level layer): C code's allocations with the
    /// others, and blocking calls by name, each failing the callback.
    pub c_level: bool,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            variant: Variant::Fixed,
            sites: Variant::Fixed.sites(),
            integrity: true,
            trace_sites: false,
            rusage: RUSAGE_SUPPORTED,
            c_level: false,
        }
    }
}

impl GateConfig {
    /// `variant`, `sites`, for display: `fixed (no sites)`.
    pub fn label(&self) -> String {
        if self.sites.is_empty() {
            format!("{} (no sites)", self.variant.name())
        } else {
            format!("{} ({})", self.variant.name(), self.sites)
        }
    }
}

/// The first callback that touched the allocator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offender {
    /// The record of that callback.
    pub record: Record,
}

impl fmt::Display for Offender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.record;
        write!(
            f,
            "{}: {}",
            describe(r),
            allocator_calls(
                r.counts.allocations,
                r.counts.deallocations,
                r.counts.reallocations
            )
        )
    }
}

/// One scenario's result.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    /// The scenario's name.
    pub name: String,
    /// Input and output callbacks run.
    pub callbacks: (u64, u64),
    /// Every callback's allocator calls, merged.
    pub counts: Counts,
    /// Callbacks that made any allocator call.
    pub callbacks_touching: u64,
    /// What the formulas expected over the whole run.
    pub expected: Expected,
    /// The first callback whose counts differ from the formulas.
    pub mismatch: Option<String>,
    /// The first callback that touched the allocator.
    pub first_offender: Option<Offender>,
    /// Under- and overruns.
    pub xruns: Xruns,
    /// The integrity verdict.
    pub integrity: Verdict,
    /// Wall time of the run.
    pub wall: Duration,
    /// With [`GateConfig::trace_sites`]: where the allocator calls came
    /// from.
    pub sites: Vec<SiteGroup>,
    /// Every callback's hazards, added up.
    pub hazards: HazardTotals,
    /// Every callback's blocking C library calls by name, added up (all
    /// zero unless [`GateConfig::c_level`]).
    pub blocking: BlockingCounts,
    /// Usage was asked for ([`GateConfig::rusage`]).
    pub rusage: bool,
    /// C-level calls were counted ([`GateConfig::c_level`]).
    pub c_level: bool,
    /// The first callback whose hazards break the formulas.
    pub hazard_violation: Option<String>,
    /// Callbacks with a gated hazard ([`gated_hazard`]).
    pub callbacks_hazardous: u64,
    /// The first of them.
    pub first_hazard: Option<String>,
}

/// What the gate holds against a callback besides allocator calls, if
/// anything: its [`deviations`](ExpectedHazards::deviations) from no
/// hazard at all (a tracked lock taken, and with usage sampled a voluntary
/// context switch, a major fault, or past the warm-up a minor fault), and
/// any blocking C library call, by name (counted with
/// [`GateConfig::c_level`]; warm-up included, as locks are).
pub fn gated_hazard(r: &Record) -> Option<String> {
    let mut what = ExpectedHazards::default().deviations(&r.hazards, !r.warm_up);
    if !r.blocking.is_zero() {
        what.push(format!("blocking calls: {}", r.blocking));
    }
    (!what.is_empty()).then(|| what.join(", "))
}

impl GateOutcome {
    /// Allocations per site, keyed by scenario, callback kind and
    /// function: what a [`Baseline`] holds (needs traced sites).
    pub fn site_counts(&self) -> Baseline {
        Baseline::from_counts(self.results.iter().flat_map(|r| {
            r.sites.iter().map(move |g| {
                let kind = CallbackKind::from_trace_tag(g.tag).map_or("other", |k| k.name());
                (
                    SiteKey {
                        scenario: r.name.clone(),
                        kind: kind.to_owned(),
                        function: g.function.clone(),
                    },
                    g.allocations,
                )
            })
        }))
    }
}

impl ScenarioResult {
    /// No allocator call in any callback.
    pub fn allocation_free(&self) -> bool {
        self.callbacks_touching == 0
    }

    /// Why the scenario fails the gate (empty: it passes).
    pub fn failures(&self) -> Vec<GateFailure> {
        let mut why = Vec::new();
        for (kind, n) in [
            (CallbackKind::Input, self.callbacks.0),
            (CallbackKind::Output, self.callbacks.1),
        ] {
            if n == 0 {
                why.push(GateFailure::NoCallbacks(kind));
            }
        }
        if let Some(o) = &self.first_offender {
            why.push(GateFailure::TouchedAllocator {
                callbacks: self.callbacks_touching,
                counts: self.counts,
                first: Box::new(*o),
            });
        }
        if let Some(m) = &self.mismatch {
            why.push(GateFailure::FormulaMismatch(m.clone()));
        }
        if self.integrity.failed() {
            why.push(GateFailure::Integrity(self.integrity));
        }
        why.extend(self.hazard_failures());
        why
    }

    /// Why the scenario fails on hazards (locks, switches, faults, or
    /// usage asked for and not read); empty when it does not. Each is
    /// [`GateFailure::is_hazard`].
    pub fn hazard_failures(&self) -> Vec<GateFailure> {
        let mut why = Vec::new();
        if let Some(first) = &self.first_hazard {
            why.push(GateFailure::Hazard {
                callbacks: self.callbacks_hazardous,
                first: first.clone(),
            });
        }
        if let Some(h) = &self.hazard_violation {
            why.push(GateFailure::HazardMismatch(h.clone()));
        }
        let total = self.callbacks.0 + self.callbacks.1;
        if self.rusage && self.hazards.sampled != total {
            why.push(GateFailure::UsageNotRead {
                sampled: self.hazards.sampled,
                callbacks: total,
            });
        }
        why
    }

    /// True when the scenario passes the gate.
    pub fn passed(&self) -> bool {
        self.failures().is_empty()
    }
}

/// Every scenario's result.
#[derive(Debug, Clone)]
pub struct GateOutcome {
    /// What the scenarios ran with.
    pub config: GateConfig,
    /// One result per scenario that finished, in matrix order.
    pub results: Vec<ScenarioResult>,
    /// Why the matrix stopped before its end, if it did.
    pub interrupted: Option<Interrupt>,
    /// The scenarios that did not finish (the one under way first), in
    /// matrix order: empty unless interrupted.
    pub not_run: Vec<NotRun>,
}

/// A scenario of an interrupted matrix that did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRun {
    /// The scenario under way when the stop came: stopped at a callback
    /// boundary, its result dropped.
    Stopped(String),
    /// A scenario after it, never started.
    Skipped(String),
}

impl NotRun {
    /// The scenario's name.
    pub fn name(&self) -> &str {
        match self {
            NotRun::Stopped(name) | NotRun::Skipped(name) => name,
        }
    }
}

impl GateOutcome {
    /// True when every scenario ran and passed.
    pub fn passed(&self) -> bool {
        self.interrupted.is_none() && self.results.iter().all(ScenarioResult::passed)
    }

    /// Scenarios that failed.
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.passed()).count()
    }
}

/// Runs one scenario with `gate`'s sites on this thread, checking every
/// callback against the formulas as it goes.
pub fn run_scenario(scenario: &Scenario, gate: &GateConfig) -> Result<ScenarioResult, SimError> {
    run_scenario_until(scenario, gate, None).map(|r| r.expect("a run without a stop token ends"))
}

/// [`run_scenario`], ending early once `stop` is requested: `None` when
/// it did not finish.
pub fn run_scenario_until(
    scenario: &Scenario,
    gate: &GateConfig,
    stop: Option<&Stop>,
) -> Result<Option<ScenarioResult>, SimError> {
    let mut config = scenario.sim_config(gate.variant, gate.sites);
    config.stop = stop.cloned();
    if !gate.integrity {
        config.integrity = IntegrityMode::Off;
    }
    config.rusage = gate.rusage;
    let mut formulas = Formulas::new(&config)?;
    let mut expected = Expected::default();
    let mut mismatch: Option<String> = None;
    let mut first_offender = None;
    let mut touching = 0;
    let mut hazard_violation: Option<String> = None;
    let mut hazardous = 0;
    let mut first_hazard: Option<String> = None;
    let start = Instant::now();
    let mut sink = |r: &Record| {
        if let Some(what) = gated_hazard(r) {
            hazardous += 1;
            first_hazard.get_or_insert_with(|| format!("{}: {what}", describe(r)));
        }
        if r.touched_allocator() {
            touching += 1;
            first_offender.get_or_insert(Offender { record: *r });
        }
        match formulas.next(r) {
            Ok(e) => {
                expected = expected + e;
                let m = measured(&r.counts);
                if m != e && mismatch.is_none() {
                    mismatch = Some(format!(
                        "{} (buffering {}, underrun {}): measured {m}, expected {e}",
                        describe(r),
                        r.buffering,
                        r.underrun
                    ));
                }
                if hazard_violation.is_none()
                    && let Some(v) = formulas.hazards().violation(&r.hazards, !r.warm_up)
                {
                    hazard_violation = Some(format!("{}: {v}", describe(r)));
                }
            }
            Err(e) => {
                mismatch.get_or_insert(e.to_string());
            }
        }
    };
    let mut simulation = Simulation::new(&config)?;
    let (outcome, sites) = if gate.trace_sites {
        let mut table = SiteTable::new();
        let outcome = trace(&mut table, || simulation.run(&mut sink))?;
        (outcome, engine_sites(&table, &[]))
    } else {
        (simulation.run(&mut sink)?, Vec::new())
    };
    if outcome.interrupted.is_some() {
        return Ok(None);
    }
    let mut counts = outcome.input.stats.counts;
    counts.merge(&outcome.output.stats.counts);
    let mut hazards = outcome.input.all.hazards;
    hazards.merge(&outcome.output.all.hazards);
    let mut blocking = outcome.input.all.blocking;
    blocking.merge(&outcome.output.all.blocking);
    Ok(Some(ScenarioResult {
        name: scenario.name.clone(),
        callbacks: (outcome.input.all.callbacks, outcome.output.all.callbacks),
        counts,
        callbacks_touching: touching,
        expected,
        mismatch,
        first_offender,
        xruns: outcome.xruns,
        integrity: outcome.integrity.verdict,
        wall: start.elapsed(),
        sites,
        hazards,
        blocking,
        rusage: gate.rusage,
        c_level: gate.c_level,
        hazard_violation,
        callbacks_hazardous: hazardous,
        first_hazard,
    }))
}

/// `output callback #12 (512 frames, warm-up)`.
fn describe(r: &Record) -> String {
    format!(
        "{} callback #{} ({} frames{})",
        r.kind.name(),
        r.index,
        r.frames,
        if r.warm_up { ", warm-up" } else { "" }
    )
}

/// Why the gate could not run a scenario.
#[derive(Debug)]
pub struct GateError {
    /// The scenario.
    pub scenario: String,
    /// Why.
    pub error: SimError,
}

impl fmt::Display for GateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scenario '{}': {}", self.scenario, self.error)
    }
}

impl std::error::Error for GateError {}

/// Runs every scenario with `gate`'s sites, calling `done` after each.
pub fn run_matrix(
    scenarios: &[Scenario],
    gate: &GateConfig,
    done: &mut dyn FnMut(&ScenarioResult),
) -> Result<GateOutcome, GateError> {
    run_matrix_until(scenarios, gate, None, done)
}

/// [`run_matrix`], ending early once `stop` is requested: the scenario
/// under way stops at its next callback boundary and, with those after
/// it, is listed in [`GateOutcome::not_run`].
pub fn run_matrix_until(
    scenarios: &[Scenario],
    gate: &GateConfig,
    stop: Option<&Stop>,
    done: &mut dyn FnMut(&ScenarioResult),
) -> Result<GateOutcome, GateError> {
    let mut results = Vec::with_capacity(scenarios.len());
    for s in scenarios {
        let r = run_scenario_until(s, gate, stop).map_err(|error| GateError {
            scenario: s.name.clone(),
            error,
        })?;
        let Some(r) = r else { break };
        done(&r);
        results.push(r);
    }
    let finished = results.len();
    Ok(GateOutcome {
        config: *gate,
        results,
        interrupted: stop
            .and_then(Stop::requested)
            .filter(|_| finished < scenarios.len()),
        not_run: scenarios[finished..]
            .iter()
            .enumerate()
            .map(|(i, s)| match i {
                0 => NotRun::Stopped(s.name.clone()),
                _ => NotRun::Skipped(s.name.clone()),
            })
            .collect(),
    })
}

/// The gate's table, one row per scenario, then a verdict line.
pub fn render_table(o: &GateOutcome) -> String {
    let mut s = String::new();
    if let Some(why) = o.interrupted {
        let _ = writeln!(
            s,
            "allocgate gate interrupted by {why} after {} of {} scenarios: the table holds \
             the finished ones\n",
            o.results.len(),
            o.results.len() + o.not_run.len()
        );
    }
    let _ = writeln!(
        s,
        "allocgate gate: {}, {}, every callback checked (warm-up included)\n",
        count(o.results.len(), "scenario"),
        o.config.label()
    );
    // The blocking calls' column only when they were counted.
    let c_level = o.config.c_level;
    let _ = writeln!(
        s,
        "| scenario | callbacks in / out | allocations | deallocations | reallocations | locks (contended) | voluntary switches | page faults | {}underruns / overruns | integrity | verdict |",
        if c_level { "blocking C calls | " } else { "" }
    );
    let _ = writeln!(
        s,
        "|---|---:|---:|---:|---:|---:|---:|---:|{}---:|---|---|",
        if c_level { "---|" } else { "" }
    );
    for r in &o.results {
        let blocking = if c_level {
            format!("{} | ", r.blocking)
        } else {
            String::new()
        };
        let h = &r.hazards;
        let usage = |n: u64| {
            if r.rusage {
                n.to_string()
            } else {
                "-".to_owned()
            }
        };
        let _ = writeln!(
            s,
            "| {} | {} / {} | {} | {} | {} | {} ({}) | {} | {} | {blocking}{} / {} | {} | {} |",
            r.name,
            r.callbacks.0,
            r.callbacks.1,
            r.counts.allocations,
            r.counts.deallocations,
            r.counts.reallocations,
            h.lock_acquisitions,
            h.lock_contentions,
            usage(h.voluntary_switches),
            usage(h.minor_faults + h.major_faults),
            r.xruns.underruns,
            r.xruns.overruns,
            crate::report::Verdict::from(&r.integrity).word(),
            if r.passed() { "pass" } else { "FAIL" }
        );
    }
    let _ = writeln!(s);
    if let Some(why) = o.interrupted {
        let _ = writeln!(
            s,
            "gate interrupted by {why}: no verdict; {} of {} finished scenarios failed; not run: {}",
            o.failed(),
            o.results.len(),
            o.not_run
                .iter()
                .map(NotRun::name)
                .collect::<Vec<_>>()
                .join(", ")
        );
    } else if o.passed() {
        let _ = writeln!(
            s,
            "gate passed: no allocation, deallocation or reallocation in any callback of {}{}",
            count(o.results.len(), "scenario"),
            if o.config.rusage {
                "; no lock, voluntary context switch or page fault the site formulas do not expect (faults judged past warm-up)"
            } else {
                "; no lock the site formulas do not expect (faults and switches not sampled)"
            }
        );
        if c_level {
            let _ = writeln!(
                s,
                "C-level calls counted: C code's allocations in the figures above, and no blocking C call in any callback"
            );
        }
    } else {
        let _ = writeln!(
            s,
            "gate FAILED: {} of {}",
            o.failed(),
            count(o.results.len(), "scenario")
        );
        for r in o.results.iter().filter(|r| !r.passed()) {
            for f in r.failures() {
                let _ = writeln!(s, "  {}: {f}", r.name);
            }
        }
    }
    s
}

#[cfg(test)]
impl ScenarioResult {
    /// A scenario that ran 10 callbacks of each kind and nothing else.
    pub(crate) fn passing(name: &str) -> ScenarioResult {
        ScenarioResult {
            name: name.to_owned(),
            callbacks: (10, 10),
            counts: Counts::new(),
            callbacks_touching: 0,
            expected: Expected::default(),
            mismatch: None,
            first_offender: None,
            xruns: Xruns::default(),
            integrity: Verdict::Pass,
            wall: Duration::ZERO,
            sites: Vec::new(),
            hazards: HazardTotals::default(),
            blocking: BlockingCounts::new(),
            rusage: false,
            c_level: false,
            hazard_violation: None,
            callbacks_hazardous: 0,
            first_hazard: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_in_which_no_callback_of_a_kind_ran_fails() {
        let result = ScenarioResult {
            callbacks: (3, 0),
            ..ScenarioResult::passing("empty")
        };
        assert_eq!(
            result.failures(),
            [GateFailure::NoCallbacks(CallbackKind::Output)]
        );
        assert_eq!(
            result.failures()[0].to_string(),
            "no output callback ran, so nothing of that kind was gated"
        );
        assert!(!result.passed());
        let ran = ScenarioResult {
            callbacks: (3, 3),
            ..result
        };
        assert!(ran.passed());
    }
}
