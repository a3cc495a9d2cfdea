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

/// Most buckets [`Latency::buckets`] returns: a plot's worth.
pub const LATENCY_MAX_BUCKETS: usize = 64;

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

    /// The durations in log-spaced buckets, for plots: the non-empty
    /// ones, shortest first, at most [`LATENCY_MAX_BUCKETS`]. Allocates.
    ///
    /// Each octave `[2^m, 2^(m+1))` is cut into 8 equal buckets (about 9 %
    /// wide), or 4, 2 or 1 when finer would give too many. Their bounds
    /// fall on the histogram's own (which are finer), so every count lands
    /// in exactly the bucket of the durations it stands for. A duration of
    /// 0 has a bucket of its own.
    pub fn buckets(&self) -> Vec<LatencyBucket> {
        let mut buckets = Vec::new();
        for cuts_log2 in (0..=3).rev() {
            buckets = self.buckets_per_octave(cuts_log2);
            if buckets.len() <= LATENCY_MAX_BUCKETS {
                break;
            }
        }
        buckets
    }

    /// [`buckets`](Self::buckets) with `2^cuts_log2` buckets per octave.
    fn buckets_per_octave(&self, cuts_log2: u32) -> Vec<LatencyBucket> {
        let mut buckets: Vec<LatencyBucket> = Vec::new();
        for v in self.histogram.iter_recorded() {
            let (lower_ns, upper_ns) = log_bucket(v.value_iterated_to(), cuts_log2);
            let count = v.count_at_value();
            match buckets.last_mut() {
                Some(last) if last.upper_ns == upper_ns => {
                    last.count = last.count.saturating_add(count);
                }
                _ => buckets.push(LatencyBucket {
                    lower_ns,
                    upper_ns,
                    count,
                }),
            }
        }
        buckets
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

/// Durations from `lower_ns` to `upper_ns`, both included, and how many
/// callbacks took that long: one bar of a latency plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencyBucket {
    /// Shortest duration in the bucket.
    pub lower_ns: u64,
    /// Longest duration in the bucket.
    pub upper_ns: u64,
    /// Callbacks in the bucket.
    pub count: u64,
}

/// The bounds (both included) of the bucket holding `ns` when each octave
/// is cut into `2^cuts_log2` equal buckets (of at least 1 ns).
fn log_bucket(ns: u64, cuts_log2: u32) -> (u64, u64) {
    if ns == 0 {
        return (0, 0);
    }
    let octave = 1u64 << ns.ilog2();
    let width = (octave >> cuts_log2).max(1);
    let lower = octave + (ns - octave) / width * width;
    (lower, lower + (width - 1))
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
    fn buckets_cut_each_octave_in_eight_and_hold_every_count() {
        let mut l = Latency::new();
        // 0; 3 (octave 2-3: 1 ns buckets); 1 000 and 1 010 (octave 512-1023:
        // 64 ns buckets, 960-1023); 1 024 (the next octave's first);
        // 100 µs twice (octave 65 536-131 071: 8 192 ns buckets).
        for ns in [0, 3, 1_000, 1_010, 1_024, 100_000, 100_000] {
            l.record(ns);
        }
        let got: Vec<(u64, u64, u64)> = l
            .buckets()
            .iter()
            .map(|b| (b.lower_ns, b.upper_ns, b.count))
            .collect();
        assert_eq!(
            got,
            [
                (0, 0, 1),
                (3, 3, 1),
                (960, 1_023, 2),
                (1_024, 1_151, 1),
                (98_304, 106_495, 2)
            ]
        );
    }

    #[test]
    fn a_wide_spread_is_coarsened_to_a_plots_worth_of_buckets() {
        let mut l = Latency::new();
        // Every octave from 1 ns to 8 s, eight values in each: 8 buckets
        // per octave would give far more than 64.
        for m in 0..33 {
            for j in 0..8u64 {
                l.record((1u64 << m) + ((j << m) >> 3));
            }
        }
        let b = l.buckets();
        assert!(b.len() <= LATENCY_MAX_BUCKETS, "{} buckets", b.len());
        assert_eq!(b.iter().map(|b| b.count).sum::<u64>(), 33 * 8);
        // One bucket per octave (the first from 1 to 1 ns).
        assert_eq!(b.len(), 33);
        assert_eq!((b[10].lower_ns, b[10].upper_ns), (1_024, 2_047));
        assert!(b.windows(2).all(|w| w[0].upper_ns < w[1].lower_ns));
    }

    #[test]
    fn an_empty_record_has_no_buckets() {
        assert!(Latency::new().buckets().is_empty());
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
