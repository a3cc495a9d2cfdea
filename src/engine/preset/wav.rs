//! Loading HeSuVi WAV presets.

/// A validated HeSuVi impulse-response set.
#[derive(Debug, Clone)]
pub struct Preset {}
