//! allocgate: an allocation-regression test harness and profiler for
//! real-time audio callbacks.
//!
//! The parts, in the direction data flows:
//! - [`alloc`]: the counting global allocator ([`CountingAlloc`]) and the
//!   scope API built on it ([`measure`], [`assert_no_alloc`], [`permit`],
//!   [`Probe`]). Counting is per thread and per scope, never aborts, and
//!   refuses to pass vacuously when the allocator is not installed.
//! - [`engine`]: the reference engine the harness instruments: buffer lists,
//!   ring, both callbacks, renderer, convolution, presets, allocation sites.
//! - [`drive`]: what runs the engine's callbacks through time: the
//!   simulated clock ([`drive::sim`]), one
//!   [`Record`](drive::record::Record) per callback, handed to a
//!   [`RecordSink`](drive::sink::RecordSink), and the integrity check of
//!   what the output played.
//! - [`metrics`]: what the records add up to; an
//!   [`Aggregator`](metrics::Aggregator) that never allocates while
//!   recording, finished into [`Aggregates`](metrics::Aggregates).
//! - [`report`]: the versioned JSON [`Report`](report::Report), written
//!   atomically and read back with its schema version checked.
//! - [`sweep`]: many runs, measured against what the site formulas
//!   predict.
//! - [`compare`]: two reports side by side, before and after.
//! - [`files`]: the files a user names: outputs checked before a command
//!   runs and written atomically, inputs read through one bounded reader.
//! - [`interrupt`]: stopping a run at a callback boundary on request
//!   ([`Stop`](interrupt::Stop)).
//! - [`cli`]: what the `allocgate` binary does.
//! - [`text`]: how messages write counts (`1 allocation`, `2
//!   allocations`) and the numbers a user typed.
//!
//! Install the allocator once per binary (or test target), then measure:
//!
//! ```rust,standalone_crate
//! #[global_allocator]
//! static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();
//!
//! # fn main() {
//! let m = allocgate::measure(|| vec![0u8; 36]);
//! assert_eq!(m.stats.counts.allocations, 1);
//! assert_eq!(m.stats.macos_classes().count_like(36), 1); // the 48-byte class
//! # }
//! ```

#![deny(missing_docs, missing_debug_implementations, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod alloc;
pub mod baseline;
pub mod cli;
pub mod compare;
pub mod drive;
pub mod engine;
pub mod files;
pub mod gate;
pub mod hazard;
pub mod interrupt;
pub mod metrics;
pub mod report;
pub mod scenario;
pub mod sweep;
pub mod text;

pub use alloc::{
    CallLog, CallbackGate, CountingAlloc, Counts, Error, GateError, GateRun, Measured, Probe, Sink,
    Stats, Totals, assert_no_alloc, check_installed, measure, permit, try_measure,
};
