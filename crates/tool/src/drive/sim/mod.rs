//! The simulated clock: an input and an output device clock with their
//! own rates, frames per callback and drift, scheduled events (preset
//! switches, restarts, buffer-size changes, convolution on/off), and a
//! driver that runs the engine's callbacks at their exact device times,
//! measures each one alone, and checks what the output played.
//!
//! - [`time`]: exact simulated time ([`SimTime`]) and drift.
//! - [`frames`]: frames per callback ([`FrameSequence`]).
//! - [`clock`]: the two device clocks and the schedule, merged into one
//!   deterministic sequence of events.
//! - [`config`]: [`SimConfig`], what a run is.
//! - [`driver`]: [`Simulation`], which runs it and produces a
//!   [`Record`](crate::metrics::Record) per callback and an
//!   [`Outcome`](crate::drive::outcome::Outcome).
//! - [`pacing`]: real-time pacing for [`Mode::Paced`].
//!
//! The known input signal, the integrity checker and the outcome are the
//! real backends' too: they live beside this module, in
//! [`drive`](crate::drive).
//!
//! A run is deterministic for its configuration and seed: the same
//! records (wall times aside) and the same verdict every time.
//!
//! ```
//! use std::time::Duration;
//! use allocgate_tool::drive::sim::{FrameSequence, SimConfig, Simulation};
//! use allocgate_tool::drive::sink::RecordLog;
//! use allocgate_engine::EngineConfig;
//!
//! // Passthrough, 7.1 at 48 kHz, 512 frames, a tenth of a second. This
//! // doctest has no counting allocator, so counting is off.
//! let config = SimConfig::new(
//!     EngineConfig::new(8, 48_000).with_convolution(false),
//!     FrameSequence::Fixed(512),
//!     Duration::from_millis(100),
//! )
//! .counting(false);
//! let mut log = RecordLog::with_capacity(config.record_bound());
//! let outcome = Simulation::new(&config)?.run(&mut log)?;
//! // 4 800 frames a side: callbacks at frames 0, 512, …, 4 608.
//! assert_eq!((outcome.input.all.callbacks, outcome.output.all.callbacks), (10, 10));
//! assert!(outcome.integrity.verdict.passed());
//! # Ok::<(), allocgate_tool::drive::sim::SimError>(())
//! ```

pub mod clock;
pub mod config;
pub mod driver;
pub mod frames;
pub mod pacing;
pub mod time;

#[cfg(test)]
mod tests;

pub use clock::{Action, DeviceClock, Devices, FirstCallback, Scheduled, SimClock};
pub use config::{Mode, SimConfig, SimError};
pub use driver::{PROGRESS_INTERVAL, Simulation, run};
pub use frames::{COREAUDIO_FRAMES, FrameSequence, FramesError};
pub use pacing::{PacingReport, Realtime};
pub use time::{Drift, SimTime};
