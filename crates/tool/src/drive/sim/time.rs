//! Exact simulated time and the output clock's drift.

use std::cmp::Ordering;
use std::fmt;
use std::time::Duration;

pub(crate) const NANOS_PER_SECOND: u128 = 1_000_000_000;
pub(crate) const PPB: i64 = 1_000_000_000;

/// An exact instant of simulated time since the run started:
/// `num / den` seconds.
#[derive(Debug, Clone, Copy)]
pub struct SimTime {
    num: u128,
    den: u128,
}

impl SimTime {
    /// `num / den` seconds (`den` > 0).
    pub(crate) const fn from_ratio(num: u128, den: u128) -> SimTime {
        SimTime { num, den }
    }

    /// The start of the run.
    pub const ZERO: SimTime = SimTime { num: 0, den: 1 };

    /// `d` after the start.
    pub fn from_duration(d: Duration) -> SimTime {
        SimTime {
            num: d.as_nanos(),
            den: NANOS_PER_SECOND,
        }
    }

    /// Nanoseconds since the start, rounded down.
    pub fn as_nanos(self) -> u128 {
        self.num * NANOS_PER_SECOND / self.den
    }

    /// Seconds since the start, as a float (for display).
    pub fn as_secs_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

impl PartialEq for SimTime {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SimTime {}

impl PartialOrd for SimTime {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SimTime {
    fn cmp(&self, other: &Self) -> Ordering {
        // Denominators stay below 2^60 and numerators below 2^70 for any
        // run shorter than a year, so the products fit in a u128.
        (self.num * other.den).cmp(&(other.num * self.den))
    }
}

/// How much faster (positive) or slower (negative) the output device's
/// clock runs than its nominal rate, in parts per billion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Drift(i64);

impl Drift {
    /// No drift: both clocks run at their nominal rates.
    pub const NONE: Drift = Drift(0);
    /// Largest drift accepted either way: 10 % (100 000 ppm).
    pub const LIMIT_PPB: i64 = 100_000_000;

    /// `ppm` parts per million.
    pub const fn ppm(ppm: i64) -> Drift {
        Drift(ppm * 1000)
    }

    /// `ppb` parts per billion.
    pub const fn ppb(ppb: i64) -> Drift {
        Drift(ppb)
    }

    /// The drift in parts per billion.
    pub const fn as_ppb(self) -> i64 {
        self.0
    }

    /// Whether the drift is within ±[`LIMIT_PPB`](Self::LIMIT_PPB).
    pub fn is_valid(self) -> bool {
        self.0.abs() <= Self::LIMIT_PPB
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:+} ppm", self.0 as f64 / 1000.0)
    }
}
