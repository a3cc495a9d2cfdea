//! The collector: the thread that takes what real audio threads queued
//! ([`queue`](crate::drive::queue)) and adds it up as the simulated
//! clock's driver does: the [`Aggregator`], per-kind totals, xruns and,
//! when the played blocks come too, the integrity [`Checker`].
//!
//! The collector is not an audio thread: it may allocate (its own
//! allocations never show in a callback's figures, which are counted per
//! thread), but [`Collector::drain`] does not, so a collector polling in a
//! loop stays cheap.

use std::time::Duration;

use crate::drive::callback::{EngineReport, Measurement};
use crate::drive::queue::{BlockConsumer, MeasurementConsumer};
use crate::drive::sim::integrity::{Checker, IntegrityReport};
use crate::drive::sim::{KindTotals, Outcome, Xruns};
use crate::engine::MAX_FRAMES;
use crate::metrics::Aggregator;

/// Adds up measurements as they arrive.
#[derive(Debug)]
pub struct Collector {
    aggregator: Aggregator,
    input: KindTotals,
    output: KindTotals,
    xruns: Xruns,
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
            input: KindTotals::default(),
            output: KindTotals::default(),
            xruns: Xruns::default(),
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
        self.input.callbacks + self.output.callbacks
    }

    /// Takes every measurement `queue` holds, in order; returns how many.
    ///
    /// With a checker, an output measurement is taken only once its
    /// played block is in `blocks`; unless `closing`, the collector
    /// waits for it (returns, to be called again). When `closing`, or
    /// when a later block shows that this one was lost, checking stops
    /// there (the verdict says why), as it does at a gap in a kind's
    /// callback indices (a measurement the queue lost). Never allocates.
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
                    let played = match blocks.as_deref_mut() {
                        Some(b) => find_block(b, m.record.device_time, closing),
                        None => Played::Never,
                    };
                    match played {
                        Played::NotYet => break,
                        Played::Found => {
                            let (l, r) = (self.left.as_mut_slice(), self.right.as_mut_slice());
                            let got = blocks.as_deref_mut().and_then(|b| b.pop_into(l, r));
                            let frames = report.frames.min(MAX_FRAMES);
                            match got {
                                Some(h) if h.frames as usize >= frames => checker.output(
                                    m.record.index,
                                    m.record.device_time,
                                    &report,
                                    &self.left[..frames],
                                    &self.right[..frames],
                                ),
                                _ => checker.unobserved(),
                            }
                        }
                        Played::Never => checker.unobserved(),
                    }
                }
                (EngineReport::Input(report), Some(checker)) => {
                    checker.input(m.record.device_time, &report);
                }
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
        match m.report {
            EngineReport::Input(r) => {
                self.input.add(&m.record, &m.stats);
                self.xruns.add_input(&r);
            }
            EngineReport::Output(r) => {
                self.output.add(&m.record, &m.stats);
                self.xruns.add_output(&r);
                self.output_frames = m.record.device_time + u64::from(m.record.frames);
            }
        }
    }

    /// The outcome, `device` of device time played over `wall` of wall
    /// time. The size histograms are in the outcome's totals, not yet in
    /// the aggregator (as with the simulated clock's driver).
    pub fn finish(self, device: Duration, wall: Duration) -> Collected {
        let aggregator = self.aggregator;
        Collected {
            outcome: Outcome {
                input: self.input,
                output: self.output,
                xruns: self.xruns,
                integrity: match &self.checker {
                    Some(c) => c.report(),
                    None => IntegrityReport::disabled(),
                },
                simulated: device,
                wall,
                pacing: None,
                interrupted: None,
            },
            aggregator,
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
}

/// Looks for the block played from `device_time`, discarding older ones.
fn find_block(blocks: &mut BlockConsumer, device_time: u64, closing: bool) -> Played {
    loop {
        match blocks.peek() {
            None if closing => return Played::Never,
            None => return Played::NotYet,
            Some(h) if h.device_time < device_time => {
                blocks.skip();
            }
            Some(h) if h.device_time == device_time => return Played::Found,
            Some(_) => return Played::Never,
        }
    }
}
