//! Any bytes as a WAV preset: `Preset::from_wav_bytes` must return a preset
//! or an error, never panic, and an accepted preset must write back and
//! load again as the same preset.
#![no_main]

use allocgate_engine::preset::Preset;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(preset) = Preset::from_wav_bytes("fuzz.wav", bytes) {
        let again = Preset::from_wav_bytes("fuzz.wav", &preset.to_wav_bytes())
            .expect("a preset we wrote loads again");
        assert_eq!(again, preset);
    }
});
