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
        // One run did not measure it (`not counted`).
        _ => "not comparable".to_owned(),
    }
}

/// A row as the tables show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    /// What is measured.
    pub metric: String,
    /// The value before, in the row's unit.
    pub before: String,
    /// The value after.
    pub after: String,
    /// The change (see `change`).
    pub change: String,
    /// The row's caveats, comma-separated; empty when it compares like
    /// for like.
    pub caveat: String,
}

/// Every row, as shown.
pub fn summary_rows(c: &Comparison) -> Vec<Shown> {
    c.rows
        .iter()
        .map(|r| Shown {
            metric: r.metric.clone(),
            before: shown(r, &r.before),
            after: shown(r, &r.after),
            change: change(r),
            caveat: r
                .caveats
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect()
}

/// The sentence under a forced comparison's table, and one line per
/// difference: its caveat's word and what differs. Empty when the runs
/// compare like for like.
pub fn forced_notes(c: &Comparison) -> Option<(String, Vec<String>)> {
    if c.forced_differences.is_empty() {
        return None;
    }
    let lines = c
        .forced_differences
        .iter()
        .map(|d| format!("{}: {}", d.caveat.name(), d.text))
        .collect();
    Some((
        "Compared with --force although the runs differ; the rows marked in the caveat \
         column do not compare like for like:"
            .to_owned(),
        lines,
    ))
}

/// Markdown: a heading line, the table (with a caveat column when a row
/// has one), and any forced differences. Pipes in labels are escaped so
/// a cell never breaks the table.
pub fn render_markdown(c: &Comparison) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let rows = summary_rows(c);
    let marked = rows.iter().any(|r| !r.caveat.is_empty());
    let mut s = String::new();
    let _ = writeln!(
        s,
        "allocgate compare: before {}, after {}; {}\n",
        cell(&c.before_label),
        cell(&c.after_label),
        cell(&c.configuration)
    );
    let _ = write!(
        s,
        "| metric | before ({}) | after ({}) | change |",
        cell(&c.before_label),
        cell(&c.after_label)
    );
    s.push_str(if marked {
        " caveat |\n|---|---:|---:|---:|---|\n"
    } else {
        "\n|---|---:|---:|---:|\n"
    });
    for r in &rows {
        let _ = write!(
            s,
            "| {} | {} | {} | {} |",
            r.metric, r.before, r.after, r.change
        );
        if marked {
            let _ = write!(s, " {} |", r.caveat);
        }
        s.push('\n');
    }
    if let Some((heading, lines)) = forced_notes(c) {
        let _ = writeln!(s, "\n{heading}\n");
        for line in lines {
            let _ = writeln!(s, "- {line}");
        }
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
