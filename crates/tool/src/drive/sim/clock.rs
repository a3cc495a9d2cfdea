//! Two device clocks and a schedule, merged into one exact sequence of
//! events.
//!
//! Each device (input, output) has a nominal sample rate and a source of
//! frames per callback ([`FrameSequence`]). A device's callback `k` fires
//! when its clock reaches the frame after the previous callback's frames:
//! callback 0 at frame 0, callback `k + 1` at frame `F_k + N_k`. The input
//! clock runs at exactly its nominal rate; the output clock at
//! nominal × (1 + drift), so over a long run the output consumes faster or
//! slower than the input produces.
//!
//! Times are exact rationals ([`SimTime`]), so the order of events never
//! depends on rounding: events at the same instant go scheduled actions
//! first, then the input callback, then the output callback.

use std::sync::Arc;
use std::time::Duration;

use crate::drive::sim::frames::{FrameSequence, FrameSource};
use crate::drive::sim::time::{Drift, NANOS_PER_SECOND, PPB, SimTime};
use allocgate_engine::preset::Preset;
use allocgate_engine::sites::CallbackKind;

/// One device's clock: its nominal rate and frames per callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceClock {
    /// Nominal sample rate, in Hz.
    pub sample_rate: u32,
    /// Frames per callback.
    pub frames: FrameSequence,
}

/// The two devices and how far the output's clock drifts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Devices {
    /// The capture device (its rate is the engine's rate).
    pub input: DeviceClock,
    /// The playback device.
    pub output: DeviceClock,
    /// The output clock's deviation from its nominal rate.
    pub drift: Drift,
}

impl Devices {
    /// Both devices at `sample_rate` with the same frame sequence (drawn
    /// independently for each when seeded), no drift.
    pub fn matched(sample_rate: u32, frames: FrameSequence) -> Devices {
        Devices {
            input: DeviceClock {
                sample_rate,
                frames: frames.clone(),
            },
            output: DeviceClock {
                sample_rate,
                frames,
            },
            drift: Drift::NONE,
        }
    }

    fn device(&self, kind: CallbackKind) -> &DeviceClock {
        match kind {
            CallbackKind::Input => &self.input,
            CallbackKind::Output => &self.output,
        }
    }

    /// The device's real rate as a fraction (frames per second):
    /// `(numerator, denominator)`.
    fn rate(&self, kind: CallbackKind) -> (u128, u128) {
        let nominal = u128::from(self.device(kind).sample_rate);
        match kind {
            CallbackKind::Input => (nominal, 1),
            CallbackKind::Output => (
                nominal * (PPB + self.drift.as_ppb()) as u128,
                NANOS_PER_SECOND, // 10^9: parts per billion
            ),
        }
    }
}

/// Something that happens at a scheduled time, on the control side.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Build renderers for this preset and publish them (when the action
    /// is applied, not before). Shared: a schedule that switches to the
    /// same preset many times holds it once.
    SwitchPreset(Arc<Preset>),
    /// Stop both callbacks, restart the engine (ring emptied, output
    /// buffering again), start them.
    Restart,
    /// New frames per callback for the devices given (`None`: unchanged),
    /// from each device's next callback on.
    SetFrames {
        /// The input device's new sequence.
        input: Option<FrameSequence>,
        /// The output device's new sequence.
        output: Option<FrameSequence>,
    },
    /// Switch convolution on or off.
    SetConvolution(bool),
}

/// An action and when it happens.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduled {
    /// Simulated time since the start of the run.
    pub at: Duration,
    /// What happens.
    pub action: Action,
}

/// A device's first callback: its frames and how long they last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FirstCallback {
    /// Frames it asks for.
    pub frames: u32,
    /// Nanoseconds those frames last at the device's real rate, rounded
    /// up.
    pub nanos: u64,
}

/// One callback the clock fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackTick {
    /// Which device.
    pub kind: CallbackKind,
    /// Index among this device's callbacks, from 0.
    pub index: u64,
    /// The device frame at which it fires (its first frame).
    pub device_time: u64,
    /// Frames it asks for.
    pub frames: u32,
}

/// What happens at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// A device's callback.
    Callback(CallbackTick),
    /// Scheduled action number `index` (in the order given to the clock).
    /// A frame change has already taken effect in the clock.
    Action(usize),
}

/// One event: when, and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// When.
    pub at: SimTime,
    /// What.
    pub tick: Tick,
}

/// Draws frame counts from a [`FrameSequence`] without allocating.
#[derive(Debug, Clone)]
struct DeviceState {
    kind: CallbackKind,
    rate: (u128, u128),
    source: FrameSource,
    /// The frame at which the next callback fires.
    position: u64,
    index: u64,
}

impl DeviceState {
    fn next_time(&self) -> SimTime {
        // frame / (num / den) seconds.
        SimTime::from_ratio(u128::from(self.position) * self.rate.1, self.rate.0)
    }
}

#[derive(Debug, Clone)]
struct Pending {
    at: SimTime,
    index: usize,
    frames: [Option<FrameSequence>; 2],
}

/// The merged event sequence of two device clocks and a schedule, from
/// time zero up to (not including) the end of the run.
#[derive(Debug, Clone)]
pub struct SimClock {
    devices: [DeviceState; 2],
    pending: Vec<Pending>,
    next_pending: usize,
    end: SimTime,
    run_seed: u64,
}

fn salt(kind: CallbackKind, change: usize) -> u64 {
    let device = match kind {
        CallbackKind::Input => 1,
        CallbackKind::Output => 2,
    };
    device | (change as u64) << 8
}

impl SimClock {
    /// A clock for `devices`, with the schedule's actions (in time order;
    /// actions at the same time keep their given order), ending `duration`
    /// after the start. Seeded frame sequences draw from `seed`.
    pub fn new(devices: &Devices, schedule: &[Scheduled], duration: Duration, seed: u64) -> Self {
        let state = |kind| DeviceState {
            kind,
            rate: devices.rate(kind),
            source: FrameSource::new(devices.device(kind).frames.clone(), seed, salt(kind, 0)),
            position: 0,
            index: 0,
        };
        let mut pending: Vec<Pending> = schedule
            .iter()
            .enumerate()
            .map(|(index, s)| Pending {
                at: SimTime::from_duration(s.at),
                index,
                frames: match &s.action {
                    Action::SetFrames { input, output } => [input.clone(), output.clone()],
                    _ => [None, None],
                },
            })
            .collect();
        pending.sort_by_key(|p| p.at); // stable: ties keep their order
        SimClock {
            devices: [state(CallbackKind::Input), state(CallbackKind::Output)],
            pending,
            next_pending: 0,
            end: SimTime::from_duration(duration),
            run_seed: seed,
        }
    }

    /// When the next event happens, without taking it; `None` once it
    /// would be at or past the end. Never allocates.
    pub fn next_at(&self) -> Option<SimTime> {
        let callback_at = self.devices[0].next_time().min(self.devices[1].next_time());
        let at = match self.pending.get(self.next_pending) {
            Some(p) if p.at <= callback_at => p.at,
            _ => callback_at,
        };
        (at < self.end).then_some(at)
    }

    /// The next event, or `None` once the next one would be at or past
    /// the end. Never allocates.
    pub fn next_event(&mut self) -> Option<Event> {
        let t_in = self.devices[0].next_time();
        let t_out = self.devices[1].next_time();
        let callback_at = t_in.min(t_out);
        if let Some(p) = self.pending.get_mut(self.next_pending)
            && p.at <= callback_at
        {
            if p.at >= self.end {
                return None;
            }
            let at = p.at;
            let index = p.index;
            let change = self.next_pending + 1;
            for (device, frames) in self.devices.iter_mut().zip(p.frames.iter_mut()) {
                if let Some(sequence) = frames.take() {
                    device.source =
                        FrameSource::new(sequence, self.run_seed, salt(device.kind, change));
                }
            }
            self.next_pending += 1;
            return Some(Event {
                at,
                tick: Tick::Action(index),
            });
        }
        if callback_at >= self.end {
            return None;
        }
        // Ties go to the input.
        let device = if t_in <= t_out {
            &mut self.devices[0]
        } else {
            &mut self.devices[1]
        };
        let frames = device.source.next();
        let tick = CallbackTick {
            kind: device.kind,
            index: device.index,
            device_time: device.position,
            frames,
        };
        device.position += u64::from(frames);
        device.index += 1;
        Some(Event {
            at: callback_at,
            tick: Tick::Callback(tick),
        })
    }

    /// Each device's first callback, input then output: its frames (after
    /// any frame change scheduled at time zero) and how long it lasts at
    /// the device's real rate, in nanoseconds rounded up. A run shorter
    /// than either does not hold one whole callback of that device.
    pub fn first_callbacks(
        devices: &Devices,
        schedule: &[Scheduled],
        seed: u64,
    ) -> [FirstCallback; 2] {
        let mut first = [FirstCallback::default(); 2];
        // Both first callbacks fire at time zero, after the actions
        // scheduled then: a clock ending a nanosecond later has them all.
        let clock = SimClock::new(devices, schedule, Duration::from_nanos(1), seed);
        for event in clock {
            if let Tick::Callback(t) = event.tick {
                let (num, den) = devices.rate(t.kind);
                let ns = (u128::from(t.frames) * den * NANOS_PER_SECOND).div_ceil(num.max(1));
                first[usize::from(t.kind == CallbackKind::Output)] = FirstCallback {
                    frames: t.frames,
                    nanos: u64::try_from(ns).unwrap_or(u64::MAX),
                };
            }
        }
        first
    }

    /// The most callbacks of `kind` that a run of `duration` can fire with
    /// these devices and this schedule: the device's frames within the
    /// run, rounded up, over the smallest frame count it may use.
    pub fn callback_bound(
        devices: &Devices,
        schedule: &[Scheduled],
        duration: Duration,
        kind: CallbackKind,
    ) -> u64 {
        let slot = match kind {
            CallbackKind::Input => 0,
            CallbackKind::Output => 1,
        };
        let smallest = schedule
            .iter()
            .filter_map(|s| match &s.action {
                Action::SetFrames { input, output } => [input, output][slot].as_ref(),
                _ => None,
            })
            .map(FrameSequence::min)
            .chain([devices.device(kind).frames.min()])
            .min()
            .unwrap_or(1)
            .max(1);
        let (num, den) = devices.rate(kind);
        // Callbacks fire at frames F < duration × rate; each takes at least
        // `smallest` frames.
        let frames = (duration.as_nanos() * num).div_ceil(NANOS_PER_SECOND * den);
        u64::try_from(frames.div_ceil(u128::from(smallest))).unwrap_or(u64::MAX)
    }
}

impl Iterator for SimClock {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.next_event()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::sim::frames::COREAUDIO_FRAMES;

    fn count(clock: SimClock) -> (u64, u64) {
        let mut n = (0, 0);
        for e in clock {
            if let Tick::Callback(t) = e.tick {
                match t.kind {
                    CallbackKind::Input => n.0 += 1,
                    CallbackKind::Output => n.1 += 1,
                }
            }
        }
        n
    }

    #[test]
    fn fixed_frames_give_fs_times_s_over_n_callbacks_per_side() {
        // 48 000 × 16 / 512 = 1 500 exactly; 44 100 × 2 / 441 = 200.
        for (rate, frames, secs, expected) in [
            (48_000, 512, 16, 1500),
            (44_100, 441, 2, 200),
            (48_000, 1, 1, 48_000),
        ] {
            let devices = Devices::matched(rate, FrameSequence::Fixed(frames));
            let clock = SimClock::new(&devices, &[], Duration::from_secs(secs), 0);
            assert_eq!(count(clock), (expected, expected), "{rate} Hz / {frames}");
        }
        // Not a whole number: callbacks fire at frames 0, N, 2N, … below
        // fs × S, so ceil(fs × S / N) of them: ceil(480 000 / 512) = 938.
        let devices = Devices::matched(48_000, FrameSequence::Fixed(512));
        let clock = SimClock::new(&devices, &[], Duration::from_secs(10), 0);
        assert_eq!(count(clock), (938, 938));
    }

    #[test]
    fn the_coreaudio_cycle_fires_three_callbacks_per_1536_frames() {
        // 471 + 512 + 553 = 1536 frames per three callbacks: 16 s at
        // 48 kHz = 768 000 frames = 500 cycles = 1 500 callbacks.
        let devices = Devices::matched(48_000, FrameSequence::coreaudio_cycle());
        let clock = SimClock::new(&devices, &[], Duration::from_secs(16), 0);
        assert_eq!(count(clock), (1500, 1500));
        // One second = 48 000 frames = 31 cycles (47 616 frames) and 384
        // frames more: the callback at 47 616 fires (471 frames), the next
        // at 48 087 does not: 31 × 3 + 1 = 94.
        let clock = SimClock::new(&devices, &[], Duration::from_secs(1), 0);
        assert_eq!(count(clock), (94, 94));
    }

    #[test]
    fn callbacks_fire_at_the_frame_after_the_previous_callbacks_frames() {
        let devices = Devices::matched(48_000, FrameSequence::coreaudio_cycle());
        let ticks: Vec<CallbackTick> = SimClock::new(&devices, &[], Duration::from_millis(50), 0)
            .filter_map(|e| match e.tick {
                Tick::Callback(t) if t.kind == CallbackKind::Input => Some(t),
                _ => None,
            })
            .collect();
        let times: Vec<u64> = ticks.iter().map(|t| t.device_time).collect();
        assert_eq!(times, [0, 471, 983, 1536, 2007]);
        assert_eq!(ticks[3].frames, 471);
    }

    #[test]
    fn ties_go_to_scheduled_actions_then_the_input() {
        let devices = Devices::matched(48_000, FrameSequence::Fixed(480));
        let schedule = [Scheduled {
            at: Duration::from_millis(10),
            action: Action::Restart,
        }];
        let events: Vec<Event> =
            SimClock::new(&devices, &schedule, Duration::from_millis(20), 0).collect();
        let kinds: Vec<String> = events
            .iter()
            .map(|e| match e.tick {
                Tick::Callback(t) => format!("{:?}{}", t.kind, t.index),
                Tick::Action(i) => format!("A{i}"),
            })
            .collect();
        assert_eq!(kinds, ["Input0", "Output0", "A0", "Input1", "Output1"]);
    }

    #[test]
    fn a_fast_output_clock_fires_more_often_by_its_drift() {
        // +500 ppm: the output runs at 48 024 Hz; over 64 s it plays
        // 3 073 536 frames, 6 003 callbacks of 512 (the last starts at
        // 3 073 024 < 3 073 536); the input fires 48 000 × 64 / 512 = 6 000.
        let mut devices = Devices::matched(48_000, FrameSequence::Fixed(512));
        devices.drift = Drift::ppm(500);
        let clock = SimClock::new(&devices, &[], Duration::from_secs(64), 0);
        assert_eq!(count(clock), (6000, 6003));
        // −500 ppm: 47 976 Hz, 3 070 464 frames, 5 997 callbacks.
        devices.drift = Drift::ppm(-500);
        let clock = SimClock::new(&devices, &[], Duration::from_secs(64), 0);
        assert_eq!(count(clock), (6000, 5997));
    }

    #[test]
    fn a_frame_change_applies_from_the_next_callback_on() {
        let devices = Devices::matched(48_000, FrameSequence::Fixed(480));
        let schedule = [Scheduled {
            at: Duration::from_millis(15),
            action: Action::SetFrames {
                input: Some(FrameSequence::Fixed(96)),
                output: None,
            },
        }];
        let inputs: Vec<(u64, u32)> =
            SimClock::new(&devices, &schedule, Duration::from_millis(25), 0)
                .filter_map(|e| match e.tick {
                    Tick::Callback(t) if t.kind == CallbackKind::Input => {
                        Some((t.device_time, t.frames))
                    }
                    _ => None,
                })
                .collect();
        // Callbacks at 0, 10 ms; the change at 15 ms; the callback due at
        // 20 ms (frame 960) takes 96, the next fires at 1 056 (22 ms), then
        // 1 152 (24 ms).
        assert_eq!(
            inputs,
            [(0, 480), (480, 480), (960, 96), (1056, 96), (1152, 96)]
        );
    }

    #[test]
    fn seeded_sequences_repeat_for_a_seed_and_differ_across_seeds_and_devices() {
        let draw = |seq_seed, run_seed| {
            let devices = Devices::matched(48_000, FrameSequence::coreaudio_seeded(seq_seed));
            SimClock::new(&devices, &[], Duration::from_secs(1), run_seed)
                .filter_map(|e| match e.tick {
                    Tick::Callback(t) => Some((t.kind == CallbackKind::Input, t.frames)),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(3, 9), draw(3, 9));
        assert_ne!(draw(3, 9), draw(4, 9));
        assert_ne!(draw(3, 9), draw(3, 10));
        assert_ne!(draw(3, 3), draw(4, 4), "equal seeds must not cancel");
        let events = draw(3, 9);
        let inputs: Vec<u32> = events.iter().filter(|e| e.0).map(|e| e.1).collect();
        let outputs: Vec<u32> = events.iter().filter(|e| !e.0).map(|e| e.1).collect();
        assert_ne!(inputs[..20], outputs[..20], "each device draws its own");
        for n in COREAUDIO_FRAMES {
            assert!(inputs.contains(&n), "{n} drawn");
        }
    }

    #[test]
    fn first_callbacks_last_their_frames_over_the_devices_real_rates() {
        // 512 / 48 000 s = 10 666 666.67 ns, rounded up; the output at
        // 44 100 Hz − 1 000 ppm = 44 055.9 Hz takes 1 024 frames in
        // 1 024 / 44 055.9 s = 23 243 197.8 ns.
        let mut devices = Devices::matched(48_000, FrameSequence::Fixed(512));
        devices.output = DeviceClock {
            sample_rate: 44_100,
            frames: FrameSequence::Cycle(vec![1024, 64]),
        };
        devices.drift = Drift::ppm(-1000);
        let first = SimClock::first_callbacks(&devices, &[], 0);
        assert_eq!(
            first,
            [
                FirstCallback {
                    frames: 512,
                    nanos: 10_666_667
                },
                FirstCallback {
                    frames: 1024,
                    nanos: 23_243_198
                }
            ]
        );
        // A frame change at time zero comes before both first callbacks.
        let schedule = [Scheduled {
            at: Duration::ZERO,
            action: Action::SetFrames {
                input: Some(FrameSequence::Fixed(4096)),
                output: None,
            },
        }];
        let first = SimClock::first_callbacks(&devices, &schedule, 0);
        assert_eq!(first[0].frames, 4096);
        assert_eq!(first[0].nanos, 85_333_334);
        // A seeded draw: the frames the run's own first callback takes.
        let devices = Devices::matched(48_000, FrameSequence::coreaudio_seeded(5));
        let first = SimClock::first_callbacks(&devices, &[], 7);
        let drawn: Vec<u32> = SimClock::new(&devices, &[], Duration::from_millis(1), 7)
            .filter_map(|e| match e.tick {
                Tick::Callback(t) => Some(t.frames),
                _ => None,
            })
            .collect();
        assert_eq!(drawn, [first[0].frames, first[1].frames]);
    }

    #[test]
    fn the_callback_bound_covers_every_callback() {
        let mut devices = Devices::matched(48_000, FrameSequence::coreaudio_seeded(1));
        devices.drift = Drift::ppm(2000);
        let schedule = [Scheduled {
            at: Duration::from_millis(300),
            action: Action::SetFrames {
                input: None,
                output: Some(FrameSequence::Fixed(64)),
            },
        }];
        let d = Duration::from_secs(1);
        let (i, o) = count(SimClock::new(&devices, &schedule, d, 1));
        let bound = |k| SimClock::callback_bound(&devices, &schedule, d, k);
        assert!(i <= bound(CallbackKind::Input), "{i}");
        assert!(o <= bound(CallbackKind::Output), "{o}");
        // Input: ceil(48 000 / 471) = 102; output: ceil(48 096 / 64) = 752.
        assert_eq!(bound(CallbackKind::Input), 102);
        assert_eq!(bound(CallbackKind::Output), 752);
    }
}
