//! A session on a real backend, seen from the calling thread: the
//! collector loop. It drains the stream's queues every few milliseconds,
//! reports progress, and ends when the stream has played the frames asked
//! for, when the stream fails (server or device gone: everything
//! collected up to then is kept), when a stop is requested, or at a
//! wall-clock timeout; then it stops the stream and takes what was still
//! queued.

use std::thread;
use std::time::{Duration, Instant};

use crate::drive::backend::{BackendError, Started, Stopped};
use crate::drive::collector::{Collected, Collector};
use crate::drive::integrity::Checker;
use crate::drive::outcome::Progress;
use crate::interrupt::Stop;
use allocgate::{check_installed, measure};

/// How often the collector looks at the queues.
pub const POLL: Duration = Duration::from_millis(5);

/// How long a stream asked to end early may take to finish before it is
/// stopped anyway.
pub const END_GRACE: Duration = Duration::from_secs(1);

/// What to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Output frames to play.
    pub frames: u64,
    /// The device rate, for progress and rates.
    pub sample_rate: u32,
    /// Give up after this much wall time.
    pub timeout: Duration,
    /// End early, at the next poll, once a stop is requested.
    pub stop: Option<Stop>,
}

/// How a session ended.
#[derive(Debug)]
pub struct SessionEnd {
    /// What the collector added up (a partial run when it ended early).
    pub collected: Collected,
    /// The stream's own figures, when it could be stopped cleanly.
    pub stopped: Result<Stopped, BackendError>,
    /// Why the run ended before its frames were played, if it did (an
    /// interrupt aside: that is in the outcome's
    /// [`interrupted`](crate::drive::outcome::Outcome::interrupted)).
    pub ended_early: Option<String>,
    /// Measurements the audio threads could not queue.
    pub measurements_lost: u64,
    /// Played blocks the recorder could not queue.
    pub blocks_lost: u64,
    /// Allocator calls the collector's thread made meanwhile (never in a
    /// callback's figures: those are counted on the audio threads).
    pub collector_calls: allocgate::Counts,
}

/// Collects `started` until `plan` is met or the stream fails; `checker`
/// checks the played blocks when given. `progress` is called on this
/// thread after every poll.
pub fn collect(
    mut started: Started,
    checker: Option<Checker>,
    plan: Plan,
    progress: &mut dyn FnMut(&Progress),
) -> SessionEnd {
    let begun = Instant::now();
    let rate = u64::from(plan.sample_rate.max(1));
    let total = Duration::from_nanos(plan.frames.saturating_mul(1_000_000_000) / rate);
    let mut collector = Collector::new(checker);
    let mut interrupted = None;
    let work = || {
        let mut ending: Option<Instant> = None;
        let ended_early = loop {
            let finished = started.stream.finished();
            for q in &mut started.measurements {
                collector.drain(q, started.blocks.as_mut(), false);
            }
            let played = collector.output_frames();
            progress(&Progress {
                simulated: Duration::from_nanos(played.saturating_mul(1_000_000_000) / rate),
                total,
                callbacks: collector.callbacks(),
            });
            let ends_itself = started.stream.ends_itself();
            if finished || (!ends_itself && played >= plan.frames) {
                break None;
            }
            if let Some(why) = started.stream.failure() {
                break Some(why);
            }
            if interrupted.is_none()
                && let Some(why) = plan.stop.as_ref().and_then(Stop::requested)
            {
                interrupted = Some(why);
                if !ends_itself {
                    break None;
                }
                // Ended by the stream at a cycle boundary, so what it
                // played stays consistent; then stopped as at its end.
                started.stream.end_early();
                ending = Some(Instant::now());
            }
            if ending.is_some_and(|t| t.elapsed() > END_GRACE) {
                break None;
            }
            if begun.elapsed() > plan.timeout {
                break Some(format!(
                    "the run did not finish within {:.1} s of wall time ({played} of {} \
                     played)",
                    plan.timeout.as_secs_f64(),
                    allocgate_engine::text::count(plan.frames, "frame")
                ));
            }
            thread::sleep(POLL);
        };
        let Started {
            stream,
            mut measurements,
            mut blocks,
        } = started;
        let stopped = stream.stop();
        for q in &mut measurements {
            collector.drain(q, blocks.as_mut(), true);
        }
        let measurements_lost = measurements.iter().map(|q| q.lost()).sum();
        let blocks_lost = blocks.as_ref().map_or(0, |b| b.lost());
        (ended_early, stopped, measurements_lost, blocks_lost)
    };
    // The collector's own allocator use is measured when the counting
    // allocator is installed (as in the binary); otherwise it is not known.
    let ((ended_early, stopped, measurements_lost, blocks_lost), collector_calls) =
        if check_installed().is_ok() {
            let m = measure(work);
            (m.value, m.stats.counts)
        } else {
            (work(), allocgate::Counts::new())
        };
    let played = collector.output_frames();
    let device = Duration::from_nanos(played.saturating_mul(1_000_000_000) / rate);
    let mut collected = collector.finish(device, begun.elapsed());
    collected.outcome.interrupted = interrupted;
    SessionEnd {
        collected,
        stopped,
        ended_early,
        measurements_lost,
        blocks_lost,
        collector_calls,
    }
}

#[cfg(test)]
mod tests;
