//! The collector: the thread that takes what real audio threads queued
//! ([`queue`](crate::drive::queue)) and adds it up as the simulated
//! clock's driver does: the [`Aggregator`], the [`Outcome`]'s per-kind
//! totals and xruns and, when the played blocks come too, the integrity
//! [`Checker`].
//!
//! The collector is not an audio thread: it may allocate (its own
//! allocations never show in a callback's figures, which are counted per
//! thread), but [`Collector::drain`] does not, so a collector polling in a
//! loop stays cheap.

use std::time::Duration;

use crate::drive::callback::{Captured, EngineReport, Measurement};
use crate::drive::integrity::{Checker, IntegrityReport};
use crate::drive::outcome::Outcome;
use crate::drive::queue::{BlockConsumer, MeasurementConsumer};
use crate::metrics::Aggregator;
use allocgate_engine::MAX_FRAMES;

/// Adds up measurements as they arrive.
#[derive(Debug)]
pub struct Collector {
    aggregator: Aggregator,
    /// The totals and xruns so far; integrity and times are set when
    /// finishing.
    outcome: Outcome,
    checker: Option<Checker>,
    left: Vec<f32>,
    right: Vec<f32>,
    /// Output frames played so far (the output device's time).
    output_frames: u64,
    /// The index each kind's next measurement should have (input,
    /// output): a gap is a measurement the queue lost.
    next_index: [u64; 2],
}

/// What a collector added up.
#[derive(Debug)]
pub struct Collected {
    /// The run's outcome, shaped as the simulated clock's.
    pub outcome: Outcome,
    /// The records, added up (sizes included).
    pub aggregator: Aggregator,
}

impl Collector {
    /// A collector, checking the output with `checker` when given (the
    /// played blocks must then be passed to [`drain`](Self::drain)).
    /// Allocates everything it needs.
    pub fn new(checker: Option<Checker>) -> Collector {
        Collector {
            aggregator: Aggregator::new(),
            outcome: Outcome::empty(),
            checker,
            left: vec![0.0; MAX_FRAMES],
            right: vec![0.0; MAX_FRAMES],
            output_frames: 0,
            next_index: [0, 0],
        }
    }

    /// Output frames played so far.
    pub fn output_frames(&self) -> u64 {
        self.output_frames
    }

    /// Callbacks added so far, both kinds.
    pub fn callbacks(&self) -> u64 {
        self.outcome.callbacks()
    }

    /// Takes every measurement `queue` holds, in order; returns how many.
    ///
    /// With a checker, an output measurement is taken only once its
    /// played block (the block the recorder vouches for as that output
    /// callback's, by index) is in `blocks`; unless `closing`, the
    /// collector waits for it (returns, to be called again). When
    /// `closing`, or when a later block shows that this one will not come
    /// (a server xrun ran the recorder out of step with the engine, or the
    /// queue lost it), the callback is [unheard](Checker::output_unheard):
    /// the model follows it and its frames are not compared. Checking
    /// stops (the verdict says why) at a gap in a kind's callback indices
    /// (a measurement the queue lost: the model cannot follow that), or
    /// when no block queue was given. Never allocates.
    pub fn drain(
        &mut self,
        queue: &mut MeasurementConsumer,
        mut blocks: Option<&mut BlockConsumer>,
        closing: bool,
    ) -> usize {
        let mut taken = 0;
        while let Some(m) = queue.peek() {
            let m = *m;
            let side = usize::from(matches!(m.report, EngineReport::Output(_)));
            if m.record.index != self.next_index[side]
                && let Some(checker) = self.checker.as_mut()
            {
                // A lost measurement is a ring write or read the model
                // never saw: it can no longer say what should play.
                checker.unobserved();
            }
            match (m.report, self.checker.as_mut()) {
                (EngineReport::Output(report), Some(checker)) => {
                    let (index, time) = (m.record.index, m.record.device_time);
                    let played = match blocks.as_deref_mut() {
                        Some(b) => find_block(b, index, closing),
                        None => Played::Nothing,
                    };
                    match played {
                        Played::NotYet => break,
                        Played::Found => {
                            let (l, r) = (self.left.as_mut_slice(), self.right.as_mut_slice());
                            let got = blocks.as_deref_mut().and_then(|b| b.pop_into(l, r));
                            let frames = report.frames.min(MAX_FRAMES);
                            match got {
                                Some(h) if h.frames as usize >= frames => checker.output(
                                    index,
                                    time,
                                    &report,
                                    &self.left[..frames],
                                    &self.right[..frames],
                                ),
                                _ => checker.output_unheard(index, time, &report),
                            }
                        }
                        Played::Never => checker.output_unheard(index, time, &report),
                        Played::Nothing => checker.unobserved(),
                    }
                }
                (EngineReport::Input(report), Some(checker)) => match m.captured {
                    Captured::AtDeviceTime => checker.input(m.record.device_time, &report),
                    Captured::From(frame) => checker.input(frame, &report),
                    Captured::Unknown => checker.input_unknown(),
                },
                (_, None) => {}
            }
            queue.pop();
            self.next_index[side] = m.record.index + 1;
            self.add(&m);
            taken += 1;
        }
        if self.checker.is_none()
            && let Some(b) = blocks
        {
            // Nothing to check them against: keep the recorder's queue
            // from filling (and counting losses that mean nothing).
            while b.skip().is_some() {}
        }
        taken
    }

    fn add(&mut self, m: &Measurement) {
        self.aggregator.record(&m.record);
        self.outcome.add(&m.record, &m.stats);
        if let EngineReport::Output(_) = m.report {
            self.output_frames = m.record.device_time + u64::from(m.record.frames);
        }
    }

    /// The outcome, `device` of device time played over `wall` of wall
    /// time. The size histograms are in the outcome's totals, not yet in
    /// the aggregator (as with the simulated clock's driver).
    pub fn finish(self, device: Duration, wall: Duration) -> Collected {
        Collected {
            outcome: Outcome {
                integrity: match &self.checker {
                    Some(c) => c.report(),
                    None => IntegrityReport::disabled(),
                },
                simulated: device,
                wall,
                ..self.outcome
            },
            aggregator: self.aggregator,
        }
    }
}

enum Played {
    /// The block is at the head of the queue.
    Found,
    /// Not there yet; it may still come.
    NotYet,
    /// It will not come.
    Never,
    /// Nothing is recorded at all.
    Nothing,
}

/// Looks for the block of output callback `callback`, discarding older
/// ones and blocks the recorder could not vouch for.
fn find_block(blocks: &mut BlockConsumer, callback: u64, closing: bool) -> Played {
    loop {
        match blocks.peek() {
            None if closing => return Played::Never,
            None => return Played::NotYet,
            Some(h) if h.callback.is_none_or(|c| c < callback) => {
                blocks.skip();
            }
            Some(h) if h.callback == Some(callback) => return Played::Found,
            Some(_) => return Played::Never,
        }
    }
}
