//! The sample rates a preset, and a resampling target, may have.

/// The lowest sample rate a preset, or a resampling target, may have (Hz).
pub const MIN_SAMPLE_RATE: u32 = 8_000;
/// The highest sample rate a preset, or a resampling target, may have (Hz).
pub const MAX_SAMPLE_RATE: u32 = 768_000;
