//! The reference engine: a faithful reimplementation of the HRIR
//! binauralizer's audio path (see `REFERENCE_ENGINE.md` in the project
//! notes). Depends only on [`crate::alloc`]; knows nothing of clocks,
//! backends or reports.
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
//! - [`sites`]: the switchable allocation sites, variants, and each site's
//!   expected counts.
//! - [`spectral`], [`block_fifo`]: the `optimized` variant's renderer
//!   (shared forward FFTs, frequency-domain mixing, any frame count).
//! - [`synthetic`]: deterministic test signals and impulse responses.
//! - `spsc`: the wait-free queue [`publish`] hands sets through.

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
pub mod renderer;
pub mod ring;
#[cfg(all(test, loom))]
mod ring_loom;
pub mod setup;
pub mod sites;
pub mod spectral;
mod spsc;
mod sync;
pub mod synthetic;

pub use setup::{Engine, EngineConfig, MAX_FRAMES};
