//! What a simulated run is: the engine, the two devices, how long, the
//! seed, the preset, the schedule, how fast, and what to check.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::drive::integrity::IntegrityMode;
use crate::drive::sim::clock::{Action, DeviceClock, Devices, Scheduled, SimClock};
use crate::drive::sim::frames::{FrameSequence, FramesError};
use crate::drive::sim::time::Drift;
use crate::interrupt::Stop;
use allocgate::Error as AllocError;
use allocgate::hazard::UsageError;
use allocgate_engine::EngineConfig;
use allocgate_engine::preset::Preset;
use allocgate_engine::renderer::ActivateError;
use allocgate_engine::setup::{ConfigError, SAMPLE_RATES};
use allocgate_engine::sites::CallbackKind;

/// How fast simulated time runs (`--mode virtual|paced` on the command
/// line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Mode {
    /// As fast as the callbacks run: the next callback follows at once.
    #[default]
    Virtual,
    /// In real time: the driver thread sleeps until each callback's
    /// deadline (run start + its simulated time), at `SCHED_FIFO` priority
    /// when the system grants it.
    Paced,
}

/// A deliberate fault, to prove the integrity check can fail. Not part of
/// the stable API.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Adds 1.0 to one sample of the left output after output callback
    /// `callback` returns, before the checker sees it.
    BumpOutput {
        /// Output callback index.
        callback: u64,
        /// Frame within it.
        frame: u32,
    },
}

/// One simulated run.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// The engine: channels, rate (the input device's), sites, convolution
    /// at the start, ring size.
    pub engine: EngineConfig,
    /// The two device clocks and the output's drift.
    pub devices: Devices,
    /// Simulated time to run.
    pub duration: Duration,
    /// Seeds the input signal and seeded frame sequences.
    pub seed: u64,
    /// The preset activated before the start (none: the renderer copies
    /// channels 0 and 1 through).
    pub preset: Option<Arc<Preset>>,
    /// Actions at given times.
    pub schedule: Vec<Scheduled>,
    /// Virtual or paced.
    pub mode: Mode,
    /// Whether and how to check the output.
    pub integrity: IntegrityMode,
    /// Measure each callback with the counting allocator (which must then
    /// be the global allocator). Off, every count reads zero.
    pub count_allocations: bool,
    /// Read each callback's page faults and context switches
    /// (`getrusage(RUSAGE_THREAD)` before and after; Linux only). Off,
    /// they read zero and [`Hazards::usage_sampled`](allocgate::hazard::Hazards::usage_sampled) is false.
    pub rusage: bool,
    /// Ends the run early, at the next callback boundary, once requested
    /// (none: the run always runs to its end).
    pub stop: Option<Stop>,
    #[doc(hidden)]
    pub fault: Option<Fault>,
}

/// Why a run could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum SimError {
    /// The engine configuration was refused.
    Engine(ConfigError),
    /// A device's frame sequence (at the start or in a scheduled change)
    /// was refused.
    Frames {
        /// Which device.
        device: CallbackKind,
        /// Why.
        error: FramesError,
    },
    /// The input device's rate is not the engine's.
    InputRate {
        /// The input device's rate.
        device: u32,
        /// The engine's rate.
        engine: u32,
    },
    /// The output device's rate is out of range.
    OutputRate(u32),
    /// The drift is beyond ±10 %.
    Drift(Drift),
    /// A preset could not be activated.
    Preset(ActivateError),
    /// Counting was asked for, and the counting allocator is not installed.
    Alloc(AllocError),
    /// Usage readings were asked for, and they cannot be made here.
    Usage(UsageError),
    /// The run is shorter than one callback of a device: it would end
    /// before that device's first callback had played its frames (or
    /// before any callback, at zero length).
    TooShort {
        /// The run's length.
        duration: Duration,
        /// The shortest run that holds one callback of each device.
        shortest: Duration,
        /// The device whose first callback lasts that long.
        device: CallbackKind,
        /// Its frames.
        frames: u32,
        /// Its nominal rate, in Hz.
        rate: u32,
    },
}

/// `d` as the simulated clock holds it: whole nanoseconds, in seconds
/// (or nanoseconds below a microsecond, so that a length rounded to
/// nothing shows as 0 ns).
fn length(d: Duration) -> String {
    if d < Duration::from_micros(1) {
        return format!("{} ns", d.as_nanos());
    }
    let s = format!("{:.9}", d.as_secs_f64());
    format!("{} s", s.trim_end_matches('0').trim_end_matches('.'))
}

/// `d` rounded up to whole microseconds, in seconds, such that those
/// seconds read back (`Duration::from_secs_f64`, as `--seconds` and a
/// scenario's `seconds` are) as at least `d`.
fn seconds_at_least(d: Duration) -> String {
    let mut micros = d.as_nanos().div_ceil(1000);
    loop {
        let text = format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000);
        let text = text.trim_end_matches('0').trim_end_matches('.').to_owned();
        let back = text
            .parse::<f64>()
            .map_or(Duration::ZERO, Duration::from_secs_f64);
        if back >= d {
            return text;
        }
        micros += 1;
    }
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Engine(e) => write!(f, "{e}"),
            SimError::Frames { device, error } => {
                let device = match device {
                    CallbackKind::Input => "input",
                    CallbackKind::Output => "output",
                };
                write!(f, "{device} device: {error}")
            }
            SimError::InputRate { device, engine } => write!(
                f,
                "input device at {device} Hz; expected the engine's rate, {engine} Hz"
            ),
            SimError::OutputRate(r) => write!(
                f,
                "output device at {r} Hz; expected {} to {} Hz",
                SAMPLE_RATES.start(),
                SAMPLE_RATES.end()
            ),
            SimError::Drift(d) => write!(f, "output drift of {d}; expected at most ±100000 ppm"),
            SimError::Preset(e) => write!(f, "{e}"),
            SimError::Alloc(e) => write!(f, "{e}"),
            SimError::Usage(e) => write!(f, "{e}"),
            SimError::TooShort {
                duration,
                shortest,
                device,
                frames,
                rate,
            } => write!(
                f,
                "a run of {} is shorter than one callback of each device; expected at least {} s \
                 ({frames} frames of the {} device at {rate} Hz)",
                length(*duration),
                seconds_at_least(*shortest),
                device.name(),
            ),
        }
    }
}

impl std::error::Error for SimError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SimError::Engine(e) => Some(e),
            SimError::Frames { error, .. } => Some(error),
            SimError::Preset(e) => Some(e),
            SimError::Alloc(e) => Some(e),
            SimError::Usage(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ConfigError> for SimError {
    fn from(e: ConfigError) -> Self {
        SimError::Engine(e)
    }
}

impl From<ActivateError> for SimError {
    fn from(e: ActivateError) -> Self {
        SimError::Preset(e)
    }
}

impl SimConfig {
    /// A run of `duration` of `engine` with both devices at the engine's
    /// rate and `frames` per callback, no drift, seed 0, no preset, no
    /// schedule, virtual time, integrity checked, allocations counted.
    pub fn new(engine: EngineConfig, frames: FrameSequence, duration: Duration) -> SimConfig {
        SimConfig {
            devices: Devices::matched(engine.sample_rate, frames),
            engine,
            duration,
            seed: 0,
            preset: None,
            schedule: Vec::new(),
            mode: Mode::Virtual,
            integrity: IntegrityMode::default(),
            count_allocations: true,
            rusage: false,
            stop: None,
            fault: None,
        }
    }

    /// The same with `preset` activated before the start.
    pub fn with_preset(mut self, preset: impl Into<Arc<Preset>>) -> Self {
        self.preset = Some(preset.into());
        self
    }

    /// The same with the output clock drifting by `drift`.
    pub fn with_drift(mut self, drift: Drift) -> Self {
        self.devices.drift = drift;
        self
    }

    /// The same with another seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The same with `action` scheduled `at` after the start.
    pub fn at(mut self, at: Duration, action: Action) -> Self {
        self.schedule.push(Scheduled { at, action });
        self
    }

    /// The same in another mode.
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The same with another integrity mode.
    pub fn with_integrity(mut self, integrity: IntegrityMode) -> Self {
        self.integrity = integrity;
        self
    }

    /// The same with allocation counting on or off.
    pub fn counting(mut self, on: bool) -> Self {
        self.count_allocations = on;
        self
    }

    /// The same with usage readings around each callback on or off.
    pub fn with_rusage(mut self, on: bool) -> Self {
        self.rusage = on;
        self
    }

    /// The same, ending early at the next callback boundary once `stop` is
    /// requested.
    pub fn with_stop(mut self, stop: Stop) -> Self {
        self.stop = Some(stop);
        self
    }

    /// The same with the output device at another nominal rate and frame
    /// sequence.
    pub fn with_output(mut self, output: DeviceClock) -> Self {
        self.devices.output = output;
        self
    }

    /// Checks everything that can be checked before the run (presets are
    /// checked when activated).
    pub fn validate(&self) -> Result<(), SimError> {
        self.engine.validate()?;
        let d = &self.devices;
        if d.input.sample_rate != self.engine.sample_rate {
            return Err(SimError::InputRate {
                device: d.input.sample_rate,
                engine: self.engine.sample_rate,
            });
        }
        if !SAMPLE_RATES.contains(&d.output.sample_rate) {
            return Err(SimError::OutputRate(d.output.sample_rate));
        }
        if !d.drift.is_valid() {
            return Err(SimError::Drift(d.drift));
        }
        let changes = self.schedule.iter().filter_map(|s| match &s.action {
            Action::SetFrames { input, output } => Some((input.as_ref(), output.as_ref())),
            _ => None,
        });
        let sequences = [(Some(&d.input.frames), Some(&d.output.frames))]
            .into_iter()
            .chain(changes);
        for (input, output) in sequences {
            for (device, seq) in [(CallbackKind::Input, input), (CallbackKind::Output, output)] {
                if let Some(Err(error)) = seq.map(FrameSequence::validate) {
                    return Err(SimError::Frames { device, error });
                }
            }
        }
        self.check_length()
    }

    /// Refuses a run shorter than one callback of each device: with
    /// fewer frames than the first callback asks for, a device's callback
    /// would not play out (at zero length, none would fire) and the run
    /// would measure and check next to nothing.
    fn check_length(&self) -> Result<(), SimError> {
        let first = SimClock::first_callbacks(&self.devices, &self.schedule, self.seed);
        let longest = if first[1].nanos > first[0].nanos {
            CallbackKind::Output
        } else {
            CallbackKind::Input
        };
        let f = first[usize::from(longest == CallbackKind::Output)];
        let shortest = Duration::from_nanos(f.nanos);
        if self.duration < shortest {
            return Err(SimError::TooShort {
                duration: self.duration,
                shortest,
                device: longest,
                frames: f.frames,
                rate: match longest {
                    CallbackKind::Input => self.devices.input.sample_rate,
                    CallbackKind::Output => self.devices.output.sample_rate,
                },
            });
        }
        Ok(())
    }

    /// The most callbacks of `kind` the run can fire (see
    /// [`SimClock::callback_bound`]): size record storage with it.
    pub fn callback_bound(&self, kind: CallbackKind) -> u64 {
        SimClock::callback_bound(&self.devices, &self.schedule, self.duration, kind)
    }

    /// The most records the run can produce, both kinds.
    pub fn record_bound(&self) -> usize {
        let both =
            self.callback_bound(CallbackKind::Input) + self.callback_bound(CallbackKind::Output);
        usize::try_from(both).unwrap_or(usize::MAX)
    }

    /// The clock of this run.
    pub fn clock(&self) -> SimClock {
        SimClock::new(&self.devices, &self.schedule, self.duration, self.seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> SimConfig {
        SimConfig::new(
            EngineConfig::new(8, 48_000),
            FrameSequence::Fixed(512),
            Duration::from_secs(1),
        )
    }

    #[test]
    fn impossible_configurations_are_refused_with_a_reason() {
        let mut c = base();
        c.devices.input.sample_rate = 44_100;
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "input device at 44100 Hz; expected the engine's rate, 48000 Hz"
        );
        let c = base().with_drift(Drift::ppm(200_000));
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "output drift of +200000 ppm; expected at most ±100000 ppm"
        );
        let c = base().at(
            Duration::from_millis(5),
            Action::SetFrames {
                input: None,
                output: Some(FrameSequence::Fixed(5000)),
            },
        );
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "output device: 5000 frames per callback; expected 1 to 4096"
        );
        let c = SimConfig::new(
            EngineConfig::new(0, 48_000),
            FrameSequence::Fixed(512),
            Duration::from_secs(1),
        );
        assert!(matches!(c.validate(), Err(SimError::Engine(_))));
        assert!(base().validate().is_ok());
    }

    #[test]
    fn a_run_shorter_than_one_callback_of_each_device_is_refused_with_the_shortest_that_works() {
        let at = |secs: f64| {
            let mut c = base();
            c.duration = Duration::from_secs_f64(secs);
            c.validate()
        };
        // 512 frames at 48 kHz: 10 666 667 ns, 0.010667 s in whole µs.
        assert_eq!(
            at(1e-10).unwrap_err().to_string(),
            "a run of 0 ns is shorter than one callback of each device; expected at least \
             0.010667 s (512 frames of the input device at 48000 Hz)"
        );
        assert_eq!(
            at(0.01).unwrap_err().to_string(),
            "a run of 0.01 s is shorter than one callback of each device; expected at least \
             0.010667 s (512 frames of the input device at 48000 Hz)"
        );
        assert!(at(0.010667).is_ok(), "the length the message names works");
        // The output's longer first callback sets the minimum: 2 048
        // frames at 44 100 Hz = 46 439 910 ns.
        let mut c = base().with_output(DeviceClock {
            sample_rate: 44_100,
            frames: FrameSequence::Cycle(vec![2048, 64]),
        });
        c.duration = Duration::from_millis(20);
        let msg = c.validate().unwrap_err().to_string();
        assert!(
            msg.ends_with(
                "expected at least 0.04644 s (2048 frames of the output device at 44100 Hz)"
            ),
            "{msg}"
        );
        c.duration = Duration::from_secs_f64(0.04644);
        assert!(c.validate().is_ok());
        // Every length the message can name reads back as at least the
        // shortest.
        for ns in [1, 999, 1000, 1001, 10_666_667, 46_439_910, 999_999_999] {
            let d = Duration::from_nanos(ns);
            let text = seconds_at_least(d);
            assert!(
                Duration::from_secs_f64(text.parse().unwrap()) >= d,
                "{ns}: {text}"
            );
        }
    }

    #[test]
    fn the_record_bound_covers_both_sides() {
        // ceil(48 000 / 512) = 94 per side.
        assert_eq!(base().record_bound(), 188);
    }
}
