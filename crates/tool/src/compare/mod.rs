//! Before/after comparisons of two run reports: the rows of the bug
//! report's "Expected Results" tables (allocations per second, per 10 s,
//! per callback, in the 48-byte class, latency percentiles, CPU load,
//! deadline misses, xruns, integrity), measured, with the change between
//! them; refused when the two runs are not comparable, and with `--force`
//! every row the difference affects marked with its [`Caveat`].

mod caveat;
mod render;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::report::{KindTotals, LatencyReport, Report};

pub use caveat::{Caveat, Difference, differences};
pub use render::{Shown, forced_notes, render_json, render_markdown, summary_rows};

use caveat::{Basis, Runs};

/// What a row shows for a figure its run did not measure.
pub const NOT_COUNTED: &str = "not counted";

/// Seconds the "per 10 s" row projects the rate to, as the table of the
/// binauralizer's measured allocations does ("Total allocations (10 sec)").
pub const PROJECTION_SECONDS: f64 = 10.0;

/// How to compare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Compare even when the configurations differ (the differences are
    /// listed with the result).
    pub force: bool,
}

/// A figure of one report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// A number, in the row's unit.
    Number(f64),
    /// A word (the integrity verdict).
    Text(String),
}

/// One row: a metric, its value before and after, and the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// What is measured.
    pub metric: String,
    /// The unit of the values ("" for counts).
    pub unit: String,
    /// Decimals shown.
    pub decimals: u8,
    /// The first report's value.
    pub before: Value,
    /// The second report's value.
    pub after: Value,
    /// `after − before`, for numbers.
    pub difference: Option<f64>,
    /// The difference over `before`, in percent; null when `before` is 0
    /// or the values are words.
    pub change_percent: Option<f64>,
    /// What makes the two values not like for like (runs compared with
    /// `--force`); empty when they are.
    #[serde(default)]
    pub caveats: Vec<Caveat>,
}

impl Row {
    fn number(metric: &str, unit: &str, decimals: u8, before: f64, after: f64) -> Row {
        Row {
            metric: metric.to_owned(),
            unit: unit.to_owned(),
            decimals,
            before: Value::Number(before),
            after: Value::Number(after),
            difference: Some(after - before),
            change_percent: (before != 0.0).then(|| (after - before) / before * 100.0),
            caveats: Vec::new(),
        }
    }

    fn count(metric: &str, before: u64, after: u64) -> Row {
        Row::number(metric, "", 0, before as f64, after as f64)
    }

    /// A count only one run may have measured: the other side reads
    /// `not counted`, with no difference.
    fn measured(metric: &str, before: Option<u64>, after: Option<u64>) -> Row {
        match (before, after) {
            (Some(b), Some(a)) => Row::count(metric, b, a),
            (b, a) => {
                let side = |v: Option<u64>| match v {
                    Some(n) => Value::Number(n as f64),
                    None => Value::Text(NOT_COUNTED.to_owned()),
                };
                Row {
                    before: side(b),
                    after: side(a),
                    ..Row::text(metric, "", "")
                }
            }
        }
    }

    fn text(metric: &str, before: &str, after: &str) -> Row {
        Row {
            metric: metric.to_owned(),
            unit: String::new(),
            decimals: 0,
            before: Value::Text(before.to_owned()),
            after: Value::Text(after.to_owned()),
            difference: None,
            change_percent: None,
            caveats: Vec::new(),
        }
    }
}

/// Two reports compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// What the first report ran (variant and sites), for headings.
    pub before_label: String,
    /// What the second report ran.
    pub after_label: String,
    /// The configuration both ran, as a sentence.
    pub configuration: String,
    /// The rows, in the order the tables of the binauralizer's measured
    /// allocations have them.
    pub rows: Vec<Row>,
    /// Differences between the runs compared across anyway (`--force`),
    /// each with the caveat it puts on the rows it affects.
    pub forced_differences: Vec<Difference>,
}

/// Why two reports were not compared.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CompareError {
    /// Their runs differ where the figures depend on it.
    Incomparable(Vec<Difference>),
}

impl fmt::Display for CompareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompareError::Incomparable(d) => {
                let texts: Vec<&str> = d.iter().map(|d| d.text.as_str()).collect();
                write!(
                    f,
                    "the reports' runs differ ({}); compare runs made the same way, or pass \
                     --force to compare them anyway with the rows this affects marked",
                    texts.join("; ")
                )
            }
        }
    }
}

impl std::error::Error for CompareError {}

fn label(r: &Report) -> String {
    let c = &r.config;
    let extra: Vec<&str> = c
        .sites
        .iter()
        .map(String::as_str)
        .filter(|s| {
            !allocgate_engine::variant::Variant::from_name(&c.variant)
                .is_some_and(|v| v.sites().iter().any(|site| site.name() == *s))
        })
        .collect();
    if extra.is_empty() {
        c.variant.clone()
    } else {
        format!("{} +{}", c.variant, extra.join(","))
    }
}

fn per_callback(t: &KindTotals) -> f64 {
    if t.callbacks == 0 {
        0.0
    } else {
        t.allocations as f64 / t.callbacks as f64
    }
}

/// Requests in macOS malloc's 48-byte class, both kinds.
fn class_48(r: &Report) -> u64 {
    r.size_classes
        .macos
        .iter()
        .filter(|m| m.class_bytes == Some(48))
        .map(|m| m.count)
        .sum()
}

/// Picks one figure of a latency summary.
type Percentile = fn(&LatencyReport) -> u64;

fn micros(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// Compares `before` with `after`: every row from their measurements.
/// Refuses runs that differ in a way that changes what their figures
/// mean (see [`differences`]) unless `options.force`; then every row a
/// difference affects carries its [`Caveat`].
pub fn compare(
    before: &Report,
    after: &Report,
    options: Options,
) -> Result<Comparison, CompareError> {
    let forced = differences(before, after);
    if !forced.is_empty() && !options.force {
        return Err(CompareError::Incomparable(forced));
    }
    let mut rows = rows(before, after);
    let runs = Runs::of(before, after);
    for (row, basis) in &mut rows {
        for d in &forced {
            if d.caveat.affects(*basis, runs) && !row.caveats.contains(&d.caveat) {
                row.caveats.push(d.caveat);
            }
        }
    }
    let c = &after.config;
    Ok(Comparison {
        before_label: label(before),
        after_label: label(after),
        configuration: format!(
            "{} ch at {} Hz / {} frames, {} s, {}",
            c.channels, c.sample_rate, c.frames, c.seconds, c.backend
        ),
        rows: rows.into_iter().map(|(row, _)| row).collect(),
        forced_differences: forced,
    })
}

/// The blocking C library calls' rows, when either run counted them
/// (`--c-level`): all of them, the callbacks that made any, and one row
/// per function either run called. A run that did not count them shows
/// `not counted`, never 0. None when neither did.
fn blocking_rows(b: &Report, a: &Report) -> Vec<Row> {
    let (bt, at) = (&b.totals, &a.totals);
    if bt.blocking_calls.is_none() && at.blocking_calls.is_none() {
        return Vec::new();
    }
    let total = |t: &crate::report::TotalsReport| {
        t.blocking_calls
            .as_ref()
            .map(|m| m.values().fold(0u64, |s, &n| s.saturating_add(n)))
    };
    let mut rows = vec![
        Row::measured("blocking C calls", total(bt), total(at)),
        Row::measured(
            "callbacks that made a blocking C call",
            bt.callbacks_blocking,
            at.callbacks_blocking,
        ),
    ];
    let names: std::collections::BTreeSet<&String> = [bt, at]
        .iter()
        .filter_map(|t| t.blocking_calls.as_ref())
        .flat_map(|m| m.keys())
        .collect();
    for name in names {
        // A run that counted C-level calls and shows no entry made none.
        let calls = |t: &crate::report::TotalsReport| {
            t.blocking_calls
                .as_ref()
                .map(|m| m.get(name).copied().unwrap_or(0))
        };
        rows.push(Row::measured(
            &format!("blocking C calls: {name}"),
            calls(bt),
            calls(at),
        ));
    }
    rows
}

/// Every row, with what its figures rest on.
fn rows(b: &Report, a: &Report) -> Vec<(Row, Basis)> {
    let per_second = if b.rates.is_extrapolated() || a.rates.is_extrapolated() {
        "allocations per second (extrapolated from a run shorter than 1 s)"
    } else {
        "allocations per second"
    };
    let mut rows = vec![
        Row::number(
            per_second,
            "/s",
            1,
            b.rates.allocations_per_second,
            a.rates.allocations_per_second,
        ),
        // The rate projected, not a count: a run of 5 s made half as many.
        Row::number(
            "allocations per 10 s (rate × 10)",
            "",
            0,
            (b.rates.allocations_per_second * PROJECTION_SECONDS).round(),
            (a.rates.allocations_per_second * PROJECTION_SECONDS).round(),
        ),
        Row::count(
            "allocations (whole run)",
            b.totals.allocations,
            a.totals.allocations,
        ),
        Row::number(
            "allocations per input callback",
            "",
            2,
            per_callback(&b.totals.input),
            per_callback(&a.totals.input),
        ),
        Row::number(
            "allocations per output callback",
            "",
            2,
            per_callback(&b.totals.output),
            per_callback(&a.totals.output),
        ),
        Row::count("in the 48-byte macOS class", class_48(b), class_48(a)),
        Row::count(
            "deallocations",
            b.totals.deallocations,
            a.totals.deallocations,
        ),
        Row::count(
            "reallocations",
            b.totals.reallocations,
            a.totals.reallocations,
        ),
        Row::count(
            "callbacks that touched the allocator",
            b.totals.callbacks_touching_allocator,
            a.totals.callbacks_touching_allocator,
        ),
    ]
    .into_iter()
    .map(|r| (r, Basis::Count))
    .collect::<Vec<_>>();
    for (kind, bl, al) in [
        ("input", &b.latency.input.all, &a.latency.input.all),
        ("output", &b.latency.output.all, &a.latency.output.all),
    ] {
        let pick: [(&str, Percentile); 4] = [
            ("p50", |l| l.p50_ns),
            ("p99", |l| l.p99_ns),
            ("p99.9", |l| l.p999_ns),
            ("max", |l| l.max_ns),
        ];
        for (name, f) in pick {
            rows.push((
                Row::number(
                    &format!("{kind} latency {name}"),
                    "µs",
                    1,
                    micros(f(bl)),
                    micros(f(al)),
                ),
                Basis::Timing,
            ));
        }
    }
    for (kind, bl, al) in [
        ("input", &b.cpu_load.input, &a.cpu_load.input),
        ("output", &b.cpu_load.output, &a.cpu_load.output),
    ] {
        rows.push((
            Row::number(
                &format!("{kind} CPU load, mean"),
                "%",
                2,
                bl.mean * 100.0,
                al.mean * 100.0,
            ),
            Basis::Timing,
        ));
        rows.push((
            Row::number(
                &format!("{kind} CPU load, max"),
                "%",
                2,
                bl.max * 100.0,
                al.max * 100.0,
            ),
            Basis::Timing,
        ));
    }
    let (bh, ah) = (&b.totals, &a.totals);
    type Pick = fn(&crate::report::HazardsReport) -> u64;
    let sum = |t: &crate::report::TotalsReport, f: Pick| f(&t.input.hazards) + f(&t.output.hazards);
    // Locks are always counted; faults and switches only where sampled.
    let hazard_rows: [(&str, Pick, Basis); 5] = [
        ("lock acquisitions", |h| h.lock_acquisitions, Basis::Count),
        // Whether a lock is found held depends on how long callbacks take.
        ("contended locks", |h| h.lock_contentions, Basis::Timing),
        (
            "voluntary context switches",
            |h| h.voluntary_switches,
            Basis::Usage,
        ),
        (
            "page faults",
            |h| h.minor_faults + h.major_faults,
            Basis::Usage,
        ),
        (
            "callbacks sampled for faults and switches",
            |h| h.callbacks_sampled,
            Basis::Sampling,
        ),
    ];
    for (name, f, basis) in hazard_rows {
        rows.push((Row::count(name, sum(bh, f), sum(ah, f)), basis));
    }
    rows.extend(blocking_rows(b, a).into_iter().map(|r| (r, Basis::Count)));
    rows.push((
        Row::count(
            "deadline misses",
            b.deadline_misses.input + b.deadline_misses.output,
            a.deadline_misses.input + a.deadline_misses.output,
        ),
        Basis::Timing,
    ));
    rows.push((
        Row::count("underruns", b.xruns.underruns, a.xruns.underruns),
        Basis::Xrun,
    ));
    rows.push((
        Row::count("overruns", b.xruns.overruns, a.xruns.overruns),
        Basis::Xrun,
    ));
    rows.push((
        Row::text(
            "integrity",
            b.integrity.verdict.word(),
            a.integrity.verdict.word(),
        ),
        Basis::Verdict,
    ));
    rows
}
