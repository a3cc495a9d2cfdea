//! Metrics: what a run's per-callback [`Record`]s add up to.
//!
//! A driver feeds each record to an [`Aggregator`] as it arrives (on the
//! audio thread if it likes: recording never allocates), hands it the
//! merged allocator [`Stats`](allocgate::Stats) of each callback kind for the
//! size classes, and [`finish`](Aggregator::finish)es it into
//! [`Aggregates`]:
//!
//! - [`Totals`]: callbacks, allocator calls, bytes, frames, time,
//!   hazards; and [`Rates`] per simulated second;
//! - [`PerCallback`]: how many callbacks made 0, 1, 2, … allocations;
//! - [`Latency`]: an HDR histogram of durations per kind, also split into
//!   callbacks that touched the allocator and callbacks that did not (what
//!   an allocation costs, measured), summarised as [`LatencySummary`];
//! - [`CpuLoad`] (duration over period), deadline misses, [`Xruns`];
//! - a [`Timeline`]: callbacks and allocator calls per stretch of device
//!   time, in at most [`TIMELINE_BINS`] bins, for the whole run;
//! - all of it for the whole run, the warm-up and the steady state apart
//!   ([`Phase`]), per callback kind ([`KindFigures`]).
//!
//! While it runs, a driver also keeps a [`RunTotals`] per callback kind
//! and the run's [`Xruns`], from the same records through the same
//! accumulators, for its outcome and the allocator figures' sizes.

mod aggregator;
mod figures;
mod latency;
mod per_callback;
mod record;
mod tally;
mod timeline;
mod totals;

pub use aggregator::Aggregator;
pub use figures::{Aggregates, KindFigures, PerKind, Phase, Rates};
pub use latency::{
    LATENCY_MAX_BUCKETS, LATENCY_MAX_NS, LATENCY_SIGNIFICANT_DIGITS, Latency, LatencyBucket,
    LatencySummary,
};
pub use per_callback::{PER_CALLBACK_EXACT, PerCallback, PerCallbackBucket};
pub use record::Record;
pub use tally::CpuLoad;
pub use timeline::{TIMELINE_BINS, TIMELINE_FIRST_WIDTH_NS, Timeline, TimelineCounts};
pub use totals::{RunTotals, Totals, Xruns};
