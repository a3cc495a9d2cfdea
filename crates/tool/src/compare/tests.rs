use std::time::Duration;

use super::*;
use crate::metrics::Aggregator;
use crate::metrics::Record;
use crate::report::{Environment, Integrity, MacosRegion, MacosRow, ReportConfig};
use allocgate::Counts;
use allocgate_engine::sites::CallbackKind;

fn config(variant: &str) -> ReportConfig {
    ReportConfig {
        variant: variant.to_owned(),
        sites: Vec::new(),
        sample_rate: 48_000,
        frames: 480,
        channels: 8,
        seconds: 1.0,
        seed: 1,
        backend: "sim".to_owned(),
        mode: "virtual".to_owned(),
        convolution: true,
        preset: Some("kemar".to_owned()),
        warm_up_callbacks: 16,
        scenario: None,
        trace_sites: false,
        rusage: false,
        c_level: false,
    }
}

/// A one-second run of 100 callback pairs of 480 frames (10 ms periods):
/// each output callback makes `per_output` allocations and frees and
/// takes `output_us`; input callbacks allocate nothing and take 5 µs.
fn report(variant: &str, per_output: u64, output_us: u64) -> Report {
    let mut agg = Aggregator::new();
    for i in 0..100 {
        for (kind, allocs, wall) in [
            (CallbackKind::Input, 0, 5_000),
            (CallbackKind::Output, per_output, output_us * 1000),
        ] {
            agg.record(
                &Record::new(kind)
                    .with_index(i)
                    .with_device_time(i * 480)
                    .with_frames(480, 10_000_000)
                    .with_wall_ns(wall)
                    .with_counts(Counts {
                        allocations: allocs,
                        deallocations: allocs,
                        ..Counts::new()
                    }),
            );
        }
    }
    Report::from_aggregates(
        config(variant),
        Environment::detect(),
        &agg.finish(Duration::from_secs(1)),
        Integrity::pass(),
    )
}

fn row<'a>(c: &'a Comparison, metric: &str) -> &'a Row {
    c.rows
        .iter()
        .find(|r| r.metric == metric)
        .unwrap_or_else(|| panic!("no row '{metric}'"))
}

fn number(v: &Value) -> f64 {
    match v {
        Value::Number(x) => *x,
        Value::Text(t) => panic!("'{t}' is not a number"),
    }
}

#[test]
fn the_rows_are_the_measurements_and_the_changes_follow_from_them() {
    let before = report("prefix", 32, 100);
    let after = report("fixed", 0, 40);
    let c = compare(&before, &after, Options::default()).unwrap();
    // 100 output callbacks × 32 in one second.
    let rate = row(&c, "allocations per second");
    assert_eq!((number(&rate.before), number(&rate.after)), (3200.0, 0.0));
    assert_eq!(rate.change_percent, Some(-100.0));
    assert_eq!(render::change(rate), "−100.0 %");
    let ten = row(&c, "allocations per 10 s (rate × 10)");
    assert_eq!((number(&ten.before), number(&ten.after)), (32_000.0, 0.0));
    let out = row(&c, "allocations per output callback");
    assert_eq!((number(&out.before), number(&out.after)), (32.0, 0.0));
    let input = row(&c, "allocations per input callback");
    assert_eq!(render::change(input), "no change");
    assert_eq!(number(&row(&c, "deallocations").before), 3200.0);
    assert_eq!(
        number(&row(&c, "callbacks that touched the allocator").before),
        100.0
    );
    // Every output callback took 100 µs before and 40 µs after: the
    // percentiles are those values (within the histograms' 0.1 %), the
    // change −60 %.
    let p50 = row(&c, "output latency p50");
    assert!((number(&p50.before) - 100.0).abs() < 0.1, "{p50:?}");
    assert!((number(&p50.after) - 40.0).abs() < 0.05, "{p50:?}");
    let max = row(&c, "output latency max");
    assert_eq!((number(&max.before), number(&max.after)), (100.0, 40.0));
    assert_eq!(render::change(max), "−60.0 %");
    // 100 µs of a 10 ms period is 1 % of CPU.
    let load = row(&c, "output CPU load, mean");
    assert!((number(&load.before) - 1.0).abs() < 1e-9, "{load:?}");
    let integrity = row(&c, "integrity");
    assert_eq!(
        (&integrity.before, &integrity.after),
        (&Value::Text("pass".into()), &Value::Text("pass".into()))
    );
    assert_eq!(render::change(integrity), "same");
}

#[test]
fn a_change_from_zero_is_shown_as_a_difference_not_a_percentage() {
    let c = compare(
        &report("fixed", 0, 40),
        &report("prefix", 2, 40),
        Options::default(),
    )
    .unwrap();
    let rate = row(&c, "allocations per second");
    assert_eq!(rate.change_percent, None);
    assert_eq!(rate.difference, Some(200.0));
    assert_eq!(render::change(rate), "+200.0");
}

#[test]
fn the_48_byte_class_row_counts_that_class_alone() {
    let mut before = report("prefix", 1, 10);
    before.size_classes.macos = vec![
        MacosRow {
            class_bytes: Some(48),
            class: MacosRegion::Tiny,
            count: 30_016,
        },
        MacosRow {
            class_bytes: Some(128),
            class: MacosRegion::Tiny,
            count: 32,
        },
    ];
    let c = compare(&before, &report("fixed", 0, 10), Options::default()).unwrap();
    let r = row(&c, "in the 48-byte macOS class");
    assert_eq!((number(&r.before), number(&r.after)), (30_016.0, 0.0));
}

#[test]
fn runs_of_other_rates_frames_channels_or_lengths_are_refused_unless_forced() {
    let before = report("prefix", 1, 10);
    let mut after = report("fixed", 0, 10);
    after.config.sample_rate = 96_000;
    after.config.channels = 2;
    let e = compare(&before, &after, Options::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the reports' runs differ (sample rate 48000 Hz against 96000 Hz; 8 channels against \
         2); compare runs made the same way, or pass --force to compare them anyway with the \
         rows this affects marked"
    );
    let mut other = report("fixed", 0, 10);
    other.config.frames = 512;
    other.config.seconds = 2.0;
    let texts: Vec<String> = differences(&before, &other)
        .into_iter()
        .map(|d| d.text)
        .collect();
    assert_eq!(
        texts,
        ["480 frames per callback against 512", "1 s against 2 s"]
    );
    let forced = compare(&before, &after, Options { force: true }).unwrap();
    assert_eq!(forced.forced_differences.len(), 2);
    assert!(render_markdown(&forced).contains("Compared with --force although the runs differ"));
}

#[test]
fn the_markdown_table_has_a_row_per_metric_and_escapes_pipes() {
    let mut before = report("prefix", 32, 100);
    before.config.sites = vec!["scale-array".into(), "x|y".into()];
    let c = compare(&before, &report("fixed", 0, 40), Options::default()).unwrap();
    let md = render_markdown(&c);
    assert!(
        md.contains("| metric | before (prefix +x\\|y) | after (fixed) | change |"),
        "{md}"
    );
    assert!(
        md.contains("| allocations per second | 3200.0 | 0.0 | −100.0 % |"),
        "{md}"
    );
    assert!(md.contains("| integrity | pass | pass | same |"), "{md}");
    let table_rows = md.lines().filter(|l| l.starts_with("| ")).count();
    assert_eq!(table_rows, c.rows.len() + 1, "a header and a line per row");
}

#[test]
fn the_json_reads_back_as_the_same_comparison() {
    let c = compare(
        &report("prefix", 32, 100),
        &report("fixed", 0, 40),
        Options::default(),
    )
    .unwrap();
    let back: Comparison = serde_json::from_str(&render_json(&c)).unwrap();
    assert_eq!(back, c);
}

/// The metrics of the rows carrying `caveat`.
fn marked(c: &Comparison, caveat: Caveat) -> Vec<&str> {
    c.rows
        .iter()
        .filter(|r| r.caveats.contains(&caveat))
        .map(|r| r.metric.as_str())
        .collect()
}

const TIMING_ROWS: [&str; 14] = [
    "input latency p50",
    "input latency p99",
    "input latency p99.9",
    "input latency max",
    "output latency p50",
    "output latency p99",
    "output latency p99.9",
    "output latency max",
    "input CPU load, mean",
    "input CPU load, max",
    "output CPU load, mean",
    "output CPU load, max",
    "contended locks",
    "deadline misses",
];

fn refusal(before: &Report, after: &Report) -> String {
    compare(before, after, Options::default())
        .unwrap_err()
        .to_string()
}

fn forced(before: &Report, after: &Report) -> Comparison {
    compare(before, after, Options { force: true }).unwrap()
}

#[test]
fn a_traced_run_against_an_untraced_one_is_refused_naming_the_tracing() {
    let before = report("prefix", 32, 100);
    let mut after = report("prefix", 32, 400);
    after.config.trace_sites = true;
    assert_eq!(
        refusal(&before, &after),
        "the reports' runs differ (only the after run traced allocation sites \
         (--trace-sites), which slows its callbacks); compare runs made the same way, or pass \
         --force to compare them anyway with the rows this affects marked"
    );
    // Both traced: like for like.
    let mut both = before.clone();
    both.config.trace_sites = true;
    assert!(compare(&both, &after, Options::default()).is_ok());
}

#[test]
fn usage_sampled_against_unsampled_is_refused_naming_the_sampled_run() {
    let mut before = report("prefix", 32, 100);
    before.config.rusage = true;
    let after = report("fixed", 0, 40);
    assert!(
        refusal(&before, &after)
            .contains("(only the before run read page faults and context switches (--rusage))"),
        "{}",
        refusal(&before, &after)
    );
}

#[test]
fn a_run_that_ended_early_is_refused_saying_how_long_it_ran() {
    let before = report("prefix", 32, 100);
    let mut after = report("fixed", 0, 40);
    after.config.seconds = 5.0;
    after.rates.seconds = 1.0;
    let mut before_5 = before.clone();
    before_5.config.seconds = 5.0;
    after.backend = Some(crate::report::BackendReport {
        ended_early: Some("the JACK server went away".to_owned()),
        ..Default::default()
    });
    assert!(
        refusal(&before_5, &after)
            .contains("(the after run ended early, after 1 s of 5 s (the JACK server went away))"),
        "{}",
        refusal(&before_5, &after)
    );
}

#[test]
fn a_partial_attached_run_is_refused_saying_why_and_marked_when_forced() {
    let before = report("synth", 2, 100);
    let mut after = before.clone();
    after.attach = Some(crate::report::AttachReport {
        partial: Some("synth was killed by SIGSEGV after 1.0 s (it crashed)".to_owned()),
        ..Default::default()
    });
    let why = refusal(&before, &after);
    assert!(
        why.contains(
            "the after run is partial (synth was killed by SIGSEGV after 1.0 s (it crashed))"
        ),
        "{why}"
    );
    let c = forced(&before, &after);
    assert_eq!(c.forced_differences[0].caveat, Caveat::Length);
    assert!(compare(&before, &before.clone(), Options::default()).is_ok());
}

#[test]
fn an_interrupted_run_is_refused_saying_which_signal_and_how_long_it_ran() {
    let mut before = report("prefix", 32, 100);
    before.config.seconds = 5.0;
    let mut after = before.clone();
    after.interrupted = Some("SIGINT".to_owned());
    after.rates.seconds = 2.5;
    let why = refusal(&before, &after);
    assert!(
        why.contains("the after run was interrupted by SIGINT after 2.5 s of 5 s"),
        "{why}"
    );
}

#[test]
fn reports_written_before_the_config_named_tracing_and_sampling_are_judged_by_their_contents() {
    let plain = report("prefix", 32, 100);
    // Only tracing fills in sites; only sampling counts sampled callbacks.
    let mut traced = plain.clone();
    traced.sites.push(crate::report::SiteReport {
        function: "f".to_owned(),
        size: 36,
        count: 1,
        per_callback: 0.01,
        kind: "output".to_owned(),
        site: None,
        class_bytes: None,
        class: None,
        deallocations: 0,
        reallocations: 0,
        backtrace: Vec::new(),
    });
    let mut sampled = plain.clone();
    sampled.totals.output.hazards.callbacks_sampled = 100;
    let caveats =
        |a: &Report| -> Vec<Caveat> { differences(&plain, a).iter().map(|d| d.caveat).collect() };
    assert_eq!(caveats(&traced), [Caveat::Tracing]);
    assert_eq!(caveats(&sampled), [Caveat::UsageSampling]);
}

#[test]
fn forced_across_tracing_marks_the_timing_rows_and_no_count() {
    let before = report("prefix", 32, 100);
    let mut after = report("prefix", 32, 400);
    after.config.trace_sites = true;
    let c = forced(&before, &after);
    // Virtual time, neither run sampled usage: durations and what follows
    // from them, nothing else (allocator counts are exact either way, 0
    // faults over 0 samples stay 0, xruns follow the simulated clock).
    assert_eq!(marked(&c, Caveat::Tracing), TIMING_ROWS);
    assert!(
        c.rows
            .iter()
            .all(|r| r.caveats.iter().all(|&k| k == Caveat::Tracing))
    );

    // Both sampled usage: tracing's stack walks fault pages in.
    let (mut b, mut a) = (before.clone(), after.clone());
    b.config.rusage = true;
    a.config.rusage = true;
    let c = forced(&b, &a);
    let rows = marked(&c, Caveat::Tracing);
    assert!(rows.contains(&"page faults") && rows.contains(&"voluntary context switches"));
    assert!(!rows.contains(&"callbacks sampled for faults and switches"));
    assert!(!rows.contains(&"underruns"));

    // Paced: a slower callback can starve the device.
    let (mut b, mut a) = (before, after);
    b.config.mode = "paced".to_owned();
    a.config.mode = "paced".to_owned();
    let rows = marked(&forced(&b, &a), Caveat::Tracing).len();
    assert_eq!(rows, TIMING_ROWS.len() + 2, "underruns and overruns too");
}

#[test]
fn forced_across_usage_sampling_marks_the_usage_rows_alone() {
    let before = report("prefix", 32, 100);
    let mut after = report("prefix", 32, 100);
    after.config.rusage = true;
    let c = forced(&before, &after);
    assert_eq!(
        marked(&c, Caveat::UsageSampling),
        [
            "voluntary context switches",
            "page faults",
            "callbacks sampled for faults and switches"
        ]
    );
    assert_eq!(c.rows.iter().filter(|r| !r.caveats.is_empty()).count(), 3);
}

#[test]
fn forced_across_lengths_or_configurations_marks_every_figure_but_the_verdict() {
    let before = report("prefix", 32, 100);
    let mut ended = report("fixed", 0, 40);
    ended.backend = Some(crate::report::BackendReport {
        ended_early: Some("device gone".to_owned()),
        ..Default::default()
    });
    let mut other_rate = report("fixed", 0, 40);
    other_rate.config.sample_rate = 96_000;
    for (after, caveat) in [(ended, Caveat::Length), (other_rate, Caveat::Configuration)] {
        let c = forced(&before, &after);
        let rows = marked(&c, caveat);
        // Rates too: a shorter run weighs its warm-up more.
        assert!(rows.contains(&"allocations per second"), "{rows:?}");
        assert!(
            rows.contains(&"allocations per 10 s (rate × 10)"),
            "{rows:?}"
        );
        assert_eq!(rows.len(), c.rows.len() - 1, "{caveat:?}: {rows:?}");
        assert!(!rows.contains(&"integrity"));
    }
}

#[test]
fn markdown_and_json_carry_each_rows_caveats_and_the_differences() {
    let before = report("prefix", 32, 100);
    let mut after = report("prefix", 32, 400);
    after.config.trace_sites = true;
    after.config.rusage = true;
    let c = forced(&before, &after);
    let md = render_markdown(&c);
    assert!(md.contains("| metric | before (prefix) | after (prefix) | change | caveat |"));
    assert!(md.contains("|---|---:|---:|---:|---|"));
    assert!(
        md.contains("| output latency p50 | 100.0 µs | 400.0 µs | +300.0 % | tracing |"),
        "{md}"
    );
    assert!(
        md.contains("| page faults | 0 | 0 | no change | tracing, usage sampling |"),
        "{md}"
    );
    assert!(md.contains("| allocations per second | 3200.0 | 3200.0 | no change |  |"));
    assert!(md.contains(
        "- tracing: only the after run traced allocation sites (--trace-sites), which slows \
         its callbacks\n- usage sampling: only the after run read page faults and context \
         switches (--rusage)\n"
    ));
    let table_rows = md.lines().filter(|l| l.starts_with("| ")).count();
    assert_eq!(table_rows, c.rows.len() + 1);

    let json: serde_json::Value = serde_json::from_str(&render_json(&c)).unwrap();
    let row = |metric: &str| {
        json["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["metric"] == metric)
            .unwrap()
            .clone()
    };
    assert_eq!(
        row("output latency p50")["caveats"],
        serde_json::json!(["tracing"])
    );
    assert_eq!(
        row("page faults")["caveats"],
        serde_json::json!(["tracing", "usage-sampling"])
    );
    assert_eq!(
        row("allocations per second")["caveats"],
        serde_json::json!([])
    );
    assert_eq!(json["forced_differences"][0]["caveat"], "tracing");
    let back: Comparison = serde_json::from_str(&render_json(&c)).unwrap();
    assert_eq!(back, c);
}

#[test]
fn a_config_written_before_tracing_and_sampling_were_recorded_reads_them_as_off() {
    let mut v = serde_json::to_value(config("prefix")).unwrap();
    let keys = v.as_object_mut().unwrap();
    assert_eq!(keys.remove("trace_sites"), Some(serde_json::json!(false)));
    assert_eq!(keys.remove("rusage"), Some(serde_json::json!(false)));
    let older: ReportConfig = serde_json::from_value(v).unwrap();
    assert!(!older.trace_sites && !older.rusage);
}
