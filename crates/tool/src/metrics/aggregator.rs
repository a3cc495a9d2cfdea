//! The aggregator: fed one record at a time, then finished into
//! [`Aggregates`].

use std::time::Duration;

use allocgate::Stats;
use allocgate_engine::sites::CallbackKind;

use super::figures::{Aggregates, KindFigures, PerKind, Phase};
use super::record::Record;
use super::tally::Tally;
use super::timeline::Timeline;

const WARM_UP: usize = 0;
const STEADY: usize = 1;

/// Adds up a run's records.
///
/// Every histogram is sized in [`new`](Self::new), so
/// [`record`](Self::record) and [`add_sizes`](Self::add_sizes) never
/// allocate, lock or block: a driver may call them on a real-time thread.
/// [`finish`](Self::finish) allocates. The histograms take about 1.6 MB
/// (eight latency histograms of 200 KB: one per phase, callback kind and
/// "touched the allocator or not"; the rest is derived when finishing),
/// and the [`Timeline`] 16 KB.
///
/// ```
/// use std::time::Duration;
/// use allocgate::Counts;
/// use allocgate_tool::metrics::Record;
/// use allocgate_engine::sites::CallbackKind;
/// use allocgate::hazard::Hazards;
/// use allocgate_tool::metrics::Aggregator;
///
/// let mut agg = Aggregator::new();
/// agg.record(
///     &Record::new(CallbackKind::Output)
///         .with_frames(480, 10_000_000)
///         .with_wall_ns(1_000)
///         .with_counts(Counts { allocations: 2, ..Counts::new() })
///         .with_hazards(Hazards { lock_acquisitions: 1, ..Hazards::NONE }),
/// );
/// let a = agg.finish(Duration::from_millis(10));
/// assert_eq!(a.all.output.totals.counts.allocations, 2);
/// assert_eq!(a.rates().allocations_per_second, 200.0);
/// assert_eq!(a.all.output.totals.hazards.lock_acquisitions, 1);
/// ```
#[derive(Debug, Clone)]
pub struct Aggregator {
    /// One tally per phase, kind and "touched the allocator", so that a
    /// record updates exactly one; see [`cell`].
    cells: [Tally; 8],
    sizes: PerKind<Stats>,
    timeline: Timeline,
}

/// Index of the tally for a phase, kind and whether the callback touched
/// the allocator.
const fn cell(phase: usize, kind: CallbackKind, touched: bool) -> usize {
    let kind = match kind {
        CallbackKind::Input => 0,
        CallbackKind::Output => 1,
    };
    phase * 4 + kind * 2 + touched as usize
}

impl Aggregator {
    /// An empty aggregator with every histogram allocated.
    pub fn new() -> Self {
        Aggregator {
            cells: std::array::from_fn(|_| Tally::default()),
            sizes: PerKind::default(),
            timeline: Timeline::new(),
        }
    }

    /// Counts one callback. Real-time safe: no allocation, lock or
    /// blocking call.
    #[inline]
    pub fn record(&mut self, record: &Record) {
        let phase = if record.warm_up { WARM_UP } else { STEADY };
        let i = cell(phase, record.kind, record.touched_allocator());
        self.cells[i].record(record);
        self.timeline.record(record);
    }

    /// Adds the size-class figures of callbacks of `kind`: one callback's
    /// [`Stats`] at a time or all of them merged, once at the end.
    /// Real-time safe.
    pub fn add_sizes(&mut self, kind: CallbackKind, stats: &Stats) {
        self.sizes.get_mut(kind).merge(stats);
    }

    /// Callbacks counted so far.
    pub fn callbacks(&self) -> u64 {
        self.cells
            .iter()
            .fold(0, |n, c| n.saturating_add(c.totals.callbacks))
    }

    /// The aggregates, with rates and time shares over `duration` (the
    /// run's simulated duration).
    pub fn finish(self, duration: Duration) -> Aggregates {
        let kind_of = |phase: usize, kind| {
            KindFigures::from_split(
                &self.cells[cell(phase, kind, true)],
                &self.cells[cell(phase, kind, false)],
            )
        };
        let phase_of = |phase: usize| Phase {
            input: kind_of(phase, CallbackKind::Input),
            output: kind_of(phase, CallbackKind::Output),
        };
        let both_phases = |kind, touched| {
            let mut t = self.cells[cell(WARM_UP, kind, touched)].clone();
            t.merge(&self.cells[cell(STEADY, kind, touched)]);
            t
        };
        let all_of =
            |kind| KindFigures::from_split(&both_phases(kind, true), &both_phases(kind, false));
        Aggregates {
            duration,
            all: Phase {
                input: all_of(CallbackKind::Input),
                output: all_of(CallbackKind::Output),
            },
            warm_up: phase_of(WARM_UP),
            steady_state: phase_of(STEADY),
            sizes: self.sizes,
            timeline: self.timeline,
        }
    }
}

impl Default for Aggregator {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests;
