//! The calls into CoreAudio (macOS only), kept thin: property reads, the
//! two AUHAL units and the callbacks CoreAudio calls; the device listeners
//! are in `listeners`, re-exported here. Every `unsafe` block of the
//! backend is in these two files; all the logic they serve lives in the
//! portable modules next to them.
//!
//! bindgen gives each CoreAudio constant the integer type of its enum in
//! the SDK at hand, so every constant is cast once, below, to the type the
//! calls take.
#![allow(clippy::unnecessary_cast)]

use std::ffi::{CStr, c_void};
use std::mem::size_of;
use std::ptr::{self, NonNull};

use coreaudio_sys as sys;

use super::Side;
use super::cycle::{InputThread, OutputThread, SAMPLE_TIME_VALID};
use super::format::{self, StreamFormat};
use super::fourcc::fourcc;
use super::listing;
use super::plan::MAX_FRAMES_PER_SLICE;
use super::raw::RawBufferList;
use super::status::{self, NO_ERROR};
use crate::drive::backend::{BackendError, DeviceInfo, ErrorKind, OutsideCalls};
use allocgate_engine::buffers::{AudioBuffer, BufferList};
use allocgate_engine::layout::MAX_CHANNELS;

// The device listeners live in `listeners`; `stream` reaches them here.
pub(super) use super::listeners::{Listener, listen};

// The CFString functions and CFRelease live in CoreFoundation, which
// coreaudio-sys declares (its headers include it) but does not link.
#[link(name = "CoreFoundation", kind = "framework")]
unsafe extern "C" {}

const SYSTEM_OBJECT: u32 = sys::kAudioObjectSystemObject as u32;
pub(super) const SCOPE_GLOBAL: u32 = sys::kAudioObjectPropertyScopeGlobal as u32;
const SCOPE_INPUT: u32 = sys::kAudioObjectPropertyScopeInput as u32;
const SCOPE_OUTPUT: u32 = sys::kAudioObjectPropertyScopeOutput as u32;
const ELEMENT_MAIN: u32 = sys::kAudioObjectPropertyElementMain as u32;

const DEVICES: u32 = sys::kAudioHardwarePropertyDevices as u32;
const DEFAULT_INPUT: u32 = sys::kAudioHardwarePropertyDefaultInputDevice as u32;
const DEFAULT_OUTPUT: u32 = sys::kAudioHardwarePropertyDefaultOutputDevice as u32;
const NAME: u32 = sys::kAudioObjectPropertyName as u32;
const UID: u32 = sys::kAudioDevicePropertyDeviceUID as u32;
const STREAM_CONFIGURATION: u32 = sys::kAudioDevicePropertyStreamConfiguration as u32;
pub(super) const NOMINAL_RATE: u32 = sys::kAudioDevicePropertyNominalSampleRate as u32;
const AVAILABLE_RATES: u32 = sys::kAudioDevicePropertyAvailableNominalSampleRates as u32;
pub(super) const IS_ALIVE: u32 = sys::kAudioDevicePropertyDeviceIsAlive as u32;
const BUFFER_FRAMES: u32 = sys::kAudioDevicePropertyBufferFrameSize as u32;
const BUFFER_FRAME_RANGE: u32 = sys::kAudioDevicePropertyBufferFrameSizeRange as u32;
pub(super) const OVERLOAD: u32 = sys::kAudioDeviceProcessorOverload as u32;

const UNIT_GLOBAL: u32 = sys::kAudioUnitScope_Global as u32;
const UNIT_INPUT: u32 = sys::kAudioUnitScope_Input as u32;
const UNIT_OUTPUT: u32 = sys::kAudioUnitScope_Output as u32;
/// AUHAL's element 0: towards the output device.
const OUTPUT_ELEMENT: u32 = 0;
/// AUHAL's element 1: from the input device.
const INPUT_ELEMENT: u32 = 1;
const ENABLE_IO: u32 = sys::kAudioOutputUnitProperty_EnableIO as u32;
const CURRENT_DEVICE: u32 = sys::kAudioOutputUnitProperty_CurrentDevice as u32;
const SET_INPUT_CALLBACK: u32 = sys::kAudioOutputUnitProperty_SetInputCallback as u32;
const SET_RENDER_CALLBACK: u32 = sys::kAudioUnitProperty_SetRenderCallback as u32;
const STREAM_FORMAT: u32 = sys::kAudioUnitProperty_StreamFormat as u32;
const MAXIMUM_FRAMES_PER_SLICE: u32 = sys::kAudioUnitProperty_MaximumFramesPerSlice as u32;

const UTF8: u32 = sys::kCFStringEncodingUTF8 as u32;
/// `kAudioHardwareBadPropertySizeError`, for a reply of the wrong size.
const BAD_SIZE: i32 = fourcc(b"!siz") as i32;

// ---------------------------------------------------------------------
// Properties of audio objects (the system, devices).

pub(super) fn address(selector: u32, scope: u32) -> sys::AudioObjectPropertyAddress {
    sys::AudioObjectPropertyAddress {
        mSelector: selector,
        mScope: scope,
        mElement: ELEMENT_MAIN,
    }
}

/// A fixed-size property of `object`, read into `value`. `T` is plain
/// data (integers, `f64`, `AudioValueRange`, a `CFStringRef`).
fn get<T: Copy>(object: u32, selector: u32, scope: u32, mut value: T) -> Result<T, i32> {
    let address = address(selector, scope);
    let mut size = size_of::<T>() as u32;
    // SAFETY: `address` and `size` are live locals; `value` has `size`
    // writable bytes, and every `T` read here is valid for any bytes.
    let status = unsafe {
        sys::AudioObjectGetPropertyData(
            object,
            &address,
            0,
            ptr::null(),
            &mut size,
            (&raw mut value).cast(),
        )
    };
    if status != NO_ERROR {
        return Err(status);
    }
    if size as usize != size_of::<T>() {
        return Err(BAD_SIZE);
    }
    Ok(value)
}

/// A variable-size property of `object`, as many `T`s as it holds.
fn get_vec<T: Copy>(object: u32, selector: u32, scope: u32, zero: T) -> Result<Vec<T>, i32> {
    let address = address(selector, scope);
    let mut size = 0u32;
    // SAFETY: `address` and `size` are live locals; no qualifier.
    let status =
        unsafe { sys::AudioObjectGetPropertyDataSize(object, &address, 0, ptr::null(), &mut size) };
    if status != NO_ERROR {
        return Err(status);
    }
    let item = size_of::<T>().max(1);
    let mut values = vec![zero; (size as usize).div_ceil(item)];
    let mut size = (values.len() * item) as u32;
    // SAFETY: `values` has `size` writable bytes aligned for `T`, plain
    // data valid for any bytes; `address` and `size` are live locals.
    let status = unsafe {
        sys::AudioObjectGetPropertyData(
            object,
            &address,
            0,
            ptr::null(),
            &mut size,
            values.as_mut_ptr().cast(),
        )
    };
    if status != NO_ERROR {
        return Err(status);
    }
    values.truncate(size as usize / item);
    Ok(values)
}

/// A `CFString` property of `object`, as a Rust string.
fn get_string(object: u32, selector: u32, scope: u32) -> Result<String, i32> {
    let cf: sys::CFStringRef = get(object, selector, scope, ptr::null())?;
    if cf.is_null() {
        return Ok(String::new());
    }
    let text = cf_string(cf);
    // SAFETY: the HAL hands out CFString properties retained for the
    // caller (AudioHardwareBase.h: "the caller is responsible for
    // releasing"); this is the one release.
    unsafe { sys::CFRelease(cf.cast()) };
    Ok(text)
}

fn cf_string(cf: sys::CFStringRef) -> String {
    // SAFETY: `cf` is a live CFString.
    let length = unsafe { sys::CFStringGetLength(cf) };
    // SAFETY: a pure computation on a length and an encoding.
    let most = unsafe { sys::CFStringGetMaximumSizeForEncoding(length, UTF8) };
    let mut bytes = vec![0u8; usize::try_from(most).unwrap_or(0) + 1];
    // SAFETY: `cf` is live; `bytes` has `bytes.len()` writable bytes, the
    // most CFStringGetCString writes (terminating NUL included).
    let ok = unsafe {
        sys::CFStringGetCString(
            cf,
            bytes.as_mut_ptr().cast(),
            bytes.len() as sys::CFIndex,
            UTF8,
        )
    };
    if ok == 0 {
        return String::new();
    }
    CStr::from_bytes_until_nul(&bytes)
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A device as listed: its object id and what it says about itself.
#[derive(Debug, Clone)]
pub(super) struct Listed {
    /// Its `AudioObjectID`.
    pub(super) id: u32,
    /// Its UID, name, channels and rates.
    pub(super) info: DeviceInfo,
}

/// Every device the HAL lists (`kAudioHardwarePropertyDevices`); a device
/// that cannot describe itself (going away while listed) is left out.
pub(super) fn devices() -> Result<Vec<Listed>, BackendError> {
    let ids = get_vec(SYSTEM_OBJECT, DEVICES, SCOPE_GLOBAL, 0u32)
        .map_err(|s| status::error("listing the audio devices", s))?;
    Ok(ids
        .into_iter()
        .filter_map(|id| describe(id).ok().map(|info| Listed { id, info }))
        .collect())
}

fn describe(id: u32) -> Result<DeviceInfo, i32> {
    let empty = sys::AudioValueRange {
        mMinimum: 0.0,
        mMaximum: 0.0,
    };
    let nominal = get(id, NOMINAL_RATE, SCOPE_GLOBAL, 0.0f64)?;
    let ranges: Vec<(f64, f64)> = get_vec(id, AVAILABLE_RATES, SCOPE_GLOBAL, empty)
        .unwrap_or_default()
        .iter()
        .map(|r| (r.mMinimum, r.mMaximum))
        .collect();
    Ok(DeviceInfo {
        id: get_string(id, UID, SCOPE_GLOBAL)?,
        name: get_string(id, NAME, SCOPE_GLOBAL)?,
        input_channels: channels(id, SCOPE_INPUT)?,
        output_channels: channels(id, SCOPE_OUTPUT)?,
        sample_rates: listing::sample_rates(nominal, &ranges),
    })
}

/// Channels in `scope`, from the stream configuration (an
/// `AudioBufferList`, read into 8-byte words for its alignment).
fn channels(id: u32, scope: u32) -> Result<u32, i32> {
    let words = get_vec(id, STREAM_CONFIGURATION, scope, 0u64)?;
    Ok(listing::stream_configuration_channels(bytemuck::cast_slice(&words)).unwrap_or(0))
}

/// The UID of the system's default device for `side`, if there is one.
pub(super) fn default_uid(side: Side) -> Option<String> {
    let selector = match side {
        Side::Input => DEFAULT_INPUT,
        Side::Output => DEFAULT_OUTPUT,
    };
    let id = get(SYSTEM_OBJECT, selector, SCOPE_GLOBAL, 0u32)
        .ok()
        .filter(|&id| id != 0)?;
    get_string(id, UID, SCOPE_GLOBAL).ok()
}

/// Whether the device is alive (`kAudioDevicePropertyDeviceIsAlive`); an
/// object that cannot say is taken as gone.
pub(super) fn is_alive(id: u32) -> bool {
    get(id, IS_ALIVE, SCOPE_GLOBAL, 0u32).is_ok_and(|alive| alive != 0)
}

/// The device's nominal rate, in Hz.
pub(super) fn nominal_rate(id: u32) -> Result<f64, i32> {
    get(id, NOMINAL_RATE, SCOPE_GLOBAL, 0.0f64)
}

/// The buffer sizes the device takes, in frames (min, max).
pub(super) fn buffer_frame_range(id: u32) -> Result<(f64, f64), i32> {
    let empty = sys::AudioValueRange {
        mMinimum: 0.0,
        mMaximum: 0.0,
    };
    get(id, BUFFER_FRAME_RANGE, SCOPE_GLOBAL, empty).map(|r| (r.mMinimum, r.mMaximum))
}

// ---------------------------------------------------------------------
// AUHAL units.

/// An AUHAL instance; stopped, uninitialised and disposed on drop.
#[derive(Debug)]
struct Unit {
    raw: sys::AudioUnit,
}

impl Unit {
    fn new_hal() -> Result<Unit, BackendError> {
        let description = sys::AudioComponentDescription {
            componentType: sys::kAudioUnitType_Output as u32,
            componentSubType: sys::kAudioUnitSubType_HALOutput as u32,
            componentManufacturer: sys::kAudioUnitManufacturer_Apple as u32,
            componentFlags: 0,
            componentFlagsMask: 0,
        };
        // SAFETY: `description` is a live, initialised description; a null
        // component asks for the first match.
        let component = unsafe { sys::AudioComponentFindNext(ptr::null_mut(), &description) };
        if component.is_null() {
            return Err(BackendError::new(
                ErrorKind::Unavailable,
                "no AUHAL audio unit (kAudioUnitSubType_HALOutput) on this system",
            ));
        }
        let mut raw: sys::AudioUnit = ptr::null_mut();
        // SAFETY: `component` came from AudioComponentFindNext; `raw` is a
        // live out-parameter.
        let status = unsafe { sys::AudioComponentInstanceNew(component, &mut raw) };
        status::check(status, || "creating an AUHAL unit".into())?;
        if raw.is_null() {
            return Err(BackendError::new(
                ErrorKind::Unavailable,
                "creating an AUHAL unit gave no instance",
            ));
        }
        Ok(Unit { raw })
    }

    fn set<T>(&self, property: u32, scope: u32, element: u32, value: &T) -> Result<(), i32> {
        // SAFETY: `self.raw` is a live unit; `value` points at
        // `size_of::<T>()` readable bytes for the call, which copies them.
        let status = unsafe {
            sys::AudioUnitSetProperty(
                self.raw,
                property,
                scope,
                element,
                ptr::from_ref(value).cast(),
                size_of::<T>() as u32,
            )
        };
        if status == NO_ERROR {
            Ok(())
        } else {
            Err(status)
        }
    }

    fn get<T: Copy>(
        &self,
        property: u32,
        scope: u32,
        element: u32,
        mut value: T,
    ) -> Result<T, i32> {
        let mut size = size_of::<T>() as u32;
        // SAFETY: `self.raw` is a live unit; `value` has `size` writable
        // bytes and is plain data valid for any bytes.
        let status = unsafe {
            sys::AudioUnitGetProperty(
                self.raw,
                property,
                scope,
                element,
                (&raw mut value).cast(),
                &mut size,
            )
        };
        if status != NO_ERROR {
            return Err(status);
        }
        if size as usize != size_of::<T>() {
            return Err(BAD_SIZE);
        }
        Ok(value)
    }

    fn initialize(&self) -> Result<(), i32> {
        // SAFETY: `self.raw` is a live unit.
        let status = unsafe { sys::AudioUnitInitialize(self.raw) };
        if status == NO_ERROR {
            Ok(())
        } else {
            Err(status)
        }
    }

    fn start(&self) -> Result<(), i32> {
        // SAFETY: `self.raw` is a live, initialised unit.
        let status = unsafe { sys::AudioOutputUnitStart(self.raw) };
        if status == NO_ERROR {
            Ok(())
        } else {
            Err(status)
        }
    }

    /// Stops, uninitialises and disposes the unit (once; later calls do
    /// nothing). Returns the first failure of the three, and whether the
    /// instance is gone (disposal succeeded): only then can no callback
    /// run any more.
    fn dispose(&mut self) -> (Result<(), i32>, bool) {
        if self.raw.is_null() {
            return (Ok(()), true);
        }
        // SAFETY: `self.raw` is a live unit; stopping a stopped unit and
        // uninitialising an uninitialised one are harmless.
        let stopped = unsafe { sys::AudioOutputUnitStop(self.raw) };
        // SAFETY: as above.
        let uninitialized = unsafe { sys::AudioUnitUninitialize(self.raw) };
        // SAFETY: as above; nothing uses `self.raw` after this.
        let disposed = unsafe { sys::AudioComponentInstanceDispose(self.raw) };
        let gone = disposed == NO_ERROR;
        if gone {
            self.raw = ptr::null_mut();
        }
        let first = [stopped, uninitialized, disposed]
            .into_iter()
            .find(|&s| s != NO_ERROR);
        (first.map_or(Ok(()), Err), gone)
    }
}

impl Drop for Unit {
    fn drop(&mut self) {
        let _ = self.dispose();
    }
}

/// A unit and the state its callback reaches through its `refCon`. The
/// state sits on the heap at a fixed address, outside any Rust reference,
/// from the unit's set-up until the unit is disposed; only then is it
/// freed or handed back.
#[derive(Debug)]
pub(super) struct Running<T> {
    unit: Unit,
    state: NonNull<T>,
}

impl<T> Running<T> {
    fn new(unit: Unit, state: T) -> Running<T> {
        Running {
            unit,
            state: NonNull::from(Box::leak(Box::new(state))),
        }
    }

    fn refcon(&self) -> *mut c_void {
        self.state.as_ptr().cast()
    }

    /// Starts the unit.
    pub(super) fn start(&self) -> Result<(), i32> {
        self.unit.start()
    }

    /// The device's buffer size as the unit sees it, in frames.
    pub(super) fn buffer_frames(&self) -> Option<u32> {
        self.unit
            .get(BUFFER_FRAMES, UNIT_GLOBAL, OUTPUT_ELEMENT, 0u32)
            .ok()
    }

    /// Stops and disposes the unit, then hands back the state, or `None`
    /// (and leaks it) when the unit could not be disposed and a callback
    /// might still reach it.
    pub(super) fn stop(mut self) -> (Result<(), i32>, Option<T>) {
        let (result, gone) = self.unit.dispose();
        let state = self.state;
        // The unit is disposed (or must be left alone); the state is taken
        // over here, so `Drop` must not run.
        std::mem::forget(self);
        if !gone {
            return (result, None);
        }
        // SAFETY: `state` came from `Box::leak` in `new` and is reclaimed
        // once, here; the unit is disposed, so no callback reaches it.
        let state = unsafe { Box::from_raw(state.as_ptr()) };
        (result, Some(*state))
    }
}

impl<T> Drop for Running<T> {
    fn drop(&mut self) {
        let (_, gone) = self.unit.dispose();
        if gone {
            // SAFETY: as in `stop`: leaked in `new`, freed once, here,
            // after the unit that used it is disposed.
            drop(unsafe { Box::from_raw(self.state.as_ptr()) });
        }
    }
}

/// What the input callback reaches: its unit (to pull with
/// `AudioUnitRender`), the buffer list it renders into, and the engine.
#[derive(Debug)]
pub(super) struct InputState {
    unit: sys::AudioUnit,
    list: RawBufferList<MAX_CHANNELS>,
    thread: InputThread,
}

impl InputState {
    /// Allocator calls on the input thread outside the engine callback.
    pub(super) fn outside(&self) -> OutsideCalls {
        self.thread.outside()
    }
}

/// What the render callback reaches: the engine.
#[derive(Debug)]
pub(super) struct OutputState {
    thread: OutputThread,
}

impl OutputState {
    /// Allocator calls on the output thread outside the engine callback.
    pub(super) fn outside(&self) -> OutsideCalls {
        self.thread.outside()
    }
}

/// How to set up one unit.
#[derive(Debug, Clone, Copy)]
pub(super) struct UnitSetup<'a> {
    /// The device's `AudioObjectID`.
    pub(super) device: u32,
    /// Its name, for messages.
    pub(super) name: &'a str,
    /// The engine's rate, in Hz.
    pub(super) rate: u32,
    /// Channels of the unit's client format.
    pub(super) channels: u32,
    /// Buffer size to ask for, if any.
    pub(super) frames: Option<u32>,
}

fn asbd(f: &StreamFormat) -> sys::AudioStreamBasicDescription {
    sys::AudioStreamBasicDescription {
        mSampleRate: f.sample_rate,
        mFormatID: f.format_id,
        mFormatFlags: f.format_flags,
        mBytesPerPacket: f.bytes_per_packet,
        mFramesPerPacket: f.frames_per_packet,
        mBytesPerFrame: f.bytes_per_frame,
        mChannelsPerFrame: f.channels_per_frame,
        mBitsPerChannel: f.bits_per_channel,
        mReserved: 0,
    }
}

fn stream_format(a: &sys::AudioStreamBasicDescription) -> StreamFormat {
    StreamFormat {
        sample_rate: a.mSampleRate,
        format_id: a.mFormatID,
        format_flags: a.mFormatFlags,
        bytes_per_packet: a.mBytesPerPacket,
        frames_per_packet: a.mFramesPerPacket,
        bytes_per_frame: a.mBytesPerFrame,
        channels_per_frame: a.mChannelsPerFrame,
        bits_per_channel: a.mBitsPerChannel,
    }
}

fn no_format() -> sys::AudioStreamBasicDescription {
    asbd(&StreamFormat::float_non_interleaved(0, 0))
}

/// The settings both units share: the most frames per callback, and the
/// buffer size when one was asked for.
fn limit_frames(unit: &Unit, setup: &UnitSetup<'_>, side: Side) -> Result<(), BackendError> {
    let doing = |what: String| format!("{what} on the {side} unit for '{}'", setup.name);
    unit.set(
        MAXIMUM_FRAMES_PER_SLICE,
        UNIT_GLOBAL,
        OUTPUT_ELEMENT,
        &MAX_FRAMES_PER_SLICE,
    )
    .map_err(|s| status::error(&doing("setting the maximum frames per slice".into()), s))?;
    if let Some(frames) = setup.frames {
        unit.set(BUFFER_FRAMES, UNIT_GLOBAL, OUTPUT_ELEMENT, &frames)
            .map_err(|s| status::error(&doing(format!("setting a {frames}-frame buffer")), s))?;
    }
    Ok(())
}

/// The input unit: input on (element 1), output off (element 0), the
/// device, the engine's format on the output scope of element 1, and the
/// input callback; initialised, not started.
pub(super) fn input_unit(
    setup: &UnitSetup<'_>,
    thread: InputThread,
) -> Result<Running<InputState>, BackendError> {
    let unit = Unit::new_hal()?;
    let state = InputState {
        unit: unit.raw,
        list: RawBufferList::default(),
        thread,
    };
    let running = Running::new(unit, state);
    let u = &running.unit;
    let fail = |what: &str| {
        let doing = format!("{what} on the input unit for '{}'", setup.name);
        move |s: i32| status::error(&doing, s)
    };
    u.set(ENABLE_IO, UNIT_INPUT, INPUT_ELEMENT, &1u32)
        .map_err(fail("enabling input"))?;
    u.set(ENABLE_IO, UNIT_OUTPUT, OUTPUT_ELEMENT, &0u32)
        .map_err(fail("disabling output"))?;
    u.set(CURRENT_DEVICE, UNIT_GLOBAL, OUTPUT_ELEMENT, &setup.device)
        .map_err(fail("choosing the device"))?;
    limit_frames(u, setup, Side::Input)?;
    // The input element's input scope is the device's side.
    let device = u
        .get(STREAM_FORMAT, UNIT_INPUT, INPUT_ELEMENT, no_format())
        .map_err(fail("reading the device's format"))?;
    format::check_device_format(
        setup.name,
        Side::Input,
        setup.rate,
        Some(setup.channels),
        &stream_format(&device),
    )?;
    let client = asbd(&StreamFormat::float_non_interleaved(
        setup.rate,
        setup.channels,
    ));
    u.set(STREAM_FORMAT, UNIT_OUTPUT, INPUT_ELEMENT, &client)
        .map_err(fail("setting the stream format"))?;
    let callback = sys::AURenderCallbackStruct {
        inputProc: Some(input_proc),
        inputProcRefCon: running.refcon(),
    };
    u.set(SET_INPUT_CALLBACK, UNIT_GLOBAL, OUTPUT_ELEMENT, &callback)
        .map_err(fail("setting the input callback"))?;
    u.initialize().map_err(fail("initialising"))?;
    Ok(running)
}

/// The output unit: the device, the stereo format on the input scope of
/// element 0, and the render callback; initialised, not started.
pub(super) fn output_unit(
    setup: &UnitSetup<'_>,
    thread: OutputThread,
) -> Result<Running<OutputState>, BackendError> {
    let unit = Unit::new_hal()?;
    let running = Running::new(unit, OutputState { thread });
    let u = &running.unit;
    let fail = |what: &str| {
        let doing = format!("{what} on the output unit for '{}'", setup.name);
        move |s: i32| status::error(&doing, s)
    };
    u.set(CURRENT_DEVICE, UNIT_GLOBAL, OUTPUT_ELEMENT, &setup.device)
        .map_err(fail("choosing the device"))?;
    limit_frames(u, setup, Side::Output)?;
    // The output element's output scope is the device's side.
    let device = u
        .get(STREAM_FORMAT, UNIT_OUTPUT, OUTPUT_ELEMENT, no_format())
        .map_err(fail("reading the device's format"))?;
    format::check_device_format(
        setup.name,
        Side::Output,
        setup.rate,
        None,
        &stream_format(&device),
    )?;
    let client = asbd(&StreamFormat::float_non_interleaved(
        setup.rate,
        setup.channels,
    ));
    u.set(STREAM_FORMAT, UNIT_INPUT, OUTPUT_ELEMENT, &client)
        .map_err(fail("setting the stream format"))?;
    let callback = sys::AURenderCallbackStruct {
        inputProc: Some(render_proc),
        inputProcRefCon: running.refcon(),
    };
    u.set(SET_RENDER_CALLBACK, UNIT_INPUT, OUTPUT_ELEMENT, &callback)
        .map_err(fail("setting the render callback"))?;
    u.initialize().map_err(fail("initialising"))?;
    Ok(running)
}

// ---------------------------------------------------------------------
// The callbacks. Both run on CoreAudio's IO threads and never allocate,
// lock or block outside the engine callback; both always report success,
// as the binauralizer's do (an error status would stop the unit).

fn sample_time(time: *const sys::AudioTimeStamp) -> Option<f64> {
    // SAFETY: CoreAudio passes a time stamp valid for the callback, or null.
    let time = unsafe { time.as_ref() }?;
    (time.mFlags as u32 & SAMPLE_TIME_VALID != 0).then_some(time.mSampleTime)
}

/// The input unit's input callback: pulls the frames with
/// `AudioUnitRender` (bus 1) into the engine's buffer list, inside the
/// measured engine callback, as the binauralizer's input callback pulls
/// them before interleaving.
unsafe extern "C" fn input_proc(
    refcon: *mut c_void,
    flags: *mut sys::AudioUnitRenderActionFlags,
    time: *const sys::AudioTimeStamp,
    _bus: u32,
    frames: u32,
    _data: *mut sys::AudioBufferList,
) -> sys::OSStatus {
    // SAFETY: `refcon` is the `InputState` this unit was set up with
    // (`Running::refcon`): alive until the unit is disposed, and reached
    // only from this unit's IO thread, one callback at a time.
    let state = unsafe { &mut *refcon.cast::<InputState>() };
    let InputState { unit, list, thread } = state;
    let unit = *unit;
    thread.cycle(frames, sample_time(time), |engine| {
        if !list.point_at(engine) {
            return false;
        }
        let raw: *mut sys::AudioBufferList = ptr::from_mut(list).cast();
        // SAFETY: `unit` is the live unit calling us; `flags` and `time`
        // are this callback's own arguments, passed on as CoreAudio
        // expects; `raw` is an AudioBufferList (raw.rs mirrors the layout)
        // whose descriptors point at the engine's buffers, borrowed by
        // `engine` for this call and holding `frames` frames each.
        let status = unsafe { sys::AudioUnitRender(unit, flags, time, INPUT_ELEMENT, frames, raw) };
        status == NO_ERROR && list.filled_in_place(engine, frames)
    });
    NO_ERROR
}

/// The output unit's render callback: the engine writes CoreAudio's
/// buffers directly.
unsafe extern "C" fn render_proc(
    refcon: *mut c_void,
    _flags: *mut sys::AudioUnitRenderActionFlags,
    time: *const sys::AudioTimeStamp,
    _bus: u32,
    frames: u32,
    data: *mut sys::AudioBufferList,
) -> sys::OSStatus {
    // SAFETY: as in `input_proc`, for this unit's `OutputState`.
    let state = unsafe { &mut *refcon.cast::<OutputState>() };
    if data.is_null() {
        return NO_ERROR;
    }
    // SAFETY: `data` is CoreAudio's buffer list for this render, valid for
    // the call: a count, then that many `AudioBuffer`s, which the engine's
    // `AudioBuffer` mirrors field for field (raw.rs tests the layout).
    let descriptors = unsafe {
        let count = (*data).mNumberBuffers as usize;
        std::slice::from_raw_parts_mut((&raw mut (*data).mBuffers).cast::<AudioBuffer>(), count)
    };
    // SAFETY: each descriptor's `mData` is CoreAudio's output buffer of
    // `mDataByteSize` bytes of `f32` for this render, written only
    // through this view while it lives.
    let mut out = unsafe { BufferList::from_raw(descriptors) };
    state.thread.cycle(frames, sample_time(time), &mut out);
    NO_ERROR
}
