//! `--c-level`: the binary with the C-level layer attached. A Rust
//! allocation is still counted once (`prefix` keeps its 32 allocations per
//! rendering output callback), `fixed` passes every scenario of the gate
//! matrix, the report carries blocking calls by name only when they were
//! counted, `compare` and its HTML page carry them, and a blocking call
//! fails the gate, named. The binary is run as a child process: attaching
//! the layer is for the whole process, and these tests' own process does
//! not link it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use allocgate::hazard::HazardTotals;
use allocgate::{BlockingCall, BlockingCounts, Counts, measure};
use allocgate_engine::sites::CallbackKind;
use allocgate_engine::sites::expected::Expected;
use allocgate_tool::baseline::Baseline;
use allocgate_tool::drive::integrity::Verdict;
use allocgate_tool::gate::{
    GateConfig, GateFailure, GatePlan, GateVerdict, Hold, ScenarioResult, conclude, gated_hazard,
};
use allocgate_tool::metrics::{Record, Xruns};
use allocgate_tool::report::{Report, read_json};
use allocgate_tool::scenario;
use serde_json::Value;

fn allocgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("allocgate-c-level-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

/// `allocgate run FLAGS… --out OUT`, which must succeed; its report, and
/// the report as raw JSON (to see which keys are there).
fn run(flags: &[&str], out: &Path) -> (Report, Value) {
    let mut args = vec!["run"];
    args.extend_from_slice(flags);
    args.extend(["--out", out.to_str().expect("a UTF-8 path")]);
    let o = allocgate(&args);
    assert!(
        o.status.success(),
        "{args:?}: exit {:?}: {}",
        o.status,
        text(&o.stderr)
    );
    let raw = std::fs::read_to_string(out).expect("the report");
    let json: Value = serde_json::from_str(&raw).expect("JSON");
    (read_json(out).expect("the report reads back"), json)
}

/// Every place the report keeps totals of one set of callbacks.
const TOTALS: [&str; 9] = [
    "/totals",
    "/totals/input",
    "/totals/output",
    "/warm_up/totals",
    "/warm_up/totals/input",
    "/warm_up/totals/output",
    "/steady_state/totals",
    "/steady_state/totals/input",
    "/steady_state/totals/output",
];

/// The blocking keys are in every totals object, or in none.
fn assert_blocking_keys(json: &Value, present: bool) {
    for at in TOTALS {
        let t = json.pointer(at).unwrap_or_else(|| panic!("{at}"));
        for key in ["blocking_calls", "callbacks_blocking"] {
            assert_eq!(t.get(key).is_some(), present, "{at}/{key}");
        }
        if present {
            assert!(t["blocking_calls"].is_object(), "{at}: an object by name");
        }
    }
    assert_eq!(json["config"]["c_level"], Value::Bool(present));
}

/// Steady-state output callbacks per allocation count: the report's
/// histogram as (allocations, callbacks) pairs.
fn per_callback(r: &Report) -> Vec<(u64, u64)> {
    r.steady_state
        .allocations_per_callback
        .output
        .iter()
        .filter(|row| row.callbacks > 0)
        .map(|row| {
            assert!(!row.or_more, "{row:?}");
            (row.allocations, row.callbacks)
        })
        .collect()
}

/// Frames per callback of these runs (the default).
const FRAMES: u64 = 512;
/// The engine's block size.
const BLOCK: u64 = 512;
/// Renderers receiving input in 7.1 (docs/engine.md: R = 8).
const RENDERERS_7_1: u64 = 8;

/// `prefix` at 7.1, 48 kHz / 512: its one per-block site in the steady
/// state is `scale-array`, 2 arrays × 2 ears × R renderers × b blocks per
/// output callback (docs/engine.md), b = floor(N / 512).
const PREFIX_PER_RENDERING_CALLBACK: u64 = 2 * 2 * RENDERERS_7_1 * (FRAMES / BLOCK);

#[test]
fn prefix_with_c_level_counts_each_rust_allocation_once_and_reports_blocking_keys_only_then() {
    let dir = scratch("prefix");
    let flags = ["--variant", "prefix", "--seconds", "2"];
    let (plain, plain_json) = run(&flags, &dir.join("plain.json"));
    let mut with = flags.to_vec();
    with.push("--c-level");
    let (c_level, c_level_json) = run(&with, &dir.join("c-level.json"));

    assert_blocking_keys(&plain_json, false);
    assert_blocking_keys(&c_level_json, true);
    assert!(c_level.config.c_level && !plain.config.c_level);

    // Every steady-state output callback that rendered made exactly the
    // formula's allocations, with the layer attached and without.
    for r in [&plain, &c_level] {
        let rows = per_callback(r);
        assert!(
            rows.iter()
                .all(|&(n, _)| n == PREFIX_PER_RENDERING_CALLBACK || n == 0),
            "c_level {}: {rows:?}",
            r.config.c_level
        );
        assert!(
            rows.iter()
                .any(|&(n, _)| n == PREFIX_PER_RENDERING_CALLBACK),
            "c_level {}: some callback rendered: {rows:?}",
            r.config.c_level
        );
    }
    assert_eq!(per_callback(&plain), per_callback(&c_level));
    // No double counting anywhere: the whole run's figures are the same.
    assert_eq!(
        serde_json::to_value(&plain.size_classes).unwrap(),
        serde_json::to_value(&c_level.size_classes).unwrap()
    );
    for (p, c) in [
        (&plain.totals.input, &c_level.totals.input),
        (&plain.totals.output, &c_level.totals.output),
    ] {
        assert_eq!(
            (p.allocations, p.deallocations, p.reallocations, p.bytes),
            (c.allocations, c.deallocations, c.reallocations, c.bytes)
        );
    }
    // The engine's Rust code makes no blocking C call: measured, none.
    assert_eq!(c_level.totals.blocking_calls, Some(Default::default()));
    assert_eq!(c_level.totals.callbacks_blocking, Some(0));

    // compare: a run without C-level figures against one with them is
    // refused, and forced, shows "not counted", never a zero.
    let (plain_path, c_level_path) = (dir.join("plain.json"), dir.join("c-level.json"));
    let o = allocgate(&[
        "compare",
        plain_path.to_str().unwrap(),
        c_level_path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("only the after run counted the C library's calls (--c-level)"),
        "{}",
        text(&o.stderr)
    );
    let o = allocgate(&[
        "compare",
        plain_path.to_str().unwrap(),
        c_level_path.to_str().unwrap(),
        "--force",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let table = text(&o.stdout);
    assert!(
        table.contains("| blocking C calls | not counted | 0 | not comparable |"),
        "{table}"
    );
}

#[test]
fn a_sleeping_callback_shows_its_call_by_name_in_the_report_compare_html_and_gate() {
    let dir = scratch("sleep");
    let flags = ["--variant", "fixed", "--seconds", "1", "--c-level"];
    let (quiet, _) = run(&flags, &dir.join("quiet.json"));
    let mut sleeping = flags.to_vec();
    sleeping.extend(["--sites", "sleep"]);
    let (slept, _) = run(&sleeping, &dir.join("sleep.json"));

    // The sleep site calls std::thread::sleep once in every output
    // callback: one call of the C library's sleep family each (nanosleep
    // or clock_nanosleep, whichever this std calls), none in the input
    // callbacks.
    let out = &slept.totals.output;
    let calls = out.blocking_calls.as_ref().expect("counted");
    let names: Vec<&str> = calls.keys().map(String::as_str).collect();
    assert_eq!(names.len(), 1, "{calls:?}");
    assert!(
        ["nanosleep", "clock_nanosleep"].contains(&names[0]),
        "{calls:?}"
    );
    let name = names[0];
    assert_eq!(calls[name], out.callbacks);
    assert_eq!(out.callbacks_blocking, Some(out.callbacks));
    assert_eq!(out.hazards.lock_acquisitions, 0);
    assert_eq!(slept.totals.input.blocking_calls, Some(Default::default()));
    assert_eq!(slept.totals.input.callbacks_blocking, Some(0));
    assert_eq!(slept.totals.allocations, 0, "the site allocates nothing");

    // compare and its HTML page carry the call by name.
    let html = dir.join("cmp.html");
    let o = allocgate(&[
        "compare",
        dir.join("quiet.json").to_str().unwrap(),
        dir.join("sleep.json").to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let n = out.callbacks;
    let row = format!("| blocking C calls: {name} | 0 | {n} | +{n} |");
    assert!(text(&o.stdout).contains(&row), "{row}\n{}", text(&o.stdout));
    let page = std::fs::read_to_string(&html).expect("the page");
    assert!(page.contains(&format!("blocking C calls: {name}")));
    assert!(page.contains("C-level calls (--c-level)"));
    assert_eq!(quiet.totals.blocking_calls, Some(Default::default()));

    // The gate fails every scenario on it, naming the call; without
    // --c-level the call is not seen (the failure is the sleep's context
    // switch alone, where usage is read).
    let gate = allocgate(&["gate", "--sites", "sleep", "--no-integrity", "--c-level"]);
    assert_eq!(gate.status.code(), Some(1), "{}", text(&gate.stderr));
    let table = text(&gate.stdout);
    let scenarios = scenario::defaults().unwrap();
    for s in &scenarios {
        let failure = format!("  {}: ", s.name);
        let line = table
            .lines()
            .find(|l| l.starts_with(&failure) && l.contains("met a real-time hazard"))
            .unwrap_or_else(|| panic!("{}: no hazard failure\n{table}", s.name));
        assert!(
            line.contains(&format!("blocking calls: 1 x {name}")),
            "{line}"
        );
    }
    let gate = allocgate(&["gate", "--sites", "sleep", "--no-integrity"]);
    assert!(
        !text(&gate.stdout).contains("blocking"),
        "{}",
        text(&gate.stdout)
    );
}

#[test]
fn fixed_with_c_level_passes_every_scenario_of_the_gate_matrix_with_no_blocking_call() {
    let gate = allocgate(&["gate", "--c-level"]);
    let table = text(&gate.stdout);
    assert!(
        gate.status.success(),
        "exit {:?}\n{table}\n{}",
        gate.status,
        text(&gate.stderr)
    );
    assert!(table.contains("| blocking C calls |"), "{table}");
    for s in scenario::defaults().unwrap() {
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("| {} |", s.name)))
            .unwrap_or_else(|| panic!("{}: no row\n{table}", s.name));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        // scenario, callbacks, allocations, deallocations, reallocations,
        // locks, switches, faults, blocking C calls, xruns, integrity,
        // verdict (between the outer bars).
        assert_eq!(&cells[3..6], ["0", "0", "0"], "{row}");
        assert_eq!(cells[9], "none", "{row}");
        assert_eq!(cells[12], "pass", "{row}");
    }
}

/// Blocking counts as the C-level layer would leave them: counted through
/// the library's hook in a measured scope of this thread.
fn blocking(calls: &[(BlockingCall, u64)]) -> BlockingCounts {
    allocgate::c_level::attach();
    let m = measure(|| {
        for &(call, n) in calls {
            for _ in 0..n {
                allocgate::c_level::record_blocking(call);
            }
        }
    });
    m.stats.blocking
}

#[test]
fn a_blocking_call_fails_a_callback_by_name_and_a_baseline_held_gate_too() {
    let b = blocking(&[(BlockingCall::MutexLock, 2), (BlockingCall::NanoSleep, 1)]);
    assert_eq!(b.total(), 3);
    let r = Record::new(CallbackKind::Output)
        .with_index(40)
        .with_frames(512, 10_666_667)
        .with_blocking(b);
    assert_eq!(r.hazards.blocking_calls, 3);
    let what = gated_hazard(&r).expect("gated");
    assert_eq!(
        what,
        "blocking calls: 2 x pthread_mutex_lock, 1 x nanosleep"
    );
    // Warm-up included, as for locks.
    assert!(gated_hazard(&r.with_warm_up(true)).is_some());
    assert_eq!(gated_hazard(&Record::new(CallbackKind::Output)), None);

    let result = ScenarioResult {
        name: "steady".to_owned(),
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
        hazards: HazardTotals {
            blocking_calls: 3,
            callbacks_blocking: 1,
            ..HazardTotals::default()
        },
        blocking: b,
        rusage: false,
        c_level: true,
        hazard_violation: None,
        callbacks_hazardous: 1,
        first_hazard: Some(format!("output callback #40 (512 frames): {what}")),
    };
    let failures = result.failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].is_hazard());
    assert!(matches!(
        failures[0],
        GateFailure::Hazard { callbacks: 1, .. }
    ));
    assert_eq!(
        failures[0].to_string(),
        "1 callback met a real-time hazard; first: output callback #40 (512 frames): \
         blocking calls: 2 x pthread_mutex_lock, 1 x nanosleep"
    );

    // Held to a baseline, allocations go to the ratchet; the blocking call
    // still fails the gate.
    let outcome = allocgate_tool::gate::GateOutcome {
        config: GateConfig {
            c_level: true,
            ..GateConfig::default()
        },
        results: vec![result],
        interrupted: None,
        not_run: Vec::new(),
    };
    let plan = GatePlan {
        config: outcome.config,
        scenarios: Vec::new(),
        junit: None,
        hold: Hold::Baseline {
            path: PathBuf::from("unused.json"),
            baseline: Baseline::from_counts(std::iter::empty()),
        },
        stop: None,
    };
    let verdict = conclude(&plan, &outcome).unwrap();
    assert!(
        matches!(
            &verdict,
            GateVerdict::Compared {
                other_failures: true,
                ratchet
            } if ratchet.passed()
        ),
        "{verdict:?}"
    );
    assert_eq!(verdict.passed(), Some(false));
}

/// On JACK, the engine's callbacks run inside our process handler, inside
/// libjack's process callback. Each callback's scope covers the engine's
/// callback alone; the input callback's covers its pull too, which asks
/// libjack for each input port's buffer (`jack_port_get_buffer`). What
/// libjack's C code did there is counted with `--c-level`: found to be no
/// allocation and no blocking call, so `fixed` stays at zero and `prefix`
/// at its formula.
#[cfg(feature = "jack")]
#[test]
fn on_jack_with_c_level_libjack_adds_nothing_inside_the_callbacks() {
    use crate::jack::{run_clean, server_for};
    let Some(server) = server_for("c-level", 48_000, 512) else {
        return;
    };
    let dir = scratch("jack");
    for variant in ["fixed", "prefix"] {
        let out = dir.join(format!("{variant}.json"));
        let (r, _) = run_clean(
            &server,
            &["--variant", variant, "--seconds", "2", "--c-level"],
            &out,
        );
        assert!(r.config.c_level);
        for (kind, t) in [("input", &r.totals.input), ("output", &r.totals.output)] {
            eprintln!(
                "JACK {variant} {kind}: {} callbacks, {} allocations, blocking calls {:?}",
                t.callbacks, t.allocations, t.blocking_calls
            );
            assert_eq!(
                t.blocking_calls,
                Some(Default::default()),
                "{variant} {kind}"
            );
            assert_eq!(t.callbacks_blocking, Some(0), "{variant} {kind}");
        }
        assert_eq!(r.totals.input.allocations, 0, "{variant}: libjack's pull");
        let rows = per_callback(&r);
        let expected = if variant == "fixed" {
            0
        } else {
            PREFIX_PER_RENDERING_CALLBACK
        };
        assert!(
            rows.iter().all(|&(n, _)| n == expected || n == 0),
            "{variant}: {rows:?}"
        );
        assert!(
            rows.iter().any(|&(n, _)| n == expected),
            "{variant}: {rows:?}"
        );
        let b = r.backend.as_ref().expect("a backend section");
        eprintln!(
            "JACK {variant}: audio thread outside callbacks {:?}",
            b.audio_thread_outside_callbacks
        );
    }
}
