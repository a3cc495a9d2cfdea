//! The reference engine: a faithful reimplementation of the HRIR
//! binauralizer's audio path (see `REFERENCE_ENGINE.md` in the project
//! notes). Depends only on [`crate::alloc`].
//!
//! - [`buffers`]: CoreAudio-shaped non-interleaved buffer lists.
//! - [`ring`]: the byte ring between the input and the output callback.
//! - [`convolver`]: uniform partitioned overlap-save convolution.
//! - [`preset`]: HeSuVi impulse-response sets (WAV, SOFA import, embedded
//!   KEMAR default).
//! - [`sites`]: the switchable allocation sites, variants, and each site's
//!   expected counts.
//! - [`synthetic`]: deterministic test signals and impulse responses.

pub mod buffers;
pub mod convolver;
pub mod preset;
pub mod ring;
pub mod sites;
pub mod synthetic;
