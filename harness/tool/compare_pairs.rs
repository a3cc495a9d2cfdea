//! `allocgate compare` through the binary on pairs of runs that do not
//! compare like for like: a traced run against an untraced one, usage
//! sampled against not, a run that ended early against a full one. Each
//! is refused with one line naming the difference and what `--force`
//! does; with `--force`, the rows the difference affects are marked in
//! the markdown, the JSON and the HTML, and no other row is.

use std::path::Path;

use allocgate_tool::report::{BackendReport, read_json, write_json};
use serde_json::Value;

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// A 1 s run of `prefix` (it allocates in every output callback and takes
/// a lock) with `flags`, its report at `out`.
fn run(out: &Path, flags: &[&str]) {
    let mut args = vec![
        "run",
        "--variant",
        "prefix",
        "--seconds",
        "1",
        "--out",
        path(out),
    ];
    args.extend_from_slice(flags);
    let o = crate::rig::allocgate(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The one-line refusal of comparing `before` with `after`.
fn refused(before: &Path, after: &Path) -> String {
    let o = crate::rig::allocgate(&["compare", path(before), path(after)]);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(o.stdout.is_empty(), "nothing printed on a refusal");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr
            .trim_end()
            .ends_with("or pass --force to compare them anyway with the rows this affects marked"),
        "{stderr}"
    );
    stderr
}

/// What `compare --force` printed and wrote.
struct Forced {
    markdown: String,
    json: Value,
    html: String,
}

fn forced(dir: &Path, before: &Path, after: &Path) -> Forced {
    let (json, html) = (dir.join("c.json"), dir.join("c.html"));
    let o = crate::rig::allocgate(&[
        "compare",
        path(before),
        path(after),
        "--force",
        "--json",
        path(&json),
        "--html",
        path(&html),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Forced {
        markdown: String::from_utf8_lossy(&o.stdout).into_owned(),
        json: serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap(),
        html: std::fs::read_to_string(html).unwrap(),
    }
}

impl Forced {
    /// The metrics whose markdown caveat cell is `caveat`, and the
    /// number of rows in all.
    fn marked_in_markdown(&self, caveat: &str) -> (Vec<String>, usize) {
        let rows: Vec<Vec<&str>> = self
            .markdown
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| metric |"))
            .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
            .collect();
        for r in &rows {
            assert_eq!(r.len(), 5, "metric, before, after, change, caveat: {r:?}");
        }
        let marked = rows
            .iter()
            .filter(|r| r[4] == caveat)
            .map(|r| r[0].to_owned())
            .collect();
        (marked, rows.len())
    }

    /// The metrics whose JSON `caveats` are exactly `[caveat]`; every
    /// other row must have none.
    fn marked_in_json(&self, caveat: &str) -> Vec<String> {
        let rows = self.json["rows"].as_array().expect("rows");
        let mut marked = Vec::new();
        for r in rows {
            match r["caveats"].as_array().expect("caveats").as_slice() {
                [] => {}
                [only] if only == caveat => marked.push(r["metric"].as_str().unwrap().to_owned()),
                other => panic!("{}: caveats {other:?}", r["metric"]),
            }
        }
        marked
    }

    /// Every marked row and the notes are on the HTML page too.
    fn check_html(&self, marked: &[String], caveat: &str, note: &str) {
        assert!(self.html.contains("<th>caveat</th>"));
        for metric in marked {
            let row = format!("<tr class=\"differs\"><td>{metric}</td>");
            let at = self
                .html
                .find(&row)
                .unwrap_or_else(|| panic!("{metric} not marked on the page"));
            let end = at + self.html[at..].find("</tr>").unwrap();
            assert!(
                self.html[at..end].ends_with(&format!("<td>{caveat}</td>")),
                "{}",
                &self.html[at..end]
            );
        }
        let rows = self.html.matches("<tr class=\"differs\"><td>").count();
        assert_eq!(rows, marked.len(), "summary rows marked on the page");
        assert!(self.html.contains(note), "the page names the difference");
    }
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

#[test]
fn a_traced_run_against_an_untraced_one_is_refused_and_forced_marks_its_timing_rows() {
    let dir = crate::rig::scratch("compare-pairs", "tracing");
    let (plain, traced) = (dir.join("plain.json"), dir.join("traced.json"));
    run(&plain, &[]);
    run(&traced, &["--trace-sites"]);
    assert!(!read_json(&plain).unwrap().config.trace_sites);
    assert!(read_json(&traced).unwrap().config.trace_sites);

    let stderr = refused(&plain, &traced);
    assert!(
        stderr.starts_with(
            "error: the reports' runs differ (only the after run traced allocation sites \
             (--trace-sites), which slows its callbacks)"
        ),
        "{stderr}"
    );

    let f = forced(&dir, &plain, &traced);
    // Virtual time, no usage read: the durations and what follows from
    // them; the allocator counts, exact either way, are not marked.
    let (marked, _) = f.marked_in_markdown("tracing");
    assert_eq!(marked, TIMING_ROWS);
    assert_eq!(f.marked_in_json("tracing"), TIMING_ROWS);
    let note = "tracing: only the after run traced allocation sites (--trace-sites), which \
                slows its callbacks";
    assert!(
        f.markdown.contains(&format!("\n- {note}\n")),
        "{}",
        f.markdown
    );
    f.check_html(&marked, "tracing", note);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_sampled_against_unsampled_is_refused_and_forced_marks_the_usage_rows() {
    if let Err(e) = allocgate::hazard::check_usage() {
        assert!(!crate::rig::on_ci(), "--rusage unavailable on CI: {e}");
        eprintln!("skipped: --rusage is not available here ({e})");
        return;
    }
    let dir = crate::rig::scratch("compare-pairs", "rusage");
    let (sampled, plain) = (dir.join("sampled.json"), dir.join("plain.json"));
    run(&sampled, &["--rusage"]);
    run(&plain, &[]);
    assert!(read_json(&sampled).unwrap().config.rusage);

    let stderr = refused(&sampled, &plain);
    assert!(
        stderr.contains("(only the before run read page faults and context switches (--rusage))"),
        "{stderr}"
    );

    let f = forced(&dir, &sampled, &plain);
    let usage = [
        "voluntary context switches",
        "page faults",
        "callbacks sampled for faults and switches",
    ];
    let (marked, _) = f.marked_in_markdown("usage sampling");
    assert_eq!(marked, usage);
    assert_eq!(f.marked_in_json("usage-sampling"), usage);
    // 1 s at 48 kHz in 512-frame callbacks: 94 of each kind sampled
    // before, none after.
    let callbacks = (48_000f64 / 512.0).ceil() as u64 * 2;
    assert!(
        f.markdown.contains(&format!(
            "| callbacks sampled for faults and switches | {callbacks} | 0 | −100.0 % | usage \
             sampling |"
        )),
        "{}",
        f.markdown
    );
    let note = "usage sampling: only the before run read page faults and context switches \
                (--rusage)";
    f.check_html(&marked, "usage sampling", note);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_run_that_ended_early_is_refused_and_forced_marks_every_figure_but_the_verdict() {
    let dir = crate::rig::scratch("compare-pairs", "ended-early");
    let (full, early) = (dir.join("full.json"), dir.join("early.json"));
    run(&full, &[]);
    // A real backend's run whose server went away after 0.25 s: the
    // simulated clock never ends early, so its report is made from a full
    // one the way the JACK backend fills it in.
    let mut r = read_json(&full).unwrap();
    r.rates.seconds = 0.25;
    r.backend = Some(BackendReport {
        name: "jack".to_owned(),
        ended_early: Some("the JACK server went away".to_owned()),
        ..BackendReport::default()
    });
    write_json(&early, &r).unwrap();

    let stderr = refused(&full, &early);
    assert!(
        stderr.contains(
            "(the after run ended early, after 0.25 s of 1 s (the JACK server went away))"
        ),
        "{stderr}"
    );

    let f = forced(&dir, &full, &early);
    let (marked, rows) = f.marked_in_markdown("length");
    // Every figure: totals add up over different spans, rates and
    // averages weigh the warm-up differently, tails see fewer callbacks.
    assert_eq!(marked.len(), rows - 1, "{marked:?}");
    // Labelled as extrapolated when either run is shorter than a second.
    assert!(
        marked
            .iter()
            .any(|m| m.starts_with("allocations per second"))
    );
    assert!(
        marked
            .iter()
            .any(|m| m == "allocations per 10 s (rate × 10)")
    );
    assert!(!marked.iter().any(|m| m == "integrity"));
    assert_eq!(f.marked_in_json("length"), marked);
    let note = "length: the after run ended early, after 0.25 s of 1 s (the JACK server went away)";
    f.check_html(&marked, "length", note);
    let _ = std::fs::remove_dir_all(&dir);
}
