//! `allocgate run --backend jack|coreaudio`: the engine on real audio
//! threads. The engine is built for the server's or device's rate, its
//! callbacks go to the backend, the calling thread collects
//! ([`session::collect`]) and the report has the same shape as the
//! simulated clock's, plus its `backend` section. A run the server or a
//! device ended early still produces the report of what was measured;
//! [`ended_early`] says why. A run stopped through its token ends the
//! stream at a cycle boundary and is reported as interrupted.

use std::time::Duration;

use crate::drive::backend::{Callbacks, Started, Stopped};
use crate::drive::integrity::{Checker, ConvolutionReference};
use crate::drive::outcome::Progress;
use crate::drive::session::{self, Plan, SessionEnd};
use crate::drive::signal::Signal;
use crate::drive::sim::SimError;
use crate::report::{AllocatorCalls, BackendReport, Report};
use allocgate_engine::{Engine, EngineConfig};

use super::{BackendChoice, Run, RunConfig, RunError, assemble, report_config};

/// Why a real run ended before its time, if it did: the report was still
/// written (the CLI exits 2 after it).
pub fn ended_early(run: &Run) -> Option<&str> {
    run.report
        .backend
        .as_ref()
        .and_then(|b| b.ended_early.as_deref())
}

/// A real device pair: the engine built for `rate`, checked by a
/// checker when the harness feeds the input.
struct Prepared {
    engine: Engine,
    checker: Option<Checker>,
}

/// The engine for `channels` input channels at `rate` (a real device's,
/// which may differ from what the flags said), its preset active.
fn prepare(c: &RunConfig, channels: usize, rate: u32, checked: bool) -> Result<Prepared, RunError> {
    let config = EngineConfig {
        sample_rate: rate,
        channels,
        ..c.engine.clone()
    };
    let mut engine = Engine::new(&config).map_err(|e| RunError::Sim(SimError::Engine(e)))?;
    if let Some(preset) = &c.preset {
        engine
            .control
            .activate(preset)
            .map_err(|e| RunError::Sim(SimError::Preset(e)))?;
    }
    let checker = if c.integrity && checked {
        let mut checker = Checker::new(
            ConvolutionReference::default(),
            config.renderer,
            Signal::new(c.seed),
            config.channels,
            rate,
            config.ring_bytes,
            config.convolution,
        );
        if let Some(preset) = &c.preset {
            checker
                .publish(preset)
                .map_err(|e| RunError::Sim(SimError::Preset(e)))?;
        }
        Some(checker)
    } else {
        None
    };
    Ok(Prepared { engine, checker })
}

/// Frames in `seconds` at `rate`, rounded up to whole periods.
fn window_frames(seconds: f64, rate: u32, period: u32) -> u64 {
    let period = u64::from(period.max(1));
    let frames = (seconds * f64::from(rate)).ceil() as u64;
    frames.div_ceil(period) * period
}

/// Wall time a run of `seconds` may take before it is given up on.
fn timeout(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds * 2.0 + 10.0)
}

/// Runs `c` on its real backend and builds the report. Writes nothing.
pub fn execute(c: &RunConfig, progress: &mut dyn FnMut(&Progress)) -> Result<Run, RunError> {
    match &c.backend {
        BackendChoice::Jack {
            server,
            spawn,
            input,
            output,
        } => jack(c, server, *spawn, input, output, progress),
        BackendChoice::CoreAudio { input, output } => {
            coreaudio(c, input.clone(), output.clone(), progress)
        }
        BackendChoice::Sim => unreachable!("the simulated clock runs in run::execute"),
    }
}

#[cfg(all(feature = "jack", target_os = "linux"))]
fn jack(
    c: &RunConfig,
    server: &str,
    spawn: bool,
    input: &[String],
    output: &[String],
    progress: &mut dyn FnMut(&Progress),
) -> Result<Run, RunError> {
    use crate::drive::backend::jack::{self, JackOptions, JackServer};

    let frames = u32::try_from(c.frames).unwrap_or(u32::MAX);
    let _server = match spawn {
        true => Some(
            JackServer::spawn(server, c.engine.sample_rate, frames).map_err(RunError::Backend)?,
        ),
        false => None,
    };
    let connection = jack::connect(&JackOptions {
        server: server.to_owned(),
        channels: c.engine.channels,
        input_ports: input.to_vec(),
        output_ports: output.to_vec(),
    })
    .map_err(RunError::Backend)?;
    let (rate, period) = (connection.sample_rate(), connection.period());
    let prepared = prepare(c, c.engine.channels, rate, connection.plays_signal())?;
    let Engine {
        input: cb_in,
        output: cb_out,
        control,
    } = prepared.engine;
    let window = window_frames(c.seconds, rate, period);
    let started = jack::start(
        connection,
        Callbacks {
            input: cb_in,
            output: cb_out,
            count: true,
            rusage: c.rusage,
        },
        Signal::new(c.seed),
        window,
    )
    .map_err(RunError::Backend)?;
    let end = collect(c, started, prepared.checker, window, rate, progress);
    drop(control);
    Ok(finish(c, c.engine.channels, rate, period, end))
}

#[cfg(not(all(feature = "jack", target_os = "linux")))]
fn jack(
    _: &RunConfig,
    _: &str,
    _: bool,
    _: &[String],
    _: &[String],
    _: &mut dyn FnMut(&Progress),
) -> Result<Run, RunError> {
    use crate::drive::backend::{BackendError, ErrorKind};
    Err(RunError::Backend(BackendError::new(
        ErrorKind::NotBuilt,
        format!(
            "the jack backend is not in this build; {}",
            super::JACK_BUILD_HINT
        ),
    )))
}

fn coreaudio(
    c: &RunConfig,
    input: Option<String>,
    output: Option<String>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Run, RunError> {
    use crate::drive::backend::coreaudio::{self, CoreAudioOptions};

    let frames = u32::try_from(c.frames).unwrap_or(u32::MAX);
    let options = CoreAudioOptions {
        input,
        output,
        frames,
    };
    let prepared_devices = coreaudio::prepare(&options).map_err(RunError::Backend)?;
    let rate = prepared_devices.sample_rate;
    // No recorder hears a CoreAudio output, so there is nothing to check
    // it against (the input is whatever the device captures).
    // The engine takes the input device's channel count, as the
    // binauralizer does.
    let channels = prepared_devices.plan.input_channels as usize;
    let prepared = prepare(c, channels, rate, false)?;
    let Engine {
        input: cb_in,
        output: cb_out,
        control,
    } = prepared.engine;
    let started = coreaudio::start(
        &prepared_devices,
        Callbacks {
            input: cb_in,
            output: cb_out,
            count: true,
            rusage: c.rusage,
        },
    )
    .map_err(RunError::Backend)?;
    let window = window_frames(c.seconds, rate, frames);
    let end = collect(c, started, prepared.checker, window, rate, progress);
    drop(control);
    Ok(finish(c, channels, rate, frames, end))
}

fn collect(
    c: &RunConfig,
    started: Started,
    checker: Option<Checker>,
    frames: u64,
    rate: u32,
    progress: &mut dyn FnMut(&Progress),
) -> SessionEnd {
    session::collect(
        started,
        checker,
        Plan {
            frames,
            sample_rate: rate,
            timeout: timeout(c.seconds),
            stop: c.stop.clone(),
        },
        progress,
    )
}

fn finish(c: &RunConfig, channels: usize, rate: u32, period: u32, end: SessionEnd) -> Run {
    let SessionEnd {
        collected,
        stopped,
        ended_early,
        measurements_lost,
        blocks_lost,
        collector_calls,
    } = end;
    let mut config = report_config(c);
    config.sample_rate = rate;
    config.frames = period;
    config.channels = u32::try_from(channels).unwrap_or(u32::MAX);
    config.mode = "real-time".to_owned();
    let outcome = collected.outcome;
    let (mut report, aggregates): (Report, _) = assemble(config, &outcome, collected.aggregator);
    report.harness.speed = 0.0;
    let (info, outside, idle, stop_error) = match stopped {
        Ok(Stopped {
            info,
            outside_callbacks,
            idle_cycles,
        }) => (info, Some(outside_callbacks), idle_cycles, None),
        Err(e) => (Default::default(), None, 0, Some(e.to_string())),
    };
    report.backend = Some(BackendReport {
        name: c.backend.name().to_owned(),
        input: info.input,
        output: info.output,
        sample_rate: rate,
        period,
        realtime: info.realtime,
        backend_xruns: info.backend_xruns,
        idle_cycles: idle,
        measurements_lost,
        blocks_lost,
        audio_thread_outside_callbacks: outside.map(AllocatorCalls::from),
        collector_thread: AllocatorCalls::from(&collector_calls),
        ended_early: ended_early.or(stop_error),
    });
    Run {
        report,
        aggregates,
        outcome,
        trace: None,
    }
}
