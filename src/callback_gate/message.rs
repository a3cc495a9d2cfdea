//! The text of a failed gate: the offending invocations, the totals and,
//! with site tracing, the call sites.

use std::fmt::Write as _;

#[cfg(feature = "backtrace")]
use super::KEPT_OFFENDERS;
use super::record::Offender;
use super::run::GateRun;
use crate::blocking::BlockingCounts;
use crate::hazard::{HazardTotals, Hazards};
use crate::text::{count, count_plural};

/// Which assertion failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// No allocator call.
    AllocationFree,
    /// No allocator call and no hazard.
    Clean,
}

/// What one invocation did that a hazard check holds against it.
pub(super) fn hazard_text(h: &Hazards) -> String {
    let mut parts = Vec::new();
    if h.lock_acquisitions > 0 {
        parts.push(format!(
            "{} taken ({} contended)",
            count(h.lock_acquisitions, "tracked lock"),
            h.lock_contentions
        ));
    }
    if h.faults() > 0 {
        parts.push(format!(
            "{} ({} major)",
            count(h.faults(), "page fault"),
            h.major_faults
        ));
    }
    if h.voluntary_switches > 0 {
        parts.push(switches(u64::from(h.voluntary_switches)));
    }
    parts.join(", ")
}

fn switches(n: u64) -> String {
    count_plural(n, "voluntary context switch", "voluntary context switches").to_string()
}

fn totals_text(t: &HazardTotals, blocking: &BlockingCounts) -> String {
    let mut s = format!(
        "{} taken ({} contended)",
        count(t.lock_acquisitions, "tracked lock"),
        t.lock_contentions
    );
    if t.blocking_calls > 0 {
        let _ = write!(
            s,
            ", {} in {} ({blocking})",
            count(t.blocking_calls, "blocking call"),
            count(t.callbacks_blocking, "callback")
        );
    }
    if t.sampled > 0 {
        let _ = write!(
            s,
            ", {} ({} major), {}, {} (preemptions, not held against it)",
            count(t.minor_faults + t.major_faults, "page fault"),
            t.major_faults,
            switches(t.voluntary_switches),
            count_plural(
                t.involuntary_switches,
                "involuntary switch",
                "involuntary switches"
            )
        );
    } else {
        s.push_str("; page faults and context switches not read (no per-thread usage here)");
    }
    s
}

fn row(o: &Offender, verdict: Verdict) -> String {
    let mut parts = Vec::new();
    if o.allocated() {
        parts.push(o.stats.to_string());
    }
    if verdict == Verdict::Clean && o.hazardous() {
        let text = hazard_text(&o.hazards);
        if !text.is_empty() {
            parts.push(text);
        }
        if o.hazards.blocking_calls > 0 {
            parts.push(format!("blocking calls: {}", o.stats.blocking));
        }
    }
    if !o.sites.is_empty() {
        parts.push(format!("at {}", o.sites.join(", ")));
    }
    let warm = if o.warm_up { " (warm-up)" } else { "" };
    format!("  invocation {}{warm}: {}", o.index, parts.join("; "))
}

/// The panic message of a failed `verdict`.
pub(super) fn failure(run: &GateRun, verdict: Verdict) -> String {
    let past = if run.gate.check_warm_up || run.warm_up == 0 {
        ""
    } else {
        " past warm-up"
    };
    let of = count(run.invocations, "invocation");
    let (offending, mut msg) = match verdict {
        Verdict::AllocationFree => {
            let n = run.allocating_invocations();
            (
                n,
                format!(
                    "callback '{}' touched the allocator in {n} of {of}{past}:\n",
                    run.gate.name
                ),
            )
        }
        Verdict::Clean => {
            let n = run.warm.offending + run.steady.offending;
            (
                n,
                format!(
                    "callback '{}' was not clean in {n} of {of}{past} ({} touched the \
                     allocator, {} had hazards):\n",
                    run.gate.name,
                    run.allocating_invocations(),
                    run.hazardous_invocations()
                ),
            )
        }
    };
    let listed: Vec<&Offender> = run
        .offenders
        .iter()
        .filter(|o| o.allocated() || (verdict == Verdict::Clean && o.hazardous()))
        .collect();
    for o in &listed {
        let _ = writeln!(msg, "{}", row(o, verdict));
    }
    let more = offending.saturating_sub(listed.len() as u64);
    if more > 0 {
        let _ = writeln!(msg, "  … and {more} more");
    }
    let _ = write!(msg, "  in all: {}", run.total());
    if verdict == Verdict::Clean
        && let Some(h) = run.hazards()
    {
        let _ = write!(msg, "; {}", totals_text(&h, &run.stats().blocking));
    }
    #[cfg(feature = "backtrace")]
    sites_text(run, &mut msg);
    msg
}

#[cfg(feature = "backtrace")]
fn sites_text(run: &GateRun, msg: &mut String) {
    if run.sites.is_empty() {
        return;
    }
    let _ = write!(
        msg,
        "\n{} (first frame outside std and allocgate):",
        count(run.sites.len(), "call site")
    );
    for site in &run.sites {
        let _ = write!(
            msg,
            "\n  {}: {}",
            site.function,
            calls_text(
                site.allocations(),
                site.deallocations(),
                site.reallocations()
            )
        );
        for s in &site.sizes {
            let _ = write!(
                msg,
                "\n    {}: {}",
                count(s.size, "byte"),
                calls_text(s.allocations, s.deallocations, s.reallocations)
            );
        }
        if !site.invocations.is_empty() {
            let shown: Vec<String> = site
                .invocations
                .iter()
                .take(KEPT_OFFENDERS)
                .map(u64::to_string)
                .collect();
            let more = if site.invocations.len() > KEPT_OFFENDERS {
                ", …"
            } else {
                ""
            };
            let _ = write!(msg, "\n    in invocations {}{more}", shown.join(", "));
        }
        let _ = write!(msg, "\n    backtrace:");
        for frame in &site.backtrace {
            let _ = write!(msg, "\n      {frame}");
        }
    }
    if run.untraced > 0 {
        let _ = write!(
            msg,
            "\n  {} not shown: their stacks did not fit the site table",
            count(run.untraced, "allocator call")
        );
    }
}

#[cfg(feature = "backtrace")]
fn calls_text(allocations: u64, deallocations: u64, reallocations: u64) -> String {
    let mut parts = Vec::new();
    if allocations > 0 {
        parts.push(count(allocations, "allocation").to_string());
    }
    if reallocations > 0 {
        parts.push(count(reallocations, "reallocation").to_string());
    }
    if deallocations > 0 {
        parts.push(count(deallocations, "deallocation").to_string());
    }
    parts.join(", ")
}
