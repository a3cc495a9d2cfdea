//! The default scenarios, `harness/scenarios/*.toml`, embedded in the
//! binary so `allocgate gate` runs from any directory.

use std::path::Path;

use super::{Scenario, ScenarioError, check_unique, parse};

macro_rules! embed {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_str!(concat!("../../../../harness/scenarios/", $name, ".toml")))),*]
    };
}

/// The default scenarios' file stems and TOML text, in matrix order.
pub const DEFAULT_SCENARIOS: [(&str, &str); 13] = embed![
    "steady-7.1-48k-512",
    "small-128",
    "small-256",
    "rate-96k",
    "rate-192k",
    "varying-coreaudio",
    "drift-fast-underrun",
    "drift-slow-overrun",
    "preset-switch",
    "device-restart",
    "convolution-toggle",
    "stereo",
    "7.1.4-12ch",
];

/// The default scenarios, parsed and validated (their presets are
/// `kemar` or synthetic, so no file is read).
pub fn defaults() -> Result<Vec<Scenario>, ScenarioError> {
    let scenarios = DEFAULT_SCENARIOS
        .iter()
        .map(|(stem, text)| {
            parse(
                text,
                &format!("embedded:{stem}.toml"),
                Path::new("harness/scenarios"),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_unique(&scenarios)?;
    Ok(scenarios)
}
