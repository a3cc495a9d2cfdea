//! The page's tables: the summary, the allocation sites, the
//! configuration and environment. Every string from a report is escaped
//! here, where it enters the page.

use crate::report::{MacosRegion, Report, SiteReport};

use super::SummaryRow;
use super::escape::{escape, push_escaped};

/// Sites listed per report.
pub(super) const TOP_SITES: usize = 10;

/// The caller's summary rows as a table: label, before, after, change,
/// and a caveat column (its rows highlighted) when any row has one.
pub(super) fn summary(out: &mut String, rows: &[SummaryRow]) {
    if rows.is_empty() {
        out.push_str("<p>No summary figures were given.</p>\n");
        return;
    }
    let marked = rows.iter().any(|r| !r.caveat.is_empty());
    out.push_str(
        "<div class=\"scroll\"><table class=\"summary\">\n<thead><tr><th>figure</th>\
         <th class=\"num\">before</th><th class=\"num\">after</th>\
         <th class=\"num\">change</th>",
    );
    if marked {
        out.push_str("<th>caveat</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for r in rows {
        let class = if r.caveat.is_empty() {
            ""
        } else {
            " class=\"differs\""
        };
        out.push_str(&format!(
            "<tr{class}><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td>",
            escape(&r.label),
            escape(&r.before),
            escape(&r.after),
            escape(&r.change),
        ));
        if marked {
            out.push_str(&format!("<td>{}</td>", escape(&r.caveat)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

/// Why a report lists no sites, as the page's sentence (HTML): its
/// callbacks never called the allocator, or they did and the run did not
/// trace them.
pub(super) fn no_sites(report: &Report) -> String {
    let t = &report.totals;
    let calls = t.allocations + t.deallocations + t.reallocations;
    if calls == 0 {
        "<p>No callback of this run called the allocator: there is no allocation site to \
         name.</p>\n"
            .to_owned()
    } else if report.config.trace_sites {
        format!(
            "<p>This run traced allocation sites, yet its report lists none for its {calls} \
             allocator {}.</p>\n",
            if calls == 1 { "call" } else { "calls" }
        )
    } else {
        format!(
            "<p>This run made {calls} allocator {} in its callbacks but did not trace their \
             sites: run with <code>--trace-sites</code> to name them.</p>\n",
            if calls == 1 { "call" } else { "calls" }
        )
    }
}

/// The report's ten busiest sites, with an example stack each, or a
/// sentence saying why there are none.
pub(super) fn sites(out: &mut String, report: &Report) {
    if report.sites.is_empty() {
        out.push_str(&no_sites(report));
        return;
    }
    let mut sites: Vec<&SiteReport> = report.sites.iter().collect();
    // Most allocations first, as the report lists them; stable for ties.
    sites.sort_by_key(|s| std::cmp::Reverse(s.count));
    out.push_str(
        "<div class=\"scroll\"><table class=\"sites\">\n<thead><tr><th>kind</th>\
         <th class=\"num\">size</th><th>class</th><th class=\"num\">count</th>\
         <th class=\"num\">per callback</th><th>function and example stack</th></tr></thead>\n\
         <tbody>\n",
    );
    for s in sites.iter().take(TOP_SITES) {
        out.push_str(&format!(
            "<tr><td>{}</td><td class=\"num\">{}&nbsp;B</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{:.2}</td><td>",
            escape(&s.kind),
            s.size,
            class(s),
            s.count,
            s.per_callback,
        ));
        out.push_str("<code>");
        push_escaped(out, &s.function);
        out.push_str("</code>");
        if let Some(site) = &s.site {
            out.push_str(" (site <code>");
            push_escaped(out, site);
            out.push_str("</code>)");
        }
        if !s.backtrace.is_empty() {
            out.push_str("<details><summary>example stack</summary><pre>");
            for frame in &s.backtrace {
                push_escaped(out, frame);
                out.push('\n');
            }
            out.push_str("</pre></details>");
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    if sites.len() > TOP_SITES {
        out.push_str(&format!(
            "<p>{} more sites are in the report's <code>sites</code> list.</p>\n",
            sites.len() - TOP_SITES
        ));
    }
}

/// `tiny 48 B`, `small 1536 B`, `large`, or nothing for an older report.
fn class(s: &SiteReport) -> String {
    match (s.class, s.class_bytes) {
        (Some(MacosRegion::Large), _) => "large".to_owned(),
        (Some(region), Some(bytes)) => format!("{} {bytes}&nbsp;B", region_name(region)),
        (Some(region), None) => region_name(region).to_owned(),
        (None, _) => String::new(),
    }
}

pub(super) fn region_name(r: MacosRegion) -> &'static str {
    match r {
        MacosRegion::Tiny => "tiny",
        MacosRegion::Small => "small",
        MacosRegion::Large => "large",
    }
}

/// Configuration, environment and outcome of both runs, key by key, the
/// rows whose values differ marked. A row that applies to neither run
/// (a device on the simulated clock) is left out; one that applies to
/// one run alone says so for the other.
pub(super) fn settings(out: &mut String, before: &Report, after: &Report) {
    out.push_str(
        "<div class=\"scroll\"><table class=\"settings\">\n<thead><tr><th></th><th>before</th>\
         <th>after</th></tr></thead>\n<tbody>\n",
    );
    // The C-level row only when either run counted C-level calls.
    let c_level = before.config.c_level || after.config.c_level;
    let (b, a) = (settings_of(before, c_level), settings_of(after, c_level));
    for ((key, bv), (_, av)) in b.iter().zip(&a) {
        if bv.is_none() && av.is_none() {
            continue;
        }
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| NOT_APPLICABLE.to_owned());
        let (bv, av) = (shown(bv), shown(av));
        let differs = if bv == av { "" } else { " class=\"differs\"" };
        out.push_str(&format!(
            "<tr{differs}><th>{key}</th><td>{}</td><td>{}</td></tr>\n",
            escape(&bv),
            escape(&av)
        ));
    }
    out.push_str("</tbody></table></div>\n");
}

/// A setting's value for a run it does not apply to.
const NOT_APPLICABLE: &str = "does not apply";

/// The rows of [`settings`] for one report: fixed keys (the page's own
/// words), values from the report (escaped by the caller); `None` where
/// the key does not apply to the run (devices on the simulated clock,
/// real-time priority in virtual time).
fn settings_of(r: &Report, c_level: bool) -> Vec<(&'static str, Option<String>)> {
    let c = &r.config;
    let e = &r.environment;
    let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".to_owned());
    let on_off = |on: bool| if on { "on" } else { "off" }.to_owned();
    let backend = r.backend.as_ref();
    let rows = vec![
        ("variant", c.variant.clone()),
        ("sites switched on", c.sites.join(", ")),
        ("backend", c.backend.clone()),
        ("mode", c.mode.clone()),
        ("sample rate", format!("{} Hz", c.sample_rate)),
        ("frames per callback", c.frames.to_string()),
        ("input channels", c.channels.to_string()),
        ("seconds asked for", c.seconds.to_string()),
        ("seed", c.seed.to_string()),
        ("convolution", c.convolution.to_string()),
        ("preset", or_none(&c.preset)),
        ("scenario", or_none(&c.scenario)),
        ("warm-up callbacks", c.warm_up_callbacks.to_string()),
        ("site tracing (--trace-sites)", on_off(c.trace_sites)),
        ("usage sampling (--rusage)", on_off(c.rusage)),
    ];
    let mut rows: Vec<(&'static str, Option<String>)> =
        rows.into_iter().map(|(k, v)| (k, Some(v))).collect();
    if c_level {
        rows.push(("C-level calls (--c-level)", Some(on_off(c.c_level))));
    }
    rows.extend([
        ("input device", backend.map(|b| b.input.clone())),
        ("output device", backend.map(|b| b.output.clone())),
        ("ended early", backend.map(|b| or_none(&b.ended_early))),
        (
            "real-time priority",
            r.pacing.as_ref().map(|p| p.realtime.clone()).or_else(|| {
                backend.map(|b| {
                    match b.realtime {
                        Some(true) => "yes",
                        Some(false) => "no",
                        None => "unknown",
                    }
                    .to_owned()
                })
            }),
        ),
    ]);
    rows.extend(
        [
            ("integrity", integrity(r)),
            ("os", e.os.clone()),
            ("arch", e.arch.clone()),
            ("cpu", e.cpu.clone()),
            ("cpus", e.cpus.to_string()),
            ("rustc", e.rustc.clone()),
            ("profile", e.profile.clone()),
            ("git revision", e.git_revision.clone()),
            ("allocgate", e.allocgate_version.clone()),
        ]
        .map(|(k, v)| (k, Some(v))),
    );
    rows
}

/// `pass`, or the verdict and its reason.
fn integrity(r: &Report) -> String {
    let verdict = r.integrity.verdict.word();
    match &r.integrity.reason {
        Some(reason) => format!("{verdict}: {reason}"),
        None => verdict.to_owned(),
    }
}
