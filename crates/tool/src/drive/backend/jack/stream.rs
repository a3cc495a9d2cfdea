//! The three JACK clients of a session and their process handlers:
//!
//! - the **engine** client: C input ports and 2 output ports; each
//!   process cycle runs the engine's input callback (copying from the
//!   input ports) and then its output callback (into the output ports),
//!   each measured alone, and queues both measurements;
//! - the **signal** client: C output ports playing the harness's known
//!   signal ([`Signal`]) into the engine's inputs;
//! - the **recorder** client: 2 input ports fed by the engine's outputs,
//!   queueing what it hears for the integrity check.
//!
//! JACK runs connected clients in graph order within one cycle (signal,
//! engine, recorder), so all three see the same cycle start time
//! (`last_frame_time`); a shared [`Window`] turns it into device time
//! from the first cycle after every port is connected, and the engine
//! ends the run after a set number of cycles. Before and after, the
//! engine writes silence and runs no callback.
//!
//! A server xrun can run the three out of step: a client woken late
//! reads the next cycle's frame time, so two clients' cycles of one frame
//! time need not be the same cycle. The integrity check therefore does
//! not pair them by frame time. The signal client says which frames it
//! last finished writing, and the engine reads that around its input
//! callback ([`Captured`]); the engine says which output callback last
//! finished writing its ports, and the recorder reads that around its
//! copy, so each recorded block names the output callback it holds, or
//! is not vouched for. Each is a sequence stamp: [`WRITING`] while the
//! writer writes, what it wrote once done; a reader whose stamp changed
//! meanwhile vouches for nothing.
//!
//! On the process threads nothing allocates, locks or blocks: port
//! buffers are JACK's, queues are pre-allocated, and every figure the
//! control side reads is an atomic stored by its one writer. libjack
//! itself allocates with C `malloc`, which a Rust global allocator never
//! sees.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering, fence};
use std::sync::{Arc, Mutex};

use jack::{AudioIn, AudioOut, Client, Control, Port, ProcessHandler, ProcessScope};

use crate::drive::backend::{OutsideCalls, StreamInfo};
use crate::drive::callback::{self, Captured, Meter, Slot, WARM_UP_CALLBACKS, period_ns};
use crate::drive::queue::{BlockProducer, MeasurementProducer};
use crate::drive::signal::Signal;
use allocgate::{Counts, measure};
use allocgate_engine::buffers::{AudioBuffer, BufferList};
use allocgate_engine::input::InputCallback;
use allocgate_engine::output::OutputCallback;

/// A sequence stamp while its writer writes.
const WRITING: u64 = u64::MAX;

/// What a sequence stamp read before and after a copy vouches for: the
/// value written (stamps hold it + 1), when the stamp held one and did not
/// change.
fn vouched(before: u64, after: u64) -> Option<u64> {
    (before == after && before != 0 && before != WRITING).then(|| before - 1)
}

/// Indices of [`Shared::outside`].
const ENGINE: usize = 0;
const SIGNAL: usize = 1;
const RECORDER: usize = 2;

/// When the measured run starts, in JACK frame time, and how many engine
/// cycles it lasts; shared by the three clients' process threads.
///
/// The end is a number of cycles, not of frames: a server that skips a
/// cycle under load (the dummy driver does, woken late) skips it for
/// every client, and the run still makes the callbacks it was asked for.
#[derive(Debug, Default)]
pub(crate) struct Window {
    armed: AtomicBool,
    first: AtomicU32,
    cycles: AtomicU64,
}

impl Window {
    /// Opens the window at JACK frame `first` for `cycles` engine cycles.
    /// Control side, once every port is connected.
    pub(crate) fn open(&self, first: u32, cycles: u64) {
        self.first.store(first, Ordering::Relaxed);
        self.cycles.store(cycles, Ordering::Relaxed);
        self.armed.store(true, Ordering::Release);
    }

    /// The device time of a cycle starting at JACK frame `t`, once the
    /// window has opened. Audio thread.
    fn device_time(&self, t: u32) -> Option<u64> {
        if !self.armed.load(Ordering::Acquire) {
            return None;
        }
        // Frame times wrap at 2^32; a difference read as signed says
        // which side of `first` the cycle is on for runs under 2^31
        // frames (12 hours at 48 kHz).
        let d = t.wrapping_sub(self.first.load(Ordering::Relaxed)) as i32;
        u64::try_from(d).ok()
    }

    /// Ends the run before the engine's next cycle: that cycle finds
    /// itself past the end, as the cycle after the last one does. Control
    /// side.
    pub(crate) fn end_now(&self) {
        self.cycles.store(0, Ordering::Relaxed);
    }

    /// Engine cycles the run lasts.
    fn cycles(&self) -> u64 {
        self.cycles.load(Ordering::Relaxed)
    }
}

/// A process thread's allocator calls outside the engine's callbacks,
/// published by that thread alone (a store, never a read-modify-write).
#[derive(Debug, Default)]
pub(crate) struct AtomicCalls {
    allocations: AtomicU64,
    deallocations: AtomicU64,
    reallocations: AtomicU64,
}

impl AtomicCalls {
    fn store(&self, c: &OutsideCalls) {
        self.allocations.store(c.allocations, Ordering::Relaxed);
        self.deallocations.store(c.deallocations, Ordering::Relaxed);
        self.reallocations.store(c.reallocations, Ordering::Relaxed);
    }

    fn load(&self) -> OutsideCalls {
        OutsideCalls {
            allocations: self.allocations.load(Ordering::Relaxed),
            deallocations: self.deallocations.load(Ordering::Relaxed),
            reallocations: self.reallocations.load(Ordering::Relaxed),
        }
    }
}

/// Runs `f` (a whole process cycle), measured when `count`; returns the
/// cycle's allocator calls beyond `inside` (its engine callbacks' own
/// counts, which `f` fills in). Audio thread.
fn measure_cycle(count: bool, f: impl FnOnce(&mut Counts)) -> Option<OutsideCalls> {
    let mut inside = Counts::new();
    if !count {
        f(&mut inside);
        return None;
    }
    let whole = measure(|| f(&mut inside));
    let mut extra = OutsideCalls::default();
    extra.add_cycle(&whole.stats.counts, &inside);
    Some(extra)
}

impl OutsideCalls {
    /// Adds `extra` (when measured) and publishes the running total.
    /// Audio thread.
    fn publish(&mut self, extra: Option<OutsideCalls>, to: &AtomicCalls) {
        if let Some(e) = extra {
            self.merge(&e);
            to.store(self);
        }
    }
}

/// What the three clients' threads tell the control side. Every field
/// has one writer.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// 0 unknown, 1 not real-time, 2 real-time (`SCHED_FIFO`/`SCHED_RR`).
    realtime: AtomicU8,
    /// Each client's process thread outside the engine's callbacks:
    /// engine, signal, recorder.
    outside: [AtomicCalls; 3],
    idle_cycles: AtomicU64,
    /// Set by the process thread once the window is over.
    finished: AtomicBool,
    /// Xruns JACK reported (its notification thread).
    xruns: AtomicU64,
    /// The signal client's stamp: the device time of the frames it last
    /// finished writing, + 1.
    signal_written: AtomicU64,
    /// The engine client's stamp: the index of the output callback whose
    /// output its ports last held, + 1 (0: no callback's, silence).
    played: AtomicU64,
    /// The server shut down (its notification thread).
    gone: AtomicBool,
    /// Why, as JACK said (written once, off the audio thread).
    reason: Mutex<Option<String>>,
}

impl Shared {
    pub(crate) fn realtime(&self) -> Option<bool> {
        match self.realtime.load(Ordering::Relaxed) {
            0 => None,
            v => Some(v == 2),
        }
    }

    /// The three process threads' calls outside the engine's callbacks,
    /// added up.
    pub(crate) fn outside(&self) -> OutsideCalls {
        let mut all = OutsideCalls::default();
        for o in &self.outside {
            all.merge(&o.load());
        }
        all
    }

    pub(crate) fn idle_cycles(&self) -> u64 {
        self.idle_cycles.load(Ordering::Relaxed)
    }

    pub(crate) fn finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    pub(crate) fn xruns(&self) -> u64 {
        self.xruns.load(Ordering::Relaxed)
    }

    /// The server's shutdown, as a sentence naming it, once it happened.
    pub(crate) fn failure(&self, server: &str) -> Option<String> {
        if !self.gone.load(Ordering::Acquire) {
            return None;
        }
        let reason = self
            .reason
            .lock()
            .ok()
            .and_then(|r| r.clone())
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "no reason given".to_owned());
        Some(format!(
            "jack server '{server}' went away during the run ({})",
            reason.trim()
        ))
    }

    pub(crate) fn info(&self, server: &str, sample_rate: u32, period: u32) -> StreamInfo {
        StreamInfo {
            backend: "jack".to_owned(),
            input: server.to_owned(),
            output: server.to_owned(),
            sample_rate,
            period,
            realtime: self.realtime(),
            backend_xruns: self.xruns(),
        }
    }
}

/// Whether the calling thread runs with a real-time policy. Never
/// allocates.
fn thread_is_realtime() -> bool {
    let mut policy = 0;
    // SAFETY: an all-zero `sched_param` is a valid value to be overwritten.
    let mut param: libc::sched_param = unsafe { std::mem::zeroed() };
    // SAFETY: pthread_self() is this live thread; both pointers are to
    // locals that outlive the call.
    let rc = unsafe { libc::pthread_getschedparam(libc::pthread_self(), &mut policy, &mut param) };
    rc == 0 && (policy == libc::SCHED_FIFO || policy == libc::SCHED_RR)
}

/// The engine client's notifications: xruns and shutdown (JACK's
/// notification thread, not the process thread).
#[derive(Debug)]
pub(crate) struct Notifications(pub(crate) Arc<Shared>);

impl jack::NotificationHandler for Notifications {
    unsafe fn shutdown(&mut self, _status: jack::ClientStatus, reason: &str) {
        if let Ok(mut r) = self.0.reason.lock() {
            *r = Some(reason.to_owned());
        }
        self.0.gone.store(true, Ordering::Release);
    }

    fn xrun(&mut self, _: &Client) -> Control {
        self.0.xruns.fetch_add(1, Ordering::Relaxed);
        Control::Continue
    }
}

/// The engine client's process handler.
pub(crate) struct EngineHandler {
    pub(crate) ins: Vec<Port<AudioIn>>,
    pub(crate) outs: [Port<AudioOut>; 2],
    pub(crate) input: InputCallback,
    pub(crate) output: OutputCallback,
    pub(crate) meter: Meter,
    pub(crate) rate: u32,
    pub(crate) queue: MeasurementProducer,
    pub(crate) window: Arc<Window>,
    pub(crate) shared: Arc<Shared>,
    /// Callbacks run so far: input, output.
    pub(crate) index: [u64; 2],
    pub(crate) outside: OutsideCalls,
}

impl std::fmt::Debug for EngineHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineHandler")
            .field("channels", &self.ins.len())
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl EngineHandler {
    /// One cycle's two callbacks; adds what they counted to `inside`.
    fn cycle(&mut self, ps: &ProcessScope, t: u64, inside: &mut Counts) {
        let n = ps.n_frames();
        let period = period_ns(n, self.rate);
        let slot = |index: u64| Slot {
            index,
            device_time: t,
            frames: n,
            period_ns: period,
            warm_up: index < WARM_UP_CALLBACKS,
        };
        let ins = &self.ins;
        let written = &self.shared.signal_written;
        let before = written.load(Ordering::Acquire);
        let mut m = callback::input(&mut self.input, self.meter, slot(self.index[0]), |list| {
            pull(list, ins, ps)
        });
        fence(Ordering::Acquire);
        m.captured = match vouched(before, written.load(Ordering::Relaxed)) {
            Some(from) if from == t => Captured::AtDeviceTime,
            Some(from) => Captured::From(from),
            None => Captured::Unknown,
        };
        self.index[0] += 1;
        inside.merge(&m.stats.counts);
        self.queue.push(m);

        let [left, right] = &mut self.outs;
        let channels = [left.as_mut_slice(ps), right.as_mut_slice(ps)];
        // On the stack: descriptors hold raw pointers into this cycle's
        // port buffers, valid for this cycle only.
        let mut descriptors = [AudioBuffer::EMPTY; 2];
        if let Some(mut list) = BufferList::over(&mut descriptors, channels) {
            let index = self.index[1];
            self.shared.played.store(WRITING, Ordering::Relaxed);
            fence(Ordering::Release);
            let m = callback::output(&mut self.output, self.meter, slot(index), &mut list);
            self.shared.played.store(index + 1, Ordering::Release);
            self.index[1] += 1;
            inside.merge(&m.stats.counts);
            self.queue.push(m);
        }
    }

    fn silence(&mut self, ps: &ProcessScope) {
        self.shared.played.store(WRITING, Ordering::Relaxed);
        fence(Ordering::Release);
        for port in &mut self.outs {
            port.as_mut_slice(ps).fill(0.0);
        }
        self.shared.played.store(0, Ordering::Release);
    }
}

/// The device's side of `AudioUnitRender` for JACK: copies each input
/// port's buffer into the callback's list. Audio thread.
fn pull(list: &mut BufferList<'_>, ins: &[Port<AudioIn>], ps: &ProcessScope) -> bool {
    ins.iter().enumerate().all(|(c, port)| {
        let src = port.as_slice(ps);
        match list.channel_mut(c) {
            Some(dst) if dst.len() >= src.len() => {
                dst[..src.len()].copy_from_slice(src);
                true
            }
            _ => false,
        }
    })
}

impl ProcessHandler for EngineHandler {
    fn process(&mut self, _: &Client, ps: &ProcessScope) -> Control {
        if self.shared.realtime.load(Ordering::Relaxed) == 0 {
            let rt = if thread_is_realtime() { 2 } else { 1 };
            self.shared.realtime.store(rt, Ordering::Relaxed);
        }
        let Some(t) = self.window.device_time(ps.last_frame_time()) else {
            self.silence(ps);
            let idle = self.shared.idle_cycles.load(Ordering::Relaxed);
            self.shared.idle_cycles.store(idle + 1, Ordering::Relaxed);
            return Control::Continue;
        };
        // Each cycle in the window runs one input callback.
        if self.index[0] >= self.window.cycles() {
            self.silence(ps);
            self.shared.finished.store(true, Ordering::Release);
            return Control::Continue;
        }
        let extra = measure_cycle(self.meter.allocations, |inside| self.cycle(ps, t, inside));
        self.outside.publish(extra, &self.shared.outside[ENGINE]);
        Control::Continue
    }
}

/// The signal client's process handler: the known signal on every port
/// once the window has opened, silence before.
pub(crate) struct SignalHandler {
    pub(crate) outs: Vec<Port<AudioOut>>,
    pub(crate) signal: Signal,
    pub(crate) window: Arc<Window>,
    pub(crate) count: bool,
    pub(crate) shared: Arc<Shared>,
    pub(crate) outside: OutsideCalls,
}

impl std::fmt::Debug for SignalHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalHandler")
            .field("channels", &self.outs.len())
            .finish_non_exhaustive()
    }
}

impl ProcessHandler for SignalHandler {
    fn process(&mut self, _: &Client, ps: &ProcessScope) -> Control {
        let t = self.window.device_time(ps.last_frame_time());
        let (outs, signal) = (&mut self.outs, &self.signal);
        let written = &self.shared.signal_written;
        if t.is_some() {
            written.store(WRITING, Ordering::Relaxed);
            fence(Ordering::Release);
        }
        let extra = measure_cycle(self.count, |_| {
            for (c, port) in outs.iter_mut().enumerate() {
                let out = port.as_mut_slice(ps);
                match t {
                    Some(t) => {
                        for (i, x) in out.iter_mut().enumerate() {
                            *x = signal.sample(c, t + i as u64);
                        }
                    }
                    None => out.fill(0.0),
                }
            }
        });
        if let Some(t) = t {
            written.store(t + 1, Ordering::Release);
        }
        self.outside.publish(extra, &self.shared.outside[SIGNAL]);
        Control::Continue
    }
}

/// The recorder client's process handler: queues what the engine played
/// once the window has opened, each block named by the output callback
/// the engine vouches its ports held (a callback already recorded is not
/// recorded again; blocks past the engine's last callback are never asked
/// for, and dropped).
pub(crate) struct RecordHandler {
    pub(crate) ins: [Port<AudioIn>; 2],
    pub(crate) blocks: BlockProducer,
    pub(crate) window: Arc<Window>,
    pub(crate) count: bool,
    pub(crate) shared: Arc<Shared>,
    pub(crate) outside: OutsideCalls,
    /// The stamp of the last block recorded.
    pub(crate) last: u64,
}

impl std::fmt::Debug for RecordHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordHandler").finish_non_exhaustive()
    }
}

impl ProcessHandler for RecordHandler {
    fn process(&mut self, _: &Client, ps: &ProcessScope) -> Control {
        if self.window.device_time(ps.last_frame_time()).is_none() {
            return Control::Continue;
        }
        let played = &self.shared.played;
        let before = played.load(Ordering::Acquire);
        let Some(callback) = vouched(before, before).filter(|_| before != self.last) else {
            return Control::Continue;
        };
        self.last = before;
        let ([l, r], blocks) = (&self.ins, &mut self.blocks);
        let extra = measure_cycle(self.count, |_| {
            blocks.push_checked(callback, l.as_slice(ps), r.as_slice(ps), || {
                fence(Ordering::Acquire);
                played.load(Ordering::Relaxed) == before
            });
        });
        self.outside.publish(extra, &self.shared.outside[RECORDER]);
        Control::Continue
    }
}
