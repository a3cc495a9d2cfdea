//! The baseline ratchet, for code that is not yet allocation-free: a
//! committed file of per-site allocation counts that a run is held to. A
//! site the baseline does not have, or a higher count, fails; a lower
//! count passes and asks for the baseline to be updated, so counts only
//! ever go down.
//!
//! A site is keyed by the scenario it ran in, the callback kind and the
//! function the site trace names; the baseline is JSON, sorted by key, so
//! its diffs review well.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::files::{InputKind, read_input, write_atomically};
use allocgate_engine::text::count;

/// Version of the baseline file format.
pub const BASELINE_VERSION: u32 = 1;

/// Where a site's allocations were counted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SiteKey {
    /// The scenario (or run) name.
    pub scenario: String,
    /// `input` or `output`.
    pub kind: String,
    /// The first function in user code on the allocation's stack.
    pub function: String,
}

impl fmt::Display for SiteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {} / {}", self.scenario, self.kind, self.function)
    }
}

/// One row of a baseline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    /// Scenario name.
    pub scenario: String,
    /// `input` or `output`.
    pub kind: String,
    /// The site's function.
    pub function: String,
    /// Allocations counted at the site over the scenario.
    pub allocations: u64,
}

/// A baseline: the counts a run may not exceed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    counts: BTreeMap<SiteKey, u64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    baseline_version: u32,
    sites: Vec<BaselineEntry>,
}

/// Why a baseline could not be read or written.
#[derive(Debug)]
#[non_exhaustive]
pub enum BaselineError {
    /// The file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is not a baseline of this version.
    Malformed {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
}

impl fmt::Display for BaselineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BaselineError::Io { path, source } => {
                write!(f, "cannot access baseline '{}': {source}", path.display())
            }
            BaselineError::Malformed { path, reason } => {
                write!(f, "baseline '{}' is not valid: {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for BaselineError {}

/// How a count compares with its baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A site the baseline does not have (fails).
    New {
        /// Its count now.
        now: u64,
    },
    /// More allocations than the baseline allows (fails).
    Higher {
        /// The baseline's count.
        was: u64,
        /// The count now.
        now: u64,
    },
    /// Fewer allocations (passes; update the baseline).
    Lower {
        /// The baseline's count.
        was: u64,
        /// The count now (0 when the site is gone).
        now: u64,
    },
}

impl Change {
    /// Whether this change fails the ratchet.
    pub fn fails(&self) -> bool {
        matches!(self, Change::New { .. } | Change::Higher { .. })
    }
}

/// The comparison of a run with a baseline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ratchet {
    /// Every site whose count differs, sorted by key.
    pub changes: Vec<(SiteKey, Change)>,
    /// Sites at exactly their baseline count.
    pub unchanged: usize,
}

impl Ratchet {
    /// True when no site is new or higher.
    pub fn passed(&self) -> bool {
        !self.changes.iter().any(|(_, c)| c.fails())
    }

    /// True when some site went down: the baseline should be updated.
    pub fn improved(&self) -> bool {
        self.changes
            .iter()
            .any(|(_, c)| matches!(c, Change::Lower { .. }))
    }

    /// One line per change, then a verdict line.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for (key, change) in &self.changes {
            let line = match change {
                Change::New { now } => {
                    format!(
                        "NEW     {key}: {}, not in the baseline",
                        count(*now, "allocation")
                    )
                }
                Change::Higher { was, now } => {
                    format!(
                        "HIGHER  {key}: {}, baseline {was}",
                        count(*now, "allocation")
                    )
                }
                Change::Lower { was, now } => {
                    format!(
                        "lower   {key}: {}, baseline {was}",
                        count(*now, "allocation")
                    )
                }
            };
            s.push_str(&line);
            s.push('\n');
        }
        let verdict = if !self.passed() {
            "baseline: FAIL (a new site or a higher count)"
        } else if self.improved() {
            "baseline: pass, and counts went down: run again with --update-baseline \
             and commit the file"
        } else {
            "baseline: pass, every site at its baseline count"
        };
        s.push_str(verdict);
        s.push('\n');
        s
    }
}

impl Baseline {
    /// A baseline holding `counts` (sites with 0 allocations are left out).
    pub fn from_counts(counts: impl IntoIterator<Item = (SiteKey, u64)>) -> Baseline {
        let mut map = BTreeMap::new();
        for (k, n) in counts {
            *map.entry(k).or_insert(0) += n;
        }
        map.retain(|_, n| *n > 0);
        Baseline { counts: map }
    }

    /// The sites and their counts, sorted by key.
    pub fn counts(&self) -> &BTreeMap<SiteKey, u64> {
        &self.counts
    }

    /// Compares `now` (a run's per-site counts) with this baseline.
    pub fn compare(&self, now: &Baseline) -> Ratchet {
        let mut r = Ratchet::default();
        for (key, &n) in &now.counts {
            match self.counts.get(key) {
                None => r.changes.push((key.clone(), Change::New { now: n })),
                Some(&was) if n > was => r
                    .changes
                    .push((key.clone(), Change::Higher { was, now: n })),
                Some(&was) if n < was => {
                    r.changes.push((key.clone(), Change::Lower { was, now: n }))
                }
                Some(_) => r.unchanged += 1,
            }
        }
        for (key, &was) in &self.counts {
            if !now.counts.contains_key(key) {
                r.changes.push((key.clone(), Change::Lower { was, now: 0 }));
            }
        }
        r.changes.sort_by(|a, b| a.0.cmp(&b.0));
        r
    }

    /// The baseline as JSON text.
    pub fn to_json(&self) -> String {
        let file = BaselineFile {
            baseline_version: BASELINE_VERSION,
            sites: self
                .counts
                .iter()
                .map(|(k, &n)| BaselineEntry {
                    scenario: k.scenario.clone(),
                    kind: k.kind.clone(),
                    function: k.function.clone(),
                    allocations: n,
                })
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a baseline from JSON text; `path` names it in errors.
    pub fn from_json(text: &str, path: &Path) -> Result<Baseline, BaselineError> {
        let malformed = |reason: String| BaselineError::Malformed {
            path: path.to_owned(),
            reason,
        };
        let file: BaselineFile =
            serde_json::from_str(text).map_err(|e| malformed(e.to_string()))?;
        if file.baseline_version != BASELINE_VERSION {
            return Err(malformed(format!(
                "baseline_version {}; expected {BASELINE_VERSION}",
                file.baseline_version
            )));
        }
        let mut counts = BTreeMap::new();
        for e in file.sites {
            let key = SiteKey {
                scenario: e.scenario,
                kind: e.kind,
                function: e.function,
            };
            if counts.insert(key.clone(), e.allocations).is_some() {
                return Err(malformed(format!("site {key} listed twice")));
            }
        }
        Ok(Baseline { counts })
    }

    /// Reads the baseline at `path` (a regular file of at most
    /// [`InputKind::Baseline`]'s cap).
    pub fn read(path: &Path) -> Result<Baseline, BaselineError> {
        let bytes = read_input(path, InputKind::Baseline).map_err(|source| BaselineError::Io {
            path: path.to_owned(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| BaselineError::Malformed {
            path: path.to_owned(),
            reason: format!("not UTF-8 text: {e}"),
        })?;
        Baseline::from_json(&text, path)
    }

    /// Writes the baseline to `path` atomically ([`write_atomically`]).
    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        write_atomically(path, self.to_json().as_bytes(), |_| Ok(())).map_err(|source| {
            BaselineError::Io {
                path: path.to_owned(),
                source,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(scenario: &str, function: &str) -> SiteKey {
        SiteKey {
            scenario: scenario.to_owned(),
            kind: "output".to_owned(),
            function: function.to_owned(),
        }
    }

    fn base() -> Baseline {
        Baseline::from_counts([(key("steady", "a"), 10), (key("steady", "b"), 4)])
    }

    #[test]
    fn the_same_counts_pass_without_changes() {
        let r = base().compare(&base());
        assert!(r.passed() && !r.improved());
        assert_eq!((r.changes.len(), r.unchanged), (0, 2));
        assert!(r.render().contains("every site at its baseline count"));
    }

    #[test]
    fn a_new_site_fails() {
        let now = Baseline::from_counts([
            (key("steady", "a"), 10),
            (key("steady", "b"), 4),
            (key("restart", "a"), 1),
        ]);
        let r = base().compare(&now);
        assert!(!r.passed());
        assert_eq!(r.changes, [(key("restart", "a"), Change::New { now: 1 })]);
        assert!(
            r.render()
                .starts_with("NEW     restart / output / a: 1 allocation, not in the baseline\n"),
            "{}",
            r.render()
        );
    }

    #[test]
    fn a_higher_count_fails() {
        let now = Baseline::from_counts([(key("steady", "a"), 11), (key("steady", "b"), 4)]);
        let r = base().compare(&now);
        assert!(!r.passed());
        assert_eq!(
            r.changes,
            [(key("steady", "a"), Change::Higher { was: 10, now: 11 })]
        );
        assert!(r.render().contains("baseline: FAIL"));
    }

    #[test]
    fn a_lower_count_or_a_site_gone_passes_and_asks_for_an_update() {
        let now = Baseline::from_counts([(key("steady", "a"), 3)]);
        let r = base().compare(&now);
        assert!(r.passed() && r.improved());
        assert_eq!(
            r.changes,
            [
                (key("steady", "a"), Change::Lower { was: 10, now: 3 }),
                (key("steady", "b"), Change::Lower { was: 4, now: 0 }),
            ]
        );
        assert!(r.render().contains("--update-baseline"), "{}", r.render());
    }

    #[test]
    fn a_baseline_round_trips_through_json_and_zero_counts_are_left_out() {
        let b = Baseline::from_counts([(key("s", "a"), 2), (key("s", "z"), 0)]);
        assert_eq!(b.counts().len(), 1);
        let back = Baseline::from_json(&b.to_json(), Path::new("b.json")).unwrap();
        assert_eq!(back, b);
    }

    #[test]
    fn malformed_baselines_are_refused_with_a_reason() {
        let p = Path::new("b.json");
        let cases = [
            ("{", "b.json' is not valid: EOF"),
            (
                r#"{"baseline_version": 2, "sites": []}"#,
                "baseline_version 2; expected 1",
            ),
            (
                r#"{"baseline_version": 1, "sites": [], "extra": 1}"#,
                "unknown field `extra`",
            ),
            (
                r#"{"baseline_version": 1, "sites": [
                    {"scenario": "s", "kind": "output", "function": "f", "allocations": 1},
                    {"scenario": "s", "kind": "output", "function": "f", "allocations": 2}]}"#,
                "site s / output / f listed twice",
            ),
        ];
        for (text, want) in cases {
            let e = Baseline::from_json(text, p).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
    }
}
