//! Whether a run kept what it promised, one [`RunFailure`] per broken
//! promise.

use std::fmt;

use crate::report::{Report, Verdict};
use allocgate_engine::sites::CallbackKind;
use allocgate_engine::text::{allocator_calls, count};

use super::RunConfig;

/// One way a run failed what it promised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunFailure {
    /// No callback of this kind ran: nothing of it was measured or
    /// checked.
    NoCallbacks(CallbackKind),
    /// The integrity check found a wrong sample.
    Integrity {
        /// The check's reason, if it gave one.
        reason: Option<String>,
    },
    /// With no site switched on, callbacks touched the allocator.
    TouchedAllocator {
        /// Callbacks that did.
        callbacks: u64,
        /// Their allocations.
        allocations: u64,
        /// Their deallocations.
        deallocations: u64,
        /// Their reallocations.
        reallocations: u64,
    },
    /// With no site switched on, callbacks took tracked locks.
    Locks {
        /// Acquisitions, both kinds of callback together.
        acquisitions: u64,
    },
}

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunFailure::NoCallbacks(kind) => write!(
                f,
                "no {} callback ran, so nothing of that kind was measured or checked",
                kind.name()
            ),
            RunFailure::Integrity { reason } => write!(
                f,
                "integrity check failed: {}",
                reason.as_deref().unwrap_or("a sample differed")
            ),
            RunFailure::TouchedAllocator {
                callbacks,
                allocations,
                deallocations,
                reallocations,
            } => write!(
                f,
                "{} touched the allocator with no site switched on ({})",
                count(*callbacks, "callback"),
                allocator_calls(*allocations, *deallocations, *reallocations)
            ),
            RunFailure::Locks { acquisitions } => write!(
                f,
                "{} taken in callbacks with no site switched on",
                count(*acquisitions, "tracked lock")
            ),
        }
    }
}

/// Whether the run failed what it promised: the integrity check found a
/// wrong sample, or a configuration with no site switched on (`fixed`, no
/// `--sites`) touched the allocator or took a tracked lock in a callback.
/// Empty: it kept every promise.
pub fn failures(c: &RunConfig, report: &Report) -> Vec<RunFailure> {
    let mut why = Vec::new();
    let ran = &report.totals.callbacks;
    for (kind, n) in [
        (CallbackKind::Input, ran.input),
        (CallbackKind::Output, ran.output),
    ] {
        if n == 0 {
            why.push(RunFailure::NoCallbacks(kind));
        }
    }
    if report.integrity.verdict == Verdict::Fail {
        why.push(RunFailure::Integrity {
            reason: report.integrity.reason.clone(),
        });
    }
    let t = &report.totals;
    if c.sites.is_empty() && t.callbacks_touching_allocator > 0 {
        why.push(RunFailure::TouchedAllocator {
            callbacks: t.callbacks_touching_allocator,
            allocations: t.allocations,
            deallocations: t.deallocations,
            reallocations: t.reallocations,
        });
    }
    let locks = t.input.hazards.lock_acquisitions + t.output.hazards.lock_acquisitions;
    if c.sites.is_empty() && locks > 0 {
        why.push(RunFailure::Locks {
            acquisitions: locks,
        });
    }
    why
}
