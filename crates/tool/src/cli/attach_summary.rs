//! The summary `allocgate attach` prints after a run.

use std::fmt::Write as _;
use std::path::Path;

use crate::attach::{AttachConfig, Attached, client_label};
use crate::report::blocking_text;
use allocgate_engine::text::count;

use super::summary::{micros, render_site_table};

/// The short summary printed after an attached run; `out` is the report
/// written, if it was.
pub fn render_attach(c: &AttachConfig, run: &Attached, out: Option<&Path>) -> String {
    let r = &run.report;
    let mut s = String::new();
    let Some(a) = &r.attach else {
        return s;
    };
    let stopped = match a.exit.stopped_by.as_deref() {
        Some("seconds") => format!("stopped after {} s; ", r.config.seconds),
        Some(signal) => format!("stopped when allocgate got {signal}; "),
        None => String::new(),
    };
    let how = match (&a.exit.code, &a.exit.signal) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) if a.exit.killed => format!("{signal} after ignoring SIGTERM"),
        (None, Some(signal)) => format!("ended by {signal}"),
        (None, None) => "ended".to_owned(),
    };
    let _ = writeln!(
        s,
        "{} attached for {:.1} s ({stopped}{how})",
        a.program,
        a.ran_ns as f64 / 1e9
    );
    let _ = writeln!(
        s,
        "  capture        {}; {}, {} dropped, {}",
        if a.capture.complete {
            "complete".to_owned()
        } else {
            format!(
                "incomplete: {}",
                a.capture.problem.as_deref().unwrap_or("unknown")
            )
        },
        count(a.capture.records, "record"),
        a.capture.dropped,
        count(a.capture.processes, "process")
    );
    for k in &a.clients {
        let t = &k.totals;
        if k.cycle {
            let _ = writeln!(
                s,
                "  client         {}: {} Hz, {} frames; {} ({} warm-up, {} dropped); {} \
                 touched the allocator, {} made blocking calls; p50 {} / p99 {} / max {}",
                client_label(k),
                k.sample_rate,
                k.buffer_size,
                count(t.callbacks, "callback"),
                k.warm_up.callbacks,
                k.dropped,
                t.callbacks_touching_allocator,
                t.callbacks_blocking.unwrap_or(0),
                micros(k.latency.p50_ns),
                micros(k.latency.p99_ns),
                micros(k.latency.max_ns),
            );
        } else {
            let _ = writeln!(
                s,
                "  not a cycle    {}: {}, {} allocations, blocking calls {} (not in the figures)",
                client_label(k),
                count(t.callbacks, "callback"),
                t.allocations,
                t.blocking_calls
                    .as_ref()
                    .map_or_else(|| "none".to_owned(), blocking_text)
            );
        }
    }
    let t = &r.totals;
    let _ = writeln!(
        s,
        "  allocator      {}, {}, {}, {} in {}",
        count(t.allocations, "allocation"),
        count(t.deallocations, "deallocation"),
        count(t.reallocations, "reallocation"),
        count(t.bytes, "byte"),
        count(t.callbacks.output, "callback")
    );
    let steady = &r.steady_state.totals;
    let _ = writeln!(
        s,
        "  steady state   {} past the warm-up touched the allocator, {} made blocking calls ({})",
        count(steady.callbacks_touching_allocator, "callback"),
        steady.callbacks_blocking.unwrap_or(0),
        steady
            .blocking_calls
            .as_ref()
            .map_or_else(|| "none".to_owned(), blocking_text)
    );
    let l = &r.latency.output.all;
    let load = &r.cpu_load.output;
    let _ = writeln!(
        s,
        "  latency        p50 {} / p99 {} / max {}; load mean {:.2} %, max {:.2} %; {}",
        micros(l.p50_ns),
        micros(l.p99_ns),
        micros(l.max_ns),
        load.mean * 100.0,
        load.max * 100.0,
        count(r.deadline_misses.output, "deadline miss")
    );
    let h = &t.output.hazards;
    if h.callbacks_sampled > 0 {
        let _ = writeln!(
            s,
            "  usage          faults {} minor / {} major, context switches {} voluntary / {} \
             involuntary ({} sampled)",
            h.minor_faults,
            h.major_faults,
            h.voluntary_switches,
            h.involuntary_switches,
            count(h.callbacks_sampled, "callback")
        );
    }
    if let Some(why) = &a.partial {
        let _ = writeln!(s, "  PARTIAL        {why}");
    }
    if let Some(why) = &r.interrupted {
        let _ = writeln!(s, "  interrupted    by {why}; the figures cover what ran");
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
    }
    if r.config.trace_sites {
        s.push_str(&render_site_table(r));
    }
    s
}
