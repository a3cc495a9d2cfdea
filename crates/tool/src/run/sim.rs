//! A run on the simulated clock.
//!
//! The simulation runs on its own thread, which stands for the audio
//! thread: it only runs callbacks, feeds the [`Aggregator`] (which never
//! allocates once built) and stores progress in atomics. The calling
//! thread polls those atomics for the progress bar, and builds the report
//! once the run is over. The whole run is measured on the driver thread
//! too, so the report says what the driver did with the allocator outside
//! the callbacks: nothing, unless a scheduled action (on the control side)
//! did.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use crate::drive::backend::OutsideCalls;
use crate::drive::integrity::IntegrityMode;
use crate::drive::outcome::{Outcome, Progress};
use crate::drive::sim::{FrameSequence, SimConfig, Simulation};
use crate::metrics::Aggregator;
use crate::metrics::Record;
use crate::report::{AllocatorCalls, engine_sites, site_reports};
use allocgate::trace::{SiteTable, trace};
use allocgate::{Counts, measure};

use super::{Run, RunConfig, RunError, TraceSummary, assemble, report_config};

/// How often the calling thread looks at the run's progress.
const POLL: Duration = Duration::from_millis(50);

/// The simulated run a [`RunConfig`] asks for.
pub fn sim_config(c: &RunConfig) -> SimConfig {
    let integrity = if c.integrity {
        IntegrityMode::default()
    } else {
        IntegrityMode::Off
    };
    let mut config = match &c.scenario {
        Some(s) => s
            .sim_config(c.variant, c.sites)
            .with_mode(c.mode)
            .with_integrity(integrity)
            .with_rusage(c.rusage),
        None => SimConfig::new(
            c.engine.clone(),
            FrameSequence::Fixed(u32::try_from(c.frames).unwrap_or(u32::MAX)),
            Duration::from_secs_f64(c.seconds),
        )
        .with_drift(c.drift)
        .with_seed(c.seed)
        .with_mode(c.mode)
        .with_integrity(integrity)
        .with_rusage(c.rusage),
    };
    if c.scenario.is_none() {
        // No preset when the layout maps no speaker (passthrough only).
        config.preset = c.preset.clone();
    }
    config.stop = c.stop.clone();
    config
}

/// Runs `c` and builds its report, calling `progress` on this thread
/// about every 50 ms of wall time and once at the end. Writes nothing.
pub fn execute(c: &RunConfig, progress: &mut dyn FnMut(&Progress)) -> Result<Run, RunError> {
    let config = sim_config(c);
    let shared = Arc::new(Shared::default());
    let total = config.duration;
    let tracing = c.trace.is_some();
    let driver = {
        let shared = Arc::clone(&shared);
        let caller = thread::current();
        thread::Builder::new()
            .name("allocgate-sim".to_owned())
            .spawn(move || {
                // Built here: the device buffers hold raw pointers, so a
                // simulation stays on the thread that made it. The trace
                // table too is made before the run: recording into it
                // never allocates.
                let mut table = tracing.then(SiteTable::new);
                let result = Simulation::new(&config)
                    .map_err(RunError::from)
                    .and_then(|mut simulation| match table.as_mut() {
                        Some(t) => trace(t, || drive(&mut simulation, &shared)),
                        None => drive(&mut simulation, &shared),
                    })
                    .map(|driven| (driven, table));
                shared.done.store(true, Ordering::Release);
                caller.unpark();
                result
            })
            .map_err(RunError::Thread)?
    };
    while !shared.done.load(Ordering::Acquire) {
        thread::park_timeout(POLL);
        progress(&shared.progress(total));
    }
    let (driven, table) = match driver.join() {
        Ok(r) => r?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    progress(&shared.progress(total));
    let Driven {
        outcome,
        aggregator,
        outside,
    } = driven;
    let (mut report, aggregates) = assemble(report_config(c), &outcome, aggregator);
    report.harness.driver_outside_callbacks = outside;
    let trace = match (table, &c.trace) {
        (Some(table), Some(tc)) => {
            // Named here, on the calling thread, after the run.
            let groups = engine_sites(&table, &tc.skip);
            report.sites = site_reports(&groups, report.totals.callbacks);
            Some(TraceSummary::of(&table))
        }
        _ => None,
    };
    Ok(Run {
        report,
        aggregates,
        outcome,
        trace,
    })
}

/// Progress, shared between the driver thread (which stores) and the
/// calling thread (which loads): atomics only, so the driver never locks.
#[derive(Debug, Default)]
struct Shared {
    simulated_ns: AtomicU64,
    callbacks: AtomicU64,
    done: AtomicBool,
}

impl Shared {
    fn progress(&self, total: Duration) -> Progress {
        Progress {
            simulated: Duration::from_nanos(self.simulated_ns.load(Ordering::Relaxed)),
            total,
            callbacks: self.callbacks.load(Ordering::Relaxed),
        }
    }
}

struct Driven {
    outcome: Outcome,
    aggregator: Aggregator,
    outside: AllocatorCalls,
}

/// The driver thread's work: the run, measured as a whole.
fn drive(simulation: &mut Simulation, shared: &Shared) -> Result<Driven, RunError> {
    let mut aggregator = Aggregator::new();
    let whole = measure(|| {
        let mut sink = |r: &Record| aggregator.record(r);
        simulation.run_with_progress(&mut sink, &mut |p: &Progress| {
            let ns = u64::try_from(p.simulated.as_nanos()).unwrap_or(u64::MAX);
            shared.simulated_ns.store(ns, Ordering::Relaxed);
            shared.callbacks.store(p.callbacks, Ordering::Relaxed);
        })
    });
    let outcome = whole.value?;
    let mut inside = Counts::new();
    inside.merge(&outcome.input.stats.counts);
    inside.merge(&outcome.output.stats.counts);
    let mut outside = OutsideCalls::default();
    outside.add_cycle(&whole.stats.counts, &inside);
    let outside = AllocatorCalls::from(outside);
    Ok(Driven {
        outcome,
        aggregator,
        outside,
    })
}
