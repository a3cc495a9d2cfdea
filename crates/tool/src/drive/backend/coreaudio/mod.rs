//! CoreAudio (macOS): the engine's two callbacks on two AUHAL units
//! (`kAudioUnitSubType_HALOutput`), set up as the binauralizer (the macOS
//! app the reference engine reimplements) sets up its own
//! (docs/real-audio.md, "CoreAudio"):
//!
//! - the **input unit** has input enabled on element 1 and output
//!   disabled on element 0, the chosen capture device, the engine's
//!   format (32-bit float, non-interleaved, the device's rate, C channels)
//!   on the output scope of element 1, and an input callback that pulls
//!   the frames with `AudioUnitRender` into a buffer list allocated before
//!   the start;
//! - the **output unit** has the playback device, a stereo format of the
//!   same kind on the input scope of element 0, and a render callback
//!   that lets the engine write CoreAudio's buffers.
//!
//! Each callback runs through [`callback`](crate::drive::callback) and
//! sends its measurement down its own queue (input first in
//! [`Started::measurements`]). Listeners on each device report a device
//! that disappears or changes rate through [`Stream::failure`], and count
//! overloads as [`StreamInfo::backend_xruns`](crate::drive::backend::StreamInfo).
//!
//! Everything but the calls into CoreAudio is portable and tested on every
//! platform: the stream format ([`format`](mod@format)), device listing details
//! ([`listing`]), device choice ([`matching`]), the session plan
//! ([`plan`]), `OSStatus` codes ([`status`]), listener state ([`watch`]),
//! the buffer-list layout ([`raw`]) and the per-callback path ([`cycle`]).
//! The FFI layer (`ffi`, `listeners`, `stream`) exists only on macOS; elsewhere
//! [`host`], [`prepare`] and [`start`] return [`NotBuilt`](super::ErrorKind::NotBuilt).
//!
//! [`Stream::failure`]: crate::drive::backend::Stream::failure

use std::fmt;

#[cfg(not(target_os = "macos"))]
use super::ErrorKind;
use super::{BackendError, Callbacks, Host, Started};

pub mod cycle;
pub mod format;
pub mod fourcc;
pub mod listing;
pub mod matching;
pub mod plan;
pub mod raw;
pub mod status;
pub mod watch;

#[cfg(target_os = "macos")]
mod ffi;
#[cfg(target_os = "macos")]
mod listeners;
#[cfg(target_os = "macos")]
mod stream;
#[cfg(all(test, target_os = "macos"))]
mod tests_macos;

pub use plan::{Plan, Prepared};

/// The backend's name, as `--backend` spells it.
pub const NAME: &str = "coreaudio";

/// What the user asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoreAudioOptions {
    /// The capture device (UID, name, or a unique part of a name); `None`
    /// for the system's default input.
    pub input: Option<String>,
    /// The playback device, likewise; `None` for the default output.
    pub output: Option<String>,
    /// Frames per buffer to ask both devices for, 1 to 4096; 0 keeps their
    /// own.
    pub frames: u32,
}

/// Which side of the engine a device serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Capture: the input callback.
    Input,
    /// Playback: the output callback.
    Output,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Input => "input",
            Side::Output => "output",
        })
    }
}

#[cfg(not(target_os = "macos"))]
fn not_built() -> BackendError {
    BackendError::new(
        ErrorKind::NotBuilt,
        "the coreaudio backend runs only on macOS",
    )
}

/// Whether this build can run the backend: `Ok` on macOS.
///
/// # Errors
///
/// [`NotBuilt`](super::ErrorKind::NotBuilt) on any other platform.
pub fn available() -> Result<(), BackendError> {
    #[cfg(target_os = "macos")]
    return Ok(());
    #[cfg(not(target_os = "macos"))]
    return Err(not_built());
}

/// The CoreAudio host: its devices.
///
/// # Errors
///
/// [`NotBuilt`](super::ErrorKind::NotBuilt) off macOS.
pub fn host() -> Result<Box<dyn Host>, BackendError> {
    #[cfg(target_os = "macos")]
    return Ok(Box::new(stream::CoreAudioHost));
    #[cfg(not(target_os = "macos"))]
    return Err(not_built());
}

/// Chooses the devices for `options` and decides what the engine must be
/// built for (see [`plan`]). Off the audio thread.
///
/// # Errors
///
/// [`DeviceNotFound`](super::ErrorKind::DeviceNotFound) when a device cannot be chosen;
/// [`Format`](super::ErrorKind::Format) when the devices cannot run the engine (rates
/// differ, too many channels, a buffer size out of range); a HAL error
/// when devices cannot be listed; [`NotBuilt`](super::ErrorKind::NotBuilt) off macOS.
pub fn prepare(options: &CoreAudioOptions) -> Result<Prepared, BackendError> {
    #[cfg(target_os = "macos")]
    return stream::prepare(options);
    #[cfg(not(target_os = "macos"))]
    {
        let _ = options;
        Err(not_built())
    }
}

/// Sets up both units for `prepared` with the engine's `callbacks` (built
/// for `prepared.sample_rate` and `prepared.plan.input_channels`) and
/// starts them. Off the audio thread.
///
/// # Errors
///
/// A [`BackendError`] naming the device and the step that failed (its
/// kind from the `OSStatus`, see [`status`]); [`NotBuilt`](super::ErrorKind::NotBuilt) off
/// macOS.
pub fn start(prepared: &Prepared, callbacks: Callbacks) -> Result<Started, BackendError> {
    #[cfg(target_os = "macos")]
    return stream::start(prepared, callbacks);
    #[cfg(not(target_os = "macos"))]
    {
        let _ = (prepared, callbacks);
        Err(not_built())
    }
}

#[cfg(all(test, not(target_os = "macos")))]
mod tests {
    use super::*;

    #[test]
    fn off_macos_every_entry_point_says_the_backend_is_not_built() {
        let e = available().unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotBuilt);
        assert_eq!(e.message, "the coreaudio backend runs only on macOS");
        assert_eq!(host().err().map(|e| e.kind), Some(ErrorKind::NotBuilt));
        assert_eq!(
            prepare(&CoreAudioOptions::default()).unwrap_err().kind,
            ErrorKind::NotBuilt
        );
    }
}
