//! The counting global allocator and the API to measure with it.
//!
//! [`CountingAlloc`] forwards every call to the allocator it wraps and, while
//! a scope is open on the calling thread, counts it in that thread's state
//! (`thread_state`). Scopes are opened by [`measure`], [`assert_no_alloc`]
//! and [`Probe::run`]; [`permit`] marks accepted calls; [`trace`] records
//! where counted calls come from. Nothing here depends
//! on the rest of the crate.

mod callback;
mod callback_gate;
mod counting;
mod error;
mod scope;
pub mod size_class;
mod stats;
mod thread_state;
pub mod trace;

pub use callback::{CallLog, Probe, Sink, Totals};
pub use callback_gate::{CallbackGate, GateError, GateRun};
pub use counting::CountingAlloc;
pub use error::Error;
pub use scope::{
    Measured, assert_no_alloc, check_installed, measure, permit, scope_depth, try_measure,
};
pub use stats::{Counts, Stats};
