//! `allocgate sweep`'s flags, and their validation into a
//! [`SweepSpec`](crate::sweep::SweepSpec): a bad list is refused with a
//! one-line reason before anything runs.

use std::path::PathBuf;
use std::str::FromStr;

use crate::sweep::SweepSpec;
use crate::sweep::predict::renderers;
use allocgate_engine::MAX_FRAMES;
use allocgate_engine::layout::{CONVOLVED_CHANNELS, MAX_CHANNELS};
use allocgate_engine::preset::Preset;
use allocgate_engine::setup::SAMPLE_RATES;
use allocgate_engine::variant::Variant;

use super::UsageError;

/// Where the binary writes the sweep's files.
pub const SWEEP_DIR: &str = "reports/sweep";

/// Longest run of a sweep, in simulated seconds.
pub const MAX_SWEEP_SECONDS: f64 = 3_600.0;

/// The flags of `allocgate sweep`, as typed (lists comma-separated).
#[derive(Debug, Clone, clap::Args)]
pub struct SweepArgs {
    /// Engine variants (seed, prefix, fixed, optimized).
    #[arg(long, value_name = "V,V", default_value = "seed,prefix,fixed")]
    pub variants: String,
    /// Sample rates, in Hz (8000 to 768000).
    #[arg(long, value_name = "HZ,HZ", default_value = "44100,48000,96000,192000")]
    pub rates: String,
    /// Frames per callback (1 to 4096).
    #[arg(long, value_name = "N,N", default_value = "128,256,512,1024")]
    pub frames: String,
    /// Input channel counts: layouts the preset maps (2 stereo, 6 5.1,
    /// 8 7.1, 12 7.1.4).
    #[arg(long, value_name = "C,C", default_value = "2,8,12")]
    pub channels: String,
    /// Simulated seconds per run (at most 3600).
    #[arg(long, value_name = "S", default_value_t = 2.0)]
    pub seconds: f64,
    /// Seed of the input signal.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub seed: u64,
    /// Directory for sweep.md, sweep.csv and sweep.json.
    #[arg(long, value_name = "DIR", default_value = SWEEP_DIR)]
    pub out: PathBuf,
}

/// A validated sweep and where its files go.
#[derive(Debug, Clone)]
pub struct SweepConfig {
    /// What to run.
    pub spec: SweepSpec,
    /// The output directory.
    pub out: PathBuf,
}

/// The comma-separated values of `flag`, each parsed and checked by `check`.
fn list<T: FromStr + Copy>(
    flag: &str,
    text: &str,
    what: &str,
    check: impl Fn(T) -> Result<(), String>,
) -> Result<Vec<T>, UsageError> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(UsageError::new(format!(
                "--{flag} '{text}': an empty item; expected {what}, comma-separated"
            )));
        }
        let v: T = item
            .parse()
            .map_err(|_| UsageError::new(format!("--{flag}: '{item}' is not {what}")))?;
        check(v).map_err(|why| UsageError::new(format!("--{flag}: {why}")))?;
        out.push(v);
    }
    Ok(out)
}

impl SweepArgs {
    /// Checks every flag and loads the embedded preset.
    pub fn validate(&self) -> Result<SweepConfig, UsageError> {
        let mut variants = Vec::new();
        for name in self.variants.split(',').map(str::trim) {
            let v = Variant::from_name(name).ok_or_else(|| {
                UsageError::new(format!(
                    "--variants: unknown variant '{name}'; expected seed, prefix, fixed or optimized"
                ))
            })?;
            variants.push(v);
        }
        let rates = list("rates", &self.rates, "a sample rate in Hz", |r: u32| {
            if SAMPLE_RATES.contains(&r) {
                Ok(())
            } else {
                Err(format!(
                    "sample rate {r} Hz; expected {} to {} Hz",
                    SAMPLE_RATES.start(),
                    SAMPLE_RATES.end()
                ))
            }
        })?;
        let frames = list("frames", &self.frames, "a frame count", |n: usize| {
            if (1..=MAX_FRAMES).contains(&n) {
                Ok(())
            } else {
                Err(format!(
                    "{n} frames per callback; expected 1 to {MAX_FRAMES}"
                ))
            }
        })?;
        let preset = Preset::kemar();
        let preset_channels = preset.channel_count();
        let channels = list("channels", &self.channels, "a channel count", |c: usize| {
            if !(1..=MAX_CHANNELS).contains(&c) {
                Err(format!(
                    "{}; expected 1 to {MAX_CHANNELS}",
                    allocgate_engine::text::count(c, "channel")
                ))
            } else if renderers(c, preset_channels) == 0 {
                Err(format!(
                    "{}: the preset maps no speaker of that layout, and the sweep convolves; \
                     expected {CONVOLVED_CHANNELS}",
                    allocgate_engine::text::count(c, "channel")
                ))
            } else {
                Ok(())
            }
        })?;
        if !(self.seconds.is_finite() && self.seconds > 0.0 && self.seconds <= MAX_SWEEP_SECONDS) {
            return Err(UsageError::new(format!(
                "--seconds {}; expected more than 0 and at most {MAX_SWEEP_SECONDS}",
                allocgate_engine::text::number(self.seconds)
            )));
        }
        let preset_name = preset.name().to_owned();
        Ok(SweepConfig {
            spec: SweepSpec {
                variants,
                rates,
                frames,
                channels,
                seconds: self.seconds,
                seed: self.seed,
                preset,
                preset_name,
                stop: None,
            },
            out: self.out.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Wrapper {
        #[command(flatten)]
        sweep: SweepArgs,
    }

    fn parse(args: &[&str]) -> SweepArgs {
        let mut all = vec!["sweep"];
        all.extend_from_slice(args);
        Wrapper::try_parse_from(all).expect("flags parse").sweep
    }

    #[test]
    fn the_defaults_are_three_variants_four_rates_four_sizes_three_layouts() {
        let c = parse(&[]).validate().unwrap();
        let s = &c.spec;
        assert_eq!(s.variants, [Variant::Seed, Variant::Prefix, Variant::Fixed]);
        assert_eq!(s.rates, [44_100, 48_000, 96_000, 192_000]);
        assert_eq!(s.frames, [128, 256, 512, 1024]);
        assert_eq!(s.channels, [2, 8, 12]);
        assert_eq!(s.points().len(), 3 * 4 * 4 * 3);
        assert_eq!(s.seconds, 2.0);
        assert_eq!(c.out, PathBuf::from("reports/sweep"));
        let first = s.points()[0];
        assert_eq!(first, (Variant::Seed, 44_100, 128, 2));
        let config = s.run_config(Variant::Prefix, 96_000, 256, 12);
        assert!(!config.integrity && config.engine.convolution);
        assert_eq!(config.sites, Variant::Prefix.sites());
    }

    #[test]
    fn bad_lists_are_refused_on_one_line() {
        let cases: &[(&[&str], &str)] = &[
            (&["--variants", "seed,best"], "unknown variant 'best'"),
            (
                &["--rates", "48000,abc"],
                "--rates: 'abc' is not a sample rate",
            ),
            (&["--rates", "48000,,96000"], "an empty item"),
            (&["--rates", "1000"], "sample rate 1000 Hz; expected 8000"),
            (
                &["--frames", "0"],
                "0 frames per callback; expected 1 to 4096",
            ),
            (&["--frames", "5000"], "5000 frames per callback"),
            (&["--frames=-3"], "'-3' is not a frame count"),
            (
                &["--channels", "16"],
                "16 channels: the preset maps no speaker",
            ),
            (
                &["--channels", "3"],
                "3 channels: the preset maps no speaker",
            ),
            (
                &["--channels", "1"],
                "1 channel: the preset maps no speaker of that layout, and the sweep convolves; \
                 expected 2 (stereo), 6 (5.1), 8 (7.1) or 12 (7.1.4)",
            ),
            (
                &["--seconds", "1e308"],
                "--seconds 1e308; expected more than 0 and at most 3600",
            ),
            (&["--channels", "17"], "17 channels; expected 1 to 16"),
            (&["--seconds", "0"], "--seconds 0"),
            (&["--seconds", "inf"], "--seconds inf"),
        ];
        for (args, want) in cases {
            let msg = parse(args).validate().expect_err("refused").to_string();
            assert!(msg.contains(want), "{args:?}: {msg}");
            assert!(!msg.contains('\n'), "{args:?}: {msg}");
        }
    }
}
