//! HeSuVi presets: loading from WAV, validating, writing back.
//!
//! A file is read whole into memory before hound parses it: presets are
//! small, a header that lies about its length then cannot make us reserve
//! more than the file holds, and when hound rejects a header we can still
//! look at its `fmt ` chunk to say which format was found.

use std::fmt;
use std::io::{Cursor, Read, Seek, Write};
use std::path::Path;

use hound::{SampleFormat, WavReader, WavSpec, WavWriter};

use super::error::{PresetError, WavFormat};
use super::resample::resample;

/// The lowest sample rate a preset, or a resampling target, may have (Hz).
pub const MIN_SAMPLE_RATE: u32 = 8_000;
/// The highest sample rate a preset, or a resampling target, may have (Hz).
pub const MAX_SAMPLE_RATE: u32 = 768_000;

/// Bytes before the samples in the `WAVE_FORMAT_EXTENSIBLE` file hound
/// writes for more than two channels.
const WAV_HEADER_BYTES: usize = 68;

/// The most frames per channel a 32-bit float WAV of `channels` channels can
/// hold: the RIFF size field (everything after its first 8 bytes) is a `u32`.
fn max_frames(channels: usize) -> usize {
    (u32::MAX as usize - (WAV_HEADER_BYTES - 8)) / (channels * 4)
}

/// A validated HeSuVi impulse-response set.
///
/// Always 7 or 14 channels of equal, non-zero length, finite samples, and a
/// sample rate in [`MIN_SAMPLE_RATE`]`..=`[`MAX_SAMPLE_RATE`]. Channels are
/// kept in file order; which speaker and ear each one serves is the
/// renderer's business (`REFERENCE_ENGINE.md` §5).
#[derive(Clone, PartialEq)]
pub struct Preset {
    name: String,
    sample_rate: u32,
    channels: Vec<Vec<f32>>,
}

impl fmt::Debug for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The samples would bury everything else; the shape says enough.
        f.debug_struct("Preset")
            .field("name", &self.name)
            .field("sample_rate", &self.sample_rate)
            .field("channels", &self.channels.len())
            .field("taps", &self.taps())
            .finish_non_exhaustive()
    }
}

impl Preset {
    /// Loads a preset from a WAV file; its name is the file name.
    pub fn from_wav_file(path: &Path) -> Result<Preset, PresetError> {
        let bytes = std::fs::read(path).map_err(|source| PresetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Preset::from_wav_bytes(&name, &bytes)
    }

    /// Loads a preset from everything `reader` yields.
    pub fn from_wav_reader<R: Read>(name: &str, mut reader: R) -> Result<Preset, PresetError> {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|source| PresetError::Io {
                path: name.into(),
                source,
            })?;
        Preset::from_wav_bytes(name, &bytes)
    }

    /// Loads a preset from the bytes of a WAV file.
    ///
    /// Accepts 32-bit float and 16-, 24- or 32-bit integer PCM; integers are
    /// divided by 2^(bits-1), as the original app converted them, which maps
    /// them to [-1, 1) (32-bit values within 2^-25 of full scale round to 1.0
    /// in `f32`).
    pub fn from_wav_bytes(name: &str, bytes: &[u8]) -> Result<Preset, PresetError> {
        let mut reader = WavReader::new(bytes).map_err(|e| header_error(name, bytes, e))?;
        let spec = reader.spec();
        let format = match spec.sample_format {
            SampleFormat::Int => WavFormat::Int {
                bits: spec.bits_per_sample,
            },
            SampleFormat::Float => WavFormat::Float {
                bits: spec.bits_per_sample,
            },
        };
        if !format.is_accepted() {
            return Err(PresetError::UnsupportedFormat {
                name: name.to_owned(),
                found: format,
            });
        }
        let channel_count = usize::from(spec.channels);
        check_channel_count(name, channel_count)?;
        check_sample_rate(name, spec.sample_rate)?;
        let frames = reader.duration() as usize;
        check_frames(name, channel_count, frames)?;

        // Never reserve more than the bytes could hold, whatever the header says.
        let bytes_per_frame = channel_count * usize::from(spec.bits_per_sample / 8);
        let capacity = frames.min(bytes.len() / bytes_per_frame);
        let mut channels = vec![Vec::with_capacity(capacity); channel_count];
        let samples = Samples {
            name,
            format,
            frames,
        };
        match format {
            WavFormat::Float { .. } => {
                samples.deinterleave(reader.samples::<f32>(), |x| x, &mut channels)?;
            }
            _ => {
                let scale = 1.0 / f64::from(1u32 << (spec.bits_per_sample - 1));
                let to_float = |x: i32| (f64::from(x) * scale) as f32;
                samples.deinterleave(reader.samples::<i32>(), to_float, &mut channels)?;
            }
        }
        check_finite(name, &channels)?;
        Ok(Preset {
            name: name.to_owned(),
            sample_rate: spec.sample_rate,
            channels,
        })
    }

    /// Builds a preset from channels of samples, with the same validation as
    /// loading a file.
    pub fn from_channels(
        name: &str,
        sample_rate: u32,
        channels: Vec<Vec<f32>>,
    ) -> Result<Preset, PresetError> {
        check_channel_count(name, channels.len())?;
        check_sample_rate(name, sample_rate)?;
        let frames = channels[0].len();
        if let Some((channel, ch)) = channels
            .iter()
            .enumerate()
            .find(|(_, ch)| ch.len() != frames)
        {
            return Err(PresetError::UnequalLengths {
                name: name.to_owned(),
                channel,
                frames: ch.len(),
                expected_frames: frames,
            });
        }
        check_frames(name, channels.len(), frames)?;
        check_finite(name, &channels)?;
        Ok(Preset {
            name: name.to_owned(),
            sample_rate,
            channels,
        })
    }

    /// The preset's name (the file name when loaded from a file).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The rate the impulse responses were recorded at, in Hz.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// 7 or 14.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Frames per channel: the length of every impulse response.
    pub fn taps(&self) -> usize {
        self.channels[0].len()
    }

    /// Channel `index` in file order, or `None` past the last one.
    pub fn channel(&self, index: usize) -> Option<&[f32]> {
        self.channels.get(index).map(Vec::as_slice)
    }

    /// Impulse response `index` at `target_rate`: a copy at the preset's own
    /// rate, otherwise resampled (time-aligned, `ceil(taps * target / rate)`
    /// samples long). Allocates; off the audio thread only.
    pub fn impulse_response(
        &self,
        index: usize,
        target_rate: u32,
    ) -> Result<Vec<f32>, PresetError> {
        let ir = self
            .channel(index)
            .ok_or_else(|| PresetError::IndexOutOfRange {
                name: self.name.clone(),
                index,
                channels: self.channel_count(),
            })?;
        resample(ir, self.sample_rate, target_rate)
    }

    /// Writes the preset as a 32-bit float WAV, channels in file order.
    ///
    /// Writes sample by sample; wrap a file in a [`std::io::BufWriter`].
    pub fn write_wav<W: Write + Seek>(&self, writer: W) -> Result<(), PresetError> {
        let failed = |source| PresetError::Write {
            name: self.name.clone(),
            source,
        };
        let spec = WavSpec {
            // 7 or 14, so the cast is exact.
            channels: self.channels.len() as u16,
            sample_rate: self.sample_rate,
            bits_per_sample: 32,
            sample_format: SampleFormat::Float,
        };
        let mut wav = WavWriter::new(writer, spec).map_err(failed)?;
        for frame in 0..self.taps() {
            for channel in &self.channels {
                wav.write_sample(channel[frame]).map_err(failed)?;
            }
        }
        wav.finalize().map_err(failed)
    }

    /// The preset as the bytes of a 32-bit float WAV file.
    pub fn to_wav_bytes(&self) -> Vec<u8> {
        let data = self.taps() * self.channel_count() * 4;
        let mut out = Cursor::new(Vec::with_capacity(WAV_HEADER_BYTES + data));
        // A Cursor over a Vec accepts every write and seek, and construction
        // capped the length (`max_frames`) so the sizes fit the WAV header.
        self.write_wav(&mut out)
            .expect("writing a validated preset to memory cannot fail");
        out.into_inner()
    }
}

/// The file's samples, with what is needed to describe a failure to read them.
struct Samples<'a> {
    name: &'a str,
    format: WavFormat,
    frames: usize,
}

impl Samples<'_> {
    /// Deinterleaves `samples` into `channels`, converting each one.
    fn deinterleave<S>(
        &self,
        samples: impl Iterator<Item = hound::Result<S>>,
        convert: impl Fn(S) -> f32,
        channels: &mut [Vec<f32>],
    ) -> Result<(), PresetError> {
        let n = channels.len();
        for (i, sample) in samples.enumerate() {
            match sample {
                Ok(x) => channels[i % n].push(convert(x)),
                Err(e) => return Err(self.error(e, i / n)),
            }
        }
        Ok(())
    }

    fn error(&self, source: hound::Error, complete_frames: usize) -> PresetError {
        let name = self.name.to_owned();
        match source {
            // We read from a byte slice, so the only I/O error is running
            // out of bytes. hound reports that as `ErrorKind::Other`
            // ("Failed to read enough bytes."), not `UnexpectedEof`.
            hound::Error::IoError(_) => PresetError::Truncated {
                name,
                declared_frames: self.frames,
                complete_frames,
            },
            // The spec looked acceptable but hound cannot decode this
            // container (say 16 valid bits in 4-byte samples).
            hound::Error::Unsupported
            | hound::Error::TooWide
            | hound::Error::InvalidSampleFormat => PresetError::UnsupportedFormat {
                name,
                found: self.format,
            },
            source => PresetError::Malformed { name, source },
        }
    }
}

/// Turns hound's refusal of a header into our error: a format we do not
/// accept when the `fmt ` chunk names one, otherwise hound's own reason.
fn header_error(name: &str, bytes: &[u8], source: hound::Error) -> PresetError {
    match fmt_chunk_format(bytes) {
        Some(found) if !found.is_accepted() => PresetError::UnsupportedFormat {
            name: name.to_owned(),
            found,
        },
        _ => PresetError::Malformed {
            name: name.to_owned(),
            source,
        },
    }
}

/// The sample format a RIFF/WAVE file's `fmt ` chunk declares, if the bytes
/// get that far.
fn fmt_chunk_format(bytes: &[u8]) -> Option<WavFormat> {
    if bytes.get(0..4)? != b"RIFF" || bytes.get(8..12)? != b"WAVE" {
        return None;
    }
    let mut chunk = 12usize;
    loop {
        let id = bytes.get(chunk..chunk + 4)?;
        let len = le_u32(bytes, chunk + 4)? as usize;
        let body = chunk + 8;
        if id == b"fmt " {
            let mut tag = le_u16(bytes, body)?;
            let mut bits = le_u16(bytes, body + 14)?;
            if tag == 0xfffe {
                // WAVE_FORMAT_EXTENSIBLE: the real tag opens the sub-format
                // GUID, and the valid bits may be fewer than the container's.
                let valid_bits = le_u16(bytes, body + 18)?;
                tag = le_u16(bytes, body + 24)?;
                if valid_bits > 0 {
                    bits = valid_bits;
                }
            }
            return Some(match tag {
                1 => WavFormat::Int { bits },
                3 => WavFormat::Float { bits },
                format_tag => WavFormat::Other { format_tag },
            });
        }
        // Chunks are padded to an even length.
        chunk = body.checked_add(len)?.checked_add(len & 1)?;
    }
}

fn le_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn check_channel_count(name: &str, channels: usize) -> Result<(), PresetError> {
    if channels == 7 || channels == 14 {
        Ok(())
    } else {
        Err(PresetError::ChannelCount {
            name: name.to_owned(),
            channels,
        })
    }
}

fn check_sample_rate(name: &str, sample_rate: u32) -> Result<(), PresetError> {
    if (MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
        Ok(())
    } else {
        Err(PresetError::SampleRate {
            name: name.to_owned(),
            sample_rate,
        })
    }
}

fn check_frames(name: &str, channels: usize, frames: usize) -> Result<(), PresetError> {
    let max_frames = max_frames(channels);
    if frames == 0 {
        Err(PresetError::Empty {
            name: name.to_owned(),
        })
    } else if frames > max_frames {
        Err(PresetError::TooLong {
            name: name.to_owned(),
            frames,
            max_frames,
        })
    } else {
        Ok(())
    }
}

fn check_finite(name: &str, channels: &[Vec<f32>]) -> Result<(), PresetError> {
    for (channel, samples) in channels.iter().enumerate() {
        if let Some(frame) = samples.iter().position(|x| !x.is_finite()) {
            return Err(PresetError::NonFiniteSample {
                name: name.to_owned(),
                channel,
                frame,
                value: samples[frame],
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
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
            assert_eq!(
                err.to_string(),
                format!("preset 'x.wav' has {channels} channels; expected 7 or 14")
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
}
