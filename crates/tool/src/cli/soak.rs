//! `allocgate soak`: a long simulated run that exercises everything a
//! session of real use does, at once. The output clock drifts, the
//! preset changes at every whole simulated minute (alternating the
//! embedded KEMAR set and a synthetic one), and half a minute into every
//! minute both devices change their frame count (`fixed`: 512 and 1024
//! in turn; `optimized`: also counts off the block size, some varying
//! callback by callback). It passes when no callback touched the
//! allocator, the integrity check passed (it follows every underrun and
//! dropped write, so each recovery is checked), every xrun the checker
//! followed is in the report's xrun counts, and the process's resident
//! memory stayed flat after the first simulated minute.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::run_args::{RunConfig, UsageError, variant_and_sites};
use crate::cli::{BackendChoice, Run, RunError, run_checked, write_run};
use crate::drive::outcome::Progress;
use crate::drive::sim::{Action, COREAUDIO_FRAMES, Drift, FrameSequence, Mode, SimConfig};
use crate::report::Verdict;
use crate::scenario::{Scenario, synthetic_preset};
use allocgate_engine::EngineConfig;
use allocgate_engine::preset::Preset;
use allocgate_engine::text::count;

/// Longest soak, in simulated minutes (a day).
pub const MAX_SOAK_MINUTES: u64 = 24 * 60;
/// Resident memory the soak may gain after its first simulated minute.
pub const RSS_GROWTH_LIMIT: u64 = 1 << 20;

/// The flags of `allocgate soak`.
#[derive(Debug, Clone, clap::Args)]
pub struct SoakArgs {
    /// Simulated minutes (1 to 1440); a preset switch each minute.
    #[arg(long, default_value_t = 60)]
    pub minutes: u64,
    /// Engine variant: fixed or optimized (allocation-free ones; the
    /// others allocate by design). With fixed the frame counts are
    /// multiples of 512, so every frame is rendered and checked; with
    /// optimized any count is.
    #[arg(long, default_value = "fixed")]
    pub variant: String,
    /// Output clock drift in parts per million (±100 000): under- or
    /// overruns, each counted and followed by the check.
    #[arg(
        long,
        value_name = "PPM",
        default_value_t = 300.0,
        allow_hyphen_values = true
    )]
    pub drift_ppm: f64,
    /// Seed of the signal and the frame sequences.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where the JSON report goes.
    #[arg(long, default_value = "reports/soak.json")]
    pub out: PathBuf,
}

/// A soak's run configuration and the length it asked for.
#[derive(Debug, Clone)]
pub struct SoakPlan {
    /// The run, as `allocgate run --scenario` would make it.
    pub run: RunConfig,
    /// Preset switches scheduled.
    pub switches: usize,
}

impl SoakArgs {
    /// Checks the flags and builds the scenario.
    pub fn validate(&self) -> Result<SoakPlan, UsageError> {
        let (variant, sites) = variant_and_sites(&self.variant, &[])?;
        if !sites.is_empty() {
            return Err(UsageError::new(format!(
                "the soak runs allocation-free variants only (fixed, optimized); {} allocates by design",
                variant.name()
            )));
        }
        if !(1..=MAX_SOAK_MINUTES).contains(&self.minutes) {
            return Err(UsageError::new(format!(
                "--minutes {}; expected 1 to {MAX_SOAK_MINUTES}",
                self.minutes
            )));
        }
        if !self.drift_ppm.is_finite() || self.drift_ppm.abs() > 100_000.0 {
            return Err(UsageError::new(format!(
                "--drift-ppm {}; expected -100000 to 100000",
                allocgate_engine::text::number(self.drift_ppm)
            )));
        }
        // Frame counts the 65 536-byte ring holds at 7.1 (2 047 frames):
        // `fixed` renders whole blocks only, so its counts are multiples
        // of 512 and every frame is checked; `optimized` renders any.
        let any_count = variant.renderer().latency_frames() > 0;
        let frames_for = |minute: u64| -> FrameSequence {
            if any_count {
                match minute % 4 {
                    0 => FrameSequence::Cycle(COREAUDIO_FRAMES.to_vec()),
                    1 => FrameSequence::Fixed(128),
                    2 => FrameSequence::Seeded {
                        choices: vec![256, 512],
                        seed: self.seed.wrapping_add(minute),
                    },
                    _ => FrameSequence::Fixed(1024),
                }
            } else if minute.is_multiple_of(2) {
                FrameSequence::Fixed(512)
            } else {
                FrameSequence::Fixed(1024)
            }
        };
        let seconds = self.minutes * 60;
        let drift = Drift::ppb((self.drift_ppm * 1000.0).round() as i64);
        let engine = EngineConfig::new(8, 48_000).with_variant(variant, sites);
        let mut config =
            SimConfig::new(engine.clone(), frames_for(0), Duration::from_secs(seconds))
                .with_preset(Preset::kemar())
                .with_seed(self.seed)
                .with_drift(drift);
        let switches = (self.minutes - 1) as usize;
        // Two presets, each held once and shared by every switch to it.
        let kemar = config
            .preset
            .clone()
            .unwrap_or_else(|| Preset::kemar().into());
        let synthetic = Arc::new(synthetic_preset(self.seed));
        for minute in 1..self.minutes {
            let preset = if minute % 2 == 1 { &synthetic } else { &kemar };
            config = config.at(
                Duration::from_secs(minute * 60),
                Action::SwitchPreset(Arc::clone(preset)),
            );
        }
        // Half a minute later each time, both devices change frame count.
        for minute in 0..self.minutes {
            config = config.at(
                Duration::from_secs(minute * 60 + 30),
                Action::SetFrames {
                    input: Some(frames_for(minute + 1)),
                    output: Some(frames_for(minute + 1)),
                },
            );
        }
        let scenario = Scenario {
            name: "soak".to_owned(),
            description: format!(
                "{}: {} ppm drift, a preset switch at every whole minute, new frame counts \
                 half a minute into every minute",
                count(self.minutes, "simulated minute"),
                allocgate_engine::text::number(self.drift_ppm)
            ),
            source: "allocgate soak".to_owned(),
            preset_name: format!("kemar, synthetic:{} (alternating)", self.seed),
            config,
        };
        Ok(SoakPlan {
            run: RunConfig {
                variant,
                sites,
                engine,
                // The largest count the soak uses, for display.
                frames: 1024,
                seconds: seconds as f64,
                seed: self.seed,
                mode: Mode::Virtual,
                preset: Some(kemar),
                preset_name: Some(scenario.preset_name.clone()),
                drift,
                integrity: true,
                out: self.out.clone(),
                hdr_log: None,
                dhat: None,
                trace: None,
                rusage: false,
                scenario: Some(scenario),
                backend: BackendChoice::Sim,
                stop: None,
            },
            switches,
        })
    }
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

/// Why a soak failed, one line each (empty: it passed).
pub fn soak_failures(plan: &SoakPlan, soaked: &Soaked) -> Vec<String> {
    let r = &soaked.run.report;
    let mut why = crate::cli::failures(&plan.run, r);
    if r.integrity.verdict != Verdict::Pass {
        why.push(format!(
            "integrity not verified: {}",
            r.integrity.reason.as_deref().unwrap_or("not checked")
        ));
    }
    let xruns = r.xruns.underruns + r.xruns.overruns;
    if xruns != r.integrity.cuts {
        why.push(format!(
            "the report counts {}, the checker followed {}",
            count(xruns, "xrun"),
            count(r.integrity.cuts, "discontinuity")
        ));
    }
    let m = &soaked.memory;
    if m.settled.is_some() && m.growth() > RSS_GROWTH_LIMIT {
        why.push(format!(
            "resident memory grew by {} after the first minute (limit {RSS_GROWTH_LIMIT})",
            count(m.growth(), "byte")
        ));
    }
    why
}

/// The soak's own lines, after the run's summary.
pub fn render_soak(plan: &SoakPlan, soaked: &Soaked) -> String {
    let r = &soaked.run.report;
    let m = &soaked.memory;
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    format!(
        "  soak           {}, {} and {} counted, {} followed by the check\n  \
         memory         resident {} after the first minute, peak {} after, {} at the end ({}; growth {})\n",
        count(plan.switches, "preset switch"),
        count(r.xruns.underruns, "underrun"),
        count(r.xruns.overruns, "overrun"),
        count(r.integrity.cuts, "discontinuity"),
        m.settled
            .map_or("not sampled".to_owned(), |s| format!("{:.1} MiB", mib(s))),
        format_args!("{:.1} MiB", mib(m.peak_after)),
        format_args!("{:.1} MiB", mib(m.last)),
        count(m.samples, "sample"),
        count(m.growth(), "byte"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(minutes: u64, variant: &str) -> SoakArgs {
        SoakArgs {
            minutes,
            variant: variant.to_owned(),
            drift_ppm: 300.0,
            seed: 1,
            out: PathBuf::from("unused.json"),
        }
    }

    #[test]
    fn the_plan_switches_presets_each_minute_and_refuses_what_it_cannot_soak() {
        let p = args(5, "fixed").validate().unwrap();
        assert_eq!(p.switches, 4);
        let s = p.run.scenario.as_ref().unwrap();
        assert_eq!(
            s.config.schedule.len(),
            4 + 5,
            "4 switches, 5 frame changes"
        );
        assert_eq!(s.config.duration, Duration::from_secs(300));
        for bad in [
            args(0, "fixed"),
            args(MAX_SOAK_MINUTES + 1, "fixed"),
            args(5, "prefix"),
        ] {
            let e = bad.validate().unwrap_err().to_string();
            assert!(!e.contains('\n') && !e.is_empty(), "{e}");
        }
        let mut drift = args(5, "fixed");
        drift.drift_ppm = f64::NAN;
        assert!(drift.validate().is_err());
    }

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
