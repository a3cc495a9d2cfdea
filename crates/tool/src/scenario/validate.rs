//! From the TOML form to a [`Scenario`]: every value range-checked, the
//! preset loaded, the events turned into the simulated clock's schedule.

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::file::{EventFile, ScenarioFile};
use super::{Scenario, ScenarioError};
use crate::drive::sim::{Action, Drift, FrameSequence, SimConfig, SimError};
use allocgate_engine::layout::{CONVOLVED_CHANNELS, Layout, MAX_CHANNELS};
use allocgate_engine::preset::Preset;
use allocgate_engine::setup::SAMPLE_RATES;
use allocgate_engine::synthetic::decaying_noise;
use allocgate_engine::text::number;
use allocgate_engine::{EngineConfig, MAX_FRAMES};

/// Longest scenario accepted, in simulated seconds (one hour).
pub const MAX_SECONDS: f64 = 3600.0;

/// Most `[[events]]` a scenario may hold: ten thousand, about one every
/// 360 ms over the longest scenario. Each event costs its schedule entry
/// (a few hundred bytes, copied into each run made from the scenario);
/// a preset it names is held once however often it is named.
pub const MAX_EVENTS: usize = 10_000;

/// Most distinct presets (the starting one included) a scenario may
/// name: each is loaded once and held for the whole run.
pub const MAX_PRESETS: usize = 16;

/// Taps of a synthetic preset's impulse responses (as long as KEMAR's).
const SYNTHETIC_TAPS: usize = 558;

/// A synthetic 14-channel HeSuVi set at 48 kHz drawn from `seed`, named
/// `synthetic:SEED`: each impulse response a decaying noise tail with a
/// leading impulse of its own.
pub fn synthetic_preset(seed: u64) -> Preset {
    let channels = (0..14u64)
        .map(|c| {
            let mut ir: Vec<f32> = decaying_noise(SYNTHETIC_TAPS, seed.wrapping_mul(16) + c)
                .into_iter()
                .map(|v| v * 0.05)
                .collect();
            ir[2 * c as usize + 1] = 0.5;
            ir
        })
        .collect();
    Preset::from_channels(&format!("synthetic:{seed}"), 48_000, channels)
        .expect("14 equal, finite channels at 48 kHz")
}

struct Ctx<'a> {
    source: &'a str,
    base: &'a Path,
    seed: u64,
    /// Every preset loaded so far, by its name as written: loaded once,
    /// shared by every event that names it.
    presets: RefCell<Vec<(String, Arc<Preset>)>>,
}

impl Ctx<'_> {
    fn err<T>(&self, key: &str, msg: impl std::fmt::Display) -> Result<T, ScenarioError> {
        Err(ScenarioError::new(
            self.source,
            format_args!("`{key}`: {msg}"),
        ))
    }

    /// `frames` as written: a count, a list (cycled), `"coreaudio"`
    /// (471/512/553 drawn from the seed) or `"coreaudio-cycle"`.
    fn frames(&self, key: &str, v: &toml::Value) -> Result<FrameSequence, ScenarioError> {
        let count = |v: &toml::Value| -> Result<u32, ScenarioError> {
            match v.as_integer() {
                Some(n) if (1..=MAX_FRAMES as i64).contains(&n) => Ok(n as u32),
                Some(n) => self.err(key, format_args!("{n} frames; expected 1 to {MAX_FRAMES}")),
                None => self.err(key, format_args!("{v}: expected a frame count")),
            }
        };
        match v {
            toml::Value::Integer(_) => Ok(FrameSequence::Fixed(count(v)?)),
            toml::Value::Array(items) if items.is_empty() => {
                self.err(key, "an empty list; expected at least one frame count")
            }
            toml::Value::Array(items) => Ok(FrameSequence::Cycle(
                items.iter().map(count).collect::<Result<_, _>>()?,
            )),
            toml::Value::String(s) if s == "coreaudio" => {
                Ok(FrameSequence::coreaudio_seeded(self.seed))
            }
            toml::Value::String(s) if s == "coreaudio-cycle" => Ok(FrameSequence::coreaudio_cycle()),
            other => self.err(
                key,
                format_args!(
                    "{other}; expected a count, a list of counts, \"coreaudio\" or \"coreaudio-cycle\""
                ),
            ),
        }
    }

    /// The preset named `name` as written, loaded the first time it is
    /// named and shared after that; at most [`MAX_PRESETS`] distinct ones.
    fn preset(&self, key: &str, name: &str) -> Result<Arc<Preset>, ScenarioError> {
        if let Some((_, p)) = self.presets.borrow().iter().find(|(n, _)| n == name) {
            return Ok(Arc::clone(p));
        }
        if self.presets.borrow().len() == MAX_PRESETS {
            return self.err(
                key,
                format_args!(
                    "'{name}' would be preset number {}; expected at most {MAX_PRESETS} \
                     distinct presets in a scenario",
                    MAX_PRESETS + 1
                ),
            );
        }
        let preset = Arc::new(self.load_preset(key, name)?);
        self.presets
            .borrow_mut()
            .push((name.to_owned(), Arc::clone(&preset)));
        Ok(preset)
    }

    /// `kemar`, `synthetic:SEED`, or a WAV file (relative to the
    /// scenario's directory).
    fn load_preset(&self, key: &str, name: &str) -> Result<Preset, ScenarioError> {
        if name == "kemar" {
            return Ok(Preset::kemar());
        }
        if let Some(seed) = name.strip_prefix("synthetic:") {
            return match seed.parse::<u64>() {
                Ok(seed) => Ok(synthetic_preset(seed)),
                Err(_) => self.err(
                    key,
                    format_args!("'{name}': expected synthetic:SEED with SEED a whole number"),
                ),
            };
        }
        let path = self.base.join(name);
        Preset::from_wav_file(&path).or_else(|e| self.err(key, e))
    }

    fn event(&self, i: usize, e: &EventFile, end_ms: f64) -> Result<Action, ScenarioError> {
        let key = |k: &str| format!("events[{i}].{k}");
        if e.at_ms as f64 >= end_ms {
            return self.err(
                &key("at_ms"),
                format_args!("{} ms is at or past the end ({end_ms} ms)", e.at_ms),
            );
        }
        let unused = |k: &str, present: bool| -> Result<(), ScenarioError> {
            if present {
                self.err(&key(k), format_args!("not used by action '{}'", e.action))
            } else {
                Ok(())
            }
        };
        let frames_keys = e.input.is_some() || e.output.is_some();
        let action = match e.action.as_str() {
            "switch-preset" => {
                unused("input", e.input.is_some())?;
                unused("output", e.output.is_some())?;
                let Some(name) = &e.preset else {
                    return self.err(&key("preset"), "missing; switch-preset needs a preset");
                };
                Action::SwitchPreset(self.preset(&key("preset"), name)?)
            }
            "set-frames" => {
                unused("preset", e.preset.is_some())?;
                if !frames_keys {
                    return self.err(&key("input"), "set-frames needs input, output or both");
                }
                let input = e.input.as_ref().map(|v| self.frames(&key("input"), v));
                let output = e.output.as_ref().map(|v| self.frames(&key("output"), v));
                Action::SetFrames {
                    input: input.transpose()?,
                    output: output.transpose()?,
                }
            }
            "restart" | "convolution-on" | "convolution-off" => {
                unused("preset", e.preset.is_some())?;
                unused("input", e.input.is_some())?;
                unused("output", e.output.is_some())?;
                match e.action.as_str() {
                    "restart" => Action::Restart,
                    a => Action::SetConvolution(a == "convolution-on"),
                }
            }
            other => {
                return self.err(
                    &key("action"),
                    format_args!(
                        "unknown action '{other}'; expected switch-preset, restart, set-frames, \
                         convolution-on or convolution-off"
                    ),
                );
            }
        };
        Ok(action)
    }
}

pub(super) fn validate(
    f: ScenarioFile,
    source: &str,
    base: &Path,
) -> Result<Scenario, ScenarioError> {
    let cx = Ctx {
        source,
        base,
        seed: f.seed.unwrap_or(1),
        presets: RefCell::new(Vec::new()),
    };
    if f.events.len() > MAX_EVENTS {
        return cx.err(
            "events",
            format_args!("{} events; expected at most {MAX_EVENTS}", f.events.len()),
        );
    }
    if f.name.trim().is_empty() || f.name.contains(char::is_whitespace) {
        return cx.err(
            "name",
            format_args!("'{}': expected a name without spaces", f.name),
        );
    }
    if !(1..=MAX_CHANNELS).contains(&f.channels) {
        return cx.err(
            "channels",
            format_args!("{} channels; expected 1 to {MAX_CHANNELS}", f.channels),
        );
    }
    let rate_range = |key: &str, r: u32| {
        if SAMPLE_RATES.contains(&r) {
            Ok(r)
        } else {
            cx.err(
                key,
                format_args!(
                    "{r} Hz; expected {} to {} Hz",
                    SAMPLE_RATES.start(),
                    SAMPLE_RATES.end()
                ),
            )
        }
    };
    let rate = rate_range("rate", f.rate)?;
    let output_rate = rate_range("output_rate", f.output_rate.unwrap_or(rate))?;
    if !(f.seconds.is_finite() && f.seconds > 0.0 && f.seconds <= MAX_SECONDS) {
        return cx.err(
            "seconds",
            format_args!(
                "{}; expected more than 0 and at most {MAX_SECONDS}",
                number(f.seconds)
            ),
        );
    }
    let drift_ppm = f.drift_ppm.unwrap_or(0.0);
    let limit = Drift::LIMIT_PPB as f64 / 1000.0;
    if !(drift_ppm.is_finite() && drift_ppm.abs() <= limit) {
        return cx.err(
            "drift_ppm",
            format_args!(
                "{} ppm; expected -{limit} to {limit} ppm",
                number(drift_ppm)
            ),
        );
    }
    let frames = cx.frames("frames", &f.frames)?;
    let output_frames = match &f.output_frames {
        Some(v) => cx.frames("output_frames", v)?,
        None => frames.clone(),
    };
    let preset_name = f.preset.clone().unwrap_or_else(|| "kemar".to_owned());
    let preset = cx.preset("preset", &preset_name)?;
    let convolution = f.convolution.unwrap_or(true);
    let engine = EngineConfig::new(f.channels, rate).with_convolution(convolution);
    let duration = Duration::from_secs_f64(f.seconds);
    let mut config = SimConfig::new(engine, frames, duration)
        .with_output(crate::drive::sim::DeviceClock {
            sample_rate: output_rate,
            frames: output_frames,
        })
        .with_drift(Drift::ppb((drift_ppm * 1000.0).round() as i64))
        .with_seed(cx.seed)
        .with_preset(preset);
    let end_ms = f.seconds * 1000.0;
    let mut needs_renderers = convolution;
    for (i, e) in f.events.iter().enumerate() {
        let action = cx.event(i, e, end_ms)?;
        needs_renderers |= matches!(
            action,
            Action::SetConvolution(true) | Action::SwitchPreset(_)
        );
        config = config.at(Duration::from_millis(e.at_ms), action);
    }
    // Convolution renders the speakers a preset maps; passthrough needs
    // none, so a layout without one runs with no preset.
    if !Layout::for_channels(f.channels).has_mapped_speaker() {
        if needs_renderers {
            return cx.err(
                "channels",
                format_args!(
                    "{}: convolution and preset switches need a layout whose speakers a HeSuVi \
                     preset maps, {CONVOLVED_CHANNELS} channels; with `convolution = false` and \
                     neither convolution-on nor switch-preset events any count from 1 to \
                     {MAX_CHANNELS} plays through",
                    f.channels
                ),
            );
        }
        config.preset = None;
    }
    config.validate().map_err(|e| match e {
        SimError::TooShort { .. } => ScenarioError::new(source, format_args!("`seconds`: {e}")),
        e => ScenarioError::new(source, e),
    })?;
    Ok(Scenario {
        name: f.name,
        description: f.description,
        source: source.to_owned(),
        preset_name,
        config,
    })
}
