//! What a session will run: the chosen devices, the rate the engine must
//! be built for, the channels on each side and the buffer size. Decided
//! from a device list alone, so every rule here is tested off macOS.
//!
//! - Input: the input device's channels, 1 to 16 (`MAX_CHANNELS`).
//! - Output: stereo. The output unit takes a 2-channel format and the
//!   engine writes buffers 0 and 1; CoreAudio maps them to the device's
//!   first two channels, as the binauralizer's writes to buffers 0 and 1 of
//!   a wider device land there.
//! - Rate: the input device's nominal rate; the output device must run at
//!   the same one (the two devices have separate clocks, and nothing
//!   resamples between them).
//! - Frames: 0 keeps the devices' own buffer size; otherwise 1 to 4096
//!   (`MAX_FRAMES`), and within each device's range.

use super::{CoreAudioOptions, Side, matching};
use crate::drive::backend::{BackendError, DeviceInfo, ErrorKind};
use allocgate_engine::MAX_FRAMES;
use allocgate_engine::layout::MAX_CHANNELS;

/// Channels the output unit is given (the engine writes buffers 0 and 1).
pub const OUTPUT_CHANNELS: u32 = 2;

/// Most frames per callback, both units (`kAudioUnitProperty_MaximumFramesPerSlice`).
pub const MAX_FRAMES_PER_SLICE: u32 = MAX_FRAMES as u32;

/// Channels and buffer size of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Input channels C: the engine's channel count.
    pub input_channels: u32,
    /// Output channels given to the output unit: [`OUTPUT_CHANNELS`].
    pub output_channels: u32,
    /// The buffer size to ask both devices for, or `None` to keep theirs.
    pub frames: Option<u32>,
}

/// The chosen devices and what the engine must be built for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The capture device.
    pub input: DeviceInfo,
    /// The playback device.
    pub output: DeviceInfo,
    /// The rate to build the engine for: the input device's nominal rate.
    pub sample_rate: u32,
    /// Channels and buffer size.
    pub plan: Plan,
}

/// Checks a requested buffer size: 0 means the devices' own, otherwise 1
/// to [`MAX_FRAMES_PER_SLICE`].
pub fn check_frames(frames: u32) -> Result<Option<u32>, BackendError> {
    match frames {
        0 => Ok(None),
        f if f <= MAX_FRAMES_PER_SLICE => Ok(Some(f)),
        f => Err(BackendError::new(
            ErrorKind::Format,
            format!("buffer size of {f} frames; expected 1 to {MAX_FRAMES_PER_SLICE}"),
        )),
    }
}

/// Checks a requested buffer size against `side`'s device range
/// (`kAudioDevicePropertyBufferFrameSizeRange`), in frames.
pub fn check_frame_range(
    frames: u32,
    device: &str,
    side: Side,
    (min, max): (f64, f64),
) -> Result<(), BackendError> {
    let f = f64::from(frames);
    if f >= min && f <= max {
        return Ok(());
    }
    Err(BackendError::new(
        ErrorKind::Format,
        format!(
            "{side} device '{device}' takes {min} to {max} frames per buffer; asked for {frames}"
        ),
    ))
}

/// Checks the input channel count C: 1 to 16.
pub fn check_input_channels(device: &DeviceInfo) -> Result<u32, BackendError> {
    let c = device.input_channels;
    if (1..=MAX_CHANNELS as u32).contains(&c) {
        return Ok(c);
    }
    Err(BackendError::new(
        ErrorKind::Format,
        format!(
            "input device '{}' has {c} input channels; expected 1 to {MAX_CHANNELS}",
            device.name
        ),
    ))
}

fn nominal_rate(device: &DeviceInfo, side: Side) -> Result<u32, BackendError> {
    device.sample_rates.first().copied().ok_or_else(|| {
        BackendError::new(
            ErrorKind::Format,
            format!("{side} device '{}' reports no sample rate", device.name),
        )
    })
}

/// Chooses both devices from `devices` (defaults given as UIDs) and
/// decides the plan. Off the audio thread.
///
/// # Errors
///
/// [`ErrorKind::DeviceNotFound`] from [`matching::choose`];
/// [`ErrorKind::Format`] for a channel count, rate or buffer size the
/// engine cannot run.
pub fn prepare_from(
    devices: &[DeviceInfo],
    default_input: Option<&str>,
    default_output: Option<&str>,
    options: &CoreAudioOptions,
) -> Result<Prepared, BackendError> {
    let frames = check_frames(options.frames)?;
    let input = matching::choose(
        devices,
        options.input.as_deref(),
        Side::Input,
        default_input,
    )?;
    let output = matching::choose(
        devices,
        options.output.as_deref(),
        Side::Output,
        default_output,
    )?;
    let input_channels = check_input_channels(input)?;
    let sample_rate = nominal_rate(input, Side::Input)?;
    let output_rate = nominal_rate(output, Side::Output)?;
    if output_rate != sample_rate {
        return Err(BackendError::new(
            ErrorKind::Format,
            format!(
                "output device '{}' runs at {output_rate} Hz but input device '{}' at \
                 {sample_rate} Hz; set both to the same rate (Audio MIDI Setup)",
                output.name, input.name
            ),
        ));
    }
    Ok(Prepared {
        input: input.clone(),
        output: output.clone(),
        sample_rate,
        plan: Plan {
            input_channels,
            output_channels: OUTPUT_CHANNELS,
            frames,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(id: &str, inputs: u32, outputs: u32, rate: u32) -> DeviceInfo {
        DeviceInfo {
            id: id.into(),
            name: id.into(),
            input_channels: inputs,
            output_channels: outputs,
            sample_rates: vec![rate, 44_100],
        }
    }

    fn options(input: &str, output: &str, frames: u32) -> CoreAudioOptions {
        CoreAudioOptions {
            input: Some(input.into()),
            output: Some(output.into()),
            frames,
        }
    }

    #[test]
    fn the_engine_runs_at_the_input_rate_with_the_input_channels_and_stereo_out() {
        let all = [device("in", 6, 0, 48_000), device("out", 0, 8, 48_000)];
        let p = prepare_from(&all, None, None, &options("in", "out", 512)).unwrap();
        assert_eq!(p.sample_rate, 48_000);
        assert_eq!(
            p.plan,
            Plan {
                input_channels: 6,
                output_channels: 2,
                frames: Some(512)
            }
        );
        assert_eq!((p.input.id.as_str(), p.output.id.as_str()), ("in", "out"));
    }

    #[test]
    fn defaults_are_used_when_nothing_is_asked() {
        let all = [device("in", 2, 2, 44_100), device("out", 0, 2, 44_100)];
        let p = prepare_from(&all, Some("in"), Some("out"), &CoreAudioOptions::default()).unwrap();
        assert_eq!((p.input.id.as_str(), p.output.id.as_str()), ("in", "out"));
        assert_eq!(
            p.plan.frames, None,
            "0 frames keeps the devices' buffer size"
        );
    }

    #[test]
    fn devices_at_different_rates_are_refused_naming_both() {
        let all = [device("in", 2, 0, 48_000), device("out", 0, 2, 44_100)];
        let e = prepare_from(&all, None, None, &options("in", "out", 0)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Format);
        assert!(
            e.message.starts_with(
                "output device 'out' runs at 44100 Hz but input device 'in' at 48000 Hz"
            ),
            "{}",
            e.message
        );
    }

    #[test]
    fn more_than_sixteen_input_channels_are_refused() {
        let all = [device("in", 32, 0, 48_000), device("out", 0, 2, 48_000)];
        let e = prepare_from(&all, None, None, &options("in", "out", 0)).unwrap_err();
        assert_eq!(
            e.message,
            "input device 'in' has 32 input channels; expected 1 to 16"
        );
    }

    #[test]
    fn buffer_sizes_over_4096_frames_are_refused_before_any_device_is_looked_at() {
        let e = prepare_from(&[], None, None, &options("in", "out", 8192)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Format);
        assert_eq!(e.message, "buffer size of 8192 frames; expected 1 to 4096");
        assert_eq!(check_frames(4096).unwrap(), Some(4096));
        assert_eq!(check_frames(0).unwrap(), None);
    }

    #[test]
    fn a_buffer_size_outside_a_devices_range_is_refused() {
        assert!(check_frame_range(512, "d", Side::Input, (15.0, 4096.0)).is_ok());
        let e = check_frame_range(8, "d", Side::Output, (15.0, 4096.0)).unwrap_err();
        assert_eq!(
            e.message,
            "output device 'd' takes 15 to 4096 frames per buffer; asked for 8"
        );
    }

    #[test]
    fn a_device_without_rates_is_refused() {
        let mut input = device("in", 2, 0, 48_000);
        input.sample_rates.clear();
        let all = [input, device("out", 0, 2, 48_000)];
        let e = prepare_from(&all, None, None, &options("in", "out", 0)).unwrap_err();
        assert_eq!(e.message, "input device 'in' reports no sample rate");
    }
}
