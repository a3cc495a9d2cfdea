//! The `allocgate` tool: runs the reference engine's callbacks through
//! time, measures each one with the `allocgate` library, and reports. The
//! binary parses arguments and calls in here; the tests do the same. Its
//! items are for this workspace and promise nothing to other crates.
//!
//! The parts, in the direction data flows:
//! - [`drive`]: what runs callbacks through time (the simulated clock,
//!   JACK, CoreAudio), one [`Record`](metrics::Record) per
//!   callback, handed to a [`RecordSink`](drive::sink::RecordSink).
//! - [`metrics`]: what the records add up to, accumulated without
//!   allocating.
//! - [`report`]: the versioned JSON report, its HTML page and HDR log.
//! - [`run`]: running a configuration on the simulated clock or a real
//!   backend, its report written, and what it promised and broke.
//! - [`sweep`]: many runs, measured against what the site formulas
//!   predict.
//! - [`compare`]: two reports side by side, before and after.
//! - [`scenario`], [`gate`], [`baseline`]: the gate's scenarios, verdicts
//!   and ratchet.
//! - [`files`]: outputs checked before a command runs and written
//!   atomically; inputs read through one bounded reader.
//! - [`interrupt`]: stopping a run at a callback boundary on request.
//! - [`attach`]: an unmodified program run with the preload library,
//!   its captured callbacks turned into the same records and report.
//! - [`cli`]: each subcommand's arguments, validated into what the
//!   parts above run, and the text it prints.

#![deny(missing_docs, missing_debug_implementations, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod attach;
pub mod baseline;
pub mod cli;
pub mod compare;
pub mod drive;
pub mod files;
pub mod gate;
pub mod interrupt;
pub mod metrics;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sweep;
