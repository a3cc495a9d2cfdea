//! Measuring one engine callback, the same way for every driver (the
//! simulated clock, JACK, CoreAudio): the callback runs alone in a
//! measured scope, tagged with its kind for site tracing, and its wall
//! time is taken inside that scope; around it, this thread's hazard
//! counters are read ([`allocgate::hazard::observe`]: tracked locks always,
//! page faults and context switches when [`Meter::rusage`] asks). The
//! result is a [`Record`], the callback's [`Stats`] and what the engine
//! reported.
//!
//! Everything here runs on the audio thread and never allocates, locks or
//! blocks (`measure`, `tagged` and `observe` only touch this thread's
//! counters; `getrusage` is a system call that copies counters out).

use std::time::Instant;

use crate::metrics::Record;
use allocgate::hazard::{Hazards, observe};
use allocgate::trace::tagged;
use allocgate::{Stats, measure};
use allocgate_engine::buffers::BufferList;
use allocgate_engine::input::{InputCallback, InputReport};
use allocgate_engine::output::{OutputCallback, OutputReport};
use allocgate_engine::sites::CallbackKind;

/// Callbacks of each kind after a start or restart that count as warm-up
/// ([`Record::warm_up`]): long enough to cover the engine's start-up
/// paths (buffering, first renders, debug lines on the first two block
/// steps) at any frame count down to 64.
pub const WARM_UP_CALLBACKS: u64 = 16;

/// Where a callback sits in its device's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Index among callbacks of this kind, from 0.
    pub index: u64,
    /// Device frame of the callback's first frame since the run started.
    pub device_time: u64,
    /// Frames asked for.
    pub frames: u32,
    /// The callback's period (its deadline), in nanoseconds.
    pub period_ns: u64,
    /// Within the warm-up after a start or restart.
    pub warm_up: bool,
}

/// What the engine said about one callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineReport {
    /// An input callback's report.
    Input(InputReport),
    /// An output callback's report.
    Output(OutputReport),
}

/// One measured callback: its record, its allocator figures (sizes
/// included) and the engine's report. Plain `Copy` data of fixed size, so
/// it can leave the audio thread through a lock-free queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measurement {
    /// The record.
    pub record: Record,
    /// Allocator calls made in the callback, with their size histograms.
    pub stats: Stats,
    /// What the engine reported.
    pub report: EngineReport,
    /// Which frames of the known signal an input callback pulled.
    pub captured: Captured,
}

/// Which frames of the known signal an input callback's buffers held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Captured {
    /// Those from the callback's device time (the simulated clock's and
    /// a device's own capture; the default).
    #[default]
    AtDeviceTime,
    /// Those from this signal frame: the player vouched for what it
    /// wrote, and a server xrun had run it out of step with the engine's
    /// device time.
    From(u64),
    /// Not known: the player had not finished writing, or wrote while the
    /// engine read.
    Unknown,
}

/// What to measure around each callback.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Meter {
    /// Count allocator calls (the caller has checked that the counting
    /// allocator is installed). Off, every count reads zero.
    pub allocations: bool,
    /// Read the thread's page faults and context switches before and
    /// after (two `getrusage` calls; the caller has run
    /// [`check_usage`](allocgate::hazard::check_usage)).
    pub rusage: bool,
}

impl From<bool> for Meter {
    /// Allocations counted or not; no usage readings.
    fn from(allocations: bool) -> Meter {
        Meter {
            allocations,
            rusage: false,
        }
    }
}

/// `frames / rate` in nanoseconds, rounded to nearest.
pub fn period_ns(frames: u32, rate: u32) -> u64 {
    let r = u64::from(rate.max(1));
    (u64::from(frames) * 1_000_000_000 + r / 2) / r
}

/// What [`measured`] learned.
struct Measured<R> {
    value: R,
    wall_ns: u64,
    stats: Stats,
    hazards: Hazards,
}

/// Runs `f` in a measured scope when `meter.allocations`, tagged with
/// `kind`, between two hazard readings (usage only when `meter.rusage`).
/// The readings sit outside the timed region, so the wall time is the
/// callback's alone.
fn measured<R>(meter: Meter, kind: CallbackKind, f: impl FnOnce() -> R) -> Measured<R> {
    let timed = || {
        let start = Instant::now();
        let value = f();
        (value, nanos(start.elapsed().as_nanos()))
    };
    let (((value, wall_ns), stats), hazards) = observe(meter.rusage, || {
        if meter.allocations {
            let m = tagged(kind.trace_tag(), || measure(timed));
            (m.value, m.stats)
        } else {
            (timed(), Stats::new())
        }
    });
    Measured {
        value,
        wall_ns,
        stats,
        hazards,
    }
}

fn nanos(n: u128) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Runs and measures one input callback of `slot.frames` frames; `pull`
/// fills the buffer list from the device (see [`InputCallback::process`]).
/// `meter` is a [`Meter`] or a `bool` (allocations counted or not).
/// Audio thread: adds no allocation of its own.
pub fn input<F>(
    input: &mut InputCallback,
    meter: impl Into<Meter>,
    slot: Slot,
    pull: F,
) -> Measurement
where
    F: FnOnce(&mut BufferList<'_>) -> bool,
{
    let frames = slot.frames as usize;
    let m = measured(meter.into(), CallbackKind::Input, || {
        input.process(frames, pull)
    });
    let report = m.value;
    Measurement {
        record: Record {
            bytes_dropped: u32::try_from(report.dropped_bytes).unwrap_or(u32::MAX),
            partial_frame: report.partial_frame,
            ..blank(CallbackKind::Input, slot, &m)
        },
        stats: m.stats,
        report: EngineReport::Input(report),
        captured: Captured::AtDeviceTime,
    }
}

/// Runs and measures one output callback of `slot.frames` frames into
/// `out`. Audio thread: adds no allocation of its own.
pub fn output(
    output: &mut OutputCallback,
    meter: impl Into<Meter>,
    slot: Slot,
    out: &mut BufferList<'_>,
) -> Measurement {
    let frames = slot.frames as usize;
    let m = measured(meter.into(), CallbackKind::Output, || {
        output.process(out, frames)
    });
    let report = m.value;
    Measurement {
        record: Record {
            underrun: report.underrun,
            buffering: report.buffering,
            frames_unrendered: u32::try_from(report.frames_unrendered).unwrap_or(u32::MAX),
            ..blank(CallbackKind::Output, slot, &m)
        },
        stats: m.stats,
        report: EngineReport::Output(report),
        captured: Captured::AtDeviceTime,
    }
}

fn blank<R>(kind: CallbackKind, slot: Slot, m: &Measured<R>) -> Record {
    Record {
        index: slot.index,
        device_time: slot.device_time,
        frames: slot.frames,
        period_ns: slot.period_ns,
        wall_ns: m.wall_ns,
        counts: m.stats.counts,
        hazards: m.hazards,
        warm_up: slot.warm_up,
        ..Record::new(kind)
    }
    .with_blocking(m.stats.blocking)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_frames_over_rate_rounded_to_the_nearest_nanosecond() {
        assert_eq!(period_ns(512, 48_000), 10_666_667);
        assert_eq!(period_ns(480, 48_000), 10_000_000);
        assert_eq!(period_ns(1, 0), 1_000_000_000, "a zero rate counts as 1 Hz");
    }
}
