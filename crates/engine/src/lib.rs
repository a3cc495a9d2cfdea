//! The reference engine: a Rust reimplementation of the audio path (input
//! and output callbacks, ring, renderer and convolution) of "the
//! binauralizer", a macOS HRIR binauralizer written in Swift, with each
//! allocation its source made on the audio threads before its fix as a site
//! that can be switched on alone. Comments here that compare with "the
//! binauralizer" mean that app's source. The guide's chapter docs/engine.md
//! describes the engine. Depends only on the `allocgate` library; knows
//! nothing of clocks, backends or reports.
//!
//! Data flows: device → [`input::InputCallback`] (interleave) →
//! [`ring`] → [`output::OutputCallback`] (buffering, de-interleave) →
//! [`renderer`] ([`convolver`] per ear and speaker) → the first two output
//! buffers. [`setup::Engine`] builds the pieces; its
//! [`Control`](setup::Control) builds renderer sets from a [`preset`] off
//! the audio thread and hands them over through [`publish`].
//!
//! - [`buffers`]: CoreAudio-shaped non-interleaved buffer lists.
//! - [`layout`]: input layouts and HeSuVi channel maps.
//! - [`sites`]: the switchable allocation sites and each site's expected
//!   counts; [`variant`]: the variants, named sets of sites.
//! - [`spectral`], [`block_fifo`]: the `optimized` variant's renderer
//!   (shared forward FFTs, frequency-domain mixing, any frame count).
//! - [`synthetic`]: deterministic test signals and impulse responses.
//! - `spsc`: the wait-free queue [`publish`] hands sets through.
//! - [`read`]: the one bounded reader for the files a user names
//!   (presets here; scenarios, reports and baselines in the tool).
//! - [`text`]: how messages write counts and numbers.

#![deny(missing_docs, missing_debug_implementations, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod block_fifo;
pub mod buffers;
pub mod convolver;
pub mod input;
pub mod layout;
pub mod output;
pub mod preset;
pub mod publish;
#[cfg(all(loom, test))]
mod publish_loom;
pub mod read;
pub mod renderer;
pub mod ring;
#[cfg(all(test, loom))]
mod ring_loom;
#[doc(hidden)]
pub mod scratch;
pub mod setup;
pub mod sites;
pub mod spectral;
mod spsc;
mod sync;
pub mod synthetic;
pub mod text;
pub mod variant;

pub use setup::{Engine, EngineConfig, MAX_FRAMES};
