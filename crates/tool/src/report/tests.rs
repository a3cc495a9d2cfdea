//! The report built from hand-made records: figures, keys, round trips.

use std::time::Duration;

use serde_json::Value;

use super::*;
use crate::metrics::Aggregator;
use crate::metrics::Record;
use allocgate::Counts;
use allocgate_engine::sites::CallbackKind;
use allocgate_engine::variant::Variant;

fn rec(kind: CallbackKind, wall_ns: u64, allocations: u64, warm_up: bool) -> Record {
    Record::new(kind)
        .with_frames(512, 1_000)
        .with_wall_ns(wall_ns)
        .with_counts(Counts {
            allocations,
            deallocations: allocations,
            bytes_allocated: 36 * allocations,
            bytes_deallocated: 36 * allocations,
            largest_request: if allocations > 0 { 36 } else { 0 },
            ..Counts::new()
        })
        .with_warm_up(warm_up)
}

pub(crate) fn sample_config() -> ReportConfig {
    ReportConfig {
        variant: Variant::Prefix.name().to_owned(),
        sites: site_names(Variant::Prefix.sites()),
        sample_rate: 48_000,
        frames: 512,
        channels: 8,
        seconds: 2.0,
        seed: 7,
        backend: "sim".to_owned(),
        mode: "virtual".to_owned(),
        convolution: true,
        preset: Some("kemar".to_owned()),
        warm_up_callbacks: 1,
        scenario: None,
        trace_sites: false,
        rusage: false,
        c_level: false,
    }
}

pub(crate) fn sample_environment() -> Environment {
    Environment {
        os: "linux".to_owned(),
        arch: "x86_64".to_owned(),
        cpu: "unknown".to_owned(),
        cpus: 4,
        rustc: "rustc 1.95.0".to_owned(),
        profile: "release".to_owned(),
        git_revision: "unknown".to_owned(),
        allocgate_version: "0.1.0".to_owned(),
    }
}

/// Over 2 s: one warm-up output callback (400 ns, 4 allocations), three
/// steady output callbacks (100, 200 and 300 ns, 2 allocations each but
/// the last), two input callbacks (50 ns each, none).
pub(crate) fn sample_report() -> Report {
    let mut agg = Aggregator::new();
    let records = [
        rec(CallbackKind::Output, 400, 4, true),
        rec(CallbackKind::Output, 100, 2, false),
        rec(CallbackKind::Output, 200, 2, false),
        rec(CallbackKind::Output, 300, 0, false),
        rec(CallbackKind::Input, 50, 0, false),
        rec(CallbackKind::Input, 50, 0, false),
    ];
    for r in &records {
        agg.record(r);
    }
    let aggregates = agg.finish(Duration::from_secs(2));
    Report::from_aggregates(
        sample_config(),
        sample_environment(),
        &aggregates,
        Integrity::fail(
            Mismatch::new(1, 4_800, 0.25, 0.0),
            "sample 4800 of channel 1 differs",
        ),
    )
}

#[test]
fn figures_are_those_computed_by_hand() {
    let r = sample_report();
    assert_eq!(r.schema_version, 1);
    assert_eq!(
        r.config.sites,
        ["scale-array", "renderer-snapshot", "debug-print"]
    );
    let t = &r.totals;
    assert_eq!((t.callbacks.input, t.callbacks.output), (2, 4));
    assert_eq!((t.allocations, t.deallocations, t.reallocations), (8, 8, 0));
    assert_eq!(t.bytes, 8 * 36);
    assert_eq!(t.callbacks_touching_allocator, 3);
    assert_eq!(t.output.largest_request_bytes, 36);
    assert_eq!(t.output.wall_ns, 1_000);
    assert_eq!(r.rates.seconds, 2.0);
    assert_eq!(r.rates.allocations_per_second, 4.0);
    assert_eq!(r.rates.callbacks_per_second, 3.0);
    assert_eq!(r.rates.output.allocations_per_second, 4.0);
    assert_eq!(r.rates.input.allocations_per_second, 0.0);

    // Output durations 100, 200, 300, 400: p50 is the 2nd, p90 the 4th.
    let out = &r.latency.output;
    assert_eq!(
        (
            out.all.count,
            out.all.p50_ns,
            out.all.p90_ns,
            out.all.max_ns
        ),
        (4, 200, 400, 400)
    );
    assert_eq!(out.all.mean_ns, 250.0);
    assert_eq!((out.allocated.count, out.allocated.max_ns), (3, 400));
    assert_eq!(
        (out.not_allocated.count, out.not_allocated.p50_ns),
        (1, 300)
    );
    assert_eq!(r.latency.input.all.p999_ns, 50);

    // Periods of 1 µs: output loads 0.1 to 0.4; 1 µs of 2 s spent.
    assert!((r.cpu_load.output.mean - 0.25).abs() < 1e-12);
    assert!((r.cpu_load.output.max - 0.4).abs() < 1e-12);
    assert!((r.cpu_load.output.share - 1_000.0 / 2e9).abs() < 1e-18);
    assert_eq!(
        r.deadline_misses,
        ByKind {
            input: 0,
            output: 0
        }
    );

    let rows: Vec<(u64, u64)> = r
        .allocations_per_callback
        .output
        .iter()
        .map(|b| (b.allocations, b.callbacks))
        .collect();
    assert_eq!(rows, [(0, 1), (2, 2), (4, 1)]);

    assert_eq!(r.warm_up.totals.callbacks.output, 1);
    assert_eq!(r.warm_up.totals.allocations, 4);
    assert_eq!(r.warm_up.latency.output.all.max_ns, 400);
    assert_eq!(
        r.steady_state.totals.callbacks,
        ByKind {
            input: 2,
            output: 3
        }
    );
    assert_eq!(r.steady_state.totals.allocations, 4);
    assert_eq!(r.steady_state.latency.output.all.max_ns, 300);
    assert!(r.sites.is_empty());
}

/// The report with one row in every list, so list items' keys show.
fn filled_report() -> Report {
    let mut r = sample_report();
    let requested = RequestedRow {
        requested_bytes: Some(64),
        min_bytes: 33,
        count: 8,
    };
    let macos = MacosRow {
        class_bytes: Some(48),
        class: MacosRegion::Tiny,
        count: 8,
    };
    r.size_classes.requested.push(requested);
    r.size_classes.macos.push(macos);
    r.sites.push(SiteReport {
        function: "allocgate_engine::convolver::step".to_owned(),
        size: 36,
        count: 8,
        per_callback: 2.0,
        kind: "output".to_owned(),
        site: None,
        class_bytes: Some(48),
        class: Some(MacosRegion::Tiny),
        deallocations: 8,
        reallocations: 0,
        backtrace: vec!["allocgate_engine::convolver::step".to_owned()],
    });
    r
}

#[test]
fn the_stable_core_keys_are_present() {
    let v = serde_json::to_value(filled_report()).unwrap();
    let mut core = vec![
        "/schema_version",
        "/config/variant",
        "/config/sites",
        "/config/sample_rate",
        "/config/frames",
        "/config/channels",
        "/config/seconds",
        "/config/seed",
        "/config/backend",
        "/environment/os",
        "/environment/arch",
        "/environment/cpu",
        "/environment/rustc",
        "/environment/git_revision",
        "/environment/allocgate_version",
        "/totals/callbacks/input",
        "/totals/callbacks/output",
        "/totals/allocations",
        "/totals/deallocations",
        "/totals/reallocations",
        "/totals/bytes",
        "/rates/allocations_per_second",
        "/size_classes/requested/0/requested_bytes",
        "/size_classes/requested/0/count",
        "/size_classes/macos/0/class_bytes",
        "/size_classes/macos/0/class",
        "/size_classes/macos/0/count",
        "/sites/0/function",
        "/sites/0/size",
        "/sites/0/count",
        "/sites/0/per_callback",
        "/cpu_load",
        "/deadline_misses",
        "/xruns",
        "/integrity/verdict",
        "/integrity/first_mismatch",
        "/integrity/reason",
    ];
    let mut latency = Vec::new();
    for section in ["", "/warm_up", "/steady_state"] {
        for kind in ["input", "output"] {
            for split in ["", "/allocated", "/not_allocated"] {
                for key in ["p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns", "count"] {
                    latency.push(format!("{section}/latency/{kind}{split}/{key}"));
                }
            }
        }
        latency.push(format!("{section}/totals/callbacks/input"));
        latency.push(format!("{section}/totals/allocations"));
    }
    core.extend(latency.iter().map(String::as_str));
    let missing: Vec<&str> = core
        .into_iter()
        .filter(|p| v.pointer(p).is_none())
        .collect();
    assert!(missing.is_empty(), "missing keys: {missing:?}");
    assert_eq!(v["schema_version"], Value::from(1));
    assert_eq!(v["integrity"]["verdict"], Value::from("fail"));
    assert_eq!(v["size_classes"]["macos"][0]["class"], Value::from("tiny"));
}

#[test]
fn a_report_round_trips_through_json_unchanged() {
    let r = filled_report();
    let text = serde_json::to_string_pretty(&r).unwrap();
    let back: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
}

#[test]
fn an_unchecked_verdict_has_no_mismatch_and_says_why() {
    let v =
        serde_json::to_value(Integrity::not_checked("xruns make the output incomparable")).unwrap();
    assert_eq!(v["verdict"], Value::from("not_checked"));
    assert_eq!(v["first_mismatch"], Value::Null);
    assert_eq!(
        v["reason"],
        Value::from("xruns make the output incomparable")
    );
}

#[test]
fn latency_histograms_hold_every_callback_in_log_spaced_buckets() {
    let r = sample_report();
    let h = &r.latency_histograms.output;
    let rows = |b: &[LatencyBucketRow]| -> Vec<(u64, u64, u64)> {
        b.iter()
            .map(|b| (b.lower_ns, b.upper_ns, b.count))
            .collect()
    };
    // Eight buckets per octave: 100 ns in 96-103 (octave 64-127, 8 ns
    // wide), 200 in 192-207 (16 ns), 300 and 400 in 288-319 and 384-415
    // (32 ns).
    assert_eq!(
        rows(&h.all),
        [(96, 103, 1), (192, 207, 1), (288, 319, 1), (384, 415, 1)]
    );
    assert_eq!(
        rows(&h.allocated),
        [(96, 103, 1), (192, 207, 1), (384, 415, 1)]
    );
    assert_eq!(rows(&h.not_allocated), [(288, 319, 1)]);
    assert_eq!(rows(&r.latency_histograms.input.all), [(48, 51, 2)]);
    assert!(r.latency_histograms.input.allocated.is_empty());
}

#[test]
fn the_timeline_counts_callbacks_and_allocator_calls_per_bin() {
    let r = sample_report();
    // Every sample record starts at device time 0: one 10 ms bin.
    let out = &r.timeline.output;
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].start_s, out[0].width_s), (0.0, 0.01));
    assert_eq!(
        (
            out[0].callbacks,
            out[0].allocations,
            out[0].deallocations,
            out[0].reallocations
        ),
        (4, 8, 8, 0)
    );
    assert_eq!(r.timeline.input[0].callbacks, 2);
}

#[test]
fn a_report_without_histograms_or_timeline_still_reads() {
    let mut v = serde_json::to_value(filled_report()).unwrap();
    let top = v.as_object_mut().unwrap();
    assert!(top.remove("latency_histograms").is_some());
    assert!(top.remove("timeline").is_some());
    let back: Report = serde_json::from_value(v).unwrap();
    assert!(back.latency_histograms.output.all.is_empty());
    assert!(back.timeline.output.is_empty());
}
