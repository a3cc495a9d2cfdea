//! The aggregates of a run: per phase (all, warm-up, steady state), per
//! callback kind, and the rates and size classes of the whole run.

use std::time::Duration;

use allocgate::Stats;
use allocgate_engine::sites::CallbackKind;

use super::latency::Latency;
use super::per_callback::PerCallback;
use super::tally::{CpuLoad, Tally};
use super::timeline::Timeline;
use super::totals::{Totals, Xruns};

/// One value per callback kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PerKind<T> {
    /// For input callbacks.
    pub input: T,
    /// For output callbacks.
    pub output: T,
}

impl<T> PerKind<T> {
    /// The value for `kind`.
    pub fn get(&self, kind: CallbackKind) -> &T {
        match kind {
            CallbackKind::Input => &self.input,
            CallbackKind::Output => &self.output,
        }
    }

    /// The value for `kind`, to change.
    pub fn get_mut(&mut self, kind: CallbackKind) -> &mut T {
        match kind {
            CallbackKind::Input => &mut self.input,
            CallbackKind::Output => &mut self.output,
        }
    }

    /// Both values transformed by `f`.
    pub fn map<U>(&self, mut f: impl FnMut(&T) -> U) -> PerKind<U> {
        PerKind {
            input: f(&self.input),
            output: f(&self.output),
        }
    }
}

/// What the callbacks of one kind in one phase added up to.
#[derive(Debug, Clone, Default)]
pub struct KindFigures {
    /// Callbacks, allocator calls, frames and time.
    pub totals: Totals,
    /// How many callbacks made 0, 1, 2, … allocations.
    pub allocations_per_callback: PerCallback,
    /// Duration over period.
    pub load: CpuLoad,
    /// Callbacks that took longer than their period.
    pub deadline_misses: u64,
    /// Underruns, overruns and what they cost.
    pub xruns: Xruns,
    /// Durations of every callback.
    pub latency: Latency,
    /// Durations of the callbacks that made at least one allocator call
    /// (allocation, deallocation or reallocation).
    pub latency_allocated: Latency,
    /// Durations of the callbacks that made none.
    pub latency_not_allocated: Latency,
}

impl KindFigures {
    pub(crate) fn from_split(allocated: &Tally, not_allocated: &Tally) -> KindFigures {
        let mut all = allocated.clone();
        all.merge(not_allocated);
        KindFigures {
            totals: all.totals,
            allocations_per_callback: all.per_callback,
            load: all.load,
            deadline_misses: all.deadline_misses,
            xruns: all.xruns,
            latency: all.latency,
            latency_allocated: allocated.latency.clone(),
            latency_not_allocated: not_allocated.latency.clone(),
        }
    }

    /// Share of `duration` spent in these callbacks: their wall-clock time
    /// over the run's simulated duration (0 for an empty duration).
    pub fn time_share(&self, duration: Duration) -> f64 {
        let ns = duration.as_nanos();
        if ns == 0 {
            0.0
        } else {
            self.totals.wall_ns as f64 / ns as f64
        }
    }
}

/// One phase of a run (all of it, the warm-up, or the steady state), per
/// callback kind.
#[derive(Debug, Clone, Default)]
pub struct Phase {
    /// The input callbacks.
    pub input: KindFigures,
    /// The output callbacks.
    pub output: KindFigures,
}

impl Phase {
    /// The figures of `kind`.
    pub fn kind(&self, kind: CallbackKind) -> &KindFigures {
        match kind {
            CallbackKind::Input => &self.input,
            CallbackKind::Output => &self.output,
        }
    }

    /// Totals of both kinds together.
    pub fn totals(&self) -> Totals {
        let mut t = self.input.totals;
        t.merge(&self.output.totals);
        t
    }

    /// Xruns of both kinds together.
    pub fn xruns(&self) -> Xruns {
        let mut x = self.input.xruns;
        x.merge(&self.output.xruns);
        x
    }

    /// Deadline misses of both kinds together.
    pub fn deadline_misses(&self) -> u64 {
        self.input
            .deadline_misses
            .saturating_add(self.output.deadline_misses)
    }
}

/// Totals divided by a duration: how often per second.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rates {
    /// Callbacks per second.
    pub callbacks_per_second: f64,
    /// Allocations (`alloc` and `alloc_zeroed`) per second.
    pub allocations_per_second: f64,
    /// Deallocations per second.
    pub deallocations_per_second: f64,
    /// Reallocations per second.
    pub reallocations_per_second: f64,
    /// Allocator calls of every kind per second.
    pub allocator_calls_per_second: f64,
    /// Bytes requested by allocations per second.
    pub bytes_per_second: f64,
}

impl Rates {
    /// `totals` per second of `duration` (all zero for an empty duration).
    pub fn new(totals: &Totals, duration: Duration) -> Rates {
        let seconds = duration.as_secs_f64();
        let per_second = |n: u64| {
            if seconds > 0.0 {
                n as f64 / seconds
            } else {
                0.0
            }
        };
        let c = &totals.counts;
        Rates {
            callbacks_per_second: per_second(totals.callbacks),
            allocations_per_second: per_second(c.allocations),
            deallocations_per_second: per_second(c.deallocations),
            reallocations_per_second: per_second(c.reallocations),
            allocator_calls_per_second: per_second(c.calls()),
            bytes_per_second: per_second(c.bytes_allocated),
        }
    }
}

/// Everything a run's records add up to.
///
/// `all` is `warm_up` and `steady_state` together: totals include both.
#[derive(Debug, Clone, Default)]
pub struct Aggregates {
    /// The run's simulated duration: what rates and time shares divide
    /// by.
    pub duration: Duration,
    /// Every callback.
    pub all: Phase,
    /// The callbacks the driver marked as warm-up (after a start or
    /// restart).
    pub warm_up: Phase,
    /// The other callbacks.
    pub steady_state: Phase,
    /// Requested sizes and size classes, per kind, as handed to
    /// [`Aggregator::add_sizes`](super::Aggregator::add_sizes).
    pub sizes: PerKind<Stats>,
    /// Callbacks and allocator calls over device time, whole run.
    pub timeline: Timeline,
}

impl Aggregates {
    /// Rates of both kinds together over the whole run.
    pub fn rates(&self) -> Rates {
        Rates::new(&self.all.totals(), self.duration)
    }

    /// Rates of one kind over the whole run.
    pub fn rates_of(&self, kind: CallbackKind) -> Rates {
        Rates::new(&self.all.kind(kind).totals, self.duration)
    }

    /// Size classes of both kinds together.
    pub fn sizes_total(&self) -> Stats {
        let mut s = self.sizes.input;
        s.merge(&self.sizes.output);
        s
    }
}
