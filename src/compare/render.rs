//! A comparison as markdown (the table a pull request shows), as JSON,
//! and as the text rows of the HTML page's summary.

use std::fmt::Write as _;

use super::{Comparison, Row, Value};

/// A value as the table shows it, in the row's unit and decimals.
fn shown(row: &Row, v: &Value) -> String {
    match v {
        Value::Text(t) => t.clone(),
        Value::Number(x) => {
            let n = format!("{:.*}", usize::from(row.decimals), x);
            match row.unit.as_str() {
                "" => n,
                "/s" => n,
                unit => format!("{n} {unit}"),
            }
        }
    }
}

/// The change column: the relative change, or what it went from and to
/// when there is no base to divide by.
pub(crate) fn change(row: &Row) -> String {
    match (&row.before, &row.after) {
        (Value::Text(b), Value::Text(a)) => {
            if a == b {
                "same".to_owned()
            } else {
                format!("{b} → {a}")
            }
        }
        (Value::Number(b), Value::Number(a)) => {
            if a == b {
                return "no change".to_owned();
            }
            match row.change_percent {
                Some(p) => format!("{}{:.1} %", if p > 0.0 { "+" } else { "−" }, p.abs()),
                None => {
                    let d = a - b;
                    format!(
                        "{}{:.*}",
                        if d > 0.0 { "+" } else { "−" },
                        usize::from(row.decimals),
                        d.abs()
                    )
                }
            }
        }
        _ => String::new(),
    }
}

/// `(metric, before, after, change)` for every row, as shown.
pub fn summary_rows(c: &Comparison) -> Vec<(String, String, String, String)> {
    c.rows
        .iter()
        .map(|r| {
            (
                r.metric.clone(),
                shown(r, &r.before),
                shown(r, &r.after),
                change(r),
            )
        })
        .collect()
}

/// Markdown: a heading line, the table, and any forced differences.
/// Pipes in labels are escaped so a cell never breaks the table.
pub fn render_markdown(c: &Comparison) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut s = String::new();
    let _ = writeln!(
        s,
        "allocgate compare: before {}, after {}; {}\n",
        cell(&c.before_label),
        cell(&c.after_label),
        cell(&c.configuration)
    );
    let _ = writeln!(
        s,
        "| metric | before ({}) | after ({}) | change |",
        cell(&c.before_label),
        cell(&c.after_label)
    );
    let _ = writeln!(s, "|---|---:|---:|---:|");
    for (metric, before, after, change) in summary_rows(c) {
        let _ = writeln!(s, "| {metric} | {before} | {after} | {change} |");
    }
    if !c.forced_differences.is_empty() {
        let _ = writeln!(
            s,
            "\nCompared with --force although the runs differ: {}.",
            c.forced_differences.join("; ")
        );
    }
    s
}

/// The comparison as pretty-printed JSON, ending in a newline.
pub fn render_json(c: &Comparison) -> String {
    let mut s =
        serde_json::to_string_pretty(c).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
