//! The one accumulator of counts, hazards and xruns, fed a [`Record`] at
//! a time: [`Totals`] and [`Xruns`] are what each cell of the aggregator
//! adds up, and [`RunTotals`] what a driver adds up per callback kind over
//! a run. The report's totals are derived from them.

use serde::{Deserialize, Serialize};

use allocgate::hazard::HazardTotals;
use allocgate::{BlockingCounts, Counts, Stats};

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
    /// Their blocking C library calls by name (all zero unless the
    /// C-level layer counted them).
    pub blocking: BlockingCounts,
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
    /// Counts one callback. Real-time safe: no allocation.
    #[inline]
    pub fn record(&mut self, r: &Record) {
        self.callbacks = self.callbacks.saturating_add(1);
        self.touched_allocator = self
            .touched_allocator
            .saturating_add(u64::from(r.touched_allocator()));
        self.counts.merge(&r.counts);
        self.blocking.merge(&r.blocking);
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
        self.blocking.merge(&o.blocking);
        self.frames = self.frames.saturating_add(o.frames);
        self.wall_ns = self.wall_ns.saturating_add(o.wall_ns);
        self.period_ns = self.period_ns.saturating_add(o.period_ns);
        self.hazards.merge(&o.hazards);
    }
}

/// Buffer trouble: xruns and what they cost. Its fields are the report's
/// `xruns` keys (`reports/SCHEMA.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Xruns {
    /// Output callbacks in which the ring ran short.
    pub underruns: u64,
    /// Output callbacks that were buffering and wrote silence.
    pub buffering_callbacks: u64,
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
    /// Counts what one callback lost. Real-time safe: no allocation.
    #[inline]
    pub fn record(&mut self, r: &Record) {
        self.underruns = self.underruns.saturating_add(u64::from(r.underrun));
        self.buffering_callbacks = self
            .buffering_callbacks
            .saturating_add(u64::from(r.buffering));
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
        self.buffering_callbacks = self
            .buffering_callbacks
            .saturating_add(o.buffering_callbacks);
        self.overruns = self.overruns.saturating_add(o.overruns);
        self.bytes_dropped = self.bytes_dropped.saturating_add(o.bytes_dropped);
        self.partial_frames = self.partial_frames.saturating_add(o.partial_frames);
        self.frames_unrendered = self.frames_unrendered.saturating_add(o.frames_unrendered);
    }

    /// Underruns plus overruns.
    pub fn total(&self) -> u64 {
        self.underruns.saturating_add(self.overruns)
    }
}

/// One callback kind over a whole run, as a driver adds it up while it
/// runs: the [`Totals`] of every callback and of those past warm-up, and
/// every callback's allocator figures merged with their size histograms
/// (which a [`Record`] does not carry; a driver hands them to the
/// aggregator at the end, [`add_sizes`](super::Aggregator::add_sizes)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunTotals {
    /// Every callback.
    pub all: Totals,
    /// The callbacks past warm-up.
    pub steady: Totals,
    /// Every callback's allocator figures, sizes included, merged (its
    /// counts are `all.counts`).
    pub stats: Stats,
}

impl RunTotals {
    /// Adds one callback: its record and its allocator figures. Real-time
    /// safe: no allocation.
    pub fn add(&mut self, record: &Record, stats: &Stats) {
        self.all.record(record);
        if !record.warm_up {
            self.steady.record(record);
        }
        self.stats.merge(stats);
    }

    /// Callbacks within a warm-up.
    pub fn warm_up_callbacks(&self) -> u64 {
        self.all.callbacks - self.steady.callbacks
    }
}
