//! Allocator calls over device time: a fixed number of bins whose width
//! doubles, merging neighbours, whenever a callback falls past the last.
//!
//! The bins are allocated in [`Timeline::new`]; recording only adds to
//! them (and, at most once per doubling, folds them in place), so it is
//! real-time safe whatever the run's length.

use allocgate_engine::sites::CallbackKind;

use super::figures::PerKind;
use super::record::Record;

/// Bins a timeline holds: the plot's resolution.
pub const TIMELINE_BINS: usize = 256;

/// Width of a bin before any doubling, in nanoseconds of device time
/// (10 ms: a 2.56 s run keeps that resolution).
pub const TIMELINE_FIRST_WIDTH_NS: u64 = 10_000_000;

/// What the callbacks of one kind that started within one bin did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimelineCounts {
    /// Callbacks.
    pub callbacks: u64,
    /// `alloc` and `alloc_zeroed` calls.
    pub allocations: u64,
    /// `dealloc` calls.
    pub deallocations: u64,
    /// `realloc` calls.
    pub reallocations: u64,
}

impl TimelineCounts {
    #[inline]
    fn record(&mut self, r: &Record) {
        self.callbacks = self.callbacks.saturating_add(1);
        self.allocations = self.allocations.saturating_add(r.counts.allocations);
        self.deallocations = self.deallocations.saturating_add(r.counts.deallocations);
        self.reallocations = self.reallocations.saturating_add(r.counts.reallocations);
    }

    #[inline]
    fn merge(&mut self, o: &TimelineCounts) {
        self.callbacks = self.callbacks.saturating_add(o.callbacks);
        self.allocations = self.allocations.saturating_add(o.allocations);
        self.deallocations = self.deallocations.saturating_add(o.deallocations);
        self.reallocations = self.reallocations.saturating_add(o.reallocations);
    }
}

/// Callbacks and allocator calls per stretch of device time, per kind.
///
/// Bin `i` holds the callbacks whose first frame fell in
/// `[i × width, (i + 1) × width)` nanoseconds after the run's start, a
/// callback's time being `device_time × period_ns / frames` (its device
/// clock, in frames, at its own rate). The width starts at
/// [`TIMELINE_FIRST_WIDTH_NS`]; a callback past the last of the
/// [`TIMELINE_BINS`] bins doubles it, bins `2i` and `2i + 1` becoming bin
/// `i`, as often as it takes. Callbacks with no frames count at time 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    bins: Box<[PerKind<TimelineCounts>]>,
    width_ns: u64,
    /// One past the last bin a callback fell in.
    used: usize,
}

impl Timeline {
    /// An empty timeline, its bins allocated.
    pub fn new() -> Self {
        Timeline {
            bins: vec![PerKind::default(); TIMELINE_BINS].into_boxed_slice(),
            width_ns: TIMELINE_FIRST_WIDTH_NS,
            used: 0,
        }
    }

    /// Counts one callback. Real-time safe: no allocation, lock or
    /// blocking call; a doubling folds the bins in place.
    #[inline]
    pub fn record(&mut self, r: &Record) {
        let t = start_ns(r);
        let mut i = t / self.width_ns;
        // At most 33 doublings (10 ms × 2^33 × 256 bins > u64::MAX ns), so
        // the width never overflows.
        while i >= TIMELINE_BINS as u64 {
            self.double();
            i = t / self.width_ns;
        }
        let i = i as usize;
        self.bins[i].get_mut(r.kind).record(r);
        self.used = self.used.max(i + 1);
    }

    /// Doubles the width: bins `2i` and `2i + 1` become bin `i`.
    fn double(&mut self) {
        let half = TIMELINE_BINS / 2;
        for i in 0..half {
            let (a, b) = (self.bins[2 * i], self.bins[2 * i + 1]);
            let mut merged = a;
            merged.input.merge(&b.input);
            merged.output.merge(&b.output);
            self.bins[i] = merged;
        }
        for bin in &mut self.bins[half..] {
            *bin = PerKind::default();
        }
        self.width_ns *= 2;
        self.used = self.used.div_ceil(2);
    }

    /// Width of every bin, in nanoseconds of device time.
    pub fn width_ns(&self) -> u64 {
        self.width_ns
    }

    /// The bins from the run's start through the last one a callback fell
    /// in (empty ones between included); empty when nothing was recorded.
    pub fn bins(&self) -> &[PerKind<TimelineCounts>] {
        &self.bins[..self.used]
    }

    /// The bins of one kind, as [`bins`](Self::bins).
    pub fn kind(&self, kind: CallbackKind) -> impl Iterator<Item = &TimelineCounts> {
        self.bins().iter().map(move |b| b.get(kind))
    }
}

impl Default for Timeline {
    fn default() -> Self {
        Self::new()
    }
}

/// Device time of a record's first frame, in nanoseconds since the run's
/// start (0 for a record with no frames).
#[inline]
fn start_ns(r: &Record) -> u64 {
    if r.frames == 0 {
        return 0;
    }
    let ns = u128::from(r.device_time) * u128::from(r.period_ns) / u128::from(r.frames);
    u64::try_from(ns).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use allocgate::Counts;

    /// An output callback of 480 frames every 10 ms (48 kHz) starting
    /// `at_ms` into the run, with `allocations` allocations and one
    /// deallocation.
    fn at(at_ms: u64, allocations: u64) -> Record {
        Record::new(CallbackKind::Output)
            .with_device_time(at_ms * 48)
            .with_frames(480, 10_000_000)
            .with_wall_ns(1_000)
            .with_counts(Counts {
                allocations,
                deallocations: 1,
                ..Counts::new()
            })
    }

    fn output(t: &Timeline) -> Vec<(u64, u64)> {
        t.kind(CallbackKind::Output)
            .map(|c| (c.callbacks, c.allocations))
            .collect()
    }

    #[test]
    fn callbacks_land_in_the_bin_of_their_first_frame() {
        let mut t = Timeline::new();
        // 0 ms and 9 ms in bin 0, 10 ms and 19 ms in bin 1, 35 ms in bin 3.
        for (ms, n) in [(0, 1), (9, 2), (10, 3), (19, 4), (35, 5)] {
            t.record(&at(ms, n));
        }
        assert_eq!(t.width_ns(), TIMELINE_FIRST_WIDTH_NS);
        assert_eq!(output(&t), [(2, 3), (2, 7), (0, 0), (1, 5)]);
        assert_eq!(t.bins()[1].output.deallocations, 2);
        assert!(t.kind(CallbackKind::Input).all(|c| c.callbacks == 0));
    }

    #[test]
    fn a_callback_past_the_last_bin_doubles_the_width_and_merges_neighbours() {
        let mut t = Timeline::new();
        // Bins 0, 1, 2 and 255 at 10 ms; then 2 560 ms is bin 256.
        for (ms, n) in [(0, 1), (10, 2), (20, 4), (2_550, 8)] {
            t.record(&at(ms, n));
        }
        assert_eq!(t.bins().len(), 256);
        t.record(&at(2_560, 16));
        // At 20 ms: 0 and 10 ms merge into bin 0, 20 ms is bin 1, 2 550 ms
        // bin 127, 2 560 ms bin 128.
        assert_eq!(t.width_ns(), 20_000_000);
        assert_eq!(t.bins().len(), 129);
        let o = output(&t);
        assert_eq!(
            (o[0], o[1], o[127], o[128]),
            ((2, 3), (1, 4), (1, 8), (1, 16))
        );
        let total: u64 = o.iter().map(|&(_, a)| a).sum();
        assert_eq!(total, 31);
    }

    #[test]
    fn a_callback_far_past_the_end_doubles_as_often_as_it_takes() {
        let mut t = Timeline::new();
        t.record(&at(0, 1));
        // 10 s: 10 ms × 256 × 4 = 10.24 s, so two doublings, bin 250.
        t.record(&at(10_000, 2));
        assert_eq!(t.width_ns(), 40_000_000);
        assert_eq!(t.bins().len(), 251);
        assert_eq!(output(&t)[250], (1, 2));
        assert_eq!(output(&t)[0], (1, 1));
    }

    #[test]
    fn both_kinds_share_the_bins_and_a_callback_without_frames_counts_at_zero() {
        let mut t = Timeline::new();
        t.record(&Record {
            kind: CallbackKind::Input,
            frames: 0,
            device_time: 1 << 40,
            ..at(0, 1)
        });
        t.record(&at(15, 2));
        assert_eq!(t.bins().len(), 2);
        assert_eq!(t.bins()[0].input.callbacks, 1);
        assert_eq!(t.bins()[1].output.allocations, 2);
    }

    #[test]
    fn the_latest_possible_time_still_finds_a_bin() {
        let mut t = Timeline::new();
        t.record(&Record {
            device_time: u64::MAX,
            period_ns: u64::MAX,
            frames: 1,
            ..at(0, 1)
        });
        // u64::MAX ns over 10 ms × 2^33 is 214.7.
        assert_eq!(t.width_ns(), TIMELINE_FIRST_WIDTH_NS << 33);
        assert_eq!(t.bins().len(), 215);
        assert_eq!(t.bins()[214].output.callbacks, 1);
    }

    #[test]
    fn an_empty_timeline_has_no_bins() {
        assert!(Timeline::new().bins().is_empty());
    }
}
