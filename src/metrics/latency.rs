//! Callback durations: an HDR histogram sized before the run, plus the
//! exact minimum, maximum and sum the histogram only approximates.

use hdrhistogram::Histogram;

/// Largest duration the histograms resolve, in nanoseconds (10 s). Longer
/// callbacks are counted as this long in the percentiles; the exact
/// maximum is kept apart.
pub const LATENCY_MAX_NS: u64 = 10_000_000_000;

/// Significant decimal digits the histograms keep: a recorded duration is
/// known to within 0.1 % (durations below 2 048 ns exactly).
pub const LATENCY_SIGNIFICANT_DIGITS: u8 = 3;

/// Durations of a set of callbacks, in nanoseconds.
///
/// [`record`](Self::record) never allocates: the histogram is sized in
/// [`new`](Self::new) and out-of-range values saturate.
#[derive(Debug, Clone)]
pub struct Latency {
    histogram: Histogram<u64>,
    min_ns: u64,
    max_ns: u64,
    sum_ns: u128,
}

impl Latency {
    /// An empty record of durations from 0 to [`LATENCY_MAX_NS`].
    pub fn new() -> Self {
        // Constant, valid bounds: creation cannot fail.
        let histogram = Histogram::new_with_bounds(1, LATENCY_MAX_NS, LATENCY_SIGNIFICANT_DIGITS)
            .expect("constant histogram bounds are valid");
        Latency {
            histogram,
            min_ns: u64::MAX,
            max_ns: 0,
            sum_ns: 0,
        }
    }

    /// Counts one duration. Real-time safe: no allocation, no lock.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.histogram.saturating_record(ns);
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
        self.sum_ns += u128::from(ns);
    }

    /// Adds another record's durations to these.
    pub fn merge(&mut self, other: &Latency) {
        // Both histograms have the same bounds, so adding cannot fail.
        self.histogram
            .add(&other.histogram)
            .expect("latency histograms share their bounds");
        self.min_ns = self.min_ns.min(other.min_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
        self.sum_ns += other.sum_ns;
    }

    /// Durations counted.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The histogram itself, for plots and HdrHistogram exports.
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.histogram
    }

    /// Percentiles, exact extremes and mean. All zero when nothing was
    /// counted.
    pub fn summary(&self) -> LatencySummary {
        let count = self.count();
        if count == 0 {
            return LatencySummary::default();
        }
        // The histogram answers with the highest value equivalent to the
        // bucket; clamping to the exact extremes keeps p50 <= max when all
        // durations are equal.
        let at = |q: f64| {
            self.histogram
                .value_at_quantile(q)
                .clamp(self.min_ns, self.max_ns)
        };
        LatencySummary {
            count,
            min_ns: self.min_ns,
            mean_ns: self.sum_ns as f64 / count as f64,
            p50_ns: at(0.50),
            p90_ns: at(0.90),
            p99_ns: at(0.99),
            p999_ns: at(0.999),
            max_ns: self.max_ns,
        }
    }
}

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

/// What a [`Latency`] record says, in nanoseconds.
///
/// Percentiles come from the histogram (within 0.1 %, durations above
/// [`LATENCY_MAX_NS`] counted as that); `min_ns`, `max_ns` and `mean_ns`
/// are exact.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LatencySummary {
    /// Durations counted.
    pub count: u64,
    /// Shortest.
    pub min_ns: u64,
    /// Arithmetic mean.
    pub mean_ns: f64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Longest.
    pub max_ns: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_the_first_thousand_nanoseconds_are_exact() {
        let mut l = Latency::new();
        for ns in 1..=1000 {
            l.record(ns);
        }
        let s = l.summary();
        assert_eq!(s.count, 1000);
        assert_eq!(s.min_ns, 1);
        assert_eq!(s.mean_ns, 500.5);
        assert_eq!(
            (s.p50_ns, s.p90_ns, s.p99_ns, s.p999_ns, s.max_ns),
            (500, 900, 990, 999, 1000)
        );
    }

    #[test]
    fn durations_past_the_histogram_saturate_but_the_maximum_stays_exact() {
        let mut l = Latency::new();
        l.record(3 * LATENCY_MAX_NS);
        let s = l.summary();
        assert_eq!(s.count, 1);
        assert_eq!(s.max_ns, 3 * LATENCY_MAX_NS);
        assert!(s.p99_ns >= LATENCY_MAX_NS && s.p99_ns <= s.max_ns);
    }

    #[test]
    fn an_empty_record_summarises_to_zeros() {
        assert_eq!(Latency::new().summary(), LatencySummary::default());
    }

    #[test]
    fn merging_adds_counts_and_keeps_both_extremes() {
        let mut a = Latency::new();
        a.record(10);
        let mut b = Latency::new();
        b.record(5);
        b.record(30);
        a.merge(&b);
        let s = a.summary();
        assert_eq!((s.count, s.min_ns, s.max_ns, s.mean_ns), (3, 5, 30, 15.0));
    }
}
