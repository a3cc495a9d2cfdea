//! Drivers: what calls the engine's callbacks through time and records
//! each one. The simulated clock lives here; the real backends (JACK,
//! CoreAudio) join it with the real-audio work.
//!
//! - [`record`]: the per-callback [`Record`](record::Record).

pub mod record;
