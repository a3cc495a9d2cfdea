//! The JACK wrappers. Each registration of a callback gets a slot and
//! JACK gets a trampoline in place of the program's function, with the
//! slot as its argument; the trampoline measures the program's function
//! as one invocation. Process callbacks and process threads are audio
//! cycles; buffer-size, sample-rate and xrun callbacks are measured in
//! slots of their own roles, never as cycles.
//!
//! The wrappers are exported under JACK's names, so a program linked
//! against libjack calls them (the library is preloaded ahead of it) and
//! they call libjack's functions, found with `dlsym(RTLD_NEXT, …)`; a
//! program that looks libjack's functions up itself gets them from the
//! interposed `dlsym` ([`substitute`]).

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};

use allocgate_wire::Role;

use crate::slots::{self, Registration, Slot};
use crate::{config, dl, measure};

type Client = *mut c_void;
type ProcessFn = unsafe extern "C-unwind" fn(u32, *mut c_void) -> c_int;
type ThreadFn = unsafe extern "C-unwind" fn(*mut c_void) -> *mut c_void;
type XrunFn = unsafe extern "C-unwind" fn(*mut c_void) -> c_int;
type SetProcess = unsafe extern "C-unwind" fn(Client, Option<ProcessFn>, *mut c_void) -> c_int;
type SetThread = unsafe extern "C-unwind" fn(Client, Option<ThreadFn>, *mut c_void) -> c_int;
type SetXrun = unsafe extern "C-unwind" fn(Client, Option<XrunFn>, *mut c_void) -> c_int;
type CycleWait = unsafe extern "C-unwind" fn(Client) -> u32;
type CycleSignal = unsafe extern "C-unwind" fn(Client, c_int);
type GetName = unsafe extern "C" fn(Client) -> *const c_char;
type GetFrames = unsafe extern "C" fn(Client) -> u32;

/// The libjack functions the wrappers call, by position in [`NAMES`].
#[derive(Clone, Copy)]
enum Fun {
    SetProcess,
    SetThread,
    CycleWait,
    CycleSignal,
    SetBufferSize,
    SetSampleRate,
    SetXrun,
    GetName,
    GetSampleRate,
    GetBufferSize,
}

const NAMES: [&CStr; 10] = [
    c"jack_set_process_callback",
    c"jack_set_process_thread",
    c"jack_cycle_wait",
    c"jack_cycle_signal",
    c"jack_set_buffer_size_callback",
    c"jack_set_sample_rate_callback",
    c"jack_set_xrun_callback",
    c"jack_get_client_name",
    c"jack_get_sample_rate",
    c"jack_get_buffer_size",
];

/// Wrapped functions: the first seven names.
const WRAPPED: usize = 7;

/// libjack's addresses, once found.
static REAL: [AtomicUsize; 10] = [const { AtomicUsize::new(0) }; 10];

/// libjack's `fun`, found through `RTLD_NEXT` (a program linked against
/// libjack) unless a `dlsym` lookup in the program's own handle found it
/// first. Registration paths call this first, off the audio thread, so
/// that `jack_cycle_wait` and `jack_cycle_signal` find their address
/// already known.
fn real(fun: Fun) -> usize {
    let i = fun as usize;
    let known = REAL[i].load(Ordering::Acquire);
    if known != 0 {
        return known;
    }
    // SAFETY: a NUL-terminated name; RTLD_NEXT from this library.
    let found = unsafe { dl::lookup_real(libc::RTLD_NEXT, NAMES[i]) } as usize;
    if found != 0 {
        REAL[i].store(found, Ordering::Release);
    }
    found
}

fn resolve_all() {
    for fun in FUNS {
        real(fun);
    }
}

const FUNS: [Fun; 10] = [
    Fun::SetProcess,
    Fun::SetThread,
    Fun::CycleWait,
    Fun::CycleSignal,
    Fun::SetBufferSize,
    Fun::SetSampleRate,
    Fun::SetXrun,
    Fun::GetName,
    Fun::GetSampleRate,
    Fun::GetBufferSize,
];

/// What the interposed `dlsym` returns for `name`, which the C library
/// found at `found` in `handle`: for a wrapped JACK function, the wrapper
/// (remembering `found`, and looking up the helpers in the same handle);
/// anything else as found.
pub(crate) fn substitute(handle: *mut c_void, name: &CStr, found: *mut c_void) -> *mut c_void {
    if config::get().is_none() {
        return found;
    }
    let Some(i) = NAMES[..WRAPPED].iter().position(|n| *n == name) else {
        return found;
    };
    let _ = REAL[i].compare_exchange(0, found as usize, Ordering::AcqRel, Ordering::Acquire);
    for j in WRAPPED..NAMES.len() {
        if REAL[j].load(Ordering::Acquire) == 0 {
            // SAFETY: the program's own handle, which `dlsym` just
            // accepted; a NUL-terminated name.
            let helper = unsafe { dl::lookup_real(handle, NAMES[j]) } as usize;
            if helper != 0 {
                REAL[j].store(helper, Ordering::Release);
            }
        }
    }
    let wrapper: usize = match FUNS[i] {
        Fun::SetProcess => jack_set_process_callback as *const () as usize,
        Fun::SetThread => jack_set_process_thread as *const () as usize,
        Fun::CycleWait => jack_cycle_wait as *const () as usize,
        Fun::CycleSignal => jack_cycle_signal as *const () as usize,
        Fun::SetBufferSize => jack_set_buffer_size_callback as *const () as usize,
        Fun::SetSampleRate => jack_set_sample_rate_callback as *const () as usize,
        Fun::SetXrun => jack_set_xrun_callback as *const () as usize,
        _ => return found,
    };
    wrapper as *mut c_void
}

/// What is known of `client` now: its name, sample rate and buffer size.
fn describe(role: Role, client: Client, callback: usize, arg: *mut c_void) -> Registration {
    let mut registration = Registration {
        role,
        callback,
        arg: arg as usize,
        name: String::new(),
        sample_rate: 0,
        buffer_size: 0,
    };
    let get_name = real(Fun::GetName);
    if get_name != 0 && !client.is_null() {
        // SAFETY: libjack's `jack_get_client_name`, on the program's
        // client, which it just passed to a registration function.
        let name = unsafe { std::mem::transmute::<usize, GetName>(get_name)(client) };
        if !name.is_null() {
            // SAFETY: libjack returns a NUL-terminated string it owns.
            registration.name = unsafe { CStr::from_ptr(name) }
                .to_string_lossy()
                .into_owned();
        }
    }
    for (fun, field) in [
        (Fun::GetSampleRate, &mut registration.sample_rate),
        (Fun::GetBufferSize, &mut registration.buffer_size),
    ] {
        let f = real(fun);
        if f != 0 && !client.is_null() {
            // SAFETY: libjack's getter, on the program's client.
            *field = unsafe { std::mem::transmute::<usize, GetFrames>(f)(client) };
        }
    }
    registration
}

/// A slot for a registration, when measuring; `None` passes the
/// program's function to JACK as it is.
fn slot_for(
    role: Role,
    client: Client,
    callback: usize,
    arg: *mut c_void,
) -> Option<&'static Slot> {
    config::get()?;
    resolve_all();
    slots::register(describe(role, client, callback, arg))
}

/// Calls the real registration function with either the trampoline and
/// the slot or the program's own function and argument.
#[allow(clippy::too_many_arguments)] // one per part of a registration
fn register<F: Copy>(
    fun: Fun,
    role: Role,
    client: Client,
    callback: Option<F>,
    arg: *mut c_void,
    trampoline: F,
    as_address: impl Fn(F) -> usize,
    call: impl Fn(usize, Client, Option<F>, *mut c_void) -> c_int,
) -> c_int {
    let real = real(fun);
    if real == 0 {
        return -1;
    }
    let slot = callback.and_then(|f| slot_for(role, client, as_address(f), arg));
    match slot {
        Some(slot) => {
            let rc = call(
                real,
                client,
                Some(trampoline),
                slot as *const Slot as *mut c_void,
            );
            if rc == 0 {
                slot.ready.store(true, Ordering::Release);
            }
            rc
        }
        None => call(real, client, callback, arg),
    }
}

/// `jack_set_process_callback`, wrapped.
///
/// # Safety
/// JACK's contract for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn jack_set_process_callback(
    client: Client,
    callback: Option<ProcessFn>,
    arg: *mut c_void,
) -> c_int {
    register(
        Fun::SetProcess,
        Role::JackProcess,
        client,
        callback,
        arg,
        process as ProcessFn,
        |f| f as usize,
        // SAFETY: `real` is libjack's function of this type.
        |real, c, f, a| unsafe { std::mem::transmute::<usize, SetProcess>(real)(c, f, a) },
    )
}

/// `jack_set_buffer_size_callback`, wrapped (never a cycle).
///
/// # Safety
/// JACK's contract for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn jack_set_buffer_size_callback(
    client: Client,
    callback: Option<ProcessFn>,
    arg: *mut c_void,
) -> c_int {
    register(
        Fun::SetBufferSize,
        Role::JackBufferSize,
        client,
        callback,
        arg,
        process as ProcessFn,
        |f| f as usize,
        // SAFETY: `real` is libjack's function of this type.
        |real, c, f, a| unsafe { std::mem::transmute::<usize, SetProcess>(real)(c, f, a) },
    )
}

/// `jack_set_sample_rate_callback`, wrapped (never a cycle).
///
/// # Safety
/// JACK's contract for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn jack_set_sample_rate_callback(
    client: Client,
    callback: Option<ProcessFn>,
    arg: *mut c_void,
) -> c_int {
    register(
        Fun::SetSampleRate,
        Role::JackSampleRate,
        client,
        callback,
        arg,
        process as ProcessFn,
        |f| f as usize,
        // SAFETY: `real` is libjack's function of this type.
        |real, c, f, a| unsafe { std::mem::transmute::<usize, SetProcess>(real)(c, f, a) },
    )
}

/// `jack_set_xrun_callback`, wrapped (never a cycle).
///
/// # Safety
/// JACK's contract for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn jack_set_xrun_callback(
    client: Client,
    callback: Option<XrunFn>,
    arg: *mut c_void,
) -> c_int {
    register(
        Fun::SetXrun,
        Role::JackXrun,
        client,
        callback,
        arg,
        xrun as XrunFn,
        |f| f as usize,
        // SAFETY: `real` is libjack's function of this type.
        |real, c, f, a| unsafe { std::mem::transmute::<usize, SetXrun>(real)(c, f, a) },
    )
}

/// `jack_set_process_thread`, wrapped: the thread runs the program's
/// function with its slot known, and each `jack_cycle_wait` to
/// `jack_cycle_signal` on it is one cycle.
///
/// # Safety
/// JACK's contract for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn jack_set_process_thread(
    client: Client,
    callback: Option<ThreadFn>,
    arg: *mut c_void,
) -> c_int {
    register(
        Fun::SetThread,
        Role::JackProcessThread,
        client,
        callback,
        arg,
        process_thread as ThreadFn,
        |f| f as usize,
        // SAFETY: `real` is libjack's function of this type.
        |real, c, f, a| unsafe { std::mem::transmute::<usize, SetThread>(real)(c, f, a) },
    )
}

thread_local! {
    /// The process-thread slot this thread runs, if any.
    static THREAD_SLOT: std::cell::Cell<Option<&'static Slot>> = const { std::cell::Cell::new(None) };
}

/// `jack_cycle_wait`, wrapped: on a process thread the library started,
/// a cycle opens when it returns.
///
/// # Safety
/// JACK's contract for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn jack_cycle_wait(client: Client) -> u32 {
    let slot = THREAD_SLOT.try_with(|s| s.get()).ok().flatten();
    if slot.is_some() {
        // A cycle left open (a program that waits twice) ends here.
        measure::end();
    }
    let real = real(Fun::CycleWait);
    if real == 0 {
        return 0;
    }
    // SAFETY: libjack's `jack_cycle_wait`, with the program's client.
    let frames = unsafe { std::mem::transmute::<usize, CycleWait>(real)(client) };
    if let Some(slot) = slot
        && frames != 0
    {
        measure::begin(slot, frames);
    }
    frames
}

/// `jack_cycle_signal`, wrapped: closes the cycle `jack_cycle_wait`
/// opened.
///
/// # Safety
/// JACK's contract for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn jack_cycle_signal(client: Client, status: c_int) {
    if THREAD_SLOT.try_with(|s| s.get()).ok().flatten().is_some() {
        measure::end();
    }
    let real = real(Fun::CycleSignal);
    if real != 0 {
        // SAFETY: libjack's `jack_cycle_signal`, with the program's
        // arguments.
        unsafe { std::mem::transmute::<usize, CycleSignal>(real)(client, status) }
    }
}

/// The slot behind a trampoline's argument.
///
/// # Safety
/// `arg` is what a wrapper passed to JACK: a `&'static Slot`.
unsafe fn slot_of(arg: *mut c_void) -> &'static Slot {
    // SAFETY: the caller's promise; slots are leaked, never freed.
    unsafe { &*(arg as *const Slot) }
}

/// The process, buffer-size and sample-rate trampoline.
unsafe extern "C-unwind" fn process(frames: u32, arg: *mut c_void) -> c_int {
    // SAFETY: JACK passes back the argument a wrapper registered.
    let slot = unsafe { slot_of(arg) };
    // SAFETY: the slot keeps the program's function of this type.
    let f = unsafe { std::mem::transmute::<usize, ProcessFn>(slot.registration.callback) };
    let user_arg = slot.registration.arg as *mut c_void;
    // SAFETY: the program's callback with its own argument, as JACK
    // would have called it.
    measure::cycle(slot, frames, || unsafe { f(frames, user_arg) })
}

/// The xrun trampoline.
unsafe extern "C-unwind" fn xrun(arg: *mut c_void) -> c_int {
    // SAFETY: JACK passes back the argument a wrapper registered.
    let slot = unsafe { slot_of(arg) };
    // SAFETY: the slot keeps the program's function of this type.
    let f = unsafe { std::mem::transmute::<usize, XrunFn>(slot.registration.callback) };
    let user_arg = slot.registration.arg as *mut c_void;
    // SAFETY: the program's callback with its own argument.
    measure::cycle(slot, 0, || unsafe { f(user_arg) })
}

/// The process-thread trampoline: runs the program's thread function
/// with the slot known to `jack_cycle_wait`.
unsafe extern "C-unwind" fn process_thread(arg: *mut c_void) -> *mut c_void {
    // SAFETY: JACK passes back the argument a wrapper registered.
    let slot = unsafe { slot_of(arg) };
    let _ = THREAD_SLOT.try_with(|s| s.set(Some(slot)));
    // SAFETY: the slot keeps the program's function of this type.
    let f = unsafe { std::mem::transmute::<usize, ThreadFn>(slot.registration.callback) };
    // SAFETY: the program's thread function with its own argument.
    unsafe { f(slot.registration.arg as *mut c_void) }
}
