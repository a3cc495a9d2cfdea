//! `allocgate run` and the demo, through the library and through the
//! binary: the demo's totals equal the site formulas, reports on disk are
//! what was measured, same-seed runs give the same figures, bad input
//! exits 2 with one line, and the driver thread touches the allocator
//! only inside callbacks.

use std::path::PathBuf;
use std::process::Command;

use allocgate_engine::convolver::BLOCK;
use allocgate_engine::sites::expected::{CallbackContext, Expected};
use allocgate_engine::sites::{SCALE_ARRAY_BYTES, Site};
use allocgate_engine::variant::Variant;
use allocgate_tool::cli::{DEMO_TABLE, RunArgs, demo_config, run_demo};
use allocgate_tool::report::{AllocatorCalls, MacosRegion, Report, Verdict, read_json};
use allocgate_tool::run::{RunFailure, execute, failures};
use clap::Parser;

/// A fresh directory under the system's temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("allocgate-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    run: RunArgs,
}

pub fn args(flags: &[&str]) -> RunArgs {
    let mut all = vec!["allocgate"];
    all.extend_from_slice(flags);
    Args::try_parse_from(all).expect("flags parse").run
}

/// `ceil(seconds × rate / frames)`: callbacks of each kind at device times
/// 0, N, 2N, … before the end.
pub fn callbacks(seconds: f64, rate: u32, frames: usize) -> u64 {
    let total_frames = (seconds * f64::from(rate)).round() as u64;
    total_frames.div_ceil(frames as u64)
}

#[test]
fn the_demo_measures_what_the_site_formulas_predict_and_writes_it() {
    let dir = scratch("demo");
    let rows = run_demo(&dir, &mut |_, _| {}).expect("the demo runs");
    assert_eq!(
        rows.iter().map(|r| r.config.variant).collect::<Vec<_>>(),
        [Variant::Prefix, Variant::Fixed]
    );
    for row in &rows {
        let c = &row.config;
        let r = &row.run.report;
        let n = callbacks(c.seconds, c.engine.sample_rate, c.frames);
        // Both clocks at 48 kHz without drift: input and output callback k
        // both fall at k·512, input first, so each output callback finds
        // exactly 512 frames, renders one block with all 8 KEMAR renderers
        // (no stale tail), and the first one adopts the preset's set.
        assert_eq!(c.frames, BLOCK);
        let renderers = 8;
        let mut want_in = Expected::default();
        let mut want_out = Expected::default();
        for k in 0..n {
            want_in = want_in
                + c.sites
                    .expected(&CallbackContext::input(c.engine.channels, c.frames));
            want_out = want_out
                + c.sites.expected(&CallbackContext {
                    renderers,
                    blocks: 1,
                    steps_before: k,
                    first: k == 0,
                    max_frames_before: if k == 0 { 0 } else { c.frames },
                    ..CallbackContext::output(c.engine.channels, c.frames)
                });
        }
        let t = &r.totals;
        assert_eq!((t.callbacks.input, t.callbacks.output), (n, n));
        for (what, got, want) in [
            ("input", &t.input, want_in),
            ("output", &t.output, want_out),
        ] {
            assert_eq!(
                (got.allocations, got.deallocations, got.reallocations),
                (want.allocations, want.deallocations, want.reallocations),
                "{} {what}",
                c.variant.name()
            );
        }
        // The scale arrays are the only requests in the 48-byte class
        // (debug lines ask for 128 bytes).
        let scale_per_callback = if c.sites.contains(Site::ScaleArray) {
            Site::ScaleArray
                .expected(&CallbackContext {
                    renderers,
                    blocks: 1,
                    ..CallbackContext::output(c.engine.channels, c.frames)
                })
                .allocations
        } else {
            0
        };
        assert_eq!(SCALE_ARRAY_BYTES, 36);
        let class_48: u64 = r
            .size_classes
            .macos
            .iter()
            .filter(|row| row.class == MacosRegion::Tiny && row.class_bytes == Some(48))
            .map(|row| row.count)
            .sum();
        assert_eq!(class_48, scale_per_callback * n, "{}", c.variant.name());
        assert_eq!(r.integrity.verdict, Verdict::Pass);
        assert_eq!(
            r.integrity.frames_checked,
            n * c.frames as u64,
            "every played frame checked"
        );
        assert_eq!(
            r.harness.driver_outside_callbacks,
            AllocatorCalls::default()
        );
        assert!(failures(c, r).is_empty(), "{:?}", failures(c, r));
        // What is on disk is what was measured.
        let on_disk: Report = read_json(&c.out).expect("the report was written");
        assert_eq!(&on_disk, r);
    }
    let prefix = &rows[0].run.report;
    assert_eq!(
        prefix.config.sites,
        ["scale-array", "renderer-snapshot", "debug-print"]
    );
    let table = std::fs::read_to_string(dir.join(DEMO_TABLE)).expect("the table was written");
    let want = format!("| allocations | {} | 0 |", prefix.totals.allocations);
    assert!(table.contains(&want), "{table}");
    // The snapshot's lock: one in each output callback that renders (every
    // one that is not buffering), none in fixed.
    let rendering = prefix.totals.callbacks.output - prefix.xruns.buffering_callbacks;
    let locks = prefix.totals.output.hazards.lock_acquisitions;
    assert_eq!(locks, rendering);
    assert_eq!(prefix.totals.input.hazards.lock_acquisitions, 0);
    let want = format!("| locks taken in callbacks | {locks} | 0 |");
    assert!(table.contains(&want), "{table}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The report without anything that depends on wall time or the machine.
fn deterministic(r: &Report) -> serde_json::Value {
    const TIMED: [&str; 7] = [
        "environment",
        "latency",
        "latency_histograms",
        "cpu_load",
        "deadline_misses",
        "harness",
        "pacing",
    ];
    let mut v = serde_json::to_value(r).unwrap();
    for section in [None, Some("warm_up"), Some("steady_state")] {
        let map = match section {
            None => &mut v,
            Some(s) => &mut v[s],
        };
        let map = map.as_object_mut().unwrap();
        for key in TIMED {
            map.remove(key);
        }
        for kind in ["input", "output"] {
            map["totals"][kind]
                .as_object_mut()
                .unwrap()
                .remove("wall_ns");
        }
    }
    v
}

#[test]
fn two_runs_with_the_same_seed_give_the_same_figures() {
    let flags = [
        "--variant",
        "seed",
        "--sites",
        "underrun-log,scale-array",
        "--drift-ppm",
        "-20000",
        "--seconds",
        "3",
        "--seed",
        "7",
    ];
    let config = args(&flags).validate().unwrap();
    let a = execute(&config, &mut |_| {}).unwrap().report;
    let b = execute(&config, &mut |_| {}).unwrap().report;
    assert_eq!(deterministic(&a), deterministic(&b));
    // The comparison sees a difference when there is one.
    let other = args(&flags[..flags.len() - 2]).validate().unwrap();
    let c = execute(&other, &mut |_| {}).unwrap().report;
    assert_ne!(deterministic(&a), deterministic(&c));
    assert!(a.totals.allocations > 0 && a.xruns.overruns > 0);
    // A slow output clock overruns: the input drops what does not fit,
    // and the model follows each drop.
    assert_eq!(a.integrity.verdict, Verdict::Pass, "{:?}", a.integrity);
    assert_eq!(a.integrity.cuts, a.xruns.overruns + a.xruns.underruns);
}

#[test]
fn a_fast_output_clock_underruns_and_each_underrun_is_logged_and_counted() {
    let config = args(&[
        "--sites",
        "underrun-log",
        "--no-convolution",
        "--drift-ppm",
        "5000",
        "--seconds",
        "4",
    ])
    .validate()
    .unwrap();
    let r = execute(&config, &mut |_| {}).unwrap().report;
    assert!(r.xruns.underruns > 0);
    // underrun-log formats one line per underrun: one allocation and one
    // deallocation each, nothing else in fixed.
    assert_eq!(r.totals.output.allocations, r.xruns.underruns);
    assert_eq!(r.totals.output.deallocations, r.xruns.underruns);
    assert_eq!(r.totals.input.allocations, 0);
    assert_eq!(r.integrity.verdict, Verdict::Pass);
    assert!(failures(&config, &r).is_empty());
}

#[test]
fn a_failing_verdict_an_allocation_or_a_lock_in_fixed_is_a_failure() {
    let dir = scratch("failures");
    let config = demo_config(Variant::Fixed, &dir).unwrap();
    let mut report = execute(&config, &mut |_| {}).unwrap().report;
    assert!(failures(&config, &report).is_empty());
    report.totals.callbacks_touching_allocator = 1;
    report.totals.allocations = 2;
    report.integrity.verdict = Verdict::Fail;
    report.totals.output.hazards.lock_acquisitions = 3;
    let why = failures(&config, &report);
    assert_eq!(why.len(), 3, "{why:?}");
    assert!(matches!(why[0], RunFailure::Integrity { .. }), "{why:?}");
    assert_eq!(
        why[1],
        RunFailure::TouchedAllocator {
            callbacks: 1,
            allocations: 2,
            deallocations: 0,
            reallocations: 0
        }
    );
    assert_eq!(
        why[1].to_string(),
        "1 callback touched the allocator with no site switched on \
         (2 allocations, 0 deallocations, 0 reallocations)"
    );
    assert_eq!(why[2], RunFailure::Locks { acquisitions: 3 });
    let _ = std::fs::remove_dir_all(&dir);
}

fn allocgate(flags: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .args(flags)
        .output()
        .expect("the binary runs")
}

#[test]
fn the_binary_refuses_impossible_configurations_with_exit_2_and_one_line() {
    let dir = scratch("refusals");
    let out = dir.join("run.json");
    let out = out.to_str().unwrap();
    std::fs::write(out, "previous report\n").unwrap();
    for flags in [
        &["--rate", "0"][..],
        &["--frames", "0"],
        &["--frames", "4097"],
        &["--channels", "0"],
        &["--channels", "17"],
        &["--seconds", "0"],
        &["--preset", "/nonexistent/preset.wav"],
        &["--variant", "best"],
        &["--drift-ppm", "1e9"],
        // 16 channels: no HeSuVi map covers them, so no renderer.
        &["--channels", "16"],
    ] {
        let mut all = vec!["run", "--out", out];
        all.extend_from_slice(flags);
        let o = allocgate(&all);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{flags:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{flags:?}: {stderr}");
        assert!(o.stdout.is_empty(), "{flags:?}");
    }
    assert_eq!(
        std::fs::read_to_string(out).unwrap(),
        "previous report\n",
        "a refused run leaves the report as it was"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_binary_runs_writes_the_report_and_summarises_it() {
    let dir = scratch("binary");
    let out = dir.join("nested/run.json");
    let o = allocgate(&[
        "run",
        "--no-convolution",
        "--seconds",
        "1",
        "--rate",
        "44100",
        "--frames",
        "441",
        "--channels",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r = read_json(&out).expect("report written, its directory made");
    let n = callbacks(1.0, 44_100, 441);
    assert_eq!(n, 100);
    assert_eq!(
        (r.totals.callbacks.input, r.totals.callbacks.output),
        (n, n)
    );
    assert_eq!(r.totals.allocations, 0);
    assert_eq!(r.config.backend, "sim");
    assert_eq!(
        (r.config.sample_rate, r.config.frames, r.config.channels),
        (44_100, 441, 2)
    );
    assert!(stdout.contains("integrity      pass"), "{stdout}");
    assert!(
        stdout.contains(&format!("callbacks      input {n}, output {n}")),
        "{stdout}"
    );
    assert!(stdout.contains(&out.display().to_string()), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unwritable_report_path_fails_before_the_run() {
    let config = args(&["--out", "/proc/allocgate/run.json"])
        .validate()
        .unwrap();
    let e = allocgate_tool::run::run_and_write(&config, &mut |_| panic!("the run must not start"))
        .unwrap_err();
    assert!(
        e.to_string().starts_with("cannot create '/proc/allocgate'"),
        "{e}"
    );
}

/// Every interval of an HdrHistogram interval log, through the
/// `hdrhistogram` crate's reader: tag, start, length, histogram.
fn read_hdr_log(
    log: &[u8],
) -> Vec<(
    String,
    std::time::Duration,
    std::time::Duration,
    hdrhistogram::Histogram<u64>,
)> {
    use base64::Engine as _;
    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    let mut deserializer = Deserializer::new();
    IntervalLogIterator::new(log)
        .filter_map(|entry| match entry.expect("the log parses") {
            LogEntry::Interval(i) => Some(i),
            LogEntry::StartTime(_) | LogEntry::BaseTime(_) => None,
        })
        .map(|i| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(i.encoded_histogram())
                .expect("base64");
            let h = deserializer
                .deserialize(&mut std::io::Cursor::new(bytes))
                .expect("the histogram decodes");
            let tag = i.tag().expect("tagged").as_str().to_owned();
            (tag, i.start_timestamp(), i.duration(), h)
        })
        .collect()
}

#[test]
fn the_hdr_log_read_back_gives_the_json_reports_latency_figures() {
    let dir = scratch("hdr-log");
    let out = dir.join("run.json");
    let log = dir.join("nested/latency.hlog");
    // first-callback: one output callback allocates, so the log has an
    // output-allocated interval beside output-clean.
    let config = args(&[
        "--sites",
        "first-callback",
        "--seconds",
        "0.5",
        "--channels",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--hdr-log",
        log.to_str().unwrap(),
    ])
    .validate()
    .unwrap();
    let run = allocgate_tool::run::run_and_write(&config, &mut |_| {}).expect("the run completes");
    let report = read_json(&out).expect("the report");
    let read = read_hdr_log(&std::fs::read(&log).expect("the log, its directory made"));
    let mut want = Vec::new();
    for (kind, l) in [
        ("input", &report.latency.input),
        ("output", &report.latency.output),
    ] {
        want.push((kind.to_owned(), l.all));
        for (split, s) in [("allocated", l.allocated), ("clean", l.not_allocated)] {
            if s.count > 0 {
                want.push((format!("{kind}-{split}"), s));
            }
        }
    }
    assert_eq!(
        read.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        want.iter().map(|w| w.0.as_str()).collect::<Vec<_>>()
    );
    assert!(want.iter().any(|w| w.0 == "output-allocated"), "{want:?}");
    let written = allocgate_tool::report::hdr_intervals(&run.aggregates.all);
    // The log writes timestamps to the millisecond.
    let length = std::time::Duration::from_millis(run.aggregates.duration.as_millis() as u64);
    for ((tag, start, len, h), ((_, s), (_, w))) in read.iter().zip(want.iter().zip(&written)) {
        assert_eq!((*start, *len), (std::time::Duration::ZERO, length), "{tag}");
        assert_eq!(h, *w, "{tag}: the histogram written");
        // The report clamps the histogram's answers to the exact extremes.
        let at = |q: f64| h.value_at_quantile(q).clamp(s.min_ns, s.max_ns);
        assert_eq!(
            [h.len(), at(0.5), at(0.9), at(0.99), at(0.999)],
            [s.count, s.p50_ns, s.p90_ns, s.p99_ns, s.p999_ns],
            "{tag}"
        );
        assert!(h.equivalent(h.min(), s.min_ns), "{tag}");
        assert!(h.equivalent(h.max(), s.max_ns), "{tag}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unwritable_hdr_log_path_fails_before_the_run() {
    let dir = scratch("hdr-log-bad");
    let out = dir.join("run.json");
    let config = args(&[
        "--out",
        out.to_str().unwrap(),
        "--hdr-log",
        "/proc/allocgate/latency.hlog",
    ])
    .validate()
    .unwrap();
    let e = allocgate_tool::run::run_and_write(&config, &mut |_| panic!("the run must not start"))
        .unwrap_err();
    assert!(
        e.to_string().starts_with("cannot create '/proc/allocgate'"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compare_through_the_binary_prints_and_writes_the_table_and_refuses_unlike_runs() {
    let dir = scratch("compare");
    let base =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("reports/baselines");
    let before = base.join("demo-prefix-fixed/before.json");
    let after = base.join("demo-prefix-fixed/after.json");
    let (md, json, html) = (dir.join("c.md"), dir.join("c.json"), dir.join("c.html"));
    let o = Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .arg("compare")
        .args([&before, &after])
        .arg("--md")
        .arg(&md)
        .arg("--json")
        .arg(&json)
        .arg("--html")
        .arg(&html)
        .output()
        .expect("the binary runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    // The demo baseline: 32 scale arrays per output callback over 938
    // callbacks (30 016) plus the 32 debug lines, over 10.005 s.
    assert!(
        stdout.contains("| allocations (whole run) | 30048 | 0 | −100.0 % |"),
        "{stdout}"
    );
    assert!(stdout.contains("| in the 48-byte macOS class | 30016 | 0 | −100.0 % |"));
    assert_eq!(
        std::fs::read_to_string(&md).unwrap(),
        stdout.split("wrote").next().unwrap()
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<svg"));
    let parsed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).expect("the JSON parses");
    assert_eq!(parsed["rows"][0]["metric"], "allocations per second");

    // The 192 kHz case against the 48 kHz one: refused, both reasons named.
    let other = base.join("prefix-fixed-192k-512/after.json");
    let o = Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .arg("compare")
        .args([&before, &other])
        .output()
        .expect("the binary runs");
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("sample rate 48000 Hz against 192000 Hz"),
        "{stderr}"
    );
    assert!(stderr.contains("10 s against 2 s"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1);
    let missing = Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .args(["compare", "no-such.json"])
        .arg(&after)
        .output()
        .expect("the binary runs");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no-such.json"));
}
