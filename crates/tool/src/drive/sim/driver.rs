//! Runs an engine through the simulated clock: fills the input device's
//! buffers with the known signal, runs each callback alone in a measured
//! scope (allocator counts and wall time), applies scheduled actions on
//! the control side, checks the output, and hands one [`Record`] per
//! callback to a [`RecordSink`].
//!
//! Everything is allocated in [`Simulation::new`]; between callbacks the
//! driver allocates nothing of its own (scheduled actions do, on the
//! control side, as they would in the binauralizer).

use std::time::{Duration, Instant};

use crate::drive::callback::{self, EngineReport, Meter, Slot, WARM_UP_CALLBACKS, period_ns};
use crate::drive::integrity::{Checker, IntegrityMode, IntegrityReport};
use crate::drive::outcome::{Outcome, Progress};
use crate::drive::signal::Signal;
use crate::drive::sim::clock::{Action, SimClock, Tick};
use crate::drive::sim::config::{Fault, Mode, SimConfig, SimError};
use crate::drive::sim::pacing::Pacer;
use crate::drive::sink::RecordSink;
use crate::interrupt::Stop;
use crate::metrics::Record;
use allocgate::hazard::check_usage;
use allocgate::{Stats, check_installed};
use allocgate_engine::buffers::{BufferList, OwnedBufferList};
use allocgate_engine::sites::CallbackKind;
use allocgate_engine::{Engine, MAX_FRAMES};

/// Simulated time between two progress reports: at most ten per
/// simulated second.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// Output buffers handed to the output callback: stereo headphones.
pub const OUTPUT_CHANNELS: usize = 2;

/// A run, set up and ready: the engine with its preset active, the
/// devices' buffers, the checker.
#[derive(Debug)]
pub struct Simulation {
    config: SimConfig,
    clock: SimClock,
    parts: Parts,
}

#[derive(Debug)]
struct Parts {
    engine: Engine,
    signal: Signal,
    /// The input device's buffers, filled before each input callback.
    source: OwnedBufferList,
    /// The output device's buffers.
    out: OwnedBufferList,
    checker: Option<Checker>,
    meter: Meter,
    fault: Option<Fault>,
}

/// Runs `config` into `sink`: [`Simulation::new`] then
/// [`Simulation::run`].
pub fn run(config: &SimConfig, sink: &mut impl RecordSink) -> Result<Outcome, SimError> {
    Simulation::new(config)?.run(sink)
}

impl Simulation {
    /// Validates `config`, builds the engine, activates the preset, and
    /// allocates the devices' buffers and the checker.
    pub fn new(config: &SimConfig) -> Result<Simulation, SimError> {
        config.validate()?;
        if config.count_allocations {
            check_installed().map_err(SimError::Alloc)?;
        }
        if config.rusage {
            check_usage().map_err(SimError::Usage)?;
        }
        let channels = config.engine.channels;
        let mut engine = Engine::new(&config.engine)?;
        let signal = Signal::new(config.seed);
        let mut checker = match config.integrity {
            IntegrityMode::Off => None,
            IntegrityMode::Check(reference) => Some(Checker::new(
                reference,
                config.engine.renderer,
                signal,
                channels,
                config.engine.sample_rate,
                config.engine.ring_bytes,
                config.engine.convolution,
            )),
        };
        if let Some(preset) = &config.preset {
            engine.control.activate(preset)?;
            if let Some(c) = checker.as_mut() {
                c.publish(preset)?;
            }
        }
        Ok(Simulation {
            parts: Parts {
                engine,
                signal,
                source: OwnedBufferList::new(channels, MAX_FRAMES),
                out: OwnedBufferList::new(OUTPUT_CHANNELS, MAX_FRAMES),
                checker,
                meter: Meter {
                    allocations: config.count_allocations,
                    rusage: config.rusage,
                },
                fault: config.fault,
            },
            clock: config.clock(),
            config: config.clone(),
        })
    }

    /// Runs to the end, handing every record to `sink`. The simulation is
    /// spent afterwards: a second call finds nothing left to run (after a
    /// [stop](SimConfig::stop), nothing it may run).
    ///
    /// Between callbacks the driver allocates and frees nothing of its own;
    /// only scheduled actions do, on the control side, as in the binauralizer
    /// (a preset switch builds renderers, and the set it replaces is freed
    /// once the output callback hands it back). The engine itself is freed
    /// when the simulation is dropped.
    pub fn run(&mut self, sink: &mut impl RecordSink) -> Result<Outcome, SimError> {
        self.run_with_progress(sink, &mut |_: &Progress| {})
    }

    /// Runs to the end as [`run`](Self::run) does, and reports progress
    /// to `progress` at most every [`PROGRESS_INTERVAL`] of simulated
    /// time, and once at the end (both between callbacks).
    ///
    /// With a [`stop`](SimConfig::stop) token, the run also ends before
    /// any event once a stop is requested: the callback under way
    /// finishes, no other starts, and the outcome is marked
    /// [`interrupted`](Outcome::interrupted) with the simulated time that
    /// ran.
    pub fn run_with_progress(
        &mut self,
        sink: &mut impl RecordSink,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Outcome, SimError> {
        let total = self.config.duration;
        let rates = [
            self.config.devices.input.sample_rate,
            self.config.devices.output.sample_rate,
        ];
        let mut pacer = (self.config.mode == Mode::Paced).then(Pacer::start);
        let wall_start = Instant::now();
        let mut outcome = Outcome {
            simulated: total,
            ..Outcome::empty()
        };
        let stop = self.config.stop.as_ref();
        // Callbacks of each kind since the last start.
        let mut since_start = [0u64; 2];
        let interval = PROGRESS_INTERVAL.as_nanos();
        let mut next_progress = interval;
        let mut callbacks = 0;
        loop {
            // The callback boundary: one relaxed load.
            if let Some(why) = stop.and_then(Stop::requested) {
                outcome.interrupted = Some(why);
                if let Some(at) = self.clock.next_at() {
                    outcome.simulated =
                        Duration::from_nanos(u64::try_from(at.as_nanos()).unwrap_or(u64::MAX));
                }
                break;
            }
            let Some(event) = self.clock.next_event() else {
                break;
            };
            match event.tick {
                Tick::Action(i) => {
                    if let Some(p) = pacer.as_mut() {
                        p.sleep_until(event.at.as_nanos());
                    }
                    if self.parts.apply(&self.config.schedule[i].action)? {
                        since_start = [0, 0];
                    }
                }
                Tick::Callback(tick) => {
                    if let Some(p) = pacer.as_mut() {
                        p.wait_until(event.at.as_nanos());
                    }
                    let side = usize::from(tick.kind == CallbackKind::Output);
                    let slot = Slot {
                        index: tick.index,
                        device_time: tick.device_time,
                        frames: tick.frames,
                        period_ns: period_ns(tick.frames, rates[side]),
                        warm_up: since_start[side] < WARM_UP_CALLBACKS,
                    };
                    since_start[side] += 1;
                    let (record, stats) = match tick.kind {
                        CallbackKind::Input => self.parts.input(slot),
                        CallbackKind::Output => self.parts.output(slot),
                    };
                    outcome.add(&record, &stats);
                    sink.record(&record);
                    callbacks += 1;
                }
            }
            let now = event.at.as_nanos();
            if now >= next_progress {
                progress(&Progress {
                    simulated: Duration::from_nanos(now as u64),
                    total,
                    callbacks,
                });
                next_progress = (now / interval + 1) * interval;
            }
        }
        progress(&Progress {
            simulated: outcome.simulated,
            total,
            callbacks,
        });
        outcome.wall = wall_start.elapsed();
        outcome.pacing = pacer.as_ref().map(Pacer::report);
        outcome.integrity = match &self.parts.checker {
            Some(c) => c.report(),
            None => IntegrityReport::disabled(),
        };
        Ok(outcome)
    }
}

/// The device's side of `AudioUnitRender`: copies the frames the device
/// captured into the callback's buffer list. Audio thread.
fn pull(list: &mut BufferList<'_>, source: &OwnedBufferList, channels: usize, n: usize) -> bool {
    (0..channels).all(|c| match list.channel_mut(c) {
        Some(dst) if dst.len() >= n => {
            dst[..n].copy_from_slice(source.channel(c, n));
            true
        }
        _ => false,
    })
}

impl Parts {
    /// Applies a scheduled action on the control side; true when it was a
    /// restart.
    fn apply(&mut self, action: &Action) -> Result<bool, SimError> {
        match action {
            Action::SwitchPreset(preset) => {
                self.engine.control.activate(preset)?;
                if let Some(c) = self.checker.as_mut() {
                    c.publish(preset)?;
                }
            }
            Action::Restart => {
                let e = &mut self.engine;
                e.input.set_running(false);
                Engine::restart(&mut e.input, &mut e.output);
                e.input.set_running(true);
                if let Some(c) = self.checker.as_mut() {
                    c.restart();
                }
                return Ok(true);
            }
            // The clock has taken the new frame counts already.
            Action::SetFrames { .. } => {}
            Action::SetConvolution(on) => {
                self.engine.control.set_convolution(*on);
                if let Some(c) = self.checker.as_mut() {
                    c.set_convolution(*on);
                }
            }
        }
        Ok(false)
    }

    fn input(&mut self, slot: Slot) -> (Record, Stats) {
        let frames = slot.frames as usize;
        // The device captures before the callback; only the callback is
        // measured.
        self.signal.fill(slot.device_time, frames, &mut self.source);
        let channels = self.source.channels();
        let source = &self.source;
        let m = callback::input(&mut self.engine.input, self.meter, slot, |list| {
            pull(list, source, channels, frames)
        });
        let EngineReport::Input(report) = m.report else {
            unreachable!("an input callback reports as input")
        };
        if let Some(c) = self.checker.as_mut() {
            c.input(slot.device_time, &report);
        }
        (m.record, m.stats)
    }

    fn output(&mut self, slot: Slot) -> (Record, Stats) {
        let frames = slot.frames as usize;
        let mut view = self.out.view();
        view.set_frames(frames);
        let m = callback::output(&mut self.engine.output, self.meter, slot, &mut view);
        let EngineReport::Output(report) = m.report else {
            unreachable!("an output callback reports as output")
        };
        if let Some(Fault::BumpOutput { callback, frame }) = self.fault
            && callback == slot.index
            && (frame as usize) < frames
        {
            let mut view = self.out.view();
            if let Some(left) = view.channel_mut(0) {
                left[frame as usize] += 1.0;
            }
        }
        if report.adopted_sets > 0 {
            // The control thread frees the sets the audio thread returned.
            self.engine.control.collect_retired();
        }
        if let Some(c) = self.checker.as_mut() {
            let (left, right) = (self.out.channel(0, frames), self.out.channel(1, frames));
            c.output(slot.index, slot.device_time, &report, left, right);
        }
        (m.record, m.stats)
    }
}
