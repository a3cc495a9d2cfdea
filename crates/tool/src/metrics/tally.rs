//! What a set of callbacks adds up to: counts, load, deadlines, xruns,
//! durations. [`Tally`] is one cell of the aggregator; [`CpuLoad`] is
//! what the aggregates expose of its loads.

use super::latency::Latency;
use super::per_callback::PerCallback;
use super::record::Record;
use super::totals::{Totals, Xruns};

/// CPU load: each callback's wall-clock duration over its period (the
/// time the device gave it, frames / sample rate).
///
/// A callback with a zero period has no load ratio and is left out of the
/// mean and maximum (it still counts as a deadline miss if it took any
/// time).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuLoad {
    ratio_sum: f64,
    rated: u64,
    max: f64,
}

impl CpuLoad {
    #[inline]
    fn record(&mut self, r: &Record) {
        if r.period_ns == 0 {
            return;
        }
        let ratio = r.wall_ns as f64 / r.period_ns as f64;
        self.ratio_sum += ratio;
        self.rated += 1;
        self.max = self.max.max(ratio);
    }

    /// Adds another set of callbacks' loads to these.
    pub fn merge(&mut self, o: &CpuLoad) {
        self.ratio_sum += o.ratio_sum;
        self.rated = self.rated.saturating_add(o.rated);
        self.max = self.max.max(o.max);
    }

    /// Mean of the callbacks' ratios (0 with no callback).
    pub fn mean(&self) -> f64 {
        if self.rated == 0 {
            0.0
        } else {
            self.ratio_sum / self.rated as f64
        }
    }

    /// Largest ratio (above 1: the callback missed its deadline).
    pub fn max(&self) -> f64 {
        self.max
    }
}

/// Everything counted for one set of callbacks. The aggregator keeps one
/// per phase, kind and "touched the allocator or not", so each record
/// updates exactly one.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally {
    pub(crate) totals: Totals,
    pub(crate) per_callback: PerCallback,
    pub(crate) load: CpuLoad,
    pub(crate) deadline_misses: u64,
    pub(crate) xruns: Xruns,
    pub(crate) latency: Latency,
}

impl Tally {
    /// Counts one callback. Real-time safe: no allocation.
    #[inline]
    pub(crate) fn record(&mut self, r: &Record) {
        self.totals.record(r);
        self.per_callback.record(r.counts.allocations);
        self.load.record(r);
        self.deadline_misses = self
            .deadline_misses
            .saturating_add(u64::from(r.missed_deadline()));
        self.xruns.record(r);
        self.latency.record(r.wall_ns);
    }

    pub(crate) fn merge(&mut self, o: &Tally) {
        self.totals.merge(&o.totals);
        self.per_callback.merge(&o.per_callback);
        self.load.merge(&o.load);
        self.deadline_misses = self.deadline_misses.saturating_add(o.deadline_misses);
        self.xruns.merge(&o.xruns);
        self.latency.merge(&o.latency);
    }
}
