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
/// cargo run -- hrir import-sofa --update-committed
/// ```
///
/// (`--sofa data/MIT_KEMAR_normal_pinna.sofa --rate 48000`, written over
/// `src/engine/preset/kemar_7_1_48k.wav`). A test checks that doing so
/// reproduces this file byte for byte. Cite [`KEMAR_ATTRIBUTION`] wherever
/// it is used.
pub const KEMAR_7_1_WAV: &[u8] = include_bytes!("kemar_7_1_48k.wav");

/// The citation the MIT KEMAR licence asks for wherever the data, or
/// anything derived from it such as [`KEMAR_7_1_WAV`], is used.
pub const KEMAR_ATTRIBUTION: &str = "HRTF measurements of a KEMAR dummy-head \
microphone (normal pinna) by Bill Gardner and Keith Martin, MIT Media Lab Machine Listening \
Group. Data Copyright 1994 MIT Media Laboratory; provided free with no restrictions on use, \
provided the authors are cited.";

/// The name the embedded preset goes by in reports.
pub const KEMAR_NAME: &str = "kemar_7_1_48k.wav (embedded)";

impl super::Preset {
    /// The embedded default preset ([`KEMAR_7_1_WAV`]), parsed and
    /// validated like any other WAV.
    pub fn kemar() -> super::Preset {
        super::Preset::from_wav_bytes(KEMAR_NAME, KEMAR_7_1_WAV)
            .expect("the embedded preset is a valid 14-channel float WAV (tested)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_preset_is_14_channels_of_558_taps_at_48k() {
        let p = super::super::Preset::kemar();
        assert_eq!(
            (p.channel_count(), p.taps(), p.sample_rate()),
            (14, 558, 48_000)
        );
        assert!(KEMAR_ATTRIBUTION.contains("Gardner") && KEMAR_ATTRIBUTION.contains("Martin"));
    }
}
