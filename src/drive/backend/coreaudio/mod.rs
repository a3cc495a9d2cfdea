//! CoreAudio (macOS): stand-in API while the backend is written.

use crate::drive::backend::{BackendError, Callbacks, DeviceInfo, ErrorKind, Host, Started};

/// Which devices to run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreAudioOptions {
    /// Input device by name or UID (default: the system's).
    pub input: Option<String>,
    /// Output device by name or UID (default: the system's).
    pub output: Option<String>,
    /// Frames per callback asked for.
    pub frames: u32,
}

/// The devices chosen and the rate the engine must be built for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The input device.
    pub input: DeviceInfo,
    /// The output device.
    pub output: DeviceInfo,
    /// The rate.
    pub sample_rate: u32,
}

fn not_built() -> BackendError {
    BackendError::new(ErrorKind::NotBuilt, "the coreaudio backend runs only on macOS")
}

/// Whether the backend is in this build.
pub fn available() -> Result<(), BackendError> {
    Err(not_built())
}

/// The host.
pub fn host() -> Result<Box<dyn Host>, BackendError> {
    Err(not_built())
}

/// Chooses the devices.
pub fn prepare(_: &CoreAudioOptions) -> Result<Prepared, BackendError> {
    Err(not_built())
}

/// Starts the units.
pub fn start(_: &Prepared, _: Callbacks) -> Result<Started, BackendError> {
    Err(not_built())
}
