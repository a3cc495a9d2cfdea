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
use super::rates::{MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};
use super::resample::resample;
use crate::read::{InputKind, read_capped, read_input};

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
/// renderer's business: it reads them through a HeSuVi channel map
/// ([`HesuviMap`](crate::layout::HesuviMap); docs/engine.md, "The audio
/// path" and "Presets").
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
        let bytes = read_input(path, InputKind::Preset).map_err(|source| PresetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Preset::from_wav_bytes(&name, &bytes)
    }

    /// Loads a preset from everything `reader` yields (at most
    /// [`MAX_PRESET_BYTES`]).
    pub fn from_wav_reader<R: Read>(name: &str, mut reader: R) -> Result<Preset, PresetError> {
        let bytes =
            read_capped(&mut reader, InputKind::Preset).map_err(|source| PresetError::Io {
                path: name.into(),
                source,
            })?;
        Preset::from_wav_bytes(name, &bytes)
    }

    /// Loads a preset from the bytes of a WAV file.
    ///
    /// Accepts 32-bit float and 16-, 24- or 32-bit integer PCM; integers are
    /// divided by 2^(bits-1), as the binauralizer converts them, which maps
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
/// accept when the `fmt ` chunk names one, else a sample rate out of range
/// (hound calls a 4 GHz header's byte rate inconsistent), otherwise
/// hound's own reason.
fn header_error(name: &str, bytes: &[u8], source: hound::Error) -> PresetError {
    match fmt_chunk(bytes) {
        Some((found, _)) if !found.is_accepted() => PresetError::UnsupportedFormat {
            name: name.to_owned(),
            found,
        },
        Some((_, sample_rate)) if check_sample_rate(name, sample_rate).is_err() => {
            PresetError::SampleRate {
                name: name.to_owned(),
                sample_rate,
            }
        }
        _ => PresetError::Malformed {
            name: name.to_owned(),
            source,
        },
    }
}

/// The sample format and rate a RIFF/WAVE file's `fmt ` chunk declares, if
/// the bytes get that far.
fn fmt_chunk(bytes: &[u8]) -> Option<(WavFormat, u32)> {
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
            let rate = le_u32(bytes, body + 4)?;
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
            let format = match tag {
                1 => WavFormat::Int { bits },
                3 => WavFormat::Float { bits },
                format_tag => WavFormat::Other { format_tag },
            };
            return Some((format, rate));
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
mod tests;

/// The largest preset file read: 64 MiB, several times a second-long
/// 14-channel impulse response at 192 kHz
/// ([`InputKind::Preset`](crate::read::InputKind::Preset)).
pub const MAX_PRESET_BYTES: u64 = InputKind::Preset.max_bytes();
