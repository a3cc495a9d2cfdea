use std::path::PathBuf;

use super::*;
use crate::baseline::{Baseline, Change, SiteKey};
use crate::gate::{GateConfig, Offender};
use crate::metrics::Record;
use allocgate::Counts;
use allocgate::trace::SiteGroup;
use allocgate_engine::scratch::TestDir;
use allocgate_engine::sites::CallbackKind;
use allocgate_engine::sites::expected::Expected;

/// The one site of [`allocating`], and what it allocates over the run.
const FUNCTION: &str = "allocgate_engine::output::log_underrun";
const ALLOCATIONS: u64 = 6;

fn key() -> SiteKey {
    SiteKey {
        scenario: "drift".to_owned(),
        kind: CallbackKind::Output.name().to_owned(),
        function: FUNCTION.to_owned(),
    }
}

/// A scenario that ran 10 callbacks of each kind and nothing else.
fn clean() -> ScenarioResult {
    ScenarioResult::passing("drift")
}

/// [`clean`], but [`ALLOCATIONS`] output callbacks allocated once each
/// at [`FUNCTION`] (as the traced run names it), as the formulas expect.
fn allocating() -> ScenarioResult {
    let mut counts = Counts::new();
    counts.allocations = ALLOCATIONS;
    counts.deallocations = ALLOCATIONS;
    let first = Record {
        underrun: true,
        ..Record::new(CallbackKind::Output)
            .with_index(1)
            .with_device_time(512)
            .with_frames(512, 10_666_667)
            .with_wall_ns(1)
            .with_counts(Counts {
                allocations: 1,
                deallocations: 1,
                ..Counts::new()
            })
            .with_warm_up(true)
    };
    ScenarioResult {
        counts,
        callbacks_touching: ALLOCATIONS,
        expected: Expected {
            allocations: ALLOCATIONS,
            deallocations: ALLOCATIONS,
            reallocations: 0,
        },
        first_offender: Some(Offender { record: first }),
        sites: vec![SiteGroup {
            function: FUNCTION.to_owned(),
            tag: CallbackKind::Output.trace_tag(),
            size: 48,
            allocations: ALLOCATIONS,
            deallocations: ALLOCATIONS,
            reallocations: 0,
            backtrace: Vec::new(),
        }],
        ..clean()
    }
}

fn outcome(results: Vec<ScenarioResult>) -> GateOutcome {
    GateOutcome {
        config: GateConfig::default(),
        results,
        interrupted: None,
        not_run: Vec::new(),
    }
}

fn plan(hold: Hold) -> GatePlan {
    GatePlan {
        config: GateConfig::default(),
        scenarios: Vec::new(),
        junit: None,
        hold,
        stop: None,
    }
}

fn held_to(counts: &[(SiteKey, u64)]) -> GatePlan {
    plan(Hold::Baseline {
        path: PathBuf::from("baseline.json"),
        baseline: Baseline::from_counts(counts.iter().cloned()),
    })
}

#[test]
fn without_a_baseline_every_scenario_must_pass_and_nothing_more_is_printed() {
    let passed = conclude(&plan(Hold::Zero), &outcome(vec![clean()])).unwrap();
    assert_eq!(passed, GateVerdict::Zero { passed: true });
    assert_eq!(passed.passed(), Some(true));
    assert_eq!(passed.render(), "");
    let failed = conclude(&plan(Hold::Zero), &outcome(vec![clean(), allocating()])).unwrap();
    assert_eq!(failed, GateVerdict::Zero { passed: false });
    assert_eq!(failed.passed(), Some(false));
    assert_eq!(failed.render(), "");
}

#[test]
fn a_baseline_at_the_run_s_counts_passes_a_scenario_that_allocates() {
    let o = outcome(vec![allocating()]);
    assert!(!o.passed(), "held to zero it fails");
    let v = conclude(&held_to(&[(key(), ALLOCATIONS)]), &o).unwrap();
    let GateVerdict::Compared {
        ratchet,
        other_failures,
    } = &v
    else {
        panic!("{v:?}")
    };
    assert_eq!((ratchet.changes.len(), ratchet.unchanged), (0, 1));
    assert!(!other_failures);
    assert_eq!(v.passed(), Some(true));
    assert_eq!(
        v.render(),
        "baseline: pass, every site at its baseline count\n"
    );
}

#[test]
fn a_site_the_baseline_does_not_have_fails() {
    let other = SiteKey {
        function: "elsewhere".to_owned(),
        ..key()
    };
    let v = conclude(
        &held_to(&[(other.clone(), 1)]),
        &outcome(vec![allocating()]),
    )
    .unwrap();
    let GateVerdict::Compared { ratchet, .. } = &v else {
        panic!("{v:?}")
    };
    assert_eq!(
        ratchet.changes,
        [
            (key(), Change::New { now: ALLOCATIONS }),
            (other, Change::Lower { was: 1, now: 0 }),
        ],
        "sorted by key"
    );
    assert_eq!(v.passed(), Some(false));
    assert!(
        v.render()
            .ends_with("baseline: FAIL (a new site or a higher count)\n"),
        "{}",
        v.render()
    );
}

#[test]
fn a_count_above_the_baseline_fails() {
    let v = conclude(
        &held_to(&[(key(), ALLOCATIONS - 1)]),
        &outcome(vec![allocating()]),
    )
    .unwrap();
    let GateVerdict::Compared { ratchet, .. } = &v else {
        panic!("{v:?}")
    };
    assert_eq!(
        ratchet.changes,
        [(
            key(),
            Change::Higher {
                was: ALLOCATIONS - 1,
                now: ALLOCATIONS
            }
        )]
    );
    assert_eq!(v.passed(), Some(false));
}

#[test]
fn a_count_below_the_baseline_passes_and_asks_for_an_update() {
    let v = conclude(
        &held_to(&[(key(), ALLOCATIONS + 1)]),
        &outcome(vec![allocating()]),
    )
    .unwrap();
    let GateVerdict::Compared { ratchet, .. } = &v else {
        panic!("{v:?}")
    };
    assert_eq!(
        ratchet.changes,
        [(
            key(),
            Change::Lower {
                was: ALLOCATIONS + 1,
                now: ALLOCATIONS
            }
        )]
    );
    assert_eq!(v.passed(), Some(true));
    assert!(v.render().contains("--update-baseline"), "{}", v.render());
}

#[test]
fn held_to_a_baseline_a_failure_besides_allocating_still_fails() {
    let mut r = allocating();
    r.hazard_violation = Some("output callback #3 (512 frames): 1 lock acquisition".to_owned());
    assert!(fails_besides_allocating(&r));
    assert!(!fails_besides_allocating(&allocating()));
    let v = conclude(&held_to(&[(key(), ALLOCATIONS)]), &outcome(vec![r])).unwrap();
    assert!(matches!(
        v,
        GateVerdict::Compared {
            other_failures: true,
            ..
        }
    ));
    assert_eq!(v.passed(), Some(false), "the ratchet alone passes");
}

#[test]
fn update_baseline_writes_the_run_s_counts_and_says_how_many_sites() {
    let dir = TestDir::new("gate-verdict-update");
    let path = dir.path().join("baseline.json");
    let o = outcome(vec![allocating(), clean()]);
    let v = conclude(&plan(Hold::UpdateBaseline(path.clone())), &o).unwrap();
    assert_eq!(
        v,
        GateVerdict::Written {
            sites: 1,
            other_failures: false
        }
    );
    assert_eq!(v.passed(), Some(true));
    assert_eq!(v.render(), "baseline written: 1 site\n");
    let written = Baseline::read(&path).unwrap();
    assert_eq!(
        written.counts().iter().collect::<Vec<_>>(),
        [(&key(), &ALLOCATIONS)]
    );
    // A failure besides allocating fails the run; the file is still
    // written.
    let mut r = allocating();
    r.mismatch = Some("output callback #1: measured 2, expected 1".to_owned());
    let v = conclude(&plan(Hold::UpdateBaseline(path)), &outcome(vec![r])).unwrap();
    assert_eq!(v.passed(), Some(false));
}

#[test]
fn an_interrupted_matrix_gets_no_verdict_and_writes_no_baseline() {
    let dir = TestDir::new("gate-verdict-interrupted");
    let path = dir.path().join("baseline.json");
    let mut o = outcome(vec![allocating()]);
    o.interrupted = Some(Interrupt::Sigterm);
    o.not_run = vec![crate::gate::NotRun::Stopped("steady".to_owned())];
    for hold in [
        Hold::Zero,
        held_to(&[(key(), ALLOCATIONS)]).hold,
        Hold::UpdateBaseline(path.clone()),
    ] {
        let v = conclude(&plan(hold), &o).unwrap();
        assert_eq!(v, GateVerdict::Interrupted(Interrupt::Sigterm));
        assert_eq!(v.passed(), None);
        assert_eq!(v.render(), "");
    }
    assert!(!path.exists(), "no baseline from part of the matrix");
}

#[test]
fn a_baseline_that_cannot_be_written_is_an_error_naming_it() {
    let dir = TestDir::new("gate-verdict-unwritable");
    let path = dir.path().join("missing/dir/baseline.json");
    let e = conclude(
        &plan(Hold::UpdateBaseline(path.clone())),
        &outcome(vec![allocating()]),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("cannot access baseline '{}'", path.display())),
        "{e}"
    );
}
