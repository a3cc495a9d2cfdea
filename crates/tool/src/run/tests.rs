use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::drive::integrity::IntegrityReport;
use crate::drive::sim::{Drift, Mode};
use crate::metrics::Aggregator;
use crate::report::Verdict;
use allocgate_engine::EngineConfig;
use allocgate_engine::sites::{Site, SiteSet};
use allocgate_engine::variant::Variant;

/// `fixed` with `sites` switched on, 8 channels at 48 kHz, 512 frames.
fn config(sites: SiteSet) -> RunConfig {
    RunConfig {
        variant: Variant::Fixed,
        sites,
        engine: EngineConfig::new(8, 48_000).with_variant(Variant::Fixed, sites),
        frames: 512,
        seconds: 1.0,
        seed: 1,
        mode: Mode::Virtual,
        preset: None,
        preset_name: None,
        drift: Drift::NONE,
        integrity: true,
        out: PathBuf::from("unused.json"),
        hdr_log: None,
        dhat: None,
        scenario: None,
        trace: None,
        rusage: false,
        c_level: false,
        backend: BackendChoice::Sim,
        stop: None,
    }
}

/// The report of a run in which no callback ran and the check passed.
fn empty_report(c: &RunConfig) -> Report {
    let outcome = Outcome {
        input: Default::default(),
        output: Default::default(),
        xruns: Default::default(),
        integrity: IntegrityReport {
            verdict: crate::drive::integrity::Verdict::Pass,
            ..IntegrityReport::disabled()
        },
        simulated: Duration::ZERO,
        wall: Duration::ZERO,
        pacing: None,
        interrupted: None,
    };
    assemble(report_config(c), &outcome, Aggregator::new()).0
}

#[test]
fn a_run_in_which_no_callback_of_a_kind_ran_fails_whatever_else_it_says() {
    let c = config(SiteSet::EMPTY);
    let report = empty_report(&c);
    assert_eq!(report.integrity.verdict, Verdict::Pass, "what it says");
    let why = failures(&c, &report);
    assert_eq!(
        why,
        [
            RunFailure::NoCallbacks(CallbackKind::Input),
            RunFailure::NoCallbacks(CallbackKind::Output)
        ]
    );
    assert_eq!(
        why.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "no input callback ran, so nothing of that kind was measured or checked",
            "no output callback ran, so nothing of that kind was measured or checked",
        ]
    );
}

#[test]
fn each_broken_promise_is_its_own_failure_with_its_figures() {
    let c = config(SiteSet::EMPTY);
    let mut report = empty_report(&c);
    report.totals.callbacks.input = 4;
    report.totals.callbacks.output = 4;
    assert_eq!(failures(&c, &report), []);
    report.integrity.verdict = Verdict::Fail;
    report.integrity.reason = None;
    report.totals.callbacks_touching_allocator = 1;
    report.totals.allocations = 2;
    report.totals.deallocations = 1;
    report.totals.input.hazards.lock_acquisitions = 1;
    report.totals.output.hazards.lock_acquisitions = 2;
    let why = failures(&c, &report);
    assert_eq!(
        why,
        [
            RunFailure::Integrity { reason: None },
            RunFailure::TouchedAllocator {
                callbacks: 1,
                allocations: 2,
                deallocations: 1,
                reallocations: 0
            },
            RunFailure::Locks { acquisitions: 3 },
        ]
    );
    assert_eq!(
        why.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "integrity check failed: a sample differed",
            "1 callback touched the allocator with no site switched on (2 allocations, \
             1 deallocation, 0 reallocations)",
            "3 tracked locks taken in callbacks with no site switched on",
        ]
    );
    // With a site switched on, allocating and locking are what it does.
    let sited = config(SiteSet::only(Site::ScaleArray));
    assert_eq!(
        failures(&sited, &report),
        [RunFailure::Integrity { reason: None }]
    );
}
