//! One audio thread's side of a session, as its CoreAudio callback runs
//! it: the engine callback, its measurement queue, where the callback sits
//! in the device's stream ([`Slot`]), and what the harness itself did on
//! the thread outside the engine callback ([`OutsideCalls`]).
//!
//! Plain Rust over the engine's buffer lists, so the whole per-callback
//! path is tested off macOS; the FFI layer only turns CoreAudio's
//! arguments into these calls. Everything here that runs per callback
//! runs on the audio thread and never allocates, locks or blocks.

use crate::drive::backend::OutsideCalls;
use crate::drive::callback::{self, Measurement, Slot, WARM_UP_CALLBACKS, period_ns};
use crate::drive::queue::MeasurementProducer;
use allocgate::Counts;
use allocgate_engine::buffers::BufferList;
use allocgate_engine::input::InputCallback;
use allocgate_engine::output::OutputCallback;

/// `kAudioTimeStampSampleTimeValid`: the time stamp's `mSampleTime` is set.
pub const SAMPLE_TIME_VALID: u32 = 1 << 0;

/// Where each callback of one kind sits: its index, its device frame
/// (from CoreAudio's sample time when given, else the frames counted so
/// far), its period, and whether it is in the warm-up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlotClock {
    rate: u32,
    index: u64,
    frames: u64,
    first_sample_time: Option<f64>,
}

impl SlotClock {
    /// A clock for a device at `rate` Hz, before its first callback.
    pub fn new(rate: u32) -> SlotClock {
        SlotClock {
            rate,
            index: 0,
            frames: 0,
            first_sample_time: None,
        }
    }

    /// The slot of the next callback, of `frames` frames, whose time stamp
    /// gave `sample_time` (`None` when not valid). Audio thread.
    pub fn next(&mut self, frames: u32, sample_time: Option<f64>) -> Slot {
        let device_time = match sample_time {
            Some(t) => {
                let first = *self.first_sample_time.get_or_insert(t);
                let since = t - first;
                if since >= 0.0 {
                    since as u64
                } else {
                    self.frames
                }
            }
            None => self.frames,
        };
        let slot = Slot {
            index: self.index,
            device_time,
            frames,
            period_ns: period_ns(frames, self.rate),
            warm_up: self.index < WARM_UP_CALLBACKS,
        };
        self.index += 1;
        self.frames += u64::from(frames);
        slot
    }

    /// Callbacks so far.
    pub fn callbacks(&self) -> u64 {
        self.index
    }
}

/// `f`, in a measured scope when `count`: its value and, when measured,
/// the whole scope's counts.
fn whole<R>(count: bool, f: impl FnOnce() -> R) -> (R, Option<Counts>) {
    if count {
        let m = allocgate::measure(f);
        (m.value, Some(m.stats.counts))
    } else {
        (f(), None)
    }
}

/// The input (capture) thread's state.
#[derive(Debug)]
pub struct InputThread {
    callback: InputCallback,
    queue: MeasurementProducer,
    count: bool,
    clock: SlotClock,
    outside: OutsideCalls,
}

impl InputThread {
    /// State for the engine's input `callback` on a device at `rate` Hz,
    /// measuring when `count`. Off the audio thread.
    pub fn new(
        callback: InputCallback,
        queue: MeasurementProducer,
        count: bool,
        rate: u32,
    ) -> InputThread {
        InputThread {
            callback,
            queue,
            count,
            clock: SlotClock::new(rate),
            outside: OutsideCalls::default(),
        }
    }

    /// Channels the engine takes (C).
    pub fn channels(&self) -> usize {
        self.callback.channels()
    }

    /// One input callback of `frames` frames: `pull` fills the engine's
    /// buffer list from the device (`AudioUnitRender`) and says whether it
    /// did. Queues the measurement; with counting on, measures the whole
    /// cycle too. Audio thread: adds no allocation of its own.
    pub fn cycle<F>(&mut self, frames: u32, sample_time: Option<f64>, pull: F)
    where
        F: FnOnce(&mut BufferList<'_>) -> bool,
    {
        let InputThread {
            callback,
            queue,
            count,
            clock,
            outside,
        } = self;
        let (inside, whole) = whole(*count, || {
            let slot = clock.next(frames, sample_time);
            let m = callback::input(callback, *count, slot, pull);
            queue.push(m);
            m.stats.counts
        });
        if let Some(whole) = whole {
            outside.add_cycle(&whole, &inside);
        }
    }

    /// Allocator calls on this thread outside the engine callback.
    pub fn outside(&self) -> OutsideCalls {
        self.outside
    }

    /// Callbacks run so far.
    pub fn callbacks(&self) -> u64 {
        self.clock.callbacks()
    }
}

/// The output (playback) thread's state.
#[derive(Debug)]
pub struct OutputThread {
    callback: OutputCallback,
    queue: MeasurementProducer,
    count: bool,
    clock: SlotClock,
    outside: OutsideCalls,
}

impl OutputThread {
    /// State for the engine's output `callback` on a device at `rate` Hz,
    /// measuring when `count`. Off the audio thread.
    pub fn new(
        callback: OutputCallback,
        queue: MeasurementProducer,
        count: bool,
        rate: u32,
    ) -> OutputThread {
        OutputThread {
            callback,
            queue,
            count,
            clock: SlotClock::new(rate),
            outside: OutsideCalls::default(),
        }
    }

    /// One output callback of `frames` frames into the device's buffers
    /// `out`. Queues the measurement; with counting on, measures the whole
    /// cycle too. Audio thread: adds no allocation of its own.
    pub fn cycle(&mut self, frames: u32, sample_time: Option<f64>, out: &mut BufferList<'_>) {
        let OutputThread {
            callback,
            queue,
            count,
            clock,
            outside,
        } = self;
        let (inside, whole) = whole(*count, || {
            let slot = clock.next(frames, sample_time);
            let m: Measurement = callback::output(callback, *count, slot, out);
            queue.push(m);
            m.stats.counts
        });
        if let Some(whole) = whole {
            outside.add_cycle(&whole, &inside);
        }
    }

    /// Allocator calls on this thread outside the engine callback.
    pub fn outside(&self) -> OutsideCalls {
        self.outside
    }

    /// Callbacks run so far.
    pub fn callbacks(&self) -> u64 {
        self.clock.callbacks()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::callback::EngineReport;
    use crate::drive::queue;
    use allocgate_engine::buffers::OwnedBufferList;
    use allocgate_engine::{Engine, EngineConfig};

    #[test]
    fn slots_count_mark_the_warm_up_and_take_the_period_from_frames_and_rate() {
        let mut clock = SlotClock::new(48_000);
        let slots: Vec<Slot> = (0..20).map(|_| clock.next(512, None)).collect();
        assert_eq!(slots[0].index, 0);
        assert_eq!(slots[3].device_time, 3 * 512);
        assert_eq!(slots[0].period_ns, 10_666_667);
        let warm = slots.iter().filter(|s| s.warm_up).count() as u64;
        assert_eq!(
            warm, WARM_UP_CALLBACKS,
            "the first WARM_UP_CALLBACKS are warm-up"
        );
        assert!(!slots[WARM_UP_CALLBACKS as usize].warm_up);
    }

    #[test]
    fn device_time_follows_coreaudios_sample_time_from_the_first_callback() {
        let mut clock = SlotClock::new(48_000);
        assert_eq!(clock.next(512, Some(1_000_000.0)).device_time, 0);
        // A skipped cycle shows as a jump.
        assert_eq!(clock.next(512, Some(1_001_024.0)).device_time, 1024);
        // A time stamp from before the first falls back to counted frames.
        assert_eq!(clock.next(512, Some(10.0)).device_time, 1024);
    }

    fn engine(channels: usize) -> Engine {
        Engine::new(&EngineConfig::new(channels, 48_000).with_convolution(false)).unwrap()
    }

    #[test]
    fn an_input_cycle_pulls_the_asked_frames_and_queues_its_measurement() {
        let e = engine(2);
        let (tx, mut rx) = queue::measurements(8);
        let mut input = InputThread::new(e.input, tx, false, 48_000);
        assert_eq!(input.channels(), 2);
        let mut seen = 0;
        input.cycle(256, None, |list| {
            seen = list.channel(1).map_or(0, <[f32]>::len);
            list.channel_mut(0).unwrap().fill(0.5);
            true
        });
        assert_eq!(seen, 256, "the list is sized to the callback's frames");
        let m = rx.pop().expect("one measurement queued");
        assert_eq!((m.record.index, m.record.frames), (0, 256));
        assert!(m.record.warm_up);
        match m.report {
            EngineReport::Input(r) => {
                assert!(r.pulled);
                assert_eq!(r.written_bytes, 256 * 2 * 4);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(input.callbacks(), 1);
        assert_eq!(input.outside(), OutsideCalls::default(), "not counted");
    }

    #[test]
    fn a_failed_pull_is_reported_and_writes_nothing() {
        let e = engine(1);
        let (tx, mut rx) = queue::measurements(8);
        let mut input = InputThread::new(e.input, tx, false, 48_000);
        input.cycle(128, None, |_| false);
        match rx.pop().unwrap().report {
            EngineReport::Input(r) => assert!(!r.pulled && r.written_bytes == 0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_output_cycle_writes_the_devices_buffers_and_queues_its_measurement() {
        let e = engine(2);
        let (tx, mut rx) = queue::measurements(8);
        let mut output = OutputThread::new(e.output, tx, false, 48_000);
        let mut device = OwnedBufferList::new(2, 512);
        device.view().channel_mut(0).unwrap().fill(1.0);
        output.cycle(512, Some(0.0), &mut device.view());
        assert_eq!(
            device.channel(0, 512),
            &[0.0; 512][..],
            "buffering writes silence"
        );
        let m = rx.pop().unwrap();
        assert!(m.record.buffering);
        assert_eq!(output.callbacks(), 1);
    }

    #[test]
    fn measurements_past_the_queues_capacity_are_lost_not_blocking() {
        let e = engine(2);
        let (tx, rx) = queue::measurements(2);
        let mut output = OutputThread::new(e.output, tx, false, 48_000);
        let mut device = OwnedBufferList::new(2, 64);
        for _ in 0..5 {
            output.cycle(64, None, &mut device.view());
        }
        assert_eq!(rx.lost(), 3);
    }
}
