//! The reference engine: a faithful reimplementation of the HRIR
//! binauralizer's audio path (see `REFERENCE_ENGINE.md` in the project
//! notes), built piece by piece. Depends only on [`crate::alloc`].
//!
//! - [`ring`]: the byte ring between the input and the output callback.
//! - [`preset`]: HeSuVi impulse-response sets (WAV, SOFA import, embedded
//!   KEMAR default).

pub mod preset;
pub mod ring;
