//! The engine's stream format as CoreAudio describes it: a plain mirror of
//! `AudioStreamBasicDescription`, built for 32-bit float, packed,
//! non-interleaved samples (the format the binauralizer sets on both of
//! its units; docs/real-audio.md, "CoreAudio"), and the checks a
//! device's reported format must pass.

use super::Side;
use super::fourcc::fourcc;
use crate::drive::backend::{BackendError, ErrorKind};
use allocgate_engine::buffers::BYTES_PER_SAMPLE;

/// `kAudioFormatLinearPCM` (`'lpcm'`).
pub const LINEAR_PCM: u32 = fourcc(b"lpcm");
/// `kAudioFormatFlagIsFloat`.
pub const FLAG_IS_FLOAT: u32 = 1 << 0;
/// `kAudioFormatFlagIsBigEndian` (never set here: the engine is native
/// little-endian, as every Mac CPU CoreAudio runs on).
pub const FLAG_IS_BIG_ENDIAN: u32 = 1 << 1;
/// `kAudioFormatFlagIsPacked`.
pub const FLAG_IS_PACKED: u32 = 1 << 3;
/// `kAudioFormatFlagIsNonInterleaved`.
pub const FLAG_IS_NON_INTERLEAVED: u32 = 1 << 5;

/// The engine's flags: float, packed, non-interleaved.
pub const ENGINE_FLAGS: u32 = FLAG_IS_FLOAT | FLAG_IS_PACKED | FLAG_IS_NON_INTERLEAVED;

/// `AudioStreamBasicDescription`, field for field, with CoreAudio's
/// meanings. For a non-interleaved format the byte counts describe one
/// channel's buffer, not a whole frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamFormat {
    /// `mSampleRate`, in Hz.
    pub sample_rate: f64,
    /// `mFormatID`: a four-character code.
    pub format_id: u32,
    /// `mFormatFlags`.
    pub format_flags: u32,
    /// `mBytesPerPacket`.
    pub bytes_per_packet: u32,
    /// `mFramesPerPacket`.
    pub frames_per_packet: u32,
    /// `mBytesPerFrame`.
    pub bytes_per_frame: u32,
    /// `mChannelsPerFrame`.
    pub channels_per_frame: u32,
    /// `mBitsPerChannel`.
    pub bits_per_channel: u32,
}

impl StreamFormat {
    /// The engine's format at `rate` Hz with `channels` channels, one
    /// buffer each.
    pub fn float_non_interleaved(rate: u32, channels: u32) -> StreamFormat {
        let bytes = BYTES_PER_SAMPLE as u32;
        StreamFormat {
            sample_rate: f64::from(rate),
            format_id: LINEAR_PCM,
            format_flags: ENGINE_FLAGS,
            bytes_per_packet: bytes,
            frames_per_packet: 1,
            bytes_per_frame: bytes,
            channels_per_frame: channels,
            bits_per_channel: 8 * bytes,
        }
    }

    /// True when this is the engine's sample layout (any rate and channel
    /// count): linear PCM, 32-bit float, packed, non-interleaved, native
    /// endian.
    pub fn is_engine_layout(&self) -> bool {
        let bytes = BYTES_PER_SAMPLE as u32;
        self.format_id == LINEAR_PCM
            && self.format_flags & (ENGINE_FLAGS | FLAG_IS_BIG_ENDIAN) == ENGINE_FLAGS
            && self.bytes_per_packet == bytes
            && self.frames_per_packet == 1
            && self.bytes_per_frame == bytes
            && self.bits_per_channel == 8 * bytes
    }
}

/// A CoreAudio rate (a `Float64`) as whole hertz, when it is one (within
/// half a hertz): devices report 44100.0, sometimes 44099.99.
pub fn whole_hz(rate: f64) -> Option<u32> {
    let rounded = rate.round();
    ((rate - rounded).abs() < 0.5 && rounded >= 1.0 && rounded <= f64::from(u32::MAX))
        .then_some(rounded as u32)
}

/// Checks that `side`'s device `device` runs at `expected` Hz; `got` is
/// what it reports.
pub fn check_rate(device: &str, side: Side, expected: u32, got: f64) -> Result<(), BackendError> {
    if whole_hz(got) == Some(expected) {
        return Ok(());
    }
    Err(BackendError::new(
        ErrorKind::Format,
        format!("{side} device '{device}' runs at {got} Hz; expected {expected} Hz"),
    ))
}

/// Checks the format a unit reports for its device's side: the rate, and
/// the channel count when `channels` is given.
pub fn check_device_format(
    device: &str,
    side: Side,
    expected_rate: u32,
    channels: Option<u32>,
    got: &StreamFormat,
) -> Result<(), BackendError> {
    check_rate(device, side, expected_rate, got.sample_rate)?;
    match channels {
        Some(c) if got.channels_per_frame != c => Err(BackendError::new(
            ErrorKind::Format,
            format!(
                "{side} device '{device}' delivers {} channels; expected {c}",
                got.channels_per_frame
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_format_is_float32_packed_non_interleaved_at_the_rate() {
        let f = StreamFormat::float_non_interleaved(48_000, 6);
        assert_eq!(f.sample_rate, 48_000.0);
        assert_eq!(f.format_id, 0x6c70_636d, "'lpcm'");
        assert_eq!(
            f.format_flags, 0b10_1001,
            "float | packed | non-interleaved"
        );
        assert_eq!(
            (f.bytes_per_packet, f.frames_per_packet, f.bytes_per_frame),
            (4, 1, 4)
        );
        assert_eq!((f.channels_per_frame, f.bits_per_channel), (6, 32));
        assert!(f.is_engine_layout());
    }

    #[test]
    fn interleaved_integer_or_big_endian_formats_are_not_the_engines() {
        let engine = StreamFormat::float_non_interleaved(44_100, 2);
        let interleaved = StreamFormat {
            format_flags: FLAG_IS_FLOAT | FLAG_IS_PACKED,
            bytes_per_frame: 8,
            bytes_per_packet: 8,
            ..engine
        };
        let big = StreamFormat {
            format_flags: ENGINE_FLAGS | FLAG_IS_BIG_ENDIAN,
            ..engine
        };
        let int16 = StreamFormat {
            format_flags: (1 << 2) | FLAG_IS_PACKED | FLAG_IS_NON_INTERLEAVED,
            bits_per_channel: 16,
            bytes_per_frame: 2,
            bytes_per_packet: 2,
            ..engine
        };
        assert!(!interleaved.is_engine_layout());
        assert!(!big.is_engine_layout());
        assert!(!int16.is_engine_layout());
    }

    #[test]
    fn rates_are_whole_hertz_within_half_a_hertz() {
        assert_eq!(whole_hz(44_100.0), Some(44_100));
        assert_eq!(whole_hz(44_099.99), Some(44_100));
        assert_eq!(whole_hz(0.0), None);
        assert_eq!(whole_hz(f64::NAN), None);
    }

    #[test]
    fn a_rate_mismatch_names_the_device_the_expected_and_the_reported_rate() {
        assert!(check_rate("BlackHole 2ch", Side::Input, 48_000, 48_000.0).is_ok());
        let e = check_rate("BlackHole 2ch", Side::Output, 48_000, 44_100.0).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Format);
        assert_eq!(
            e.message,
            "output device 'BlackHole 2ch' runs at 44100 Hz; expected 48000 Hz"
        );
    }

    #[test]
    fn a_device_format_with_other_channels_is_refused_when_channels_are_checked() {
        let got = StreamFormat::float_non_interleaved(48_000, 16);
        assert!(check_device_format("X", Side::Output, 48_000, None, &got).is_ok());
        let e = check_device_format("X", Side::Input, 48_000, Some(2), &got).unwrap_err();
        assert_eq!(
            e.message,
            "input device 'X' delivers 16 channels; expected 2"
        );
    }
}
