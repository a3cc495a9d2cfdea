//! allocgate proves that an audio callback never allocates, locks or
//! blocks, and finds the line that does when it does.
//!
//! Install [`CountingAlloc`] as the global allocator of a test binary, then
//! measure: a closure with [`measure`], a callback called many times with
//! [`CallbackGate`]. Counting is per thread and per scope, never aborts,
//! and refuses to pass vacuously when the allocator is not installed.
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
//!
//! The parts:
//! - scopes: [`measure`], [`try_measure`], [`assert_no_alloc`],
//!   [`permit`], and [`Probe`] for a callback measured call by call;
//! - the gate: [`CallbackGate`], judging every call of a callback;
//! - [`trace`]: where counted calls come from (feature `backtrace`, on
//!   by default);
//! - [`hazard`]: tracked locks, page faults and context switches;
//! - [`size_class`]: request sizes and the allocator size classes they
//!   fall in.

#![deny(missing_docs, missing_debug_implementations, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod callback;
mod callback_gate;
mod counting;
mod error;
pub mod hazard;
mod scope;
pub mod size_class;
mod stats;
mod text;
mod thread_state;
#[cfg(feature = "backtrace")]
pub mod trace;

pub use callback::{CallLog, Probe, Sink, Totals};
pub use callback_gate::{CallbackGate, GateError, GateRun};
pub use counting::CountingAlloc;
pub use error::Error;
pub use scope::{
    Measured, assert_no_alloc, check_installed, measure, permit, scope_depth, try_measure,
};
pub use stats::{Counts, Stats};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
