//! The integrity verdict: did the output match what the input should have
//! produced?

use serde::{Deserialize, Serialize};

use crate::drive::integrity as check;

/// The verdict, the first mismatch when there was one, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Integrity {
    /// Pass, fail, or not checked.
    pub verdict: Verdict,
    /// Where the output first differed (only with [`Verdict::Fail`]).
    pub first_mismatch: Option<Mismatch>,
    /// A sentence for a reader: why it failed or was not checked.
    pub reason: Option<String>,
    /// Output frames compared with what they should have been (a pass
    /// with none compared would be vacuous).
    #[serde(default)]
    pub frames_checked: u64,
    /// Output frames checked to be silent (while buffering).
    #[serde(default)]
    pub frames_silent: u64,
    /// Discontinuities followed: underruns and dropped writes.
    #[serde(default)]
    pub cuts: u64,
    /// Output callbacks whose played audio was not heard intact (on a
    /// real backend, around a server xrun or a lost recording): followed,
    /// not compared.
    #[serde(default)]
    pub unheard: u64,
}

impl Integrity {
    /// The output matched.
    pub fn pass() -> Integrity {
        Integrity {
            verdict: Verdict::Pass,
            first_mismatch: None,
            reason: None,
            frames_checked: 0,
            frames_silent: 0,
            cuts: 0,
            unheard: 0,
        }
    }

    /// The output differed, first at `mismatch`.
    pub fn fail(mismatch: Mismatch, reason: impl Into<String>) -> Integrity {
        Integrity {
            verdict: Verdict::Fail,
            first_mismatch: Some(mismatch),
            reason: Some(reason.into()),
            frames_checked: 0,
            frames_silent: 0,
            cuts: 0,
            unheard: 0,
        }
    }

    /// The output was not compared, for `reason`.
    pub fn not_checked(reason: impl Into<String>) -> Integrity {
        Integrity {
            verdict: Verdict::NotChecked,
            first_mismatch: None,
            reason: Some(reason.into()),
            frames_checked: 0,
            frames_silent: 0,
            cuts: 0,
            unheard: 0,
        }
    }
}

impl Verdict {
    /// The verdict as a table shows it: `pass`, `FAIL`, `not checked`.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::NotChecked => "not checked",
        }
    }
}

impl From<&check::Verdict> for Verdict {
    fn from(v: &check::Verdict) -> Verdict {
        match v {
            check::Verdict::Pass => Verdict::Pass,
            check::Verdict::Fail { .. } => Verdict::Fail,
            check::Verdict::NotChecked(_) => Verdict::NotChecked,
        }
    }
}

impl From<&check::IntegrityReport> for Integrity {
    fn from(r: &check::IntegrityReport) -> Integrity {
        let verdict = match r.verdict {
            check::Verdict::Pass => Integrity::pass(),
            check::Verdict::Fail { first_mismatch: m } => Integrity::fail(
                Mismatch::new(
                    u32::from(m.channel),
                    m.device_time + u64::from(m.frame),
                    m.expected,
                    m.got,
                ),
                format!("first mismatch at {m}"),
            ),
            check::Verdict::NotChecked(why) => Integrity::not_checked(why.to_string()),
        };
        Integrity {
            frames_checked: r.frames_checked,
            frames_silent: r.frames_silent,
            cuts: r.cuts,
            unheard: r.unheard,
            ..verdict
        }
    }
}

/// Whether the output matched. In JSON: `pass`, `fail`, `not_checked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every compared sample matched.
    Pass,
    /// A sample differed.
    Fail,
    /// The output was not compared.
    NotChecked,
}

/// The first output sample that differed from what was expected.
///
/// Samples are kept twice: as numbers (null when not finite, which JSON
/// cannot hold) and as their exact `f32` bit patterns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Mismatch {
    /// Output channel.
    pub channel: u32,
    /// Output frame, counted from the start of the run.
    pub frame: u64,
    /// The expected sample, or null when not finite.
    pub expected: Option<f64>,
    /// The sample the engine produced, or null when not finite.
    pub actual: Option<f64>,
    /// `f32::to_bits` of the expected sample.
    pub expected_bits: u32,
    /// `f32::to_bits` of the produced sample.
    pub actual_bits: u32,
}

impl Mismatch {
    /// Sample `actual` of `channel` at `frame` where `expected` was due.
    pub fn new(channel: u32, frame: u64, expected: f32, actual: f32) -> Mismatch {
        let number = |x: f32| x.is_finite().then_some(f64::from(x));
        Mismatch {
            channel,
            frame,
            expected: number(expected),
            actual: number(actual),
            expected_bits: expected.to_bits(),
            actual_bits: actual.to_bits(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_are_lowercase_words_in_json() {
        let words: Vec<String> = [Verdict::Pass, Verdict::Fail, Verdict::NotChecked]
            .iter()
            .map(|v| serde_json::to_string(v).unwrap())
            .collect();
        assert_eq!(words, ["\"pass\"", "\"fail\"", "\"not_checked\""]);
    }

    #[test]
    fn a_nan_sample_round_trips_through_its_bits() {
        let m = Mismatch::new(3, 1234, 0.5, f32::NAN);
        let json = serde_json::to_string(&m).unwrap();
        let back: Mismatch = serde_json::from_str(&json).unwrap();
        assert_eq!(back.expected, Some(0.5));
        assert_eq!(back.actual, None);
        assert!(f32::from_bits(back.actual_bits).is_nan());
        assert_eq!(back, m);
    }

    #[test]
    fn a_simulated_failure_keeps_its_first_mismatch_and_counts() {
        let m = check::Mismatch {
            callback: 3,
            device_time: 1536,
            frame: 7,
            channel: 1,
            expected: 0.5,
            got: 1.5,
        };
        let r = check::IntegrityReport {
            verdict: check::Verdict::Fail { first_mismatch: m },
            frames_checked: 1536,
            frames_silent: 0,
            cuts: 2,
            unheard: 0,
        };
        let i = Integrity::from(&r);
        assert_eq!(i.verdict, Verdict::Fail);
        assert_eq!(i.first_mismatch, Some(Mismatch::new(1, 1543, 0.5, 1.5)));
        assert_eq!((i.frames_checked, i.cuts), (1536, 2));
        let reason = i.reason.unwrap();
        assert!(reason.contains("output callback 3"), "{reason}");
        let off = Integrity::from(&check::IntegrityReport::disabled());
        assert_eq!(off.verdict, Verdict::NotChecked);
        assert_eq!(off.reason.as_deref(), Some("integrity check off"));
    }
}
