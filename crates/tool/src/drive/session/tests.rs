//! The collector and the session loop against a fake backend (a "null
//! host" in cpal's sense): a plain thread stands in for the audio thread,
//! plays the known signal into the engine cycle by cycle, queues both
//! measurements and what it played, and ends as the test says. No audio
//! device and no JACK, so these run everywhere.
//!
//! Lib tests have no counting global allocator, so callbacks run with
//! `count: false` and their figures are zero: what is tested is what the
//! collector and the session do with records, integrity, xruns, progress
//! and losses.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::{Plan, SessionEnd, collect};
use crate::drive::backend::{BackendError, Started, Stopped, Stream, StreamInfo};
use crate::drive::callback::{self, Captured, Measurement, Slot, WARM_UP_CALLBACKS, period_ns};
use crate::drive::collector::Collector;
use crate::drive::integrity::{Checker, ConvolutionReference, NotChecked, Verdict};
use crate::drive::outcome::Progress;
use crate::drive::queue::{self, BlockConsumer, BlockProducer, MeasurementProducer};
use crate::drive::signal::Signal;
use crate::metrics::Xruns;
use allocgate_engine::buffers::OwnedBufferList;
use allocgate_engine::input::InputCallback;
use allocgate_engine::output::OutputCallback;
use allocgate_engine::preset::Preset;
use allocgate_engine::setup::Control;
use allocgate_engine::sites::CallbackKind;
use allocgate_engine::{Engine, EngineConfig};

const CHANNELS: usize = 8;
const RATE: u32 = 48_000;
const PERIOD: u32 = 512;
const SEED: u64 = 7;

/// The engine with KEMAR active, and a checker that knows it: the calls
/// `run::realtime::prepare` makes. The control is kept so the published
/// set outlives the run.
fn engine_and_checker() -> (Engine, Checker) {
    let config = EngineConfig::new(CHANNELS, RATE);
    let mut engine = Engine::new(&config).expect("a valid configuration");
    let preset = Preset::kemar();
    engine.control.activate(&preset).expect("kemar activates");
    let mut checker = Checker::new(
        ConvolutionReference::default(),
        config.renderer,
        Signal::new(SEED),
        CHANNELS,
        RATE,
        config.ring_bytes,
        config.convolution,
    );
    checker.publish(&preset).expect("kemar builds a reference");
    (engine, checker)
}

/// Something the fake device does wrong in one cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The recording of `cycle`'s left channel is off by one at `frame`.
    WrongSample { cycle: u64, frame: usize },
    /// The device delivers no input in `cycle` (the pull fails), so the
    /// output underruns.
    NoInput { cycle: u64 },
}

/// The fake device's side of one cycle: the signal on C input channels,
/// the engine's two callbacks, and a stereo pair to play into.
struct FakeDevice {
    input: InputCallback,
    output: OutputCallback,
    signal: Signal,
    capture: OwnedBufferList,
    playback: OwnedBufferList,
    fault: Option<Fault>,
    /// A cycle in which the player is out of step, as a JACK server xrun
    /// leaves it: it wrote the next period's frames, and vouched for them.
    out_of_step: Option<u64>,
    /// A cycle whose input the player cannot vouch for.
    unvouched: Option<u64>,
    cycle: u64,
}

/// What one cycle produced.
struct Cycle<'a> {
    /// The cycle's output callback index (its input's too).
    index: u64,
    input: Measurement,
    output: Measurement,
    left: &'a [f32],
    right: &'a [f32],
}

impl FakeDevice {
    fn new(engine: Engine, fault: Option<Fault>) -> (FakeDevice, Control) {
        let Engine {
            input,
            output,
            control,
        } = engine;
        let device = FakeDevice {
            input,
            output,
            signal: Signal::new(SEED),
            capture: OwnedBufferList::new(CHANNELS, PERIOD as usize),
            playback: OwnedBufferList::new(2, PERIOD as usize),
            fault,
            out_of_step: None,
            unvouched: None,
            cycle: 0,
        };
        (device, control)
    }

    /// Runs the next cycle: input (pulling copies of the captured
    /// channels), then output into the stereo pair.
    fn cycle(&mut self) -> Cycle<'_> {
        let index = self.cycle;
        self.cycle += 1;
        let device_time = index * u64::from(PERIOD);
        let slot = Slot {
            index,
            device_time,
            frames: PERIOD,
            period_ns: period_ns(PERIOD, RATE),
            warm_up: index < WARM_UP_CALLBACKS,
        };
        let frames = PERIOD as usize;
        let (written, captured) = if self.out_of_step == Some(index) {
            let next = device_time + u64::from(PERIOD);
            (next, Captured::From(next))
        } else if self.unvouched == Some(index) {
            (device_time, Captured::Unknown)
        } else {
            (device_time, Captured::AtDeviceTime)
        };
        self.signal.fill(written, frames, &mut self.capture);
        let delivers = self.fault != Some(Fault::NoInput { cycle: index });
        let capture = &self.capture;
        let mut input = callback::input(&mut self.input, false, slot, |list| {
            delivers
                && (0..CHANNELS).all(|c| match list.channel_mut(c) {
                    Some(dst) if dst.len() >= frames => {
                        dst[..frames].copy_from_slice(capture.channel(c, frames));
                        true
                    }
                    _ => false,
                })
        });
        input.captured = captured;
        let output = callback::output(&mut self.output, false, slot, &mut self.playback.view());
        if let Some(Fault::WrongSample { cycle, frame }) = self.fault
            && cycle == index
            && let Some(left) = self.playback.view().channel_mut(0)
        {
            left[frame] += 1.0;
        }
        Cycle {
            index,
            input,
            output,
            left: self.playback.channel(0, frames),
            right: self.playback.channel(1, frames),
        }
    }
}

/// How a fake stream's run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Stops on its own after this many cycles: `finished()` turns true.
    Finish(u64),
    /// The device goes away after this many cycles: `failure()` says so.
    Vanish(u64),
    /// Plays this many cycles, then hangs, neither finished nor failed.
    Hang(u64),
}

/// What the fake audio thread tells the session.
#[derive(Debug, Default)]
struct Flags {
    cycles: AtomicU64,
    finished: AtomicBool,
    gone: AtomicBool,
    stop: AtomicBool,
}

/// A stream whose audio thread is a plain thread running a [`FakeDevice`].
struct FakeStream {
    flags: Arc<Flags>,
    thread: Option<JoinHandle<()>>,
}

impl FakeStream {
    /// Starts the fake audio thread; returns the session's view of it and
    /// its flags (to wait on from the test).
    fn start(device: FakeDevice, ending: Ending) -> (Started, Arc<Flags>) {
        let (measurements, measurement_queue) = queue::measurements(queue::MEASUREMENTS);
        let (blocks, block_queue) = queue::blocks(queue::BLOCK_SECONDS * RATE as usize);
        let flags = Arc::new(Flags::default());
        let thread = {
            let flags = Arc::clone(&flags);
            thread::spawn(move || play(device, ending, measurements, blocks, &flags))
        };
        let stream = FakeStream {
            flags: Arc::clone(&flags),
            thread: Some(thread),
        };
        let started = Started {
            stream: Box::new(stream),
            measurements: vec![measurement_queue],
            blocks: Some(block_queue),
        };
        (started, flags)
    }
}

/// The fake audio thread: cycles until its ending, then idles until
/// stopped.
fn play(
    mut device: FakeDevice,
    ending: Ending,
    mut measurements: MeasurementProducer,
    mut blocks: BlockProducer,
    flags: &Flags,
) {
    let (Ending::Finish(cycles) | Ending::Vanish(cycles) | Ending::Hang(cycles)) = ending;
    for _ in 0..cycles {
        if flags.stop.load(Ordering::Acquire) {
            return;
        }
        let c = device.cycle();
        measurements.push(c.input);
        measurements.push(c.output);
        blocks.push(c.index, c.left, c.right);
        flags.cycles.fetch_add(1, Ordering::Release);
        // Loose pacing: a real device would wait a period here.
        thread::sleep(Duration::from_micros(5));
    }
    match ending {
        Ending::Finish(_) => flags.finished.store(true, Ordering::Release),
        Ending::Vanish(_) => flags.gone.store(true, Ordering::Release),
        Ending::Hang(_) => {}
    }
    while !flags.stop.load(Ordering::Acquire) {
        thread::sleep(Duration::from_millis(1));
    }
}

impl Stream for FakeStream {
    fn info(&self) -> StreamInfo {
        StreamInfo {
            backend: "fake".to_owned(),
            input: "null".to_owned(),
            output: "null".to_owned(),
            sample_rate: RATE,
            period: PERIOD,
            realtime: Some(false),
            backend_xruns: 0,
        }
    }

    fn failure(&self) -> Option<String> {
        self.flags.gone.load(Ordering::Acquire).then(|| {
            format!(
                "fake device 'null' went away after {} cycles",
                self.flags.cycles.load(Ordering::Acquire)
            )
        })
    }

    fn ends_itself(&self) -> bool {
        true
    }

    fn finished(&self) -> bool {
        self.flags.finished.load(Ordering::Acquire)
    }

    fn stop(mut self: Box<Self>) -> Result<Stopped, BackendError> {
        self.flags.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the fake audio thread does not panic");
        }
        Ok(Stopped {
            info: self.info(),
            ..Stopped::default()
        })
    }
}

fn plan(cycles: u64, timeout: Duration) -> Plan {
    Plan {
        frames: cycles * u64::from(PERIOD),
        sample_rate: RATE,
        timeout,
        stop: None,
    }
}

/// Runs a fake stream ending as `ending` through a session planned for
/// `planned` cycles; returns how it ended and every progress report.
fn session(
    ending: Ending,
    fault: Option<Fault>,
    planned: u64,
    timeout: Duration,
) -> (SessionEnd, Vec<Progress>) {
    let (engine, checker) = engine_and_checker();
    let (device, control) = FakeDevice::new(engine, fault);
    let (started, _) = FakeStream::start(device, ending);
    let mut reports = Vec::new();
    let end = collect(started, Some(checker), plan(planned, timeout), &mut |p| {
        reports.push(*p)
    });
    drop(control);
    (end, reports)
}

const GENEROUS: Duration = Duration::from_secs(60);

#[test]
fn a_finished_fake_stream_is_collected_whole() {
    let cycles = 24;
    let (end, progress) = session(Ending::Finish(cycles), None, cycles, GENEROUS);
    assert_eq!(end.ended_early, None);
    let outcome = &end.collected.outcome;
    assert_eq!(outcome.input.all.callbacks, cycles);
    assert_eq!(outcome.output.all.callbacks, cycles);
    assert_eq!(
        outcome.output.warm_up_callbacks(),
        WARM_UP_CALLBACKS,
        "the fake marks the first WARM_UP_CALLBACKS of each kind"
    );
    assert_eq!(end.collected.aggregator.callbacks(), 2 * cycles);
    assert_eq!(outcome.xruns, Xruns::default());
    assert_eq!(
        outcome.integrity.verdict,
        Verdict::Pass,
        "{}",
        outcome.integrity.verdict
    );
    assert_eq!(outcome.integrity.frames_checked, cycles * u64::from(PERIOD));
    assert_eq!(
        outcome.simulated,
        Duration::from_nanos(cycles * u64::from(PERIOD) * 1_000_000_000 / u64::from(RATE))
    );
    let last = progress.last().expect("progress after every poll");
    assert_eq!(last.simulated, last.total, "progress reached the total");
    assert_eq!(last.callbacks, 2 * cycles);
    assert_eq!((end.measurements_lost, end.blocks_lost), (0, 0));
    let stopped = end.stopped.expect("the fake stops cleanly");
    assert_eq!(stopped.info.backend, "fake");
}

#[test]
fn a_stream_that_fails_ends_early_with_its_message_and_keeps_what_it_played() {
    let k = 5;
    let (end, _) = session(Ending::Vanish(k), None, 100, GENEROUS);
    assert_eq!(
        end.ended_early.as_deref(),
        Some("fake device 'null' went away after 5 cycles")
    );
    let outcome = &end.collected.outcome;
    assert_eq!(
        (outcome.input.all.callbacks, outcome.output.all.callbacks),
        (k, k)
    );
    assert_eq!(end.collected.aggregator.callbacks(), 2 * k);
    assert_eq!(outcome.integrity.verdict, Verdict::Pass);
    assert_eq!(outcome.integrity.frames_checked, k * u64::from(PERIOD));
    assert!(end.stopped.is_ok());
}

#[test]
fn a_wrong_played_sample_fails_at_its_callback_and_frame() {
    let fault = Fault::WrongSample {
        cycle: 6,
        frame: 100,
    };
    let (end, _) = session(Ending::Finish(10), Some(fault), 10, GENEROUS);
    let integrity = end.collected.outcome.integrity;
    let Verdict::Fail { first_mismatch } = integrity.verdict else {
        panic!("expected a failure, got {}", integrity.verdict);
    };
    assert_eq!(
        (
            first_mismatch.callback,
            first_mismatch.device_time,
            first_mismatch.frame,
            first_mismatch.channel
        ),
        (6, 6 * u64::from(PERIOD), 100, 0)
    );
    assert_eq!(integrity.frames_checked, 6 * u64::from(PERIOD));
    assert_eq!(
        end.collected.aggregator.callbacks(),
        20,
        "a failed check loses no records"
    );
}

#[test]
fn an_underrun_is_counted_as_an_xrun_and_followed_by_the_check() {
    let (end, _) = session(
        Ending::Finish(12),
        Some(Fault::NoInput { cycle: 4 }),
        12,
        GENEROUS,
    );
    let outcome = &end.collected.outcome;
    assert_eq!(outcome.xruns.underruns, 1);
    assert_eq!(outcome.xruns.overruns, 0);
    assert_eq!(outcome.integrity.cuts, 1);
    assert_eq!(
        outcome.integrity.verdict,
        Verdict::Pass,
        "{}",
        outcome.integrity.verdict
    );
    // The underrun's zeroed block is still checked; nothing is buffering,
    // since the next cycle's input refills the ring to the threshold.
    assert_eq!(outcome.integrity.frames_checked, 12 * u64::from(PERIOD));
}

#[test]
fn a_stream_that_never_finishes_times_out_saying_how_much_it_played() {
    let (engine, checker) = engine_and_checker();
    let (device, control) = FakeDevice::new(engine, None);
    let (started, flags) = FakeStream::start(device, Ending::Hang(3));
    // The timeout counts from `collect`, so let the three cycles play first.
    let waited = Instant::now();
    while flags.cycles.load(Ordering::Acquire) < 3 {
        assert!(
            waited.elapsed() < GENEROUS,
            "the fake never played 3 cycles"
        );
        thread::sleep(Duration::from_millis(1));
    }
    let timeout = Duration::from_millis(50);
    let begun = Instant::now();
    let end = collect(started, Some(checker), plan(100, timeout), &mut |_| {});
    drop(control);
    assert!(begun.elapsed() >= timeout);
    let why = end.ended_early.expect("a timeout ends the run early");
    assert!(why.contains("did not finish"), "{why}");
    assert!(why.contains("(1536 of 51200 frames played)"), "{why}");
    assert_eq!(end.collected.aggregator.callbacks(), 6);
    assert_eq!(end.collected.outcome.integrity.verdict, Verdict::Pass);
}

/// Queues filled by hand, for driving [`Collector::drain`] directly.
struct Queues {
    measurements: MeasurementProducer,
    measurement_queue: queue::MeasurementConsumer,
    blocks: BlockProducer,
    block_queue: BlockConsumer,
}

fn queues() -> Queues {
    let (measurements, measurement_queue) = queue::measurements(64);
    let (blocks, block_queue) = queue::blocks(16 * PERIOD as usize);
    Queues {
        measurements,
        measurement_queue,
        blocks,
        block_queue,
    }
}

/// Runs one cycle and queues its measurements, and its played block when
/// `record`.
fn queue_cycle(device: &mut FakeDevice, q: &mut Queues, record: bool) {
    let c = device.cycle();
    q.measurements.push(c.input);
    q.measurements.push(c.output);
    if record {
        q.blocks.push(c.index, c.left, c.right);
    }
}

#[test]
fn the_collector_waits_for_a_played_block_that_has_not_arrived_yet() {
    let (engine, checker) = engine_and_checker();
    let (mut device, _control) = FakeDevice::new(engine, None);
    let mut collector = Collector::new(Some(checker));
    let mut q = queues();
    let c = device.cycle();
    let (index, left, right) = (c.index, c.left.to_vec(), c.right.to_vec());
    q.measurements.push(c.input);
    q.measurements.push(c.output);

    let taken = collector.drain(&mut q.measurement_queue, Some(&mut q.block_queue), false);
    assert_eq!(taken, 1, "the input measurement only");
    assert!(
        q.measurement_queue
            .peek()
            .is_some_and(|m| m.record.kind == CallbackKind::Output),
        "the output measurement waits in the queue"
    );
    assert_eq!((collector.callbacks(), collector.output_frames()), (1, 0));
    let again = collector.drain(&mut q.measurement_queue, Some(&mut q.block_queue), false);
    assert_eq!(again, 0, "still waiting");

    q.blocks.push(index, &left, &right);
    let taken = collector.drain(&mut q.measurement_queue, Some(&mut q.block_queue), false);
    assert_eq!(taken, 1);
    assert!(q.measurement_queue.peek().is_none());
    assert_eq!(collector.output_frames(), u64::from(PERIOD));
    let integrity = collector
        .finish(Duration::ZERO, Duration::ZERO)
        .outcome
        .integrity;
    assert_eq!(integrity.verdict, Verdict::Pass);
    assert_eq!(integrity.frames_checked, u64::from(PERIOD));
}

#[test]
fn a_later_block_arriving_first_leaves_the_missing_one_unheard_and_checking_goes_on() {
    let (engine, checker) = engine_and_checker();
    let (mut device, _control) = FakeDevice::new(engine, None);
    let mut collector = Collector::new(Some(checker));
    let mut q = queues();
    queue_cycle(&mut device, &mut q, true);
    queue_cycle(&mut device, &mut q, false);
    queue_cycle(&mut device, &mut q, true);

    let taken = collector.drain(&mut q.measurement_queue, Some(&mut q.block_queue), false);
    assert_eq!(
        taken, 6,
        "the block of cycle 2 shows that cycle 1's was lost"
    );
    assert_eq!(collector.output_frames(), 3 * u64::from(PERIOD));
    let collected = collector.finish(Duration::ZERO, Duration::ZERO);
    assert_eq!(collected.aggregator.callbacks(), 6);
    let integrity = collected.outcome.integrity;
    assert_eq!(integrity.verdict, Verdict::Pass, "{}", integrity.verdict);
    assert_eq!(integrity.unheard, 1, "cycle 1's output was not heard");
    assert_eq!(
        integrity.frames_checked,
        2 * u64::from(PERIOD),
        "cycles 0 and 2 compared: the model followed cycle 1 unheard"
    );
}

#[test]
fn closing_with_no_played_block_leaves_it_unheard_and_passes_nothing() {
    let (engine, checker) = engine_and_checker();
    let (mut device, _control) = FakeDevice::new(engine, None);
    let mut collector = Collector::new(Some(checker));
    let mut q = queues();
    queue_cycle(&mut device, &mut q, false);

    assert_eq!(
        collector.drain(&mut q.measurement_queue, Some(&mut q.block_queue), false),
        1
    );
    assert_eq!(
        collector.drain(&mut q.measurement_queue, Some(&mut q.block_queue), true),
        1,
        "closing, the collector no longer waits"
    );
    let collected = collector.finish(Duration::ZERO, Duration::ZERO);
    assert_eq!(collected.aggregator.callbacks(), 2);
    assert_eq!(collected.outcome.output.all.callbacks, 1);
    assert_eq!(
        collected.outcome.integrity.verdict,
        Verdict::NotChecked(NotChecked::NothingPlayed),
        "its only output callback was not heard: nothing was compared"
    );
    assert_eq!(collected.outcome.integrity.unheard, 1);
}

#[test]
fn measurements_pushed_into_a_full_queue_are_counted_lost_not_blocking() {
    let (engine, _) = engine_and_checker();
    let (mut device, _control) = FakeDevice::new(engine, None);
    let (mut tx, rx) = queue::measurements(2);
    for _ in 0..3 {
        let c = device.cycle();
        let (input, output) = (c.input, c.output);
        tx.push(input);
        tx.push(output);
    }
    assert_eq!(rx.lost(), 4, "6 pushed into room for 2");

    // A session over that queue collects the two that fit and reports
    // the rest lost. The fake stream here plays nothing and is finished.
    let (engine, _) = engine_and_checker();
    let (idle, _control) = FakeDevice::new(engine, None);
    let (mut started, flags) = FakeStream::start(idle, Ending::Finish(0));
    let waited = Instant::now();
    while !flags.finished.load(Ordering::Acquire) {
        assert!(waited.elapsed() < GENEROUS, "the fake never finished");
        thread::sleep(Duration::from_millis(1));
    }
    started.measurements = vec![rx];
    started.blocks = None;
    let end = collect(started, None, plan(3, GENEROUS), &mut |_| {});
    assert_eq!(end.ended_early, None);
    assert_eq!(end.collected.aggregator.callbacks(), 2);
    assert_eq!((end.measurements_lost, end.blocks_lost), (4, 0));
}

#[test]
fn a_lost_output_measurement_stops_the_check_rather_than_failing_it() {
    let (engine, checker) = engine_and_checker();
    let (mut device, _control) = FakeDevice::new(engine, None);
    let mut collector = Collector::new(Some(checker));
    let (mut tx, mut rx) = queue::measurements(3);
    let (mut blocks, mut block_queue) = queue::blocks(16 * PERIOD as usize);
    for _ in 0..2 {
        let c = device.cycle();
        tx.push(c.input);
        tx.push(c.output);
        blocks.push(c.index, c.left, c.right);
    }
    assert_eq!(
        rx.lost(),
        1,
        "cycle 1's output measurement found the queue full"
    );
    assert_eq!(collector.drain(&mut rx, Some(&mut block_queue), false), 3);
    let c = device.cycle();
    tx.push(c.input);
    tx.push(c.output);
    blocks.push(c.index, c.left, c.right);
    assert_eq!(collector.drain(&mut rx, Some(&mut block_queue), true), 2);

    let collected = collector.finish(Duration::ZERO, Duration::ZERO);
    assert_eq!(
        collected.aggregator.callbacks(),
        5,
        "every queued record is kept"
    );
    let integrity = collected.outcome.integrity;
    assert_eq!(
        integrity.verdict,
        Verdict::NotChecked(NotChecked::Unobserved),
        "{}",
        integrity.verdict
    );
    assert_eq!(integrity.frames_checked, u64::from(PERIOD));
}

#[test]
fn a_stop_ends_the_session_and_marks_its_outcome_even_when_the_stream_does_not_end() {
    use crate::interrupt::{Interrupt, Stop};

    // The fake ends itself but cannot be asked to end early: the session
    // gives it END_GRACE, then stops it as it would at its end.
    let (engine, checker) = engine_and_checker();
    let (device, control) = FakeDevice::new(engine, None);
    let (started, _) = FakeStream::start(device, Ending::Hang(10));
    let stop = Stop::new();
    stop.request(Interrupt::Sigint);
    let begun = std::time::Instant::now();
    let end = collect(
        started,
        Some(checker),
        Plan {
            stop: Some(stop),
            ..plan(1000, GENEROUS)
        },
        &mut |_| {},
    );
    drop(control);
    let took = begun.elapsed();
    assert_eq!(end.collected.outcome.interrupted, Some(Interrupt::Sigint));
    assert_eq!(end.ended_early, None, "an interrupt is not a failure");
    assert!(end.stopped.is_ok());
    assert!(
        took >= crate::drive::session::END_GRACE && took < GENEROUS,
        "stopped after the grace, not the timeout: {took:?}"
    );
    assert!(end.collected.outcome.output.all.callbacks <= 10);
}

/// Cycles of the fake device, each queued as the JACK backend would queue
/// it: both measurements, then the block its recorder vouched for, if
/// any. `blocks(index)` says what the recorder queued in that cycle.
fn queue_cycles(
    device: &mut FakeDevice,
    q: &mut Queues,
    cycles: u64,
    blocks: impl Fn(u64) -> Recorded,
) {
    for _ in 0..cycles {
        let c = device.cycle();
        q.measurements.push(c.input);
        q.measurements.push(c.output);
        match blocks(c.index) {
            Recorded::Intact => q.blocks.push(c.index, c.left, c.right),
            Recorded::Twice => {
                q.blocks.push(c.index, c.left, c.right);
                q.blocks.push(c.index, c.left, c.right);
            }
            Recorded::Torn => q.blocks.push_checked(c.index, c.left, c.right, || false),
            Recorded::Nothing => {}
        }
    }
}

/// What the recorder queued in one cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recorded {
    Intact,
    Twice,
    /// The engine's stamp changed while it copied.
    Torn,
    Nothing,
}

/// A server xrun as the JACK backend reports it, fed to the collector and
/// the checker deterministically: in cycle 5 the player had written the
/// next period's frames (and says so), the recorder's copy of output
/// callback 5 is not vouched for, callback 6 is not recorded at all and
/// callback 7 twice. The check follows every callback, compares the 10 it
/// heard, and passes; a wrong sample after the xrun still fails it.
#[test]
fn a_server_xrun_is_followed_and_only_a_real_mismatch_fails() {
    let heard = |i: u64| match i {
        5 => Recorded::Torn,
        6 => Recorded::Nothing,
        7 => Recorded::Twice,
        _ => Recorded::Intact,
    };
    let run = |fault: Option<Fault>| {
        let (engine, checker) = engine_and_checker();
        let (mut device, _control) = FakeDevice::new(engine, fault);
        device.out_of_step = Some(5);
        let mut collector = Collector::new(Some(checker));
        let mut q = queues();
        for _ in 0..3 {
            queue_cycles(&mut device, &mut q, 4, heard);
            collector.drain(&mut q.measurement_queue, Some(&mut q.block_queue), false);
        }
        collector.drain(&mut q.measurement_queue, Some(&mut q.block_queue), true);
        collector
            .finish(Duration::ZERO, Duration::ZERO)
            .outcome
            .integrity
    };
    let clean = run(None);
    assert_eq!(clean.verdict, Verdict::Pass, "{}", clean.verdict);
    assert_eq!(clean.unheard, 2, "callbacks 5 and 6");
    assert_eq!(
        clean.frames_checked + clean.frames_silent,
        10 * u64::from(PERIOD),
        "12 callbacks, 2 not heard"
    );
    assert!(clean.frames_checked > 0);
    let wrong = run(Some(Fault::WrongSample {
        cycle: 9,
        frame: 100,
    }));
    match wrong.verdict {
        Verdict::Fail { first_mismatch } => {
            assert_eq!((first_mismatch.callback, first_mismatch.frame), (9, 100));
        }
        v => panic!("a wrong sample after the xrun must fail the check: {v}"),
    }
}

#[test]
fn an_input_the_player_cannot_vouch_for_stops_the_check_without_failing_it() {
    let (engine, checker) = engine_and_checker();
    let (mut device, _control) = FakeDevice::new(engine, None);
    device.unvouched = Some(3);
    let mut collector = Collector::new(Some(checker));
    let mut q = queues();
    queue_cycles(&mut device, &mut q, 6, |_| Recorded::Intact);
    collector.drain(&mut q.measurement_queue, Some(&mut q.block_queue), true);
    let integrity = collector
        .finish(Duration::ZERO, Duration::ZERO)
        .outcome
        .integrity;
    assert_eq!(
        integrity.verdict,
        Verdict::NotChecked(NotChecked::InputUnknown)
    );
    assert_eq!(
        integrity.frames_checked + integrity.frames_silent,
        3 * u64::from(PERIOD),
        "checked up to the input it could not vouch for"
    );
}
