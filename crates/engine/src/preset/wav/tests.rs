//! Tests of `wav.rs`.

use super::*;

/// Distinct, deterministic samples in (-1, 1) for every channel.
fn responses(channels: usize, taps: usize) -> Vec<Vec<f32>> {
    (0..channels)
        .map(|c| {
            (0..taps)
                .map(|t| ((c * 131 + t * 17) as f32 * 0.013).sin() * 0.9)
                .collect()
        })
        .collect()
}

fn float_spec(channels: u16, sample_rate: u32) -> WavSpec {
    WavSpec {
        channels,
        sample_rate,
        bits_per_sample: 32,
        sample_format: SampleFormat::Float,
    }
}

fn int_spec(channels: u16, bits_per_sample: u16) -> WavSpec {
    WavSpec {
        channels,
        sample_rate: 48_000,
        bits_per_sample,
        sample_format: SampleFormat::Int,
    }
}

/// A WAV written by hound with these interleaved samples.
fn wav<S: hound::Sample + Copy>(spec: WavSpec, interleaved: &[S]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let mut w = WavWriter::new(&mut out, spec).unwrap();
    for &s in interleaved {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    out.into_inner()
}

/// A float WAV of `channels` x `frames`, every sample 0.25.
fn float_wav(channels: u16, sample_rate: u32, frames: usize) -> Vec<u8> {
    wav(
        float_spec(channels, sample_rate),
        &vec![0.25f32; usize::from(channels) * frames],
    )
}

/// A WAV with a hand-written PCMWAVEFORMAT header, for formats hound
/// will not write.
fn raw_wav(format_tag: u16, channels: u16, bits: u16, data: &[u8]) -> Vec<u8> {
    let rate = 48_000u32;
    let block_align = channels * bits / 8;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&format_tag.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    b.extend_from_slice(&block_align.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(data);
    b
}

/// Overwrites the data chunk's length field.
fn set_data_len(bytes: &mut [u8], len: u32) {
    let at = bytes.windows(4).position(|w| w == b"data").unwrap() + 4;
    bytes[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

fn load(bytes: &[u8]) -> Result<Preset, PresetError> {
    Preset::from_wav_bytes("x.wav", bytes)
}

#[test]
fn a_14_channel_preset_survives_a_wav_round_trip() {
    let preset = Preset::from_channels("hrir.wav", 44_100, responses(14, 256)).unwrap();
    let back = Preset::from_wav_bytes("hrir.wav", &preset.to_wav_bytes()).unwrap();
    assert_eq!(back, preset);
    assert_eq!(back.channel(13), Some(&responses(14, 256)[13][..]));
}

#[test]
fn a_7_channel_preset_survives_a_wav_round_trip() {
    let preset = Preset::from_channels("left.wav", 96_000, responses(7, 100)).unwrap();
    let back = Preset::from_wav_bytes("left.wav", &preset.to_wav_bytes()).unwrap();
    assert_eq!(back, preset);
}

#[test]
fn write_wav_produces_32_bit_float_with_channels_in_file_order() {
    let preset = Preset::from_channels("p.wav", 48_000, responses(7, 3)).unwrap();
    let mut out = Cursor::new(Vec::new());
    preset.write_wav(&mut out).unwrap();
    assert_eq!(out.get_ref(), &preset.to_wav_bytes());
    let mut reader = WavReader::new(Cursor::new(out.into_inner())).unwrap();
    assert_eq!(reader.spec(), float_spec(7, 48_000));
    let samples: Vec<f32> = reader.samples::<f32>().map(Result::unwrap).collect();
    let ch = responses(7, 3);
    assert_eq!(
        samples[..7],
        (0..7).map(|c| ch[c][0]).collect::<Vec<_>>()[..]
    );
    assert_eq!(samples[7], ch[0][1]);
}

#[test]
fn accessors_describe_the_preset() {
    let preset = Preset::from_channels("p.wav", 48_000, responses(14, 33)).unwrap();
    assert_eq!(preset.name(), "p.wav");
    assert_eq!(preset.sample_rate(), 48_000);
    assert_eq!(preset.channel_count(), 14);
    assert_eq!(preset.taps(), 33);
    assert_eq!(preset.channel(0).map(<[f32]>::len), Some(33));
    assert_eq!(preset.channel(14), None);
    let debug = format!("{preset:?}");
    assert!(debug.contains("taps: 33"), "{debug}");
}

#[test]
fn a_preset_loads_from_a_file_named_after_it() {
    let preset = Preset::from_channels("ignored", 48_000, responses(14, 64)).unwrap();
    let path = std::env::temp_dir().join(format!(
        "allocgate-preset-test-{}-roundtrip.wav",
        std::process::id()
    ));
    std::fs::write(&path, preset.to_wav_bytes()).unwrap();
    let loaded = Preset::from_wav_file(&path);
    std::fs::remove_file(&path).unwrap();
    let loaded = loaded.unwrap();
    assert_eq!(loaded.name(), path.file_name().unwrap().to_str().unwrap());
    assert_eq!(loaded.channel(5), preset.channel(5));
}

#[test]
fn a_missing_file_is_an_io_error_naming_the_path() {
    let path = Path::new("/nonexistent/allocgate/missing.wav");
    let err = Preset::from_wav_file(path).unwrap_err();
    assert!(
        matches!(&err, PresetError::Io { path: p, .. } if p == path),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("/nonexistent/allocgate/missing.wav"),
        "{err}"
    );
}

#[test]
fn a_reader_loads_the_same_preset_as_its_bytes() {
    let bytes = float_wav(7, 48_000, 10);
    let from_reader = Preset::from_wav_reader("x.wav", Cursor::new(&bytes)).unwrap();
    assert_eq!(from_reader, load(&bytes).unwrap());
}

#[test]
fn wrong_channel_counts_are_refused_with_the_count() {
    for channels in [1u16, 2, 6, 8, 9, 15] {
        let err = load(&float_wav(channels, 48_000, 4)).unwrap_err();
        assert!(
            matches!(err, PresetError::ChannelCount { channels: c, .. } if c == usize::from(channels)),
            "{err:?}"
        );
        let noun = if channels == 1 { "channel" } else { "channels" };
        assert_eq!(
            err.to_string(),
            format!("preset 'x.wav' has {channels} {noun}; expected 7 or 14")
        );
    }
    for channels in [0, 2, 9] {
        let err = Preset::from_channels("x.wav", 48_000, responses(channels, 4)).unwrap_err();
        assert!(
            matches!(err, PresetError::ChannelCount { channels: c, .. } if c == channels),
            "{err:?}"
        );
    }
}

#[test]
fn a_file_with_no_frames_is_refused_as_empty() {
    let err = load(&float_wav(14, 48_000, 0)).unwrap_err();
    assert!(matches!(err, PresetError::Empty { .. }), "{err:?}");
    assert!(err.to_string().contains("0 frames"), "{err}");
    let err = Preset::from_channels("x.wav", 48_000, vec![Vec::new(); 7]).unwrap_err();
    assert!(matches!(err, PresetError::Empty { .. }), "{err:?}");
}

#[test]
fn channels_of_unequal_length_are_refused() {
    let mut channels = responses(14, 10);
    channels[3].pop();
    let err = Preset::from_channels("x.wav", 48_000, channels).unwrap_err();
    assert!(
        matches!(
            err,
            PresetError::UnequalLengths {
                channel: 3,
                frames: 9,
                expected_frames: 10,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("channel 3 has 9 frames"), "{err}");
}

#[test]
fn eight_bit_pcm_is_refused_as_unsupported() {
    let err = load(&wav(int_spec(14, 8), &[0i8; 14 * 4])).unwrap_err();
    assert!(
        matches!(
            err,
            PresetError::UnsupportedFormat {
                found: WavFormat::Int { bits: 8 },
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("8-bit integer pcm"), "{msg}");
    assert!(
        msg.contains("expected 32-bit float or 16-, 24- or 32-bit"),
        "{msg}"
    );
}

#[test]
fn formats_hound_rejects_are_refused_as_unsupported_and_named() {
    // 64-bit float: hound reads only 32-bit float.
    let err = load(&raw_wav(3, 7, 64, &[0; 7 * 8 * 2])).unwrap_err();
    assert!(
        matches!(
            err,
            PresetError::UnsupportedFormat {
                found: WavFormat::Float { bits: 64 },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("64-bit float"), "{err}");
    // Microsoft ADPCM.
    let err = load(&raw_wav(2, 7, 4, &[0; 7 * 2])).unwrap_err();
    assert!(
        matches!(
            err,
            PresetError::UnsupportedFormat {
                found: WavFormat::Other { format_tag: 2 },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("wave format tag 0x0002"), "{err}");
}

#[test]
fn a_data_chunk_cut_short_is_reported_as_truncated() {
    let mut bytes = float_wav(14, 48_000, 10);
    bytes.truncate(bytes.len() - 10);
    let err = load(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            PresetError::Truncated {
                declared_frames: 10,
                complete_frames: 9,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("declares 10 frames"), "{err}");
}

#[test]
fn a_header_claiming_more_frames_than_present_is_reported_as_truncated() {
    let mut bytes = float_wav(7, 48_000, 10);
    set_data_len(&mut bytes, 7 * 4 * 1_000);
    let err = load(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            PresetError::Truncated {
                declared_frames: 1_000,
                complete_frames: 10,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("ends after 10"), "{err}");
}

#[test]
fn a_header_claiming_more_than_a_float_wav_holds_is_refused_before_reading() {
    // 7 x 16-bit: 14 bytes a frame, so ~153 M frames fit the u32 length
    // field but not, as 32-bit float, a WAV file.
    let mut bytes = wav(int_spec(7, 16), &[0i16; 7]);
    let frames = max_frames(7) + 1;
    set_data_len(&mut bytes, (frames * 14) as u32);
    let err = load(&bytes).unwrap_err();
    assert!(
        matches!(err, PresetError::TooLong { frames: f, max_frames: m, .. } if f == frames && m == max_frames(7)),
        "{err:?}"
    );
    assert!(err.to_string().contains(&frames.to_string()), "{err}");
}

#[test]
fn garbage_bytes_are_not_a_wav_file() {
    for bytes in [
        &b""[..],
        b"RIFF",
        b"this is not a wav file at all, just text",
    ] {
        let err = load(bytes).unwrap_err();
        assert!(matches!(err, PresetError::Malformed { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("preset 'x.wav' is not a readable wav file"),
            "{err}"
        );
    }
}

#[test]
fn corrupted_files_give_errors_never_panics() {
    // A fixed-seed xorshift, so a failure replays exactly.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let originals = [
        float_wav(14, 48_000, 3),
        wav(int_spec(7, 16), &[1i16; 7 * 3]),
        raw_wav(1, 7, 24, &[0; 7 * 3 * 3]),
    ];
    for round in 0..3_000 {
        let mut bytes = originals[round % originals.len()].clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = next() as u8;
        }
        if next() % 4 == 0 {
            bytes.truncate((next() % bytes.len() as u64) as usize);
        }
        // Either outcome is fine; a panic fails the test.
        let _ = load(&bytes);
    }
}

#[test]
fn nan_and_infinite_samples_are_refused_with_their_position() {
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut samples = vec![0.5f32; 14 * 8];
        samples[5 * 14 + 3] = bad; // frame 5, channel 3
        let err = load(&wav(float_spec(14, 48_000), &samples)).unwrap_err();
        assert!(
            matches!(
                err,
                PresetError::NonFiniteSample {
                    channel: 3,
                    frame: 5,
                    ..
                }
            ),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains(&format!("({bad})")), "{msg}");
        assert!(msg.contains("channel 3, frame 5"), "{msg}");

        let mut channels = responses(7, 8);
        channels[6][2] = bad;
        let err = Preset::from_channels("x.wav", 48_000, channels).unwrap_err();
        assert!(
            matches!(
                err,
                PresetError::NonFiniteSample {
                    channel: 6,
                    frame: 2,
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn absurd_sample_rates_are_refused_with_the_rate() {
    for rate in [1, 7_999, 768_001, 10_000_000] {
        let err = load(&float_wav(14, rate, 4)).unwrap_err();
        assert!(
            matches!(err, PresetError::SampleRate { sample_rate, .. } if sample_rate == rate),
            "{err:?}"
        );
        assert!(err.to_string().contains(&format!("{rate} hz")), "{err}");
        let err = Preset::from_channels("x.wav", rate, responses(7, 4)).unwrap_err();
        assert!(matches!(err, PresetError::SampleRate { .. }), "{err:?}");
    }
    for rate in [MIN_SAMPLE_RATE, MAX_SAMPLE_RATE] {
        assert!(load(&float_wav(14, rate, 4)).is_ok());
    }
}

#[test]
fn a_rate_whose_byte_rate_overflows_the_header_is_refused_with_the_rate() {
    // 4 GHz × 56 bytes a frame does not fit the 32-bit byte-rate field, so
    // hound calls the fmt chunk inconsistent; the error names the rate.
    let mut bytes = float_wav(14, 48_000, 4);
    bytes[24..28].copy_from_slice(&4_000_000_000u32.to_le_bytes());
    bytes[28..32].copy_from_slice(&4_000_000_000u32.wrapping_mul(56).to_le_bytes());
    let err = load(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            PresetError::SampleRate {
                sample_rate: 4_000_000_000,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn integer_pcm_of_16_24_and_32_bits_is_scaled_by_its_width() {
    let load_int = |bits: u16, first: i32, second: i32| {
        let mut samples = vec![0i32; 7 * 2];
        samples[0] = first;
        samples[7] = second;
        load(&wav(int_spec(7, bits), &samples)).unwrap()
    };
    let p = load_int(16, i32::from(i16::MAX / 2), i32::from(i16::MIN));
    assert!((p.channel(0).unwrap()[0] - 0.5).abs() < 1e-4);
    assert_eq!(p.channel(0).unwrap()[1], -1.0);
    let p = load_int(24, 1 << 22, -(1 << 23));
    assert_eq!(p.channel(0).unwrap(), &[0.5, -1.0]);
    let p = load_int(32, 1 << 30, i32::MIN);
    assert_eq!(p.channel(0).unwrap(), &[0.5, -1.0]);
    assert_eq!(p.channel(1).unwrap(), &[0.0, 0.0]);
}

#[test]
fn an_out_of_range_index_is_refused_with_index_and_count() {
    let preset = Preset::from_channels("x.wav", 48_000, responses(7, 16)).unwrap();
    let err = preset.impulse_response(7, 48_000).unwrap_err();
    assert!(
        matches!(
            err,
            PresetError::IndexOutOfRange {
                index: 7,
                channels: 7,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("impulse response 7"), "{msg}");
    assert!(msg.contains("below 7"), "{msg}");
}

#[test]
fn impulse_responses_are_copied_at_the_same_rate_and_resampled_otherwise() {
    let preset = Preset::from_channels("x.wav", 44_100, responses(14, 441)).unwrap();
    assert_eq!(
        preset.impulse_response(13, 44_100).unwrap(),
        preset.channel(13).unwrap()
    );
    assert_eq!(preset.impulse_response(0, 48_000).unwrap().len(), 480);
    let err = preset.impulse_response(0, 0).unwrap_err();
    assert!(
        matches!(
            err,
            PresetError::ResampleRate {
                from: 44_100,
                to: 0
            }
        ),
        "{err:?}"
    );
}
