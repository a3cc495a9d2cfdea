//! `allocgate soak`'s flags, their validation into a [`SoakPlan`] (a
//! scenario of drift, a preset switch at every whole simulated minute,
//! alternating the embedded KEMAR set and a synthetic one, and new frame
//! counts half a minute into every minute: `fixed` 512 and 1024 in turn,
//! `optimized` also counts off the block size, some varying callback by
//! callback), and the soak's lines after the run's summary. The soak
//! itself runs in [`run::soak`](crate::run::soak).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::run_args::{UsageError, variant_and_sites};
use crate::drive::sim::{Action, COREAUDIO_FRAMES, Drift, FrameSequence, Mode, SimConfig};
use crate::run::soak::{SoakPlan, Soaked};
use crate::run::{BackendChoice, RunConfig};
use crate::scenario::{Scenario, synthetic_preset};
use allocgate_engine::EngineConfig;
use allocgate_engine::preset::Preset;
use allocgate_engine::text::count;

/// Longest soak, in simulated minutes (a day).
pub const MAX_SOAK_MINUTES: u64 = 24 * 60;

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
                c_level: false,
                scenario: Some(scenario),
                backend: BackendChoice::Sim,
                stop: None,
            },
            switches,
        })
    }
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
}
