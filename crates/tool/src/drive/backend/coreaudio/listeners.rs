//! Device listeners (macOS only): one HAL property listener per watched
//! property of a device (`kAudioDevicePropertyDeviceIsAlive`,
//! `kAudioDevicePropertyNominalSampleRate`, `kAudioDeviceProcessorOverload`),
//! registered by [`listen`], removed when its [`Listener`] drops, and
//! reporting into a [`DeviceWatch`]. The property reads they make are
//! `ffi`'s.
//!
//! As in `ffi`, bindgen's constant types vary with the SDK, so a selector
//! is cast to the type the match takes.
#![allow(clippy::unnecessary_cast)]

use std::ffi::c_void;
use std::sync::Arc;

use coreaudio_sys as sys;

use super::ffi::{IS_ALIVE, NOMINAL_RATE, OVERLOAD, SCOPE_GLOBAL, address, is_alive, nominal_rate};
use super::status::{self, NO_ERROR};
use super::watch::DeviceWatch;
use crate::drive::backend::BackendError;

/// One registered property listener, removed on drop.
#[derive(Debug)]
pub(super) struct Listener {
    object: u32,
    address: sys::AudioObjectPropertyAddress,
    watch: Arc<DeviceWatch>,
}

impl Listener {
    fn client(watch: &Arc<DeviceWatch>) -> *mut c_void {
        Arc::as_ptr(watch).cast_mut().cast()
    }
}

/// Listens to device `object` going away, changing rate and overloading,
/// into `watch`.
pub(super) fn listen(object: u32, watch: &Arc<DeviceWatch>) -> Result<Vec<Listener>, BackendError> {
    let mut listeners = Vec::new();
    for selector in [IS_ALIVE, NOMINAL_RATE, OVERLOAD] {
        let address = address(selector, SCOPE_GLOBAL);
        // SAFETY: `address` is live for the call (the HAL copies it); the
        // client data is the `DeviceWatch` behind `watch`, kept alive by
        // the `Listener`'s clone until it removes this registration.
        let status = unsafe {
            sys::AudioObjectAddPropertyListener(
                object,
                &address,
                Some(listener_proc),
                Listener::client(watch),
            )
        };
        status::check(status, || "adding a device listener".into())?;
        listeners.push(Listener {
            object,
            address,
            watch: Arc::clone(watch),
        });
    }
    Ok(listeners)
}

impl Drop for Listener {
    fn drop(&mut self) {
        // SAFETY: removes exactly the registration `listen` made (same
        // object, address, procedure and client data).
        unsafe {
            sys::AudioObjectRemovePropertyListener(
                self.object,
                &self.address,
                Some(listener_proc),
                Listener::client(&self.watch),
            )
        };
    }
}

/// The HAL's notification for a watched property. Runs on a HAL thread,
/// or for overloads on the device's IO thread, where it only adds to an
/// atomic.
unsafe extern "C" fn listener_proc(
    object: sys::AudioObjectID,
    count: u32,
    addresses: *const sys::AudioObjectPropertyAddress,
    client: *mut c_void,
) -> sys::OSStatus {
    // SAFETY: `client` is the `DeviceWatch` registered in `listen`, alive
    // until the listener is removed.
    let watch = unsafe { &*client.cast_const().cast::<DeviceWatch>() };
    let addresses = if addresses.is_null() {
        &[][..]
    } else {
        // SAFETY: the HAL passes `count` addresses, valid for the call.
        unsafe { std::slice::from_raw_parts(addresses, count as usize) }
    };
    for a in addresses {
        match a.mSelector as u32 {
            OVERLOAD => watch.add_overload(),
            IS_ALIVE if !is_alive(object) => watch.set_gone(),
            NOMINAL_RATE => match nominal_rate(object) {
                Ok(rate) => watch.set_rate(rate),
                Err(_) => watch.set_gone(),
            },
            _ => {}
        }
    }
    NO_ERROR
}
