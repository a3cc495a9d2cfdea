//! The TOML form of a scenario, as written: every key, and nothing else
//! (unknown keys are refused).

use serde::Deserialize;

/// One scenario file. See `harness/scenarios/README.md`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioFile {
    pub name: String,
    pub description: String,
    pub channels: usize,
    pub rate: u32,
    pub frames: toml::Value,
    pub output_rate: Option<u32>,
    pub output_frames: Option<toml::Value>,
    pub drift_ppm: Option<f64>,
    pub seconds: f64,
    pub seed: Option<u64>,
    pub convolution: Option<bool>,
    pub preset: Option<String>,
    #[serde(default)]
    pub events: Vec<EventFile>,
}

/// One `[[events]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventFile {
    pub at_ms: u64,
    pub action: String,
    pub preset: Option<String>,
    pub input: Option<toml::Value>,
    pub output: Option<toml::Value>,
}
