//! The default preset, compiled into the binary: MIT KEMAR (normal pinna)
//! impulse responses at the 7.1 speaker angles, 48 kHz.

/// A HeSuVi 14-channel, 48 kHz, 32-bit float WAV of 558-tap impulse
/// responses: for each 7.1 speaker (FL 30°, FR −30°, FC 0°, SL 90°, SR −90°,
/// BL 150°, BR −150°, elevation 0) the nearest measurement of
/// `data/MIT_KEMAR_normal_pinna.sofa`, resampled from 44.1 kHz by `sofar`,
/// which also scales the set so the frontal measurement has an energy of 1
/// per ear on average. Made by [`super::sofa::import`] and
/// [`super::sofa::write_hesuvi_wav`]; regenerate it from the repository root
/// with
///
/// ```text
/// cargo run -- hrir import-sofa
/// ```
///
/// (defaults: `--sofa data/MIT_KEMAR_normal_pinna.sofa --rate 48000
/// --out src/engine/preset/kemar_7_1_48k.wav`). A test checks that doing so
/// reproduces this file byte for byte. Cite [`KEMAR_ATTRIBUTION`] wherever
/// it is used.
// Read by the preset loader once the engine selects a default; until then
// only the tests use it.
#[allow(dead_code)]
pub(crate) const KEMAR_7_1_WAV: &[u8] = include_bytes!("kemar_7_1_48k.wav");

/// The citation the MIT KEMAR licence asks for wherever the data, or
/// anything derived from it such as [`KEMAR_7_1_WAV`], is used.
#[allow(dead_code)]
pub(crate) const KEMAR_ATTRIBUTION: &str = "HRTF measurements of a KEMAR dummy-head \
microphone (normal pinna) by Bill Gardner and Keith Martin, MIT Media Lab Machine Listening \
Group. Data Copyright 1994 MIT Media Laboratory; provided free with no restrictions on use, \
provided the authors are cited.";
