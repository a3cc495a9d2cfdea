//! The CoreAudio session (macOS only): finding the prepared devices
//! again, building and starting both units, watching the devices, and
//! stopping. No `unsafe` here: every call into CoreAudio is `ffi`'s.

use std::fmt;
use std::sync::Arc;

use super::cycle::{InputThread, OutputThread};
use super::ffi::{self, InputState, Listed, Listener, OutputState, Running, UnitSetup};
use super::watch::{self, DeviceWatch};
use super::{CoreAudioOptions, NAME, Prepared, Side, format, plan, status};
use crate::drive::backend::{
    BackendError, Callbacks, DeviceInfo, ErrorKind, Host, OutsideCalls, Started, Stopped, Stream,
    StreamInfo,
};
use crate::drive::queue;

/// The CoreAudio host.
#[derive(Debug, Clone, Copy)]
pub(super) struct CoreAudioHost;

impl Host for CoreAudioHost {
    fn name(&self) -> &'static str {
        NAME
    }

    fn devices(&self) -> Result<Vec<DeviceInfo>, BackendError> {
        Ok(ffi::devices()?.into_iter().map(|l| l.info).collect())
    }
}

/// Lists the devices and decides the session (see [`plan::prepare_from`]).
pub(super) fn prepare(options: &CoreAudioOptions) -> Result<Prepared, BackendError> {
    let devices: Vec<DeviceInfo> = ffi::devices()?.into_iter().map(|l| l.info).collect();
    plan::prepare_from(
        &devices,
        ffi::default_uid(Side::Input).as_deref(),
        ffi::default_uid(Side::Output).as_deref(),
        options,
    )
}

/// The device's object id now, found again by UID (ids change when a
/// device goes and comes back), checked alive, at the engine's rate and
/// able to take the buffer size.
fn find_again(
    listed: &[Listed],
    device: &DeviceInfo,
    side: Side,
    prepared: &Prepared,
) -> Result<u32, BackendError> {
    let gone = || {
        BackendError::new(
            ErrorKind::Gone,
            format!(
                "{side} device '{}' (uid '{}') disappeared",
                device.name, device.id
            ),
        )
    };
    let id = listed
        .iter()
        .find(|l| l.info.id == device.id)
        .map(|l| l.id)
        .ok_or_else(gone)?;
    if !ffi::is_alive(id) {
        return Err(gone());
    }
    let rate = ffi::nominal_rate(id).map_err(|s| {
        status::error(
            &format!("reading the rate of {side} device '{}'", device.name),
            s,
        )
    })?;
    format::check_rate(&device.name, side, prepared.sample_rate, rate)?;
    if let (Some(frames), Ok(range)) = (prepared.plan.frames, ffi::buffer_frame_range(id)) {
        plan::check_frame_range(frames, &device.name, side, range)?;
    }
    Ok(id)
}

/// Builds and starts both units for `prepared` (see [`super::start`]).
pub(super) fn start(prepared: &Prepared, callbacks: Callbacks) -> Result<Started, BackendError> {
    let Prepared {
        input,
        output,
        sample_rate: rate,
        plan,
    } = prepared;
    let rate = *rate;
    if callbacks.input.channels() != plan.input_channels as usize {
        return Err(BackendError::new(
            ErrorKind::Format,
            format!(
                "the engine was built for {}; input device '{}' has {}",
                allocgate_engine::text::count(callbacks.input.channels(), "input channel"),
                input.name,
                plan.input_channels
            ),
        ));
    }
    let listed = ffi::devices()?;
    let input_id = find_again(&listed, input, Side::Input, prepared)?;
    let output_id = find_again(&listed, output, Side::Output, prepared)?;

    // Everything the audio threads use is allocated here, before a start.
    let (input_queue, input_measurements) = queue::measurements(queue::MEASUREMENTS);
    let (output_queue, output_measurements) = queue::measurements(queue::MEASUREMENTS);
    let input_unit = ffi::input_unit(
        &UnitSetup {
            device: input_id,
            name: &input.name,
            rate,
            channels: plan.input_channels,
            frames: plan.frames,
        },
        InputThread::new(callbacks.input, input_queue, callbacks.count, rate),
    )?;
    let output_unit = ffi::output_unit(
        &UnitSetup {
            device: output_id,
            name: &output.name,
            rate,
            channels: plan.output_channels,
            frames: plan.frames,
        },
        OutputThread::new(callbacks.output, output_queue, callbacks.count, rate),
    )?;
    let watches = [
        Arc::new(DeviceWatch::new(Side::Input, input.name.clone(), rate)),
        Arc::new(DeviceWatch::new(Side::Output, output.name.clone(), rate)),
    ];
    let mut listeners = ffi::listen(input_id, &watches[0])?;
    listeners.extend(ffi::listen(output_id, &watches[1])?);
    let period = input_unit
        .buffer_frames()
        .or(plan.frames)
        .unwrap_or_default();

    // The binauralizer's order: input, then output.
    input_unit
        .start()
        .map_err(|s| status::error(&format!("starting the input unit for '{}'", input.name), s))?;
    output_unit.start().map_err(|s| {
        status::error(
            &format!("starting the output unit for '{}'", output.name),
            s,
        )
    })?;
    let stream = CoreAudioStream {
        input: Some(input_unit),
        output: Some(output_unit),
        listeners,
        watches,
        info: StreamInfo {
            backend: NAME.to_string(),
            input: input.name.clone(),
            output: output.name.clone(),
            sample_rate: rate,
            period,
            // Not checked: the HAL's IO threads are its own.
            realtime: None,
            backend_xruns: 0,
        },
    };
    Ok(Started {
        stream: Box::new(stream),
        measurements: vec![input_measurements, output_measurements],
        blocks: None,
    })
}

/// A running session. Field order is drop order: the units (and the
/// states their callbacks use) go first, then the listeners, then what
/// they write to.
struct CoreAudioStream {
    input: Option<Running<InputState>>,
    output: Option<Running<OutputState>>,
    listeners: Vec<Listener>,
    watches: [Arc<DeviceWatch>; 2],
    info: StreamInfo,
}

impl fmt::Debug for CoreAudioStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoreAudioStream")
            .field("info", &self.info)
            .field("watches", &self.watches)
            .finish_non_exhaustive()
    }
}

impl Stream for CoreAudioStream {
    fn info(&self) -> StreamInfo {
        StreamInfo {
            backend_xruns: self.watches.iter().map(|w| w.overloads()).sum(),
            ..self.info.clone()
        }
    }

    fn failure(&self) -> Option<String> {
        watch::failure(&[&self.watches[0], &self.watches[1]])
    }

    fn stop(mut self: Box<Self>) -> Result<Stopped, BackendError> {
        let info = self.info();
        let mut outside = OutsideCalls::default();
        let mut first_error = None;
        if let Some(unit) = self.input.take() {
            let (result, state) = unit.stop();
            if let Some(state) = state {
                outside.merge(&state.outside());
            }
            if let Err(s) = result {
                first_error.get_or_insert_with(|| {
                    status::error(&format!("stopping the input unit for '{}'", info.input), s)
                });
            }
        }
        if let Some(unit) = self.output.take() {
            let (result, state) = unit.stop();
            if let Some(state) = state {
                outside.merge(&state.outside());
            }
            if let Err(s) = result {
                first_error.get_or_insert_with(|| {
                    status::error(
                        &format!("stopping the output unit for '{}'", info.output),
                        s,
                    )
                });
            }
        }
        self.listeners.clear();
        match first_error {
            Some(e) => Err(e),
            None => Ok(Stopped {
                info,
                outside_callbacks: outside,
                idle_cycles: 0,
            }),
        }
    }
}
