//! The gate's verdict on a finished matrix: held to zero, every scenario
//! must pass; held to a baseline, allocations are judged by the ratchet
//! instead and every other failure still counts; asked to update the
//! baseline, it is written and every other failure still counts. An
//! interrupted matrix gets no verdict and writes no baseline.

use std::fmt::Write as _;

use crate::baseline::{BaselineError, Ratchet};
use crate::interrupt::Interrupt;
use allocgate_engine::text::count;

use super::{GateOutcome, GatePlan, Hold, ScenarioResult};

/// What the gate concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateVerdict {
    /// The matrix was interrupted: no verdict, no baseline written.
    Interrupted(Interrupt),
    /// Held to zero allocator calls: whether every scenario passed.
    Zero {
        /// Every scenario passed.
        passed: bool,
    },
    /// Held to a baseline.
    Compared {
        /// The per-site comparison.
        ratchet: Ratchet,
        /// A scenario failed for something besides allocating
        /// ([`fails_besides_allocating`]).
        other_failures: bool,
    },
    /// The run's per-site counts were written as the new baseline.
    Written {
        /// Sites written.
        sites: usize,
        /// A scenario failed for something besides allocating.
        other_failures: bool,
    },
}

impl GateVerdict {
    /// Whether the gate passed; `None` when interrupted (no verdict).
    pub fn passed(&self) -> Option<bool> {
        match self {
            GateVerdict::Interrupted(_) => None,
            GateVerdict::Zero { passed } => Some(*passed),
            GateVerdict::Compared {
                ratchet,
                other_failures,
            } => Some(ratchet.passed() && !other_failures),
            GateVerdict::Written { other_failures, .. } => Some(!other_failures),
        }
    }

    /// What the verdict adds after the gate's table: the ratchet's lines,
    /// or that the baseline was written (nothing otherwise).
    pub fn render(&self) -> String {
        let mut s = String::new();
        match self {
            GateVerdict::Compared { ratchet, .. } => s.push_str(&ratchet.render()),
            GateVerdict::Written { sites, .. } => {
                let _ = writeln!(s, "baseline written: {}", count(*sites, "site"));
            }
            GateVerdict::Interrupted(_) | GateVerdict::Zero { .. } => {}
        }
        s
    }
}

/// The verdict on `outcome` under the plan's [`Hold`]: compares with the
/// baseline, or writes it (`--update-baseline`), unless the matrix was
/// interrupted.
pub fn conclude(plan: &GatePlan, outcome: &GateOutcome) -> Result<GateVerdict, BaselineError> {
    if let Some(why) = outcome.interrupted {
        // No verdict, and no baseline from a part of the matrix.
        return Ok(GateVerdict::Interrupted(why));
    }
    let other_failures = || outcome.results.iter().any(fails_besides_allocating);
    Ok(match &plan.hold {
        Hold::Zero => GateVerdict::Zero {
            passed: outcome.passed(),
        },
        Hold::Baseline { baseline, .. } => GateVerdict::Compared {
            ratchet: baseline.compare(&outcome.site_counts()),
            other_failures: other_failures(),
        },
        Hold::UpdateBaseline(path) => {
            let now = outcome.site_counts();
            now.write(path)?;
            GateVerdict::Written {
                sites: now.counts().len(),
                other_failures: other_failures(),
            }
        }
    })
}

/// Whether a baseline-held scenario fails for something other than
/// allocating: counts off the site formulas, a failed integrity check, or
/// a real-time hazard.
pub fn fails_besides_allocating(r: &ScenarioResult) -> bool {
    r.mismatch.is_some() || r.integrity.failed() || !r.hazard_failures().is_empty()
}

#[cfg(test)]
mod tests;
