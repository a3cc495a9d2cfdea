//! `allocgate gate`'s flags and their validation into a
//! [`GatePlan`]: the variant and sites, the scenarios loaded, and the
//! baseline read.

use std::path::PathBuf;

use super::UsageError;
use super::run_args::{check_c_level, variant_and_sites};
use crate::baseline::Baseline;
use crate::gate::{GateConfig, GatePlan, Hold};
use crate::scenario;
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
    /// Also count the C library's calls in each callback (Linux with
    /// glibc, as for `allocgate run`): C code's allocations fail a
    /// callback like Rust's, and so does any blocking call
    /// (pthread_mutex_lock, nanosleep, …), named in the failure.
    #[arg(long)]
    pub c_level: bool,
}

impl GateArgs {
    /// Checks the flags and loads the scenarios.
    pub fn validate(&self) -> Result<GatePlan, UsageError> {
        let (variant, sites) = variant_and_sites(&self.variant, &self.sites)?;
        let rusage = RUSAGE_SUPPORTED && !self.no_rusage;
        if rusage {
            allocgate::hazard::check_usage().map_err(|e| UsageError::new(e.to_string()))?;
        }
        if self.c_level {
            check_c_level()?;
        }
        let scenarios = match &self.scenarios {
            Some(dir) => scenario::load_dir(dir),
            None => scenario::defaults(),
        }
        .map_err(|e| UsageError::new(e.to_string()))?;
        let hold = hold(self.baseline.as_ref(), self.update_baseline)?;
        Ok(GatePlan {
            config: GateConfig {
                variant,
                sites,
                integrity: !self.no_integrity,
                trace_sites: !matches!(hold, Hold::Zero),
                rusage,
                c_level: self.c_level,
            },
            scenarios,
            junit: self.junit.clone(),
            hold,
            stop: None,
        })
    }
}

/// `--baseline FILE` and `--update-baseline`: what the run is held to,
/// the baseline read now when it is compared with.
pub(super) fn hold(baseline: Option<&PathBuf>, update: bool) -> Result<Hold, UsageError> {
    Ok(match (baseline, update) {
        (None, _) => Hold::Zero,
        (Some(path), true) => Hold::UpdateBaseline(path.clone()),
        (Some(path), false) => Hold::Baseline {
            path: path.clone(),
            baseline: Baseline::read(path).map_err(|e| UsageError::new(e.to_string()))?,
        },
    })
}
