//! `allocgate gate`: the flags, their validation, and the run of the
//! matrix (every scenario with the same sites), its table and JUnit file.

use std::path::PathBuf;

use super::UsageError;
use super::run_args::variant_and_sites;
use crate::baseline::{Baseline, Ratchet};
use crate::files::{OutputError, Outputs};
use crate::gate::{GateConfig, GateError, GateOutcome, ScenarioResult, junit, run_matrix_until};
use crate::interrupt::Stop;
use crate::scenario::{self, Scenario};
use allocgate::hazard::RUSAGE_SUPPORTED;

/// The flags of `allocgate gate`.
#[derive(Debug, Clone, clap::Args)]
pub struct GateArgs {
    /// Engine variant every scenario runs with: seed, prefix, fixed or optimized.
    #[arg(long, value_name = "V", default_value = "fixed")]
    pub variant: String,
    /// Allocation sites to switch on over the variant's (comma-separated,
    /// as for `allocgate run`): to see the gate catch them.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub sites: Vec<String>,
    /// Run the scenarios of this directory (every *.toml) instead of the
    /// embedded defaults.
    #[arg(long, value_name = "DIR")]
    pub scenarios: Option<PathBuf>,
    /// Also write the result as JUnit XML to FILE (replaced atomically).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Skip the integrity check of the output (faster).
    #[arg(long)]
    pub no_integrity: bool,
    /// Hold the run to a per-site baseline instead of zero: a new site or
    /// a higher count fails, a lower one passes and asks for an update.
    /// Traces sites (slower).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: write this run's per-site counts to FILE (replaced
    /// atomically) instead of comparing.
    #[arg(long, requires = "baseline")]
    pub update_baseline: bool,
    /// Do not read each callback's page faults and context switches. By
    /// default, where the platform can (Linux: getrusage(RUSAGE_THREAD)),
    /// the gate reads them and fails on a voluntary context switch, a
    /// major fault, or a minor fault past the warm-up.
    #[arg(long)]
    pub no_rusage: bool,
}

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

impl GateArgs {
    /// Checks the flags and loads the scenarios.
    pub fn validate(&self) -> Result<GatePlan, UsageError> {
        let (variant, sites) = variant_and_sites(&self.variant, &self.sites)?;
        let rusage = RUSAGE_SUPPORTED && !self.no_rusage;
        if rusage {
            allocgate::hazard::check_usage().map_err(|e| UsageError::new(e.to_string()))?;
        }
        let scenarios = match &self.scenarios {
            Some(dir) => scenario::load_dir(dir),
            None => scenario::defaults(),
        }
        .map_err(|e| UsageError::new(e.to_string()))?;
        let hold = match (&self.baseline, self.update_baseline) {
            (None, _) => Hold::Zero,
            (Some(path), true) => Hold::UpdateBaseline(path.clone()),
            (Some(path), false) => Hold::Baseline {
                path: path.clone(),
                baseline: Baseline::read(path).map_err(|e| UsageError::new(e.to_string()))?,
            },
        };
        Ok(GatePlan {
            config: GateConfig {
                variant,
                sites,
                integrity: !self.no_integrity,
                trace_sites: !matches!(hold, Hold::Zero),
                rusage,
            },
            scenarios,
            junit: self.junit.clone(),
            hold,
            stop: None,
        })
    }
}

/// Why the gate produced no verdict (exit code 2).
#[derive(Debug)]
pub enum GateRunError {
    /// An output was refused before the run.
    Output(OutputError),
    /// A scenario could not be run.
    Run(GateError),
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
/// not) and [`apply_baseline`] do.
pub fn run_gate(
    plan: &GatePlan,
    done: &mut dyn FnMut(&ScenarioResult),
) -> Result<GateOutcome, GateRunError> {
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

/// What a baseline run concluded.
#[derive(Debug)]
pub enum BaselineVerdict {
    /// The run compared with the baseline.
    Compared(Ratchet),
    /// The baseline was written with this many sites.
    Written(usize),
}

/// Applies the plan's [`Hold`] to an outcome: compares with the baseline
/// or writes it. `None` when the plan holds to zero.
pub fn apply_baseline(
    plan: &GatePlan,
    outcome: &GateOutcome,
) -> Result<Option<BaselineVerdict>, crate::baseline::BaselineError> {
    match &plan.hold {
        Hold::Zero => Ok(None),
        Hold::Baseline { baseline, .. } => Ok(Some(BaselineVerdict::Compared(
            baseline.compare(&outcome.site_counts()),
        ))),
        Hold::UpdateBaseline(path) => {
            let now = outcome.site_counts();
            now.write(path)?;
            Ok(Some(BaselineVerdict::Written(now.counts().len())))
        }
    }
}

/// Whether a baseline-held scenario fails for something other than
/// allocating: counts off the site formulas, a failed integrity check, or
/// a real-time hazard.
pub fn fails_besides_allocating(r: &ScenarioResult) -> bool {
    r.mismatch.is_some() || r.integrity.failed() || !r.hazard_failures().is_empty()
}
