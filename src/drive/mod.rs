//! Drivers: what calls the engine's callbacks through time and records
//! each one. The simulated clock lives here; the real backends (JACK,
//! CoreAudio) join it with the real-audio work.
//!
//! - [`record`]: the per-callback [`Record`](record::Record).
//! - [`sink`]: where drivers hand records ([`RecordSink`](sink::RecordSink),
//!   [`RecordLog`](sink::RecordLog)).
//! - [`sim`]: the simulated clock and its driver.

pub mod backend;
pub mod callback;
pub mod collector;
pub mod queue;
pub mod record;
pub mod session;
pub mod sim;
pub mod sink;
