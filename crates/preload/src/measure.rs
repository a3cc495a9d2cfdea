//! One callback measured: a scope around it, the monotonic clock, and
//! optionally the thread's resource usage and its allocation stacks; the
//! figures leave through the slot's queue. Nothing here allocates, locks
//! or blocks.
//!
//! Two forms: [`cycle`] wraps a callback the library calls itself (JACK
//! process callbacks and the other JACK callbacks); [`begin`] and [`end`]
//! bracket one whose start and end are two calls the program makes
//! (`jack_cycle_wait` / `jack_cycle_signal`, the marking functions), with
//! the open measurement kept in a thread-local in between.

use std::cell::RefCell;
use std::mem::ManuallyDrop;

use allocgate::OpenedScope;
use allocgate::hazard::ThreadUsage;

use crate::config;
use crate::slots::Slot;

/// What the audio thread hands the collector for one invocation; its
/// figures ([`allocgate::Stats`]) follow in a queue of their own when it
/// made a call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sample {
    pub index: u64,
    pub frames: u32,
    pub start_ns: u64,
    pub duration_ns: u64,
    pub usage: Option<ThreadUsage>,
    /// It made an allocator or blocking call: its figures were queued.
    /// Otherwise they are all zero.
    pub made_calls: bool,
}

impl Sample {
    pub(crate) const EMPTY: Sample = Sample {
        index: 0,
        frames: 0,
        start_ns: 0,
        duration_ns: 0,
        usage: None,
        made_calls: false,
    };
}

/// `CLOCK_MONOTONIC` in nanoseconds (the vDSO: no system call).
pub(crate) fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// An invocation under way.
struct Open {
    slot: &'static Slot,
    frames: u32,
    usage: Option<ThreadUsage>,
    scope: OpenedScope,
    start_ns: u64,
}

impl Open {
    fn start(slot: &'static Slot, frames: u32) -> Option<Open> {
        let rusage = config::get().is_some_and(|c| c.rusage);
        let usage = if rusage { ThreadUsage::now() } else { None };
        let scope = allocgate::open_scope().ok()?;
        Some(Open {
            slot,
            frames,
            usage,
            scope,
            start_ns: now_ns(),
        })
    }

    fn finish(self) {
        let end_ns = now_ns();
        let stats = self.scope.close();
        let usage = self
            .usage
            .and_then(|before| ThreadUsage::now().map(|after| after.since(&before)));
        let sample = Sample {
            index: self.slot.next_index(),
            frames: self.frames,
            start_ns: self.start_ns,
            duration_ns: end_ns.saturating_sub(self.start_ns),
            usage,
            made_calls: false,
        };
        self.slot.push(sample, &stats);
    }
}

/// Runs `callback` as one measured invocation of `slot`.
pub(crate) fn cycle<R>(slot: &'static Slot, frames: u32, callback: impl FnOnce() -> R) -> R {
    let table = slot.sites.as_ref().and_then(|s| s.take());
    let open = Open::start(slot, frames);
    let value = match table {
        Some(table) => {
            let value = allocgate::trace::trace(table, callback);
            if let Some(open) = open {
                open.finish();
            }
            // Only after `trace` gave it back.
            if let Some(swap) = &slot.sites {
                swap.give_back(table);
            }
            return value;
        }
        None => callback(),
    };
    if let Some(open) = open {
        open.finish();
    }
    value
}

thread_local! {
    /// The invocation this thread has open between [`begin`] and [`end`].
    /// `ManuallyDrop`: no thread-exit destructor, whose registration
    /// would allocate on the thread's first use.
    static OPEN: RefCell<ManuallyDrop<Option<Open>>> =
        const { RefCell::new(ManuallyDrop::new(None)) };
}

/// Opens an invocation of `slot` on this thread, unless one is open.
pub(crate) fn begin(slot: &'static Slot, frames: u32) {
    let _ = OPEN.try_with(|open| {
        let mut open = open.borrow_mut();
        if open.is_none() {
            **open = Open::start(slot, frames);
        }
    });
}

/// Closes this thread's open invocation and queues it, if one is open.
pub(crate) fn end() {
    let open = OPEN
        .try_with(|open| open.borrow_mut().take())
        .ok()
        .flatten();
    if let Some(open) = open {
        open.finish();
    }
}

/// True when this thread has an invocation open.
pub(crate) fn is_open() -> bool {
    OPEN.try_with(|open| open.borrow().is_some())
        .unwrap_or(false)
}
