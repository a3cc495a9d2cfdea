//! Drivers: what calls the engine's callbacks through time and records
//! each one: the simulated clock, and real audio threads (JACK, CoreAudio).
//!
//! - [`callback`]: one callback run and measured alone, the same way for
//!   every driver ([`Measurement`](callback::Measurement)).
//! - [`sink`]: where drivers hand records ([`RecordSink`](sink::RecordSink),
//!   [`RecordLog`](sink::RecordLog)), each a
//!   [`Record`](crate::metrics::Record).
//! - [`signal`]: the known input signal every driver plays.
//! - [`integrity`]: the [`Checker`](integrity::Checker) of what the output
//!   played, and its [`Verdict`](integrity::Verdict).
//! - [`outcome`]: what a run did, whichever driver ran it
//!   ([`Outcome`](outcome::Outcome), [`Progress`](outcome::Progress)).
//! - [`sim`]: the simulated clock and its driver.
//! - [`backend`]: real audio: the [`Host`](backend::Host) and
//!   [`Stream`](backend::Stream) traits, JACK and CoreAudio.
//! - [`queue`]: wait-free queues off real audio threads (measurements,
//!   played blocks).
//! - [`collector`] and [`session`]: what the calling thread does with them
//!   during a real run.

pub mod backend;
pub mod callback;
pub mod collector;
pub mod integrity;
pub mod outcome;
pub mod queue;
pub mod session;
pub mod signal;
pub mod sim;
pub mod sink;
