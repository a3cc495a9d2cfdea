//! Real audio: the backends that run the engine's callbacks on real audio
//! threads, one folder each, behind two small traits.
//!
//! - [`Host`]: a backend's view of the system: its name and its devices
//!   ([`DeviceInfo`]).
//! - [`Stream`]: a running session. The backend owns the audio thread(s);
//!   each engine callback runs there through [`callback`](crate::drive::callback)
//!   (measured alone, as on the simulated clock), and its
//!   [`Measurement`](crate::drive::callback::Measurement) leaves through a
//!   pre-allocated queue ([`queue`](crate::drive::queue)) to the
//!   [`Collector`](crate::drive::collector::Collector) on another thread.
//!   Nothing the harness adds on an audio thread allocates, locks or
//!   blocks; every stream measures its audio threads outside the
//!   callbacks too, and says what it found ([`Stopped::outside_callbacks`]).
//!
//! Backends: `jack` (Linux, Cargo feature `jack`) and `coreaudio` (macOS).
//! The simulated clock ([`crate::drive::sim`]) is the third driver; it runs
//! callbacks itself, in virtual or paced time, and needs neither trait.

use std::fmt;

pub mod coreaudio;
#[cfg(all(feature = "jack", target_os = "linux"))]
pub mod jack;

/// A device (or, for JACK, a client's ports) as a backend lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// What selects the device: a CoreAudio UID, a JACK port name.
    pub id: String,
    /// Its human-readable name.
    pub name: String,
    /// Input (capture) channels.
    pub input_channels: u32,
    /// Output (playback) channels.
    pub output_channels: u32,
    /// Sample rates it runs at, in Hz (the nominal one first).
    pub sample_rates: Vec<u32>,
}

/// What a backend can tell about a running stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamInfo {
    /// `jack` or `coreaudio`.
    pub backend: String,
    /// The JACK server's name, or the input device's.
    pub input: String,
    /// The JACK server's name, or the output device's.
    pub output: String,
    /// Sample rate, in Hz.
    pub sample_rate: u32,
    /// Frames per period (the nominal callback size).
    pub period: u32,
    /// Whether the audio thread ran with real-time scheduling; `None` when
    /// unknown (before the first callback).
    pub realtime: Option<bool>,
    /// Xruns the backend itself reported (JACK's xrun callback,
    /// CoreAudio's overload notifications).
    pub backend_xruns: u64,
}

/// Allocator calls on a stream's audio threads outside the engine's
/// callbacks: the harness's own (port buffers, queue pushes, timing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutsideCalls {
    /// `alloc` and `alloc_zeroed` calls.
    pub allocations: u64,
    /// `dealloc` calls.
    pub deallocations: u64,
    /// `realloc` calls.
    pub reallocations: u64,
}

impl OutsideCalls {
    /// Adds what a whole audio cycle counted (`whole`) less what its
    /// engine callbacks counted (`inside`). Audio thread: never
    /// allocates.
    pub fn add_cycle(&mut self, whole: &allocgate::Counts, inside: &allocgate::Counts) {
        self.allocations += whole.allocations.saturating_sub(inside.allocations);
        self.deallocations += whole.deallocations.saturating_sub(inside.deallocations);
        self.reallocations += whole.reallocations.saturating_sub(inside.reallocations);
    }

    /// Adds another tally.
    pub fn merge(&mut self, other: &OutsideCalls) {
        self.allocations += other.allocations;
        self.deallocations += other.deallocations;
        self.reallocations += other.reallocations;
    }
}

/// What a stream reports once stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stopped {
    /// The stream's last word on itself.
    pub info: StreamInfo,
    /// Allocator calls on its audio threads outside the callbacks.
    pub outside_callbacks: OutsideCalls,
    /// Audio cycles that ran before the measured run started (while
    /// ports were being connected): silence, no engine callback.
    pub idle_cycles: u64,
}

/// A backend's view of the system.
pub trait Host {
    /// The backend's name (`jack`, `coreaudio`).
    fn name(&self) -> &'static str;
    /// The devices it can run on.
    fn devices(&self) -> Result<Vec<DeviceInfo>, BackendError>;
}

/// A running session on real audio threads.
pub trait Stream {
    /// What is known about it now.
    fn info(&self) -> StreamInfo;
    /// Why it cannot go on (the server shut down, a device disappeared or
    /// changed rate), once that has happened.
    fn failure(&self) -> Option<String>;
    /// True when the stream runs a set number of callbacks and stops
    /// calling the engine by itself (then [`finished`](Self::finished)
    /// says when); false (the default) leaves the end to the collector,
    /// which counts the frames played.
    fn ends_itself(&self) -> bool {
        false
    }
    /// True once a stream that [`ends_itself`](Self::ends_itself) has run
    /// every callback it was started for, or ended early when asked.
    fn finished(&self) -> bool {
        false
    }
    /// Asks a stream that [`ends_itself`](Self::ends_itself) to run no
    /// callback after the current one, as if that were its last, so that
    /// everything it played stays consistent; [`finished`](Self::finished)
    /// says when it has. Does nothing by default.
    fn end_early(&self) {}
    /// Stops the audio and hands back the audio threads' own figures.
    fn stop(self: Box<Self>) -> Result<Stopped, BackendError>;
}

/// What went wrong with a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The backend is not in this build (a Cargo feature or platform).
    NotBuilt,
    /// The audio server or system could not be reached or started.
    Unavailable,
    /// No device matched what was asked for, or more than one did.
    DeviceNotFound,
    /// A device or server went away, or changed under the stream.
    Gone,
    /// The device cannot run the engine's format (rate, channels).
    Format,
    /// Anything else the backend refused.
    Backend,
}

/// A backend error: what kind, and a one-line message naming the server
/// or device and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The message, lowercase, one line.
    pub message: String,
}

impl BackendError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> BackendError {
        BackendError {
            kind,
            message: message.into().replace('\n', " "),
        }
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BackendError {}

/// The engine's two callbacks, handed to a backend to run on its audio
/// threads. The engine's [`Control`](allocgate_engine::setup::Control) stays
/// with the caller, off the audio threads.
#[derive(Debug)]
pub struct Callbacks {
    /// Runs on the input (capture) audio thread.
    pub input: allocgate_engine::input::InputCallback,
    /// Runs on the output (playback) audio thread.
    pub output: allocgate_engine::output::OutputCallback,
    /// Measure each callback (the counting allocator must be installed:
    /// check with [`check_installed`](allocgate::check_installed) first).
    pub count: bool,
    /// Read page faults and context switches around each callback
    /// (`--rusage`; the caller has run
    /// [`check_usage`](allocgate::hazard::check_usage)). Backends that cannot
    /// read them per thread leave them unsampled.
    pub rusage: bool,
}

/// A started stream and the collector's ends of its queues.
pub struct Started {
    /// The stream.
    pub stream: Box<dyn Stream>,
    /// One measurement queue per audio thread, in order of creation.
    pub measurements: Vec<crate::drive::queue::MeasurementConsumer>,
    /// The played stereo blocks, when the backend records them for the
    /// integrity check.
    pub blocks: Option<crate::drive::queue::BlockConsumer>,
}

impl fmt::Debug for Started {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Started")
            .field("info", &self.stream.info())
            .field("measurements", &self.measurements)
            .field("blocks", &self.blocks)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callbacks_can_move_to_an_audio_thread() {
        fn send<T: Send>() {}
        send::<Callbacks>();
    }
}
