//! Callbacks marked by hand: `allocgate_callback_begin()` and
//! `allocgate_callback_end()` (declared in `include/allocgate.h`), for
//! programs whose audio API the library does not wrap. Each thread that
//! marks callbacks gets a slot of its own at its first
//! `allocgate_callback_begin()`: that first call allocates (the slot and
//! its queue), before the invocation it opens, so nothing of it is
//! counted in the invocation; later calls never allocate.

use std::cell::Cell;

use allocgate_wire::Role;

use crate::measure;
use crate::slots::{self, Registration, Slot};

thread_local! {
    /// This thread's slot for marked callbacks, once made; `Err` once
    /// making it failed (the table was full), so it is not tried again.
    static MANUAL: Cell<Option<Result<&'static Slot, ()>>> = const { Cell::new(None) };
}

/// The calling thread's name, or empty.
fn thread_name() -> String {
    let mut buf = [0 as libc::c_char; 64];
    // SAFETY: a writable buffer of the length passed; the calling thread.
    let rc = unsafe { libc::pthread_getname_np(libc::pthread_self(), buf.as_mut_ptr(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    // SAFETY: on success the buffer holds a NUL-terminated name.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

fn slot() -> Option<&'static Slot> {
    let known = MANUAL.try_with(Cell::get).ok()?;
    match known {
        Some(Ok(slot)) => Some(slot),
        Some(Err(())) => None,
        None => {
            let made = slots::register(Registration {
                role: Role::Manual,
                callback: 0,
                arg: 0,
                name: thread_name(),
                sample_rate: 0,
                buffer_size: 0,
            });
            if let Some(slot) = made {
                slot.ready.store(true, std::sync::atomic::Ordering::Release);
            }
            let _ = MANUAL.try_with(|m| m.set(Some(made.ok_or(()))));
            made
        }
    }
}

/// Starts a measured callback on the calling thread. Does nothing when
/// the library is not measuring or one is already open on this thread.
#[unsafe(no_mangle)]
pub extern "C-unwind" fn allocgate_callback_begin() {
    if crate::config::get().is_none() || measure::is_open() {
        return;
    }
    if let Some(slot) = slot() {
        measure::begin(slot, 0);
    }
}

/// Ends the calling thread's measured callback and queues its record.
/// Does nothing when none is open.
#[unsafe(no_mangle)]
pub extern "C-unwind" fn allocgate_callback_end() {
    measure::end();
}
