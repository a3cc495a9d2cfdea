//! A before/after comparison of two reports as one self-contained HTML
//! page: inline CSS, inline SVG plots (drawn by `plotters`), no script,
//! no font or anything else fetched from anywhere.
//!
//! The caller builds a [`Page`] (the summary rows are its own arithmetic)
//! and [`render`]s it. Every string that comes from a report or a device
//! is [`escape`]d where it enters the page. The page reads at laptop
//! width, shrinks its tables and plots to narrower viewports, and prints
//! without splitting a figure across pages.

mod escape;
mod plots;
mod tables;
mod ticks;

pub use escape::{escape, push_escaped};

use crate::report::{ByKind, KindHistograms, MacosRegion, MacosRow, Report, TimelineBin};
use allocgate_engine::sites::CallbackKind;

use plots::{AFTER, ALLOCATED, BEFORE, NOT_ALLOCATED, Series};

/// What [`render`] shows: two reports and the summary of how they differ.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    /// The page's heading and title (escaped when rendered).
    pub title: String,
    /// The run before the change.
    pub before: &'a Report,
    /// The run after it.
    pub after: &'a Report,
    /// The summary table's rows, in order.
    pub summary: Vec<SummaryRow>,
    /// Under the summary: a sentence and its list (why rows carry
    /// caveats), if anything needs saying (escaped when rendered).
    pub notes: Option<(String, Vec<String>)>,
}

/// One row of the summary table, formatted by the caller (escaped when
/// rendered).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SummaryRow {
    /// What the row measures.
    pub label: String,
    /// Its value before.
    pub before: String,
    /// Its value after.
    pub after: String,
    /// How it changed.
    pub change: String,
    /// Why its two values are not like for like; empty when they are.
    pub caveat: String,
}

const KINDS: [CallbackKind; 2] = [CallbackKind::Output, CallbackKind::Input];

const STYLE: &str = "
:root { color-scheme: light; }
body { font-family: system-ui, sans-serif; color: #1d1d1f; background: #fff;
  max-width: 1100px; margin: 0 auto; padding: 0 1rem 2rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 1.2rem 0 .3rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #ccc; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
p.runs { color: #555; margin-top: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #e3e3e3;
  vertical-align: top; }
thead th { border-bottom: 2px solid #bbb; }
.num { text-align: right; white-space: nowrap; }
table.settings tbody th { font-weight: normal; color: #555; white-space: nowrap; }
tr.differs td { background: #fff4d6; }
code, pre { font-family: ui-monospace, monospace; font-size: .85em; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: .3rem 0; }
table.sites td code { overflow-wrap: anywhere; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr));
  gap: 1rem; }
figure { margin: 0; }
figcaption { font-weight: 600; margin-bottom: .3rem; }
svg { display: block; max-width: 100%; height: auto; }
p.none { color: #555; font-style: italic; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  figure, table, tr, details, .plots > * { break-inside: avoid; page-break-inside: avoid; }
  h2, h3, figcaption { break-after: avoid; page-break-after: avoid; }
  .scroll { overflow: visible; }
}
";

/// The page as one HTML5 document.
pub fn render(page: &Page<'_>) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width\">\n<title>");
    push_escaped(&mut out, &page.title);
    out.push_str("</title>\n<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<h1>");
    push_escaped(&mut out, &page.title);
    out.push_str("</h1>\n<p class=\"runs\">before: ");
    push_escaped(&mut out, &describe(page.before));
    out.push_str("<br>after: ");
    push_escaped(&mut out, &describe(page.after));
    out.push_str("</p>\n");

    section(&mut out, "summary", "Summary");
    tables::summary(&mut out, &page.summary);
    if let Some((sentence, lines)) = &page.notes {
        out.push_str("<p class=\"caveats\">");
        push_escaped(&mut out, sentence);
        out.push_str("</p>\n<ul class=\"caveats\">\n");
        for line in lines {
            out.push_str("<li>");
            push_escaped(&mut out, line);
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
    }

    section(&mut out, "latency", "Callback durations, before and after");
    latency_section(&mut out, page);

    section(
        &mut out,
        "allocated",
        "Callbacks that allocated and callbacks that did not",
    );
    allocated_section(&mut out, page);

    section(&mut out, "timeline", "Allocations per callback over time");
    timeline_section(&mut out, page);

    section(&mut out, "size-classes", "Size classes");
    size_class_section(&mut out, page);

    section(&mut out, "sites", "Top allocation sites");
    for (name, report) in [("Before", page.before), ("After", page.after)] {
        out.push_str(&format!("<h3>{name}</h3>\n"));
        tables::sites(&mut out, report);
    }

    section(&mut out, "settings", "Configuration and environment");
    tables::settings(&mut out, page.before, page.after);

    out.push_str("</body>\n</html>\n");
    out
}

fn section(out: &mut String, id: &str, heading: &str) {
    out.push_str(&format!("<h2 id=\"{id}\">{heading}</h2>\n"));
}

/// `seed, preset kemar, 48000 Hz × 512, sim (virtual), 2 s`: unescaped.
fn describe(r: &Report) -> String {
    let c = &r.config;
    let mut s = c.variant.clone();
    if let Some(scenario) = &c.scenario {
        s.push_str(&format!(", scenario {scenario}"));
    }
    if let Some(preset) = &c.preset {
        s.push_str(&format!(", preset {preset}"));
    }
    s.push_str(&format!(
        ", {} Hz × {}, {} ({}), {} s",
        c.sample_rate, c.frames, c.backend, c.mode, c.seconds
    ));
    if let Some(b) = &r.backend {
        s.push_str(&format!(", {} → {}", b.input, b.output));
    }
    if c.trace_sites {
        s.push_str(", sites traced");
    }
    if c.rusage {
        s.push_str(", usage sampled");
    }
    s
}

fn kind_name(kind: CallbackKind) -> &'static str {
    match kind {
        CallbackKind::Input => "Input",
        CallbackKind::Output => "Output",
    }
}

fn of_kind<T>(by: &ByKind<T>, kind: CallbackKind) -> &T {
    match kind {
        CallbackKind::Input => &by.input,
        CallbackKind::Output => &by.output,
    }
}

fn callbacks(r: &Report, kind: CallbackKind) -> u64 {
    *of_kind(&r.totals.callbacks, kind)
}

/// A figure holding the plot, or a sentence in its place.
fn figure(out: &mut String, caption: &str, plot: Result<String, String>) {
    out.push_str("<figure><figcaption>");
    out.push_str(caption);
    out.push_str("</figcaption>\n");
    match plot {
        Ok(svg) => out.push_str(&svg),
        Err(why) => {
            out.push_str("<p class=\"none\">");
            push_escaped(out, &why);
            out.push_str("</p>\n");
        }
    }
    out.push_str("</figure>\n");
}

/// Why a kind has no histogram: no callbacks, or a report that predates
/// histograms.
fn missing_histogram(reports: &[&Report], kind: CallbackKind) -> String {
    let any = reports.iter().any(|r| callbacks(r, kind) > 0);
    if any {
        "no latency histogram in these reports (written before histograms were added)".to_owned()
    } else {
        format!("no callbacks of this kind ({})", kind.name())
    }
}

fn latency_section(out: &mut String, page: &Page<'_>) {
    out.push_str(
        "<p>Share of each run's callbacks per duration bucket (about 9 % wide), on a \
         logarithmic axis; where the bars overlap the colours mix.</p>\n<div class=\"plots\">\n",
    );
    for kind in KINDS {
        let hist = |r: &'_ Report| of_kind(&r.latency_histograms, kind).all.clone();
        let (b, a) = (hist(page.before), hist(page.after));
        let plot = if b.is_empty() && a.is_empty() {
            Err(missing_histogram(&[page.before, page.after], kind))
        } else {
            plots::latency_overlay(&before_after(&b[..], &a[..]))
        };
        figure(out, &format!("{} callbacks", kind_name(kind)), plot);
    }
    out.push_str("</div>\n");
}

/// The two series of a before/after plot, in the page's colours.
fn before_after<'a, T: ?Sized>(before: &'a T, after: &'a T) -> [Series<'a, T>; 2] {
    [
        Series {
            label: "before",
            color: BEFORE,
            data: before,
        },
        Series {
            label: "after",
            color: AFTER,
            data: after,
        },
    ]
}

fn touched(r: &Report) -> bool {
    r.totals.callbacks_touching_allocator > 0
}

fn allocated_section(out: &mut String, page: &Page<'_>) {
    let (name, report) = if touched(page.before) || !touched(page.after) {
        ("before", page.before)
    } else {
        ("after", page.after)
    };
    if !touched(report) {
        out.push_str(
            "<p class=\"none\">No callback touched the allocator in either run: there is \
             nothing to split.</p>\n",
        );
        return;
    }
    out.push_str(&format!(
        "<p>From the {name} run: durations of the callbacks that made at least one allocator \
         call against those that made none, each as a share of its own group. The gap is \
         what the allocations cost.</p>\n<div class=\"plots\">\n"
    ));
    for kind in KINDS {
        let h: &KindHistograms = of_kind(&report.latency_histograms, kind);
        let touched = match kind {
            CallbackKind::Input => report.totals.input.callbacks_touching_allocator,
            CallbackKind::Output => report.totals.output.callbacks_touching_allocator,
        };
        let plot = if callbacks(report, kind) == 0 {
            Err(format!("no callbacks of this kind ({})", kind.name()))
        } else if touched == 0 {
            Err(format!("no {} callback touched the allocator", kind.name()))
        } else if h.all.is_empty() {
            Err(missing_histogram(&[report], kind))
        } else {
            plots::latency_overlay(&[
                Series {
                    label: "allocated",
                    color: ALLOCATED,
                    data: &h.allocated[..],
                },
                Series {
                    label: "not allocated",
                    color: NOT_ALLOCATED,
                    data: &h.not_allocated[..],
                },
            ])
        };
        figure(out, &format!("{} callbacks", kind_name(kind)), plot);
    }
    out.push_str("</div>\n");
}

fn timeline_section(out: &mut String, page: &Page<'_>) {
    out.push_str(
        "<p>Allocations per callback in each stretch of device time (the report's \
         <code>timeline</code> bins).</p>\n<div class=\"plots\">\n",
    );
    for kind in KINDS {
        let bins = |r: &'_ Report| -> Vec<TimelineBin> { of_kind(&r.timeline, kind).clone() };
        let (b, a) = (bins(page.before), bins(page.after));
        let any = |bins: &[TimelineBin]| bins.iter().any(|b| b.callbacks > 0);
        let plot = if !any(&b) && !any(&a) {
            if callbacks(page.before, kind) + callbacks(page.after, kind) == 0 {
                Err(format!("no callbacks of this kind ({})", kind.name()))
            } else {
                Err("no timeline in these reports (written before timelines were added)".to_owned())
            }
        } else {
            plots::timeline(&before_after(&b[..], &a[..]))
        };
        figure(out, &format!("{} callbacks", kind_name(kind)), plot);
    }
    out.push_str("</div>\n");
}

/// Where a class sorts: tiny, then small, then large, each by size.
fn class_key(row: &MacosRow) -> (u8, u64) {
    let region = match row.class {
        MacosRegion::Tiny => 0,
        MacosRegion::Small => 1,
        MacosRegion::Large => 2,
    };
    (region, row.class_bytes.unwrap_or(u64::MAX))
}

/// One kind's requests per macOS size class, per callback of that kind
/// (the denominator of the summary's per-callback rows), for each
/// report; the class labels and a value per class and report. `None`
/// when neither report has a request of the kind.
fn size_classes_per_callback(
    reports: [&Report; 2],
    kind: CallbackKind,
) -> Option<(Vec<String>, [Vec<f64>; 2])> {
    let rows = |r: &'_ Report| match kind {
        CallbackKind::Input => r.size_classes.input.macos.clone(),
        CallbackKind::Output => r.size_classes.output.macos.clone(),
    };
    let (b, a) = (rows(reports[0]), rows(reports[1]));
    let mut keys: Vec<(u8, u64)> = b.iter().chain(&a).map(class_key).collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return None;
    }
    let labels = keys
        .iter()
        .map(|&(region, bytes)| match region {
            2 => "large".to_owned(),
            _ => format!("{bytes} B"),
        })
        .collect();
    let per_callback = |r: &Report, rows: &[MacosRow]| -> Vec<f64> {
        let n = callbacks(r, kind);
        keys.iter()
            .map(|k| {
                let count: u64 = rows
                    .iter()
                    .filter(|row| class_key(row) == *k)
                    .map(|row| row.count)
                    .sum();
                if n == 0 { 0.0 } else { count as f64 / n as f64 }
            })
            .collect()
    };
    Some((
        labels,
        [per_callback(reports[0], &b), per_callback(reports[1], &a)],
    ))
}

fn size_class_section(out: &mut String, page: &Page<'_>) {
    out.push_str(
        "<p>Allocations and reallocations per macOS malloc size class (the sizes Instruments \
         shows), per callback of the plot's kind: the same denominator as the summary's \
         “allocations per output callback” and “per input \
         callback” rows.</p>\n<div class=\"plots\">\n",
    );
    for kind in KINDS {
        let plot = match size_classes_per_callback([page.before, page.after], kind) {
            None => Err(format!(
                "no {} callback allocated in either run",
                kind.name()
            )),
            Some((labels, [b, a])) => plots::grouped_bars(
                &labels,
                &format!("requests per {} callback", kind.name()),
                &before_after(&b[..], &a[..]),
            ),
        };
        figure(out, &format!("{} callbacks", kind_name(kind)), plot);
    }
    out.push_str("</div>\n");
}

#[cfg(test)]
mod tests;
