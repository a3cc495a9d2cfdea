//! Why a scenario fails the gate: one [`GateFailure`] per kind of
//! failure, each printed as one line.

use std::fmt;

use crate::drive::integrity::Verdict;
use allocgate::Counts;
use allocgate_engine::sites::CallbackKind;
use allocgate_engine::text::{allocator_calls, count};

use super::Offender;

/// One way a scenario failed the gate.
#[derive(Debug, Clone, PartialEq)]
pub enum GateFailure {
    /// No callback of this kind ran, so nothing of it was gated.
    NoCallbacks(CallbackKind),
    /// Callbacks touched the allocator.
    TouchedAllocator {
        /// Callbacks that did.
        callbacks: u64,
        /// Every callback's allocator calls, merged.
        counts: Counts,
        /// The first of them (boxed: a whole record).
        first: Box<Offender>,
    },
    /// A callback's counts differ from the site formulas: the first one,
    /// described.
    FormulaMismatch(String),
    /// The integrity check failed.
    Integrity(Verdict),
    /// Callbacks met a real-time hazard (a tracked lock, and with usage
    /// read a voluntary context switch or a page fault).
    Hazard {
        /// Callbacks that did.
        callbacks: u64,
        /// The first of them, described with what it met.
        first: String,
    },
    /// A callback's hazards differ from the site formulas: the first one,
    /// described.
    HazardMismatch(String),
    /// Usage was asked for and not read in every callback.
    UsageNotRead {
        /// Callbacks whose usage was read.
        sampled: u64,
        /// Callbacks run.
        callbacks: u64,
    },
}

impl GateFailure {
    /// True for the failures about hazards rather than allocator calls,
    /// formulas or integrity.
    pub fn is_hazard(&self) -> bool {
        matches!(
            self,
            GateFailure::Hazard { .. }
                | GateFailure::HazardMismatch(_)
                | GateFailure::UsageNotRead { .. }
        )
    }
}

impl fmt::Display for GateFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GateFailure::NoCallbacks(kind) => write!(
                f,
                "no {} callback ran, so nothing of that kind was gated",
                kind.name()
            ),
            GateFailure::TouchedAllocator {
                callbacks,
                counts,
                first,
            } => write!(
                f,
                "{} touched the allocator ({}); first: {first}",
                count(*callbacks, "callback"),
                allocator_calls(
                    counts.allocations,
                    counts.deallocations,
                    counts.reallocations
                )
            ),
            GateFailure::FormulaMismatch(m) => {
                write!(f, "counts differ from the site formulas: {m}")
            }
            GateFailure::Integrity(verdict) => write!(f, "integrity check failed: {verdict}"),
            GateFailure::Hazard { callbacks, first } => write!(
                f,
                "{} met a real-time hazard; first: {first}",
                count(*callbacks, "callback")
            ),
            GateFailure::HazardMismatch(h) => {
                write!(f, "hazards differ from the site formulas: {h}")
            }
            GateFailure::UsageNotRead { sampled, callbacks } => write!(
                f,
                "faults and context switches were read in {sampled} of {}",
                count(*callbacks, "callback")
            ),
        }
    }
}
