//! The driver end to end, without the counting allocator (this test
//! binary does not install it): determinism, callback counts, drift,
//! xruns, integrity, progress and pacing. Allocation counts are tested in
//! `harness/engine/clock.rs`, where the allocator is installed.

use std::time::Duration;

use super::config::Fault;
use super::*;
use crate::drive::callback::WARM_UP_CALLBACKS;
use crate::drive::integrity::{ConvolutionReference, IntegrityMode, Mismatch, NotChecked, Verdict};
use crate::drive::outcome::{Outcome, Progress};
use crate::drive::signal::Signal;
use crate::drive::sink::RecordLog;
use crate::metrics::Record;
use allocgate_engine::EngineConfig;
use allocgate_engine::preset::Preset;
use allocgate_engine::sites::CallbackKind;

fn passthrough(channels: usize, frames: FrameSequence, duration: Duration) -> SimConfig {
    SimConfig::new(
        EngineConfig::new(channels, 48_000).with_convolution(false),
        frames,
        duration,
    )
    .counting(false)
}

fn kemar(duration: Duration) -> SimConfig {
    SimConfig::new(
        EngineConfig::new(8, 48_000),
        FrameSequence::Fixed(512),
        duration,
    )
    .with_preset(Preset::kemar())
    .counting(false)
}

fn run_logged(config: &SimConfig) -> (Outcome, Vec<Record>) {
    let mut log = RecordLog::with_capacity(config.record_bound());
    let outcome = run(config, &mut log).expect("a valid run");
    assert_eq!(log.overflowed(), 0, "the record bound held");
    (outcome, log.into_records())
}

fn without_wall_times(records: &[Record]) -> Vec<Record> {
    records
        .iter()
        .map(|r| Record { wall_ns: 0, ..*r })
        .collect()
}

fn count(records: &[Record], kind: CallbackKind, f: impl Fn(&Record) -> bool) -> u64 {
    records.iter().filter(|r| r.kind == kind && f(r)).count() as u64
}

#[test]
fn the_same_seed_gives_the_same_records_and_verdict_and_another_seed_does_not() {
    let config = |seed| {
        passthrough(
            8,
            FrameSequence::coreaudio_seeded(seed),
            Duration::from_secs(2),
        )
        .with_drift(Drift::ppm(3000))
        .with_seed(seed)
        .at(Duration::from_millis(700), Action::Restart)
    };
    let (a, ra) = run_logged(&config(5));
    let (b, rb) = run_logged(&config(5));
    assert_eq!(without_wall_times(&ra), without_wall_times(&rb));
    assert_eq!(a.integrity, b.integrity);
    assert_eq!(a.xruns, b.xruns);
    assert!(a.integrity.verdict.passed(), "{}", a.integrity.verdict);
    let (_, rc) = run_logged(&config(6));
    assert_ne!(without_wall_times(&ra), without_wall_times(&rc));
}

#[test]
fn callback_counts_are_fs_times_s_over_n_per_side() {
    // 48 000 × 4 / 512 = 375 and 48 000 × 4 / 480 = 400, exactly.
    for (frames, expected) in [(512, 375), (480, 400), (64, 3000)] {
        let (o, records) = run_logged(&passthrough(
            2,
            FrameSequence::Fixed(frames),
            Duration::from_secs(4),
        ));
        assert_eq!(
            (o.input.all.callbacks, o.output.all.callbacks),
            (expected, expected)
        );
        assert_eq!(records.len() as u64, 2 * expected);
        assert!(o.integrity.verdict.passed(), "N={frames}");
    }
    // 471 + 512 + 553 = 1 536 frames per three callbacks: 4 s at 48 kHz
    // is 125 cycles, 375 callbacks a side.
    let (o, _) = run_logged(&passthrough(
        2,
        FrameSequence::coreaudio_cycle(),
        Duration::from_secs(4),
    ));
    assert_eq!((o.input.all.callbacks, o.output.all.callbacks), (375, 375));
}

#[test]
fn records_carry_the_device_time_frames_period_and_warm_up() {
    let config = passthrough(2, FrameSequence::coreaudio_cycle(), Duration::from_secs(1))
        .at(Duration::from_millis(500), Action::Restart);
    let (_, records) = run_logged(&config);
    let inputs: Vec<&Record> = records
        .iter()
        .filter(|r| r.kind == CallbackKind::Input)
        .collect();
    assert_eq!(
        inputs[..4]
            .iter()
            .map(|r| r.device_time)
            .collect::<Vec<_>>(),
        [0, 471, 983, 1536]
    );
    // 471 / 48 000 s = 9 812 500 ns.
    assert_eq!(inputs[0].period_ns, 9_812_500);
    assert!(inputs.iter().enumerate().all(|(i, r)| r.index == i as u64));
    // Warm-up: the first 16 of each kind, and 16 more after the restart.
    let warm = |kind| count(&records, kind, |r| r.warm_up);
    assert_eq!(warm(CallbackKind::Input), 2 * WARM_UP_CALLBACKS);
    assert_eq!(warm(CallbackKind::Output), 2 * WARM_UP_CALLBACKS);
    // The restart happens at 0.5 s: callbacks from frame 24 000 on.
    let restart = inputs.iter().position(|r| r.device_time >= 24_000).unwrap();
    assert!(inputs[restart].warm_up && !inputs[restart - 1].warm_up);
}

/// Inputs and outputs of 512 frames at 48 kHz within `secs`, the output
/// clock at 48 000 × (1 + ppm · 10⁻⁶) Hz: callbacks fire at frames
/// 0, 512, … below rate × S.
fn callbacks(secs: u64, ppm: i64) -> (u64, u64) {
    let inputs = (48_000 * secs).div_ceil(512);
    let output_frames = (48_000 * secs * (1_000_000 + ppm) as u64).div_ceil(1_000_000);
    (inputs, output_frames.div_ceil(512))
}

#[test]
fn a_fast_output_underruns_once_per_callback_it_gains_on_the_input() {
    // +500 ppm over 64 s: 6 000 inputs, 6 003 outputs. The output period
    // is shorter than the input's, so between two outputs at most one
    // input arrives, and never none twice in a row. An output plays the
    // one input that arrived, or, when none did, finds the ring empty:
    // an underrun (the next one plays again: 512 frames is the
    // threshold). The last output (6 002 × 512 / 48 024 s) follows the
    // last input (5 999 × 512 / 48 000 s), so every input is played and
    // underruns = outputs − inputs = 3.
    let (inputs, outputs) = callbacks(64, 500);
    assert_eq!((inputs, outputs), (6000, 6003));
    let config = passthrough(8, FrameSequence::Fixed(512), Duration::from_secs(64))
        .with_drift(Drift::ppm(500));
    let (o, records) = run_logged(&config);
    assert_eq!(
        (o.input.all.callbacks, o.output.all.callbacks),
        (inputs, outputs)
    );
    assert_eq!(o.xruns.underruns, outputs - inputs);
    assert_eq!(o.xruns.overruns, 0);
    assert_eq!(
        o.xruns.underruns,
        count(&records, CallbackKind::Output, |r| r.underrun)
    );
    assert_eq!(o.integrity.cuts, o.xruns.total());
    assert!(o.integrity.verdict.passed(), "{}", o.integrity.verdict);
}

#[test]
fn a_slow_output_overruns_the_ring_once_its_lead_no_longer_fits() {
    // −500 ppm over 100 s: 9 375 inputs, 9 371 outputs, all playing. Before
    // input k the ring holds k − ceil(0.9995 k) callbacks of 512 frames
    // (32 bytes each at 7.1: 16 384 bytes a callback). The ring keeps
    // 65 535 bytes: a fourth callback does not fit. At k = 6 000 (64 s)
    // the lead reaches 3: the write keeps 16 383 bytes and drops 1,
    // mid-frame, and the ring stays full from then on; at k = 8 000 the
    // lead reaches 4 and a whole write is dropped. Conservation: dropped
    // = (inputs − outputs) × 16 384 − final level, and the last event
    // (an output) leaves 65 535 − 16 384 = 49 151: 4 × 16 384 − 49 151 =
    // 16 385 bytes.
    let (inputs, outputs) = callbacks(100, -500);
    assert_eq!((inputs, outputs), (9375, 9371));
    let config = passthrough(8, FrameSequence::Fixed(512), Duration::from_secs(100))
        .with_drift(Drift::ppm(-500));
    let (o, records) = run_logged(&config);
    assert_eq!(
        (o.input.all.callbacks, o.output.all.callbacks),
        (inputs, outputs)
    );
    assert_eq!(o.xruns.underruns, 0);
    assert_eq!(o.xruns.overruns, 2);
    assert_eq!(o.xruns.bytes_dropped, (inputs - outputs) * 16_384 - 49_151);
    assert_eq!(o.xruns.partial_frames, 1);
    let dropping: Vec<u64> = records
        .iter()
        .filter(|r| r.bytes_dropped > 0)
        .map(|r| r.index)
        .collect();
    assert_eq!(dropping, [6000, 8000]);
    assert_eq!(o.integrity.cuts, o.xruns.total());
    // The model follows the misaligned stream byte for byte.
    assert!(o.integrity.verdict.passed(), "{}", o.integrity.verdict);
}

#[test]
fn passthrough_is_exact_through_varying_frames_drift_restarts_and_mono() {
    for channels in [1, 2, 6, 16] {
        let config = passthrough(
            channels,
            FrameSequence::coreaudio_seeded(1),
            Duration::from_secs(3),
        )
        .with_drift(Drift::ppm(-4000))
        .with_output(DeviceClock {
            sample_rate: 48_000,
            frames: FrameSequence::Cycle(vec![256, 1024, 100]),
        })
        .at(Duration::from_millis(1200), Action::Restart)
        .at(
            Duration::from_millis(2000),
            Action::SetFrames {
                input: Some(FrameSequence::Fixed(4096)),
                output: None,
            },
        );
        let (o, _) = run_logged(&config);
        assert!(o.xruns.total() > 0, "C={channels}: the scenario has xruns");
        assert!(
            o.integrity.verdict.passed(),
            "C={channels}: {}",
            o.integrity.verdict
        );
        assert!(o.integrity.frames_checked > 100_000);
    }
}

#[test]
fn convolution_with_kemar_matches_a_fresh_renderer_set_bit_for_bit() {
    let (o, _) = run_logged(&kemar(Duration::from_secs(2)));
    assert!(o.integrity.verdict.passed(), "{}", o.integrity.verdict);
    // Output callback 0 plays; 188 callbacks of 512 frames.
    assert_eq!(o.integrity.frames_checked, 188 * 512);
}

// Direct convolution costs 16 engines × 558 taps a frame: a few seconds
// per simulated second in a debug build, so these runs are short.
#[test]
fn convolution_with_kemar_matches_direct_convolution_within_tolerance() {
    let config = kemar(Duration::from_millis(200))
        .with_integrity(IntegrityMode::Check(ConvolutionReference::Direct));
    let (o, _) = run_logged(&config);
    assert!(o.integrity.verdict.passed(), "{}", o.integrity.verdict);
    // ceil(9 600 / 512) = 19 callbacks, all playing.
    assert_eq!(o.integrity.frames_checked, 19 * 512);
}

#[test]
fn the_direct_reference_follows_a_preset_switch_and_a_toggle() {
    let short = Preset::from_channels(
        "synthetic",
        44_100,
        allocgate_engine::synthetic::impulse_set(7, 200),
    )
    .unwrap();
    let config = kemar(Duration::from_millis(400))
        .with_integrity(IntegrityMode::Check(ConvolutionReference::Direct))
        .at(
            Duration::from_millis(100),
            Action::SwitchPreset(short.into()),
        )
        .at(Duration::from_millis(200), Action::SetConvolution(false))
        .at(Duration::from_millis(250), Action::SetConvolution(true));
    let (o, _) = run_logged(&config);
    assert!(o.integrity.verdict.passed(), "{}", o.integrity.verdict);
}

#[test]
fn switches_toggles_restarts_and_frame_changes_keep_convolution_checked() {
    let other = Preset::from_channels(
        "synthetic",
        44_100,
        allocgate_engine::synthetic::impulse_set(7, 900),
    )
    .unwrap();
    let config = kemar(Duration::from_secs(3))
        .with_drift(Drift::ppm(800))
        .at(
            Duration::from_millis(500),
            Action::SwitchPreset(other.into()),
        )
        .at(Duration::from_millis(900), Action::SetConvolution(false))
        .at(Duration::from_millis(1300), Action::SetConvolution(true))
        .at(Duration::from_millis(1700), Action::Restart)
        .at(
            Duration::from_millis(2100),
            Action::SetFrames {
                input: Some(FrameSequence::Fixed(1024)),
                output: Some(FrameSequence::Fixed(1024)),
            },
        )
        .at(
            Duration::from_millis(2500),
            Action::SwitchPreset(Preset::kemar().into()),
        );
    let (o, _) = run_logged(&config);
    assert!(o.integrity.verdict.passed(), "{}", o.integrity.verdict);
    assert!(o.xruns.total() > 0);
}

#[test]
fn frames_left_unrendered_are_reported_not_checked_and_do_not_fail() {
    // 768 frames: one block rendered, 256 frames of stale samples, which
    // the checker expects (it models the engine's stereo buffers).
    let mut config = kemar(Duration::from_secs(1));
    config.devices = Devices::matched(48_000, FrameSequence::Fixed(768));
    let (o, records) = run_logged(&config);
    let playing = count(&records, CallbackKind::Output, |r| !r.buffering);
    assert_eq!(
        o.integrity.verdict,
        Verdict::NotChecked(NotChecked::UnrenderedFrames {
            frames: playing * 256
        })
    );
    assert_eq!(
        records
            .iter()
            .map(|r| u64::from(r.frames_unrendered))
            .sum::<u64>(),
        playing * 256
    );
}

#[test]
fn a_flipped_sample_fails_with_its_position_and_values() {
    let signal = Signal::new(0);
    // Lockstep at 512: output callback m plays input frames m × 512 on.
    let mut config = passthrough(8, FrameSequence::Fixed(512), Duration::from_secs(1));
    config.fault = Some(Fault::BumpOutput {
        callback: 40,
        frame: 100,
    });
    let (o, _) = run_logged(&config);
    let expected = signal.sample(0, 40 * 512 + 100);
    assert_eq!(
        o.integrity.verdict,
        Verdict::Fail {
            first_mismatch: Mismatch {
                callback: 40,
                device_time: 40 * 512,
                frame: 100,
                channel: 0,
                expected,
                got: expected + 1.0,
            }
        }
    );
    for reference in [
        ConvolutionReference::Partitioned,
        ConvolutionReference::Direct,
    ] {
        let mut config =
            kemar(Duration::from_millis(250)).with_integrity(IntegrityMode::Check(reference));
        config.fault = Some(Fault::BumpOutput {
            callback: 20,
            frame: 7,
        });
        let (o, _) = run_logged(&config);
        match o.integrity.verdict {
            Verdict::Fail { first_mismatch: m } => {
                assert_eq!(
                    (m.callback, m.frame, m.channel),
                    (20, 7, 0),
                    "{reference:?}"
                );
                assert!((m.got - m.expected - 1.0).abs() < 1e-3, "{m}");
            }
            v => panic!("{reference:?}: {v}"),
        }
    }
}

#[test]
fn progress_comes_at_most_ten_times_a_simulated_second_and_at_the_end() {
    let config = passthrough(2, FrameSequence::Fixed(512), Duration::from_secs(3));
    let mut seen = Vec::new();
    Simulation::new(&config)
        .unwrap()
        .run_with_progress(&mut |_: &Record| {}, &mut |p: &Progress| seen.push(*p))
        .unwrap();
    assert!(seen.len() <= 31, "{}", seen.len());
    assert!(seen.len() >= 29, "{}", seen.len());
    assert!(seen.windows(2).all(|w| w[0].simulated <= w[1].simulated));
    let last = seen.last().unwrap();
    assert_eq!((last.simulated, last.callbacks), (last.total, 2 * 282));
}

#[test]
fn a_paced_run_keeps_to_wall_time_and_says_whether_it_got_real_time_priority() {
    let config = passthrough(2, FrameSequence::Fixed(480), Duration::from_millis(200))
        .with_mode(Mode::Paced);
    let (o, _) = run_logged(&config);
    let pacing = o.pacing.expect("paced runs report pacing");
    assert_eq!(
        pacing.wakeups,
        o.input.all.callbacks + o.output.all.callbacks
    );
    // The last callbacks fire at 190 ms; the run cannot end before.
    assert!(o.wall >= Duration::from_millis(190), "{:?}", o.wall);
    assert!(o.speed() < 1.1);
    assert!(o.integrity.verdict.passed());
    println!("paced: {}, {pacing:?}", pacing.realtime);
}

#[test]
fn errors_say_what_was_wrong() {
    let config = SimConfig::new(
        EngineConfig::new(3, 48_000),
        FrameSequence::Fixed(512),
        Duration::from_secs(1),
    )
    .with_preset(Preset::kemar())
    .counting(false);
    let e = Simulation::new(&config).unwrap_err();
    assert!(e.to_string().starts_with("no renderers"), "{e}");
}

#[test]
fn a_partial_frame_under_convolution_is_followed_exactly_or_reported_as_misaligned() {
    // −5 %: the input gains a callback every 20; the ring (2 047 frames at
    // 7.1) overflows mid-frame once the lead reaches three callbacks, well
    // within the first second.
    let config = kemar(Duration::from_secs(1)).with_drift(Drift::ppm(-50_000));
    let (o, _) = run_logged(&config);
    assert!(o.xruns.partial_frames > 0);
    // The fresh renderer set is fed the same misaligned floats and must
    // match bit for bit.
    assert!(o.integrity.verdict.passed(), "{}", o.integrity.verdict);
    let (o, _) =
        run_logged(&config.with_integrity(IntegrityMode::Check(ConvolutionReference::Direct)));
    assert_eq!(
        o.integrity.verdict,
        Verdict::NotChecked(NotChecked::Misaligned)
    );
}

#[test]
fn a_stop_ends_the_run_at_a_callback_boundary_and_the_outcome_covers_what_ran() {
    use crate::interrupt::{Interrupt, Stop};

    // 48 kHz, 512 frames, both devices: callbacks at k·512/48 000 s, the
    // input's first at each instant. The sink asks for the stop during
    // the 2n-th callback (output n-1); the next event, input n, never runs.
    let stop = Stop::new();
    let config = kemar(Duration::from_secs(10)).with_stop(stop.clone());
    let n = 40u64;
    let mut seen = 0u64;
    let mut sink = |_: &Record| {
        seen += 1;
        if seen == 2 * n {
            stop.request(Interrupt::Sigterm);
        }
    };
    let outcome = run(&config, &mut sink).expect("a valid run");
    assert_eq!(outcome.interrupted, Some(Interrupt::Sigterm));
    assert_eq!(
        (outcome.input.all.callbacks, outcome.output.all.callbacks),
        (n, n)
    );
    assert_eq!(
        outcome.simulated,
        Duration::from_nanos(n * 512 * 1_000_000_000 / 48_000),
        "the time of input callback {n}, the first that did not run"
    );
    assert!(
        outcome.integrity.verdict.passed(),
        "what ran is checked as a run of its own: {:?}",
        outcome.integrity.verdict
    );

    // The same run without a request runs to its end, unmarked.
    let whole = run(
        &kemar(Duration::from_secs(10)).with_stop(Stop::new()),
        &mut |_: &Record| {},
    )
    .expect("a valid run");
    assert_eq!(whole.interrupted, None);
    assert_eq!(whole.simulated, Duration::from_secs(10));
    assert_eq!(whole.input.all.callbacks, (10 * 48_000_u64).div_ceil(512));
}

#[test]
fn a_stop_requested_before_the_start_runs_no_callback() {
    use crate::interrupt::{Interrupt, Stop};

    let stop = Stop::new();
    stop.request(Interrupt::Sigint);
    let mut reached = Vec::new();
    let outcome = Simulation::new(&kemar(Duration::from_secs(1)).with_stop(stop))
        .expect("a valid run")
        .run_with_progress(&mut |_: &Record| panic!("no callback runs"), &mut |p| {
            reached.push(p.simulated)
        })
        .expect("a valid run");
    assert_eq!(outcome.interrupted, Some(Interrupt::Sigint));
    assert_eq!(
        outcome.input.all.callbacks + outcome.output.all.callbacks,
        0
    );
    assert_eq!(outcome.simulated, Duration::ZERO);
    assert_eq!(
        reached,
        [Duration::ZERO],
        "the last progress is where it stopped"
    );
}
