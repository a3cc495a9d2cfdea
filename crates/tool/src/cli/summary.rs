//! The summary `allocgate run` and `allocgate soak` print after a run.

use std::fmt::Write as _;
use std::path::Path;

use crate::report::{BackendReport, MacosRegion, Report, Verdict, blocking_text};
use crate::run::{Run, RunConfig, TraceSummary};
use allocgate_engine::text::{allocator_calls, count};

/// The short summary printed after a run.
pub fn render_summary(c: &RunConfig, run: &Run, out: Option<&Path>) -> String {
    let r = &run.report;
    let t = &r.totals;
    let mut s = String::new();
    let sites = if c.sites.is_empty() {
        "no sites".to_owned()
    } else {
        c.sites.to_string()
    };
    let variant = c.variant.name();
    if let Some(sc) = &c.scenario {
        let _ = writeln!(
            s,
            "scenario {} ({}): {}",
            sc.name, sc.source, sc.description
        );
    }
    let rendering = match (c.engine.convolution, &c.preset_name) {
        (true, Some(preset)) => format!("convolution with preset {preset}"),
        (true, None) => "convolution, no preset (channels 0 and 1 copied through)".to_owned(),
        (false, _) => "passthrough".to_owned(),
    };
    match &r.backend {
        None => {
            let _ = writeln!(
                s,
                "{variant} ({sites}): {} ch at {} Hz, {} frames, {} s simulated, {rendering}, {}, \
                 drift {}",
                c.engine.channels,
                c.engine.sample_rate,
                c.frames,
                c.seconds,
                r.config.mode,
                c.drift,
            );
        }
        Some(b) => {
            let _ = writeln!(
                s,
                "{variant} ({sites}): {} ch on {} '{}' at {} Hz, {} frames, {} s, {rendering}",
                c.engine.channels, b.name, b.input, b.sample_rate, b.period, c.seconds,
            );
        }
    }
    let _ = writeln!(
        s,
        "  callbacks      input {}, output {} ({} touched the allocator)",
        t.callbacks.input, t.callbacks.output, t.callbacks_touching_allocator
    );
    let rate = if r.rates.is_extrapolated() {
        format!(
            "in {} s ({:.1}/s, extrapolated from a run shorter than 1 s)",
            r.rates.seconds, r.rates.allocations_per_second
        )
    } else {
        format!("({:.1}/s)", r.rates.allocations_per_second)
    };
    let _ = writeln!(
        s,
        "  allocator      {} {rate}, {}, {}, {}",
        count(t.allocations, "allocation"),
        count(t.deallocations, "deallocation"),
        count(t.reallocations, "reallocation"),
        count(t.bytes, "byte")
    );
    for (kind, l, load, misses) in [
        (
            "input",
            &r.latency.input.all,
            &r.cpu_load.input,
            r.deadline_misses.input,
        ),
        (
            "output",
            &r.latency.output.all,
            &r.cpu_load.output,
            r.deadline_misses.output,
        ),
    ] {
        let _ = writeln!(
            s,
            "  {kind:<6} latency p50 {} / p99 {} / max {}; load mean {:.2} %, max {:.2} %; {}",
            micros(l.p50_ns),
            micros(l.p99_ns),
            micros(l.max_ns),
            load.mean * 100.0,
            load.max * 100.0,
            count(misses, "deadline miss"),
        );
    }
    for (kind, h) in [
        ("input", &r.totals.input.hazards),
        ("output", &r.totals.output.hazards),
    ] {
        let usage = if h.callbacks_sampled == 0 {
            "faults and switches not sampled (--rusage)".to_owned()
        } else {
            format!(
                "faults {} minor / {} major, context switches {} voluntary / {} involuntary \
                 ({} sampled)",
                h.minor_faults,
                h.major_faults,
                h.voluntary_switches,
                h.involuntary_switches,
                count(h.callbacks_sampled, "callback")
            )
        };
        let _ = writeln!(
            s,
            "  {kind:<6} hazards {} ({} contended); {usage}",
            count(h.lock_acquisitions, "lock acquisition"),
            h.lock_contentions
        );
    }
    for (kind, t) in [("input", &r.totals.input), ("output", &r.totals.output)] {
        if let (Some(calls), Some(callbacks)) = (&t.blocking_calls, t.callbacks_blocking) {
            let inside = if callbacks == 0 {
                String::new()
            } else {
                format!(" (in {})", count(callbacks, "callback"))
            };
            let _ = writeln!(
                s,
                "  {kind:<6} blocking C calls {}{inside}",
                blocking_text(calls)
            );
        }
    }
    let x = &r.xruns;
    let _ = writeln!(
        s,
        "  xruns          {}, {} ({} dropped)",
        count(x.underruns, "underrun"),
        count(x.overruns, "overrun"),
        count(x.bytes_dropped, "byte")
    );
    let i = &r.integrity;
    let verdict = match i.verdict {
        Verdict::Pass => format!("pass ({} checked)", count(i.frames_checked, "frame")),
        v => format!("{} ({})", v.word(), i.reason.as_deref().unwrap_or("")),
    };
    // On a real backend, beside the verdict: the server's xruns, and the
    // output callbacks they (or a lost recording) kept from being heard.
    let beside = match &r.backend {
        Some(b) => format!(
            "; {} server xruns, {} output callbacks not heard intact (followed, not compared)",
            b.backend_xruns, i.unheard
        ),
        None => String::new(),
    };
    let _ = writeln!(s, "  integrity      {verdict}{beside}");
    if let Some(p) = &r.pacing {
        let _ = writeln!(
            s,
            "  pacing         {}; {} of {} late, latest {}",
            p.realtime,
            p.late_wakeups,
            count(p.wakeups, "wake-up"),
            micros(p.max_late_ns)
        );
    }
    match &r.backend {
        None => {
            let o = &r.harness.driver_outside_callbacks;
            let _ = writeln!(
                s,
                "  harness        {:.1} simulated s per wall s; driver thread outside callbacks: {}",
                r.harness.speed,
                allocator_calls(o.allocations, o.deallocations, o.reallocations)
            );
        }
        Some(b) => s.push_str(&render_backend(b)),
    }
    if let Some(why) = &r.interrupted {
        let _ = writeln!(
            s,
            "  interrupted    by {why} after {:.3} s of {} s; the figures cover what ran",
            r.rates.seconds, c.seconds
        );
    }
    if let Some(path) = out {
        let _ = writeln!(s, "  report         {}", path.display());
        if let Some(log) = &c.hdr_log {
            let _ = writeln!(
                s,
                "  hdr log        {} (HdrHistogram interval log, ns)",
                log.display()
            );
        }
        if let Some(profile) = &c.dhat {
            let _ = writeln!(
                s,
                "  dhat profile   {} (open it in dhat's dh_view.html)",
                profile.display()
            );
        }
    }
    if let Some(t) = &run.trace {
        s.push_str(&render_sites(r, t));
    }
    s
}

/// The summary's lines about a real backend.
fn render_backend(b: &BackendReport) -> String {
    let mut s = String::new();
    let realtime = match b.realtime {
        Some(true) => "real-time",
        Some(false) => "not real-time",
        None => "scheduling unknown",
    };
    let _ = writeln!(
        s,
        "  backend        {} '{}': {} Hz, {} frames, audio thread {realtime}; {} \
         reported; {} before the run; {} and {} lost",
        b.name,
        b.input,
        b.sample_rate,
        b.period,
        count(b.backend_xruns, "xrun"),
        count(b.idle_cycles, "idle cycle"),
        count(b.measurements_lost, "measurement"),
        count(b.blocks_lost, "block")
    );
    let outside = match &b.audio_thread_outside_callbacks {
        Some(o) => allocator_calls(o.allocations, o.deallocations, o.reallocations),
        None => "unknown (the stream did not stop cleanly)".to_owned(),
    };
    let k = &b.collector_thread;
    let _ = writeln!(
        s,
        "  harness        audio thread outside callbacks: {outside}; collector thread: {} \
         (never in a callback's figures)",
        count(k.allocations, "allocation")
    );
    if let Some(why) = &b.ended_early {
        let _ = writeln!(s, "  ended early    {why}");
    }
    s
}

/// Rows of the site table in the summary; the report has them all.
const SUMMARY_SITES: usize = 12;

/// The summary's site table (`--trace-sites`).
pub fn render_sites(r: &Report, t: &TraceSummary) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "  site trace     {}, {} ({} overflowed, {} truncated, {} nested)",
        count(t.calls, "call"),
        count(t.stacks, "stack"),
        t.overflowed,
        t.truncated,
        t.nested
    );
    s.push_str(&render_site_table(r));
    s
}

/// The summary's table of a report's sites, at most 12 rows; a line
/// saying so when it has none.
pub fn render_site_table(r: &Report) -> String {
    let mut s = String::new();
    if r.sites.is_empty() {
        let _ = writeln!(s, "  (no allocator call in any callback)");
        return s;
    }
    let _ = writeln!(
        s,
        "  {:<6} {:>6} {:>10} {:>8} {:>9} {:>8} {:>8}  function",
        "kind", "size", "class", "allocs", "/callback", "frees", "reallocs"
    );
    for site in r.sites.iter().take(SUMMARY_SITES) {
        let class = match (site.class_bytes, site.class) {
            (Some(b), Some(region)) => format!("{b} {}", region_name(region)),
            (None, _) => "large".to_owned(),
            (Some(b), None) => b.to_string(),
        };
        let _ = writeln!(
            s,
            "  {:<6} {:>6} {:>10} {:>8} {:>9.2} {:>8} {:>8}  {}",
            site.kind,
            site.size,
            class,
            site.count,
            site.per_callback,
            site.deallocations,
            site.reallocations,
            site.function
        );
    }
    if r.sites.len() > SUMMARY_SITES {
        let _ = writeln!(
            s,
            "  … {} more in the report",
            count(r.sites.len() - SUMMARY_SITES, "row")
        );
    }
    s
}

fn region_name(region: MacosRegion) -> &'static str {
    match region {
        MacosRegion::Tiny => "tiny",
        MacosRegion::Small => "small",
        MacosRegion::Large => "large",
    }
}

pub(super) fn micros(ns: u64) -> String {
    format!("{:.1} µs", ns as f64 / 1000.0)
}
