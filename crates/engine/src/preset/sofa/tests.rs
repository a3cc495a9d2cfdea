//! Tests of `sofa.rs`.

use std::io::Cursor;
use std::sync::OnceLock;

use super::*;

fn manifest(relative: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(relative)
}

/// The committed KEMAR file imported at 48 kHz, once per test binary:
/// sofar takes over a second to parse and resample it in a debug build.
fn kemar() -> &'static ImportedSet {
    static SET: OnceLock<ImportedSet> = OnceLock::new();
    SET.get_or_init(|| {
        import(
            &manifest("data/MIT_KEMAR_normal_pinna.sofa"),
            &ImportOptions::default(),
        )
        .expect("the committed sofa file imports")
    })
}

fn rms(samples: &[f32]) -> f64 {
    let energy: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (energy / samples.len() as f64).sqrt()
}

fn db(louder: &[f32], quieter: &[f32]) -> f64 {
    20.0 * (rms(louder) / rms(quieter)).log10()
}

#[test]
fn importing_the_committed_sofa_file_reproduces_the_embedded_preset_byte_for_byte() {
    let mut bytes = Cursor::new(Vec::new());
    write_hesuvi_wav(kemar(), &mut bytes).expect("writes");
    let bytes = bytes.into_inner();
    let embedded = super::super::embedded::KEMAR_7_1_WAV;
    if bytes != embedded {
        // Tell a float difference (another FFT code path) from a layout one.
        let read = |b: &[u8]| -> Vec<f32> {
            hound::WavReader::new(Cursor::new(b.to_vec()))
                .expect("reads")
                .into_samples::<f32>()
                .map(|s| s.expect("sample"))
                .collect()
        };
        let (ours, theirs) = (read(&bytes), read(embedded));
        let worst = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        panic!(
            "regenerated wav differs from kemar_7_1_48k.wav: {} vs {} bytes, {} vs {} \
             samples, largest sample difference {worst:e}; rerun \
             `allocgate hrir import-sofa --update-committed` if the change is intended",
            bytes.len(),
            embedded.len(),
            ours.len(),
            theirs.len()
        );
    }
}

#[test]
fn the_embedded_preset_has_14_channels_of_558_taps_at_48_khz() {
    let set = kemar();
    assert_eq!(set.sample_rate, 48_000);
    assert_eq!(set.channels.len(), 14);
    assert!(set.channels.iter().all(|c| c.len() == 558), "558 taps each");
    assert_eq!(set.measurements, 710);

    let reader = hound::WavReader::new(Cursor::new(super::super::embedded::KEMAR_7_1_WAV))
        .expect("the embedded preset is a wav");
    let spec = reader.spec();
    assert_eq!(spec.channels, 14);
    assert_eq!(spec.sample_rate, 48_000);
    assert_eq!(spec.bits_per_sample, 32);
    assert_eq!(spec.sample_format, hound::SampleFormat::Float);
    assert_eq!(reader.duration(), 558);
}

#[test]
fn every_speaker_uses_a_horizontal_measurement_at_its_own_angle() {
    for p in &kemar().positions {
        let want = p.speaker.azimuth();
        assert!(
            (p.azimuth - want).abs() < 0.01,
            "{} used azimuth {}; expected {want}",
            p.speaker.label(),
            p.azimuth
        );
        assert!(p.elevation.abs() < 0.01, "{} elevation", p.speaker.label());
    }
    let speakers: Vec<_> = kemar().positions.iter().map(|p| p.speaker).collect();
    assert_eq!(speakers, Speaker::ALL);
}

#[test]
fn the_speaker_map_uses_every_hesuvi_channel_exactly_once() {
    let mut used = [0; HESUVI_CHANNELS];
    for speaker in Speaker::ALL {
        let (l, r) = speaker.hesuvi_channels();
        used[l] += 1;
        used[r] += 1;
    }
    assert_eq!(used, [1; HESUVI_CHANNELS]);
}

#[test]
fn a_side_speaker_is_over_6_db_louder_in_the_near_ear() {
    let c = &kemar().channels;
    let sl = db(&c[2], &c[3]);
    let sr = db(&c[9], &c[10]);
    assert!(sl > 6.0, "SL left over right ear: {sl:.2} dB");
    assert!(sr > 6.0, "SR right over left ear: {sr:.2} dB");
}

/// The normal-pinna KEMAR set is one measured ear mirrored, so the
/// tolerance, 1e-4 of the channel's peak (-80 dB), is only for rounding.
#[test]
fn front_left_and_front_right_are_mirror_images() {
    let c = &kemar().channels;
    for (fl, fr) in [(0, 7), (1, 8)] {
        let peak = c[fl].iter().fold(0.0f32, |m, s| m.max(s.abs()));
        let worst = c[fl]
            .iter()
            .zip(&c[fr])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst <= 1e-4 * peak,
            "channels {fl} and {fr} differ by {worst:e} (peak {peak:e})"
        );
    }
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let path = manifest("data/no-such-file.sofa");
    let err = import(&path, &ImportOptions::default()).expect_err("missing");
    assert!(
        matches!(&err, SofaError::Io { path: p, source } if *p == path
            && source.kind() == io::ErrorKind::NotFound),
        "{err:?}"
    );
    assert!(err.to_string().contains("no-such-file.sofa"), "{err}");
}

#[test]
fn a_file_that_is_not_sofa_is_refused_as_not_sofa() {
    let path = manifest("Cargo.toml");
    let err = import(&path, &ImportOptions::default()).expect_err("not sofa");
    assert!(
        matches!(&err, SofaError::NotSofa { path: p, .. } if *p == path),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("Cargo.toml") && message.contains("expected"),
        "{message}"
    );
}

#[test]
fn a_truncated_copy_of_the_committed_file_is_refused_as_not_sofa_without_a_panic() {
    // The first 4 KiB: winnow (under sofar) asserts the file size in debug
    // builds and panics; the guard turns that into an error.
    let bytes = std::fs::read(manifest("data/MIT_KEMAR_normal_pinna.sofa")).unwrap();
    let path = Path::new("head.sofa");
    for len in [0, 8, 4096, bytes.len() / 2] {
        let err = import_bytes(&bytes[..len], path, &ImportOptions::default())
            .expect_err("a truncated file");
        assert!(matches!(err, SofaError::NotSofa { .. }), "{len}: {err:?}");
        assert!(!err.to_string().contains('\n'), "{err}");
    }
}

#[test]
fn a_file_sofar_cannot_read_is_described_in_words_never_in_parser_internals() {
    let real = std::fs::read(manifest("data/MIT_KEMAR_normal_pinna.sofa")).unwrap();
    let edited = |at: usize, with: &[u8]| {
        let mut b = real.clone();
        b[at..at + with.len()].copy_from_slice(with);
        b
    };
    let conventions = real
        .windows(4)
        .position(|w| w == b"SOFA")
        .expect("the file names its conventions");
    let n = real.len();
    let cases: [(&str, Vec<u8>, String); 6] = [
        ("empty", Vec::new(), "the file is empty".to_owned()),
        (
            "text",
            b"name = \"not hdf5\"\n".to_vec(),
            "it does not start with the hdf5 signature, so it is not an hdf5 file".to_owned(),
        ),
        (
            "4 KiB of it",
            real[..4096].to_vec(),
            format!(
                "it is truncated: its hdf5 superblock declares {n} bytes, the file has 4096 bytes"
            ),
        ),
        (
            "half of it",
            real[..n / 2].to_vec(),
            format!(
                "it is truncated: its hdf5 superblock declares {n} bytes, the file has {} bytes",
                n / 2
            ),
        ),
        (
            "an unknown superblock version",
            edited(8, &[7]),
            "its hdf5 structure is damaged or uses a layout sofar cannot read".to_owned(),
        ),
        (
            "other conventions",
            edited(conventions, b"NOPE"),
            "it is hdf5 but not sofa as sofar reads it (invalid SOFA format: missing \
             'Conventions: SOFA' attribute)"
                .to_owned(),
        ),
    ];
    for (what, bytes, detail) in cases {
        let err =
            import_bytes(&bytes, Path::new("x.sofa"), &ImportOptions::default()).expect_err(what);
        assert_eq!(
            err.to_string(),
            format!("'x.sofa' is not a sofa file: {detail}; expected an aes69 sofa (hdf5) file"),
            "{what}"
        );
    }
}

#[test]
fn the_committed_files_superblock_declares_its_own_length() {
    let real = std::fs::read(manifest("data/MIT_KEMAR_normal_pinna.sofa")).unwrap();
    assert_eq!(super::hdf5_declared_len(&real), Some(real.len() as u64));
    assert_eq!(
        super::hdf5_declared_len(&real[..20]),
        None,
        "too short to say"
    );
}

#[test]
fn the_quiet_guard_restores_this_threads_panic_messages() {
    assert!(catch_quietly(|| panic!("quiet")).is_err());
    assert!(!QUIET.with(Cell::get));
    assert_eq!(catch_quietly(|| 7).ok(), Some(7));
}

#[test]
fn a_rate_of_zero_or_above_384_khz_is_refused_before_reading() {
    for rate in [0, MIN_SAMPLE_RATE - 1, MAX_SAMPLE_RATE + 1, u32::MAX] {
        let err = import(
            Path::new("/nonexistent"),
            &ImportOptions { sample_rate: rate },
        )
        .expect_err("bad rate");
        assert!(
            matches!(err, SofaError::SampleRate { rate: r } if r == rate),
            "{err:?}"
        );
        assert!(err.to_string().contains(&rate.to_string()), "{err}");
    }
}

#[test]
fn writing_a_malformed_set_fails_and_writes_nothing() {
    let good = || ImportedSet {
        sample_rate: 48_000,
        channels: vec![vec![0.5; 4]; 14],
        positions: Vec::new(),
        measurements: 0,
    };
    let mut thirteen = good();
    thirteen.channels.pop();
    let mut ragged = good();
    ragged.channels[5].push(0.0);
    let mut nan = good();
    nan.channels[3][2] = f32::NAN;
    let cases = [
        (thirteen, "13 channels; expected 14"),
        (ragged, "channel 5 has 5 taps; expected 4"),
        (nan, "channel 3 tap 2 is not a finite number"),
    ];
    for (set, message) in cases {
        let mut out = Cursor::new(Vec::new());
        let err = write_hesuvi_wav(&set, &mut out).expect_err("malformed");
        assert!(err.to_string().contains(message), "{err}");
        assert!(out.into_inner().is_empty());
    }
}

#[test]
fn a_written_set_reads_back_sample_for_sample() {
    let set = ImportedSet {
        sample_rate: 44_100,
        channels: (0..14).map(|c| vec![c as f32, -0.25, 1e-3]).collect(),
        positions: Vec::new(),
        measurements: 0,
    };
    let mut out = Cursor::new(Vec::new());
    write_hesuvi_wav(&set, &mut out).expect("writes");
    let mut reader = hound::WavReader::new(Cursor::new(out.into_inner())).expect("reads");
    assert_eq!(reader.spec().sample_rate, 44_100);
    let samples: Vec<f32> = reader
        .samples::<f32>()
        .map(|s| s.expect("sample"))
        .collect();
    let interleaved: Vec<f32> = (0..3)
        .flat_map(|t| set.channels.iter().map(move |c| c[t]))
        .collect();
    assert_eq!(samples, interleaved);
}
