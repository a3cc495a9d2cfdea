//! Why a preset could not be loaded, used or written.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::PathBuf;

use super::rates::{MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};
use crate::text::count;

/// Why a preset could not be loaded, used or written.
///
/// Every message names the preset (or file) and the offending value, and
/// says what was expected.
#[derive(Debug)]
#[non_exhaustive]
pub enum PresetError {
    /// The file could not be opened or read.
    Io {
        /// The file that was being read.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// The bytes are not a WAV file hound can parse (no RIFF header, a
    /// malformed chunk, ...).
    Malformed {
        /// The preset's name.
        name: String,
        /// What hound reported.
        source: hound::Error,
    },
    /// The file is a WAV file, but its samples are in a format presets do
    /// not accept.
    UnsupportedFormat {
        /// The preset's name.
        name: String,
        /// The format found in the file.
        found: WavFormat,
    },
    /// The data chunk ends before the number of frames its header declares.
    Truncated {
        /// The preset's name.
        name: String,
        /// Frames the header declares.
        declared_frames: usize,
        /// Whole frames actually present.
        complete_frames: usize,
    },
    /// The preset does not have 7 or 14 channels.
    ChannelCount {
        /// The preset's name.
        name: String,
        /// The channel count found.
        channels: usize,
    },
    /// The preset has no frames.
    Empty {
        /// The preset's name.
        name: String,
    },
    /// The channels given to [`Preset::from_channels`](super::Preset::from_channels)
    /// differ in length.
    UnequalLengths {
        /// The preset's name.
        name: String,
        /// The first channel whose length differs from channel 0's.
        channel: usize,
        /// That channel's length in frames.
        frames: usize,
        /// Channel 0's length in frames.
        expected_frames: usize,
    },
    /// The preset has more frames than a WAV file can hold as 32-bit float.
    TooLong {
        /// The preset's name.
        name: String,
        /// Frames per channel.
        frames: usize,
        /// The most frames per channel that fit.
        max_frames: usize,
    },
    /// A sample is NaN or infinite.
    NonFiniteSample {
        /// The preset's name.
        name: String,
        /// The channel holding the sample.
        channel: usize,
        /// The frame holding the sample.
        frame: usize,
        /// The sample itself.
        value: f32,
    },
    /// The preset's sample rate is outside
    /// [`MIN_SAMPLE_RATE`]`..=`[`MAX_SAMPLE_RATE`].
    SampleRate {
        /// The preset's name.
        name: String,
        /// The sample rate found, in Hz.
        sample_rate: u32,
    },
    /// An impulse response was asked for by an index the preset does not have.
    IndexOutOfRange {
        /// The preset's name.
        name: String,
        /// The index asked for.
        index: usize,
        /// The preset's channel count.
        channels: usize,
    },
    /// A resampling rate is outside
    /// [`MIN_SAMPLE_RATE`]`..=`[`MAX_SAMPLE_RATE`].
    ResampleRate {
        /// The rate resampled from, in Hz.
        from: u32,
        /// The rate resampled to, in Hz.
        to: u32,
    },
    /// The resampler failed.
    Resample {
        /// The rate resampled from, in Hz.
        from: u32,
        /// The rate resampled to, in Hz.
        to: u32,
        /// What rubato reported.
        source: Box<dyn Error + Send + Sync>,
    },
    /// Writing the preset as WAV failed.
    Write {
        /// The preset's name.
        name: String,
        /// What hound reported.
        source: hound::Error,
    },
}

/// The sample format of a WAV file, as its `fmt ` chunk states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WavFormat {
    /// Integer PCM of this many bits per sample.
    Int {
        /// Bits per sample.
        bits: u16,
    },
    /// IEEE float of this many bits per sample.
    Float {
        /// Bits per sample.
        bits: u16,
    },
    /// Any other format tag (ADPCM, A-law, ...).
    Other {
        /// The WAVE format tag (or the sub-format of an extensible file).
        format_tag: u16,
    },
}

impl WavFormat {
    /// The formats presets accept: 32-bit float and 16-, 24- or 32-bit
    /// integer PCM.
    pub fn is_accepted(self) -> bool {
        matches!(
            self,
            WavFormat::Float { bits: 32 } | WavFormat::Int { bits: 16 | 24 | 32 }
        )
    }
}

impl fmt::Display for WavFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WavFormat::Int { bits } => write!(f, "{bits}-bit integer pcm"),
            WavFormat::Float { bits } => write!(f, "{bits}-bit float"),
            WavFormat::Other { format_tag } => write!(f, "wave format tag {format_tag:#06x}"),
        }
    }
}

const ACCEPTED_FORMATS: &str = "32-bit float or 16-, 24- or 32-bit integer pcm";

impl fmt::Display for PresetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PresetError::Io { path, source } => {
                write!(f, "cannot read preset '{}': {source}", path.display())
            }
            PresetError::Malformed { name, source } => {
                write!(f, "preset '{name}' is not a readable wav file: {source}")
            }
            PresetError::UnsupportedFormat { name, found } => {
                write!(
                    f,
                    "preset '{name}' holds {found}; expected {ACCEPTED_FORMATS}"
                )
            }
            PresetError::Truncated {
                name,
                declared_frames,
                complete_frames,
            } => write!(
                f,
                "preset '{name}' is truncated: its header declares {} but the data ends \
                 after {complete_frames}",
                count(*declared_frames, "frame")
            ),
            PresetError::ChannelCount { name, channels } => {
                write!(
                    f,
                    "preset '{name}' has {}; expected 7 or 14",
                    count(*channels, "channel")
                )
            }
            PresetError::Empty { name } => {
                write!(f, "preset '{name}' has 0 frames; expected at least 1")
            }
            PresetError::UnequalLengths {
                name,
                channel,
                frames,
                expected_frames,
            } => write!(
                f,
                "preset '{name}' channel {channel} has {}; expected {expected_frames} like \
                 channel 0",
                count(*frames, "frame")
            ),
            PresetError::TooLong {
                name,
                frames,
                max_frames,
            } => write!(
                f,
                "preset '{name}' has {frames} frames per channel; expected at most \
                 {max_frames} so that it fits in a wav file"
            ),
            PresetError::NonFiniteSample {
                name,
                channel,
                frame,
                value,
            } => write!(
                f,
                "preset '{name}' has a non-finite sample ({value}) at channel {channel}, \
                 frame {frame}; expected finite samples"
            ),
            PresetError::SampleRate { name, sample_rate } => write!(
                f,
                "preset '{name}' has a sample rate of {sample_rate} hz; expected \
                 {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} hz"
            ),
            PresetError::IndexOutOfRange {
                name,
                index,
                channels,
            } => write!(
                f,
                "preset '{name}' has no impulse response {index}; expected an index below \
                 {channels}"
            ),
            PresetError::ResampleRate { from, to } => write!(
                f,
                "cannot resample from {from} hz to {to} hz; expected both rates in \
                 {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} hz"
            ),
            PresetError::Resample { from, to, source } => {
                write!(f, "resampling from {from} hz to {to} hz failed: {source}")
            }
            PresetError::Write { name, source } => {
                write!(f, "cannot write preset '{name}' as wav: {source}")
            }
        }
    }
}

impl Error for PresetError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            PresetError::Io { source, .. } => Some(source),
            PresetError::Malformed { source, .. } | PresetError::Write { source, .. } => {
                Some(source)
            }
            PresetError::Resample { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_errors_can_cross_threads() {
        fn send_sync_static<T: Send + Sync + 'static>() {}
        send_sync_static::<PresetError>();
    }

    #[test]
    fn the_channel_count_message_reads_as_the_style_guide_shows() {
        let e = PresetError::ChannelCount {
            name: "x.wav".into(),
            channels: 9,
        };
        assert_eq!(
            e.to_string(),
            "preset 'x.wav' has 9 channels; expected 7 or 14"
        );
    }

    #[test]
    fn formats_name_their_width_and_kind() {
        assert_eq!(WavFormat::Int { bits: 8 }.to_string(), "8-bit integer pcm");
        assert_eq!(WavFormat::Float { bits: 64 }.to_string(), "64-bit float");
        assert_eq!(
            WavFormat::Other { format_tag: 2 }.to_string(),
            "wave format tag 0x0002"
        );
        assert!(WavFormat::Float { bits: 32 }.is_accepted());
        assert!(WavFormat::Int { bits: 24 }.is_accepted());
        assert!(!WavFormat::Int { bits: 8 }.is_accepted());
        assert!(!WavFormat::Float { bits: 64 }.is_accepted());
    }

    #[test]
    fn wrapped_errors_are_reachable_as_the_source() {
        let e = PresetError::Io {
            path: "/nowhere/x.wav".into(),
            source: io::Error::new(io::ErrorKind::NotFound, "gone"),
        };
        assert!(e.to_string().contains("/nowhere/x.wav"));
        assert_eq!(e.source().map(|s| s.to_string()), Some("gone".into()));
    }
}
