//! A validated gate run ([`GatePlan`]): what it holds the callbacks to
//! ([`Hold`]), its matrix run with outputs checked first ([`run_gate`]),
//! and its JUnit file ([`write_junit`]).

use std::path::PathBuf;

use crate::baseline::Baseline;
use crate::files::{OutputError, Outputs};
use crate::interrupt::Stop;
use crate::scenario::Scenario;

use super::{GateConfig, GateError, GateOutcome, ScenarioResult, junit, run_matrix_until};

/// What the gate holds the run to.
#[derive(Debug, Clone)]
pub enum Hold {
    /// Zero allocator calls in every callback.
    Zero,
    /// The per-site counts of this baseline, read before the run.
    Baseline {
        /// The file.
        path: PathBuf,
        /// Its counts.
        baseline: Baseline,
    },
    /// Write this run's per-site counts as the new baseline.
    UpdateBaseline(PathBuf),
}

/// A validated gate run.
#[derive(Debug, Clone)]
pub struct GatePlan {
    /// What every scenario runs with.
    pub config: GateConfig,
    /// The scenarios, in order.
    pub scenarios: Vec<Scenario>,
    /// Where the JUnit XML goes, if anywhere.
    pub junit: Option<PathBuf>,
    /// Zero, or a baseline.
    pub hold: Hold,
    /// Ends the matrix early, keeping the finished scenarios, once
    /// requested.
    pub stop: Option<Stop>,
}

/// Why the gate produced no verdict (exit code 2).
#[derive(Debug)]
pub enum GateRunError {
    /// An output was refused before the run.
    Output(OutputError),
    /// A scenario could not be run.
    Run(GateError),
    /// `--c-level` in a program that has not attached the C-level layer.
    CLevelNotAttached,
    /// The JUnit file could not be written (an existing one is left as it
    /// was).
    Junit {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl std::fmt::Display for GateRunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GateRunError::Output(e) => write!(f, "{e}"),
            GateRunError::Run(e) => write!(f, "{e}"),
            GateRunError::CLevelNotAttached => f.write_str(crate::run::C_LEVEL_NOT_ATTACHED),
            GateRunError::Junit { path, source } => {
                write!(f, "cannot write '{}': {source}", path.display())
            }
        }
    }
}

impl std::error::Error for GateRunError {}

/// The files the plan writes: the JUnit file and the baseline
/// (`--update-baseline`), when asked for.
pub fn gate_outputs(plan: &GatePlan) -> Outputs {
    let mut o = Outputs::new();
    if let Some(path) = &plan.junit {
        o.add("--junit", path);
    }
    if let Hold::UpdateBaseline(path) = &plan.hold {
        o.add("--baseline", path);
    }
    o
}

/// Checks the plan's outputs ([`gate_outputs`]) before anything runs,
/// then runs its matrix, calling `done` after each scenario, until the
/// plan's stop token (if any) is requested. Writes nothing: [`write_junit`]
/// (an interrupted matrix's too: what finished, and the scenarios that did
/// not) and [`conclude`](super::conclude) (the baseline) do.
pub fn run_gate(
    plan: &GatePlan,
    done: &mut dyn FnMut(&ScenarioResult),
) -> Result<GateOutcome, GateRunError> {
    if crate::run::c_level_missing(plan.config.c_level) {
        return Err(GateRunError::CLevelNotAttached);
    }
    gate_outputs(plan).check().map_err(GateRunError::Output)?;
    run_matrix_until(&plan.scenarios, &plan.config, plan.stop.as_ref(), done)
        .map_err(GateRunError::Run)
}

/// Writes the JUnit file, if the plan asks for one.
pub fn write_junit(plan: &GatePlan, outcome: &GateOutcome) -> Result<(), GateRunError> {
    match &plan.junit {
        Some(path) => junit::write(path, outcome).map_err(|source| GateRunError::Junit {
            path: path.clone(),
            source,
        }),
        None => Ok(()),
    }
}
