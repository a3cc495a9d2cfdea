//! Why a preset could not be loaded or used.

/// Why a preset could not be loaded or used.
#[derive(Debug)]
#[non_exhaustive]
pub enum PresetError {}
