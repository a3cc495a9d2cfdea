//! Scenarios: named simulated runs kept as TOML files
//! (`harness/scenarios/*.toml`), validated into a [`SimConfig`].
//!
//! A scenario fixes the devices (channels, rate, frames per callback,
//! the output's rate and drift), the length, the seed, convolution, the
//! preset and a schedule of events; the sites (what allocates) are
//! chosen when it is run. The format is documented in
//! `harness/scenarios/README.md`; every key is checked, unknown keys are
//! refused, and every refusal is one line naming the file and the key.
//!
//! - [`parse`], [`load_file`], [`load_dir`]: read scenarios.
//! - [`defaults`]: the default scenarios, embedded in the binary.

mod defaults;
mod file;
mod validate;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

pub use defaults::{DEFAULT_SCENARIOS, defaults};
pub use validate::{MAX_EVENTS, MAX_PRESETS, MAX_SECONDS, synthetic_preset};

use crate::drive::sim::SimConfig;
use crate::files::{InputKind, read_input};
use allocgate_engine::sites::SiteSet;
use allocgate_engine::variant::Variant;

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name (`name` key), unique within a directory.
    pub name: String,
    /// What it exercises (`description` key).
    pub description: String,
    /// Where it came from: a file, or `embedded:NAME.toml`.
    pub source: String,
    /// The preset's name as written (`kemar`, `synthetic:SEED`, a path).
    pub preset_name: String,
    /// The run, with no site switched on.
    pub config: SimConfig,
}

impl Scenario {
    /// The run with `sites` switched on and `variant`'s renderer.
    pub fn sim_config(&self, variant: Variant, sites: SiteSet) -> SimConfig {
        let mut c = self.config.clone();
        c.engine.sites = sites;
        c.engine.renderer = variant.renderer();
        c
    }
}

/// Why a scenario was refused: one line, naming the file and the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError(String);

impl ScenarioError {
    pub(crate) fn new(source: &str, msg: impl fmt::Display) -> ScenarioError {
        ScenarioError(format!("{source}: {msg}").replace('\n', " "))
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScenarioError {}

/// Parses and validates the TOML `text`; `source` names it in errors,
/// and relative preset paths are read from `base`.
pub fn parse(text: &str, source: &str, base: &Path) -> Result<Scenario, ScenarioError> {
    let file: file::ScenarioFile =
        toml::from_str(text).map_err(|e| ScenarioError::new(source, describe(&e, text)))?;
    validate::validate(file, source, base)
}

/// Reads (a regular file of at most [`InputKind::Scenario`]'s cap) and
/// validates one scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let source = path.display().to_string();
    let bytes = read_input(path, InputKind::Scenario)
        .map_err(|e| ScenarioError::new(&source, format_args!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| ScenarioError::new(&source, format_args!("not UTF-8 text: {e}")))?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, &source, base)
}

/// Reads every `*.toml` file of `dir`, in file-name order; refuses an
/// empty directory, a `*.toml` entry that is not a regular file, and two
/// scenarios of the same name.
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, ScenarioError> {
    let source = dir.display().to_string();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| ScenarioError::new(&source, format_args!("cannot read directory: {e}")))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(ScenarioError::new(&source, "no *.toml scenario files"));
    }
    let scenarios = paths
        .iter()
        .map(|p| load_file(p))
        .collect::<Result<Vec<_>, _>>()?;
    check_unique(&scenarios)?;
    Ok(scenarios)
}

pub(crate) fn check_unique(scenarios: &[Scenario]) -> Result<(), ScenarioError> {
    for (i, s) in scenarios.iter().enumerate() {
        if let Some(first) = scenarios[..i].iter().find(|o| o.name == s.name) {
            return Err(ScenarioError::new(
                &s.source,
                format_args!("name '{}' is already used by {}", s.name, first.source),
            ));
        }
    }
    Ok(())
}

/// A TOML error on one line: `line L: key `k`: message`.
fn describe(e: &toml::de::Error, text: &str) -> String {
    let Some(span) = e.span() else {
        return e.message().to_owned();
    };
    let start = span.start.min(text.len());
    let line_no = text[..start].matches('\n').count() + 1;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"'))
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    match key {
        Some(k) if !e.message().contains(&format!("`{k}`")) => {
            format!("line {line_no}: key `{k}`: {}", e.message())
        }
        _ => format!("line {line_no}: {}", e.message()),
    }
}
