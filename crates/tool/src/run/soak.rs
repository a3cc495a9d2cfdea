//! The soak: a long simulated run with everything at once (drift, preset
//! switches, frame-count changes), the process's resident memory sampled
//! while it runs. It passes when the run kept every promise
//! ([`failures`]), the integrity check passed through every under- and
//! overrun, every xrun the checker followed is in the report's counts,
//! and resident memory stayed flat after the first simulated minute.

use std::fmt;
use std::time::Duration;

use crate::drive::outcome::Progress;
use crate::report::Verdict;
use allocgate_engine::text::count;

use super::{Run, RunConfig, RunError, RunFailure, failures, run_checked, write_run};

/// Resident memory the soak may gain after its first simulated minute.
pub const RSS_GROWTH_LIMIT: u64 = 1 << 20;

/// A soak's run configuration and the length it asked for.
#[derive(Debug, Clone)]
pub struct SoakPlan {
    /// The run, as `allocgate run --scenario` would make it.
    pub run: RunConfig,
    /// Preset switches scheduled.
    pub switches: usize,
}

/// Resident memory over a soak, sampled on the calling thread while the
/// simulation runs on its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryTrace {
    /// Bytes resident at the first sample after the first simulated
    /// minute (every set built once, every buffer touched).
    pub settled: Option<u64>,
    /// The most bytes resident after that.
    pub peak_after: u64,
    /// Bytes resident at the last sample.
    pub last: u64,
    /// Samples taken.
    pub samples: u64,
}

impl MemoryTrace {
    /// Records `rss` bytes resident at simulated time `at`.
    pub fn sample(&mut self, at: Duration, rss: u64) {
        self.samples += 1;
        self.last = rss;
        if at >= Duration::from_secs(60) {
            let settled = *self.settled.get_or_insert(rss);
            self.peak_after = self.peak_after.max(rss).max(settled);
        }
    }

    /// Bytes gained after settling (0 when never settled).
    pub fn growth(&self) -> u64 {
        self.settled
            .map_or(0, |s| self.peak_after.max(self.last).saturating_sub(s))
    }
}

/// This process's resident memory in bytes (Linux: `/proc/self/statm`),
/// if it can be read.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// What a soak found.
#[derive(Debug)]
pub struct Soaked {
    /// The run.
    pub run: Run,
    /// Resident memory over it.
    pub memory: MemoryTrace,
}

/// [`soak_checked`], then the report written ([`write_run`]).
pub fn soak(plan: &SoakPlan, progress: &mut dyn FnMut(&Progress)) -> Result<Soaked, RunError> {
    let soaked = soak_checked(plan, progress)?;
    write_run(&plan.run, &soaked.run)?;
    Ok(soaked)
}

/// Checks the report's path, then runs the soak, reporting progress and
/// sampling memory. Writes nothing: [`write_run`] does.
pub fn soak_checked(
    plan: &SoakPlan,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Soaked, RunError> {
    let mut memory = MemoryTrace::default();
    let run = run_checked(&plan.run, &mut |p: &Progress| {
        if let Some(rss) = resident_bytes() {
            memory.sample(p.simulated, rss);
        }
        progress(p);
    })?;
    Ok(Soaked { run, memory })
}

/// One way a soak failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoakFailure {
    /// The run failed what every run promises ([`failures`]).
    Run(RunFailure),
    /// The integrity check did not pass (it failed, or did not run).
    IntegrityNotVerified {
        /// The check's reason, if it gave one.
        reason: Option<String>,
    },
    /// The report's xruns and the discontinuities the checker followed
    /// differ.
    XrunsNotFollowed {
        /// Under- and overruns in the report.
        xruns: u64,
        /// Discontinuities the checker followed.
        followed: u64,
    },
    /// Resident memory grew past [`RSS_GROWTH_LIMIT`] after the first
    /// simulated minute.
    MemoryGrew {
        /// Bytes gained.
        bytes: u64,
    },
}

impl fmt::Display for SoakFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SoakFailure::Run(why) => write!(f, "{why}"),
            SoakFailure::IntegrityNotVerified { reason } => write!(
                f,
                "integrity not verified: {}",
                reason.as_deref().unwrap_or("not checked")
            ),
            SoakFailure::XrunsNotFollowed { xruns, followed } => write!(
                f,
                "the report counts {}, the checker followed {}",
                count(*xruns, "xrun"),
                count(*followed, "discontinuity")
            ),
            SoakFailure::MemoryGrew { bytes } => write!(
                f,
                "resident memory grew by {} after the first minute (limit {RSS_GROWTH_LIMIT})",
                count(*bytes, "byte")
            ),
        }
    }
}

/// Why a soak failed (empty: it passed).
pub fn soak_failures(plan: &SoakPlan, soaked: &Soaked) -> Vec<SoakFailure> {
    let r = &soaked.run.report;
    let mut why: Vec<SoakFailure> = failures(&plan.run, r)
        .into_iter()
        .map(SoakFailure::Run)
        .collect();
    if r.integrity.verdict != Verdict::Pass {
        why.push(SoakFailure::IntegrityNotVerified {
            reason: r.integrity.reason.clone(),
        });
    }
    let xruns = r.xruns.underruns + r.xruns.overruns;
    if xruns != r.integrity.cuts {
        why.push(SoakFailure::XrunsNotFollowed {
            xruns,
            followed: r.integrity.cuts,
        });
    }
    let m = &soaked.memory;
    if m.settled.is_some() && m.growth() > RSS_GROWTH_LIMIT {
        why.push(SoakFailure::MemoryGrew { bytes: m.growth() });
    }
    why
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_growth_counts_from_the_first_sample_after_a_minute() {
        let mut m = MemoryTrace::default();
        m.sample(Duration::from_secs(10), 100);
        m.sample(Duration::from_secs(70), 1_000);
        m.sample(Duration::from_secs(80), 1_500);
        m.sample(Duration::from_secs(90), 1_200);
        assert_eq!(m.settled, Some(1_000));
        assert_eq!(m.growth(), 500);
        assert_eq!(m.samples, 4);
        assert!(resident_bytes().is_some_and(|b| b > 0) || !cfg!(target_os = "linux"));
    }
}
