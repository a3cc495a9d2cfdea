//! What a set of callbacks adds up to: counts, load, deadlines, xruns,
//! durations. [`Tally`] is one cell of the aggregator; the public pieces
//! are what the aggregates expose.

use allocgate::Counts;
use allocgate::hazard::HazardTotals;

use super::latency::Latency;
use super::per_callback::PerCallback;
use super::record::Record;

/// Counts over a set of callbacks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Callbacks.
    pub callbacks: u64,
    /// Callbacks that made at least one allocator call (allocation,
    /// deallocation or reallocation).
    pub touched_allocator: u64,
    /// Their allocator calls added up.
    pub counts: Counts,
    /// Frames asked for.
    pub frames: u64,
    /// Wall-clock time spent in the callbacks, in nanoseconds.
    pub wall_ns: u64,
    /// Their periods (deadlines) added up, in nanoseconds: the device time
    /// the callbacks covered.
    pub period_ns: u64,
    /// Locks, page faults and context switches.
    pub hazards: HazardTotals,
}

impl Totals {
    #[inline]
    fn record(&mut self, r: &Record) {
        self.callbacks = self.callbacks.saturating_add(1);
        self.touched_allocator = self
            .touched_allocator
            .saturating_add(u64::from(r.touched_allocator()));
        self.counts.merge(&r.counts);
        self.frames = self.frames.saturating_add(u64::from(r.frames));
        self.wall_ns = self.wall_ns.saturating_add(r.wall_ns);
        self.period_ns = self.period_ns.saturating_add(r.period_ns);
        self.hazards.record(&r.hazards);
    }

    /// Adds other totals to these.
    pub fn merge(&mut self, o: &Totals) {
        self.callbacks = self.callbacks.saturating_add(o.callbacks);
        self.touched_allocator = self.touched_allocator.saturating_add(o.touched_allocator);
        self.counts.merge(&o.counts);
        self.frames = self.frames.saturating_add(o.frames);
        self.wall_ns = self.wall_ns.saturating_add(o.wall_ns);
        self.period_ns = self.period_ns.saturating_add(o.period_ns);
        self.hazards.merge(&o.hazards);
    }
}

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

/// Buffer trouble: xruns and what they cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Xruns {
    /// Output callbacks in which the ring ran short.
    pub underruns: u64,
    /// Output callbacks that were buffering and wrote silence.
    pub buffering: u64,
    /// Input callbacks that dropped bytes because the ring was full.
    pub overruns: u64,
    /// Bytes those callbacks dropped.
    pub bytes_dropped: u64,
    /// Input callbacks whose ring write ended mid-frame.
    pub partial_frames: u64,
    /// Output frames left unrendered (past the last whole block).
    pub frames_unrendered: u64,
}

impl Xruns {
    #[inline]
    fn record(&mut self, r: &Record) {
        self.underruns = self.underruns.saturating_add(u64::from(r.underrun));
        self.buffering = self.buffering.saturating_add(u64::from(r.buffering));
        self.overruns = self.overruns.saturating_add(u64::from(r.bytes_dropped > 0));
        self.bytes_dropped = self
            .bytes_dropped
            .saturating_add(u64::from(r.bytes_dropped));
        self.partial_frames = self
            .partial_frames
            .saturating_add(u64::from(r.partial_frame));
        self.frames_unrendered = self
            .frames_unrendered
            .saturating_add(u64::from(r.frames_unrendered));
    }

    /// Adds other xruns to these.
    pub fn merge(&mut self, o: &Xruns) {
        self.underruns = self.underruns.saturating_add(o.underruns);
        self.buffering = self.buffering.saturating_add(o.buffering);
        self.overruns = self.overruns.saturating_add(o.overruns);
        self.bytes_dropped = self.bytes_dropped.saturating_add(o.bytes_dropped);
        self.partial_frames = self.partial_frames.saturating_add(o.partial_frames);
        self.frames_unrendered = self.frames_unrendered.saturating_add(o.frames_unrendered);
    }

    /// Underruns plus overruns.
    pub fn events(&self) -> u64 {
        self.underruns.saturating_add(self.overruns)
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
