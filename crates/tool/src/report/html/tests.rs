//! The page rendered from small hand-fed reports.

use std::time::Duration;

use super::*;
use crate::metrics::Aggregator;
use crate::metrics::Record;
use crate::report::tests::{sample_config, sample_environment, sample_report};
use crate::report::{BackendReport, Integrity, MacosRow, SiteReport};

const HOSTILE: &str = "<script>alert(1)</script> & 'co'";
const HOSTILE_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;co&#39;";

/// A report of `n` output callbacks 10 ms apart taking 20 µs each,
/// allocation-free, and no input callback.
fn output_only(n: u64) -> Report {
    let mut agg = Aggregator::new();
    for i in 0..n {
        agg.record(
            &Record::new(CallbackKind::Output)
                .with_index(i)
                .with_device_time(i * 480)
                .with_frames(480, 10_000_000)
                .with_wall_ns(20_000),
        );
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
    let row = MacosRow {
        class_bytes: Some(48),
        class: MacosRegion::Tiny,
        count: 8,
    };
    r.size_classes.macos.push(row);
    r.size_classes.output.macos.push(row);
    r.config.trace_sites = true;
    r.sites.push(SiteReport {
        function: "allocgate_engine::output::scale_array".to_owned(),
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
            "allocgate_engine::output::scale_array".to_owned(),
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
            caveat: String::new(),
        },
        SummaryRow {
            label: "output p99".to_owned(),
            before: "0.4 µs".to_owned(),
            after: "20 µs".to_owned(),
            change: "+4900 %".to_owned(),
            caveat: String::new(),
        },
    ]
}

fn render_pair(before: &Report, after: &Report) -> String {
    render(&Page {
        title: "seed against fixed".to_owned(),
        before,
        after,
        summary: rows(),
        notes: None,
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
    // callback allocated). Timeline: output and input. Size classes:
    // output (no input callback allocated).
    assert_eq!(html.matches("<svg").count(), 6);
    assert_eq!(html.matches("</svg>").count(), 6);
    assert!(html.contains("no input callback touched the allocator"));
    assert!(html.contains("no input callback allocated in either run"));
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
            caveat: HOSTILE.to_owned(),
        }],
        notes: Some((HOSTILE.to_owned(), vec![HOSTILE.to_owned()])),
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

fn sites_of<'a>(html: &'a str, which: &str) -> &'a str {
    let start = html
        .find(&format!("<h3>{which}</h3>"))
        .expect("sites heading");
    let end = html.find("<h2 id=\"settings\">").expect("settings heading");
    let part = &html[start..end];
    match part[4..].find("<h3>") {
        Some(next) => &part[..next + 4],
        None => part,
    }
}

#[test]
fn a_traced_run_that_allocated_lists_its_sites_with_a_stack() {
    let html = render_pair(&allocating(), &output_only(5));
    let before = sites_of(&html, "Before");
    assert!(before.contains("<code>allocgate_engine::output::scale_array</code>"));
    assert!(before.contains("<details><summary>example stack</summary><pre>alloc::alloc::alloc\n"));
    assert!(before.contains("tiny 48&nbsp;B"));
}

#[test]
fn a_run_without_allocator_calls_says_there_is_no_site_rather_than_asking_for_a_trace() {
    let html = render_pair(&allocating(), &output_only(5));
    let after = sites_of(&html, "After");
    assert!(
        after.contains("No callback of this run called the allocator"),
        "{after}"
    );
    assert!(!after.contains("--trace-sites"), "{after}");
}

#[test]
fn a_run_that_allocated_without_tracing_says_how_to_name_its_sites() {
    let mut untraced = allocating();
    untraced.sites.clear();
    untraced.config.trace_sites = false;
    let html = render_pair(&untraced, &output_only(5));
    let before = sites_of(&html, "Before");
    // 8 allocations and 8 frees in the sample's output callbacks.
    assert!(
        before.contains(
            "made 16 allocator calls in its callbacks but did not trace their sites: run with \
             <code>--trace-sites</code> to name them"
        ),
        "{before}"
    );
    untraced.config.trace_sites = true;
    assert!(
        tables::no_sites(&untraced).contains("traced allocation sites, yet its report lists none")
    );
}

#[test]
fn kinds_without_callbacks_do_not_panic_and_say_no_callbacks() {
    let html = render_pair(&output_only(3), &output_only(3));
    let latency =
        &html[html.find("id=\"latency\"").unwrap()..html.find("id=\"allocated\"").unwrap()];
    assert!(latency.contains("no callbacks of this kind (input)"));
    assert_eq!(latency.matches("<svg").count(), 1);
    assert!(html.contains("No callback touched the allocator in either run"));
    assert!(html.contains("no output callback allocated in either run"));
    assert!(html.contains("no input callback allocated in either run"));

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

#[test]
fn the_size_class_chart_divides_by_callbacks_of_its_own_kind_as_the_summary_does() {
    let before = allocating();
    let after = output_only(5);
    // 8 requests in the 48-byte class over the sample's 4 output
    // callbacks: 2 per output callback, the summary's "allocations per
    // output callback" (all 8 allocations are in that class). Dividing by
    // both kinds' 6 callbacks would give 1.33.
    let per_output =
        before.totals.output.allocations as f64 / before.totals.callbacks.output as f64;
    let (labels, [b, a]) =
        size_classes_per_callback([&before, &after], CallbackKind::Output).expect("output classes");
    assert_eq!(labels, ["48 B"]);
    assert_eq!(b, [per_output]);
    assert_eq!(b, [2.0]);
    assert_eq!(a, [0.0]);
    assert_eq!(
        size_classes_per_callback([&before, &after], CallbackKind::Input),
        None
    );
    let html = render_pair(&before, &after);
    assert!(html.contains("requests per output callback"));
    assert!(html.contains("the same denominator as the summary"));
}

#[test]
fn rows_that_apply_to_neither_simulated_run_are_left_out() {
    let html = render_pair(&allocating(), &output_only(5));
    let settings = &html[html.find("<h2 id=\"settings\">").unwrap()..];
    for key in [
        "input device",
        "output device",
        "ended early",
        "real-time priority",
    ] {
        assert!(
            !settings.contains(&format!("<th>{key}</th>")),
            "{key} shown"
        );
    }
    assert!(!settings.contains("<td></td>"), "a blank cell");
    assert!(settings.contains("<th>site tracing (--trace-sites)</th><td>on</td><td>off</td>"));
    assert!(settings.contains("<th>usage sampling (--rusage)</th><td>off</td><td>off</td>"));
}

#[test]
fn a_device_row_of_one_run_says_it_does_not_apply_to_the_simulated_other() {
    let mut after = output_only(5);
    after.backend = Some(BackendReport {
        name: "jack".to_owned(),
        input: "system".to_owned(),
        output: "system".to_owned(),
        realtime: Some(true),
        ended_early: Some("the server went away".to_owned()),
        ..BackendReport::default()
    });
    let html = render_pair(&allocating(), &after);
    assert!(html.contains(
        "<tr class=\"differs\"><th>input device</th><td>does not apply</td><td>system</td></tr>"
    ));
    assert!(
        html.contains("<th>ended early</th><td>does not apply</td><td>the server went away</td>")
    );
    assert!(html.contains("<th>real-time priority</th><td>does not apply</td><td>yes</td>"));
    assert!(!html.contains("<td></td>"), "a blank cell");
}

#[test]
fn marked_summary_rows_carry_their_caveat_and_the_notes_follow_the_table() {
    let (before, after) = (allocating(), output_only(5));
    let mut summary = rows();
    summary[1].caveat = "tracing".to_owned();
    let html = render(&Page {
        title: "t".to_owned(),
        before: &before,
        after: &after,
        summary,
        notes: Some((
            "Compared with --force although the runs differ:".to_owned(),
            vec!["tracing: only the after run traced".to_owned()],
        )),
    });
    assert!(html.contains("<th>caveat</th>"));
    assert!(html.contains(
        "<tr class=\"differs\"><td>output p99</td><td class=\"num\">0.4 µs</td>\
         <td class=\"num\">20 µs</td><td class=\"num\">+4900 %</td><td>tracing</td></tr>"
    ));
    assert!(html.contains("<tr><td>allocations per second</td>"));
    let table_end = html.find("</table>").unwrap();
    let notes = html
        .find("<li>tracing: only the after run traced</li>")
        .expect("notes");
    assert!(notes > table_end);
    // Without a caveat anywhere, no caveat column.
    assert!(!render_pair(&before, &after).contains("<th>caveat</th>"));
}
