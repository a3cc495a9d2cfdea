//! The gate's result as JUnit XML, for CI systems: one `<testcase>` per
//! scenario, a `<failure>` with the counts and the first offending
//! callback when it failed. An interrupted gate lists the scenarios that
//! did not finish too: the one under way with an `<error>`, those after
//! it `<skipped>`, so no CI reader takes the file for a pass. Written by hand (the format is small) and
//! atomically (a temporary file renamed over the target).

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use super::{GateOutcome, NotRun};
use allocgate_engine::text::{allocator_calls, count};

/// `text` with XML's special characters escaped and characters XML 1.0
/// cannot carry (control characters but tab, newline, return) dropped.
pub fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&apos;"),
            '\t' | '\n' | '\r' => s.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => s.push(c),
        }
    }
    s
}

/// The JUnit XML document for `o`.
pub fn render(o: &GateOutcome) -> String {
    let tests = o.results.len() + o.not_run.len();
    let failures = o.failed();
    let stopped = |n: &&NotRun| matches!(n, NotRun::Stopped(_));
    let errors = o.not_run.iter().filter(stopped).count();
    let skipped = o.not_run.len() - errors;
    let time: f64 = o.results.iter().map(|r| r.wall.as_secs_f64()).sum();
    let suite = escape(&format!("allocgate gate: {}", o.config.label()));
    let class = escape(&format!("allocgate.gate.{}", o.config.variant.name()));
    let mut s = String::new();
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        s,
        r#"<testsuites name="allocgate gate" tests="{tests}" failures="{failures}" errors="{errors}" time="{time:.3}">"#
    );
    let _ = writeln!(
        s,
        r#"  <testsuite name="{suite}" tests="{tests}" failures="{failures}" errors="{errors}" skipped="{skipped}" time="{time:.3}">"#
    );
    for r in &o.results {
        let name = escape(&r.name);
        let t = r.wall.as_secs_f64();
        let failed = r.failures();
        if failed.is_empty() {
            let _ = writeln!(
                s,
                r#"    <testcase classname="{class}" name="{name}" time="{t:.3}"/>"#
            );
            continue;
        }
        let failed: Vec<String> = failed.iter().map(ToString::to_string).collect();
        let message = escape(&failed.join("; "));
        let _ = writeln!(
            s,
            r#"    <testcase classname="{class}" name="{name}" time="{t:.3}">"#
        );
        let _ = writeln!(
            s,
            r#"      <failure message="{message}" type="allocgate.gate">{}</failure>"#,
            escape(&format!(
                "callbacks: {} input, {} output; {}; {}, {}; integrity {}\n{}",
                r.callbacks.0,
                r.callbacks.1,
                allocator_calls(
                    r.counts.allocations,
                    r.counts.deallocations,
                    r.counts.reallocations
                ),
                count(r.xruns.underruns, "underrun"),
                count(r.xruns.overruns, "overrun"),
                r.integrity,
                failed.join("\n")
            ))
        );
        let _ = writeln!(s, "    </testcase>");
    }
    let why = o.interrupted.map_or("an interrupt", |i| i.name());
    for not_run in &o.not_run {
        let name = escape(not_run.name());
        let (tag, message, kind) = match not_run {
            NotRun::Stopped(_) => (
                "error",
                format!("interrupted by {why} before it finished"),
                r#" type="allocgate.interrupted""#,
            ),
            NotRun::Skipped(_) => (
                "skipped",
                format!("not run: the gate was interrupted by {why}"),
                "",
            ),
        };
        let _ = writeln!(
            s,
            r#"    <testcase classname="{class}" name="{name}" time="0.000">"#
        );
        let _ = writeln!(s, r#"      <{tag} message="{message}"{kind}/>"#);
        let _ = writeln!(s, "    </testcase>");
    }
    let _ = writeln!(s, "  </testsuite>");
    let _ = writeln!(s, "</testsuites>");
    s
}

/// Writes [`render`]'s document to `path` atomically (its directory made
/// first): the file is replaced whole or left as it was.
pub fn write(path: &Path, o: &GateOutcome) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    crate::files::write_atomically(path, render(o).as_bytes(), |_| Ok(()))
}
