//! Presets: HeSuVi impulse-response sets (7 or 14 channels), loaded from
//! WAV, validated, resampled to the device rate, plus the embedded KEMAR
//! default and the SOFA importer that made it. Everything here runs off the
//! audio thread and may allocate.

pub mod embedded;
mod error;
mod rates;
mod resample;
pub mod sofa;
mod wav;

pub use error::{PresetError, WavFormat};
pub use rates::{MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};
pub use wav::{MAX_PRESET_BYTES, Preset};
