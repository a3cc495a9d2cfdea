//! The committed before/after reports (`reports/baselines/`, written by
//! `allocgate baselines --update-committed`) are what the engine does today: a fresh run of
//! every case reproduces each committed allocation figure exactly. Wall
//! times, latencies and the environment depend on the machine and are
//! not compared.

use std::path::Path;

use allocgate_tool::cli::{CASES, run_case};
use allocgate_tool::report::{Report, read_json};
use serde_json::Value;

/// The figures of a report that must not change from machine to machine:
/// every count, per kind and per phase, the per-callback histograms, the
/// size classes, the xruns, the timeline and the integrity verdict, with the timing
/// keys (`wall_ns`, latencies, loads, deadline misses) left out.
fn counts(r: &Report) -> Value {
    fn strip(v: &mut Value) {
        if let Value::Object(map) = v {
            map.remove("wall_ns");
            for child in map.values_mut() {
                strip(child);
            }
        }
    }
    let mut v = serde_json::json!({
        "config": r.config,
        "totals": r.totals,
        "allocations_per_callback": r.allocations_per_callback,
        "size_classes": r.size_classes,
        "xruns": r.xruns,
        "timeline": r.timeline,
        "warm_up": { "totals": r.warm_up.totals, "xruns": r.warm_up.xruns },
        "steady_state": { "totals": r.steady_state.totals, "xruns": r.steady_state.xruns },
        "integrity": {
            "verdict": r.integrity.verdict,
            "frames_checked": r.integrity.frames_checked,
            "frames_silent": r.integrity.frames_silent,
        },
        "rates": {
            "allocations_per_second": r.rates.allocations_per_second,
            "deallocations_per_second": r.rates.deallocations_per_second,
            "reallocations_per_second": r.rates.reallocations_per_second,
        },
    });
    strip(&mut v);
    v
}

#[test]
fn a_fresh_run_of_every_baseline_case_reproduces_its_committed_allocation_counts() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("reports/baselines");
    let scratch = std::env::temp_dir().join(format!("allocgate-baselines-{}", std::process::id()));
    for case in CASES {
        let runs = run_case(case, &scratch.join(case.name), &mut |_, _| {}).expect("the case runs");
        for (which, fresh) in [
            ("before", &runs.before.report),
            ("after", &runs.after.report),
        ] {
            let path = root.join(case.name).join(format!("{which}.json"));
            let committed = read_json(&path).unwrap_or_else(|e| {
                panic!("{e}; regenerate with cargo run --release -- baselines --update-committed")
            });
            let (want, got) = (counts(&committed), counts(fresh));
            assert_eq!(
                want, got,
                "{}/{which}.json differs from a fresh run; if the change is intended, \
                 regenerate with cargo run --release -- baselines --update-committed and commit",
                case.name
            );
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
