//! The page rendered from small hand-fed reports.

use std::time::Duration;

use super::*;
use crate::alloc::Counts;
use crate::drive::record::Record;
use crate::metrics::Aggregator;
use crate::report::tests::{sample_config, sample_environment, sample_report};
use crate::report::{BackendReport, Integrity, MacosRow, SiteReport};

const HOSTILE: &str = "<script>alert(1)</script> & 'co'";
const HOSTILE_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;co&#39;";

/// A report of `n` output callbacks 10 ms apart taking 20 µs each,
/// allocation-free, and no input callback.
fn output_only(n: u64) -> Report {
    let mut agg = Aggregator::new();
    for i in 0..n {
        agg.record(&Record {
            kind: CallbackKind::Output,
            index: i,
            device_time: i * 480,
            frames: 480,
            period_ns: 10_000_000,
            wall_ns: 20_000,
            counts: Counts::new(),
            hazards: crate::hazard::Hazards::NONE,
            underrun: false,
            buffering: false,
            bytes_dropped: 0,
            partial_frame: false,
            frames_unrendered: 0,
            warm_up: false,
        });
    }
    Report::from_aggregates(
        sample_config(),
        sample_environment(),
        &agg.finish(Duration::from_millis(10 * n)),
        Integrity::pass(),
    )
}

/// The sample report (allocating output callbacks, quiet input ones) with
/// a size class and a site.
fn allocating() -> Report {
    let mut r = sample_report();
    r.size_classes.macos.push(MacosRow {
        class_bytes: Some(48),
        class: MacosRegion::Tiny,
        count: 8,
    });
    r.sites.push(SiteReport {
        function: "allocgate::engine::output::scale_array".to_owned(),
        size: 36,
        count: 8,
        per_callback: 2.0,
        kind: "output".to_owned(),
        site: Some("scale-array".to_owned()),
        class_bytes: Some(48),
        class: Some(MacosRegion::Tiny),
        deallocations: 8,
        reallocations: 0,
        backtrace: vec![
            "alloc::alloc::alloc".to_owned(),
            "allocgate::engine::output::scale_array".to_owned(),
        ],
    });
    r
}

fn rows() -> Vec<SummaryRow> {
    vec![
        SummaryRow {
            label: "allocations per second".to_owned(),
            before: "4".to_owned(),
            after: "0".to_owned(),
            change: "−100 %".to_owned(),
        },
        SummaryRow {
            label: "output p99".to_owned(),
            before: "0.4 µs".to_owned(),
            after: "20 µs".to_owned(),
            change: "+4900 %".to_owned(),
        },
    ]
}

fn render_pair(before: &Report, after: &Report) -> String {
    render(&Page {
        title: "seed against fixed".to_owned(),
        before,
        after,
        summary: rows(),
    })
}

#[test]
fn the_page_is_one_document_with_every_section_in_order() {
    let html = render_pair(&allocating(), &output_only(50));
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.ends_with("</body>\n</html>\n"));
    assert_eq!(html.matches("<html").count(), 1);
    assert_eq!(html.matches("<body>").count(), 1);
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("<meta name=\"viewport\" content=\"width=device-width\">"));
    assert!(html.contains("<title>seed against fixed</title>"));
    let mut at = 0;
    for id in [
        "summary",
        "latency",
        "allocated",
        "timeline",
        "size-classes",
        "sites",
        "settings",
    ] {
        let found = html[at..]
            .find(&format!("<h2 id=\"{id}\">"))
            .unwrap_or_else(|| panic!("section {id} missing or out of order"));
        at += found;
    }
    assert!(html.contains("<td>output p99</td>"));
    assert!(html.contains("+4900 %"));
    assert!(html.contains("@media print"));
    assert!(html.contains("svg { display: block; max-width: 100%; height: auto; }"));
}

#[test]
fn each_plot_is_an_inline_svg_or_a_sentence_in_its_place() {
    let html = render_pair(&allocating(), &output_only(50));
    // Durations: output and input. Allocated split: output (no input
    // callback allocated). Timeline: output and input. Size classes: one.
    assert_eq!(html.matches("<svg").count(), 6);
    assert_eq!(html.matches("</svg>").count(), 6);
    assert!(html.contains("no input callback touched the allocator"));
    for figure in html.split("<figure>").skip(1) {
        let figure = &figure[..figure.find("</figure>").expect("figure closes")];
        assert!(
            figure.contains("<svg") || figure.contains("<p class=\"none\">"),
            "empty figure: {figure}"
        );
    }
}

#[test]
fn names_from_reports_and_devices_appear_escaped_and_never_raw() {
    let mut before = allocating();
    before.config.preset = Some(HOSTILE.to_owned());
    before.config.scenario = Some(HOSTILE.to_owned());
    before.environment.cpu = HOSTILE.to_owned();
    before.sites[0].function = HOSTILE.to_owned();
    before.sites[0].kind = HOSTILE.to_owned();
    before.sites[0].backtrace.push(HOSTILE.to_owned());
    before.integrity.reason = Some(HOSTILE.to_owned());
    let mut after = output_only(10);
    after.backend = Some(BackendReport {
        name: "jack".to_owned(),
        input: HOSTILE.to_owned(),
        output: HOSTILE.to_owned(),
        ended_early: Some(HOSTILE.to_owned()),
        ..BackendReport::default()
    });
    let html = render(&Page {
        title: HOSTILE.to_owned(),
        before: &before,
        after: &after,
        summary: vec![SummaryRow {
            label: HOSTILE.to_owned(),
            before: HOSTILE.to_owned(),
            after: HOSTILE.to_owned(),
            change: HOSTILE.to_owned(),
        }],
    });
    assert!(!html.contains("<script"), "raw script tag in the page");
    assert!(!html.contains(HOSTILE));
    assert!(!html.contains("& 'co'"));
    // Title, heading, runs line (twice: preset and scenario, and the
    // devices), summary (4), site (function, kind, stack), settings.
    assert!(
        html.matches(HOSTILE_ESCAPED).count() >= 15,
        "{} escaped copies",
        html.matches(HOSTILE_ESCAPED).count()
    );
    assert!(html.contains(&format!("<title>{HOSTILE_ESCAPED}</title>")));
}

#[test]
fn the_page_has_no_script_and_refers_to_nothing_outside_itself() {
    let html = render_pair(&allocating(), &output_only(50));
    for banned in [
        "http://", "https://", "<script", "url(", "@import", "<link", "src=", "href=", "<img",
    ] {
        assert!(!html.contains(banned), "page contains {banned:?}");
    }
    for family in html.split("font-family=\"").skip(1) {
        assert!(family.starts_with("sans-serif\""), "font {family:.40}");
    }
}

#[test]
fn a_report_with_no_sites_says_how_to_get_them() {
    let html = render_pair(&allocating(), &output_only(5));
    let after = &html[html.find("<h3>After</h3>").expect("after sites")..];
    assert!(after.contains("run with <code>--trace-sites</code> to name them"));
    let before = &html[html.find("<h3>Before</h3>").unwrap()..html.find("<h3>After</h3>").unwrap()];
    assert!(before.contains("<code>allocgate::engine::output::scale_array</code>"));
    assert!(before.contains("<details><summary>example stack</summary><pre>alloc::alloc::alloc\n"));
    assert!(before.contains("tiny 48&nbsp;B"));
}

#[test]
fn kinds_without_callbacks_do_not_panic_and_say_no_callbacks() {
    let html = render_pair(&output_only(3), &output_only(3));
    let latency =
        &html[html.find("id=\"latency\"").unwrap()..html.find("id=\"allocated\"").unwrap()];
    assert!(latency.contains("no callbacks of this kind (input)"));
    assert_eq!(latency.matches("<svg").count(), 1);
    assert!(html.contains("No callback touched the allocator in either run"));
    assert!(html.contains("No callback allocated in either run"));

    let empty = Report::from_aggregates(
        sample_config(),
        sample_environment(),
        &Aggregator::new().finish(Duration::ZERO),
        Integrity::pass(),
    );
    let html = render_pair(&empty, &empty);
    assert_eq!(html.matches("<svg").count(), 0);
    assert_eq!(html.matches("no callbacks of this kind").count(), 4);
}

#[test]
fn older_reports_without_histograms_or_timelines_say_so() {
    let mut old = allocating();
    old.latency_histograms = ByKind::default();
    old.timeline = ByKind::default();
    let html = render_pair(&old, &old);
    assert!(html.contains("no latency histogram in these reports"));
    assert!(html.contains("no timeline in these reports"));
}

#[test]
fn the_settings_table_marks_what_differs_between_the_runs() {
    let before = allocating();
    let mut after = allocating();
    after.config.variant = "fixed".to_owned();
    let html = render_pair(&before, &after);
    assert!(
        html.contains("<tr class=\"differs\"><th>variant</th><td>prefix</td><td>fixed</td></tr>")
    );
    assert!(html.contains("<tr><th>seed</th><td>7</td><td>7</td></tr>"));
}
