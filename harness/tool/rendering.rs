//! The HRIR renderer through the whole engine: mixing, maps, the
//! unrendered remainder, presets, publication, and zero allocations in
//! `fixed`.

use allocgate::measure;
use allocgate_engine::EngineConfig;
use allocgate_engine::convolver::BLOCK;
use allocgate_engine::layout::{HesuviMap, Layout};
use allocgate_engine::preset::Preset;
use allocgate_engine::renderer::ActivateError;
use allocgate_engine::synthetic;

use crate::rig::{Rig, signal};

fn synthetic_preset(channels: usize, taps: usize) -> Preset {
    Preset::from_channels("synthetic", 48_000, synthetic::impulse_set(channels, taps))
        .expect("a valid synthetic preset")
}

/// y = x * h, first `len` samples, in f64.
fn convolve(x: &[f32], h: &[f32], len: usize) -> Vec<f64> {
    (0..len)
        .map(|n| {
            h.iter()
                .enumerate()
                .take(n + 1)
                .map(|(k, &hk)| f64::from(hk) * f64::from(x[n - k]))
                .sum()
        })
        .collect()
}

#[test]
fn the_renderer_mixes_every_speaker_through_its_mapped_filters() {
    for (preset_channels, device_channels) in [(14, 8), (7, 8), (14, 6), (14, 2), (7, 12)] {
        let preset = synthetic_preset(preset_channels, 558);
        let mut rig = Rig::new(&EngineConfig::new(device_channels, 48_000), 2);
        rig.engine.control.activate(&preset).unwrap();
        let callbacks = 5;
        let total = callbacks * BLOCK;
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for _ in 0..callbacks {
            rig.input(BLOCK);
            let o = rig.output(BLOCK);
            assert!(!o.report.buffering && o.report.rendered_blocks == 1);
            assert!(o.stats.is_allocation_free(), "{}", o.stats);
            left.extend(rig.out_channel(0, BLOCK));
            right.extend(rig.out_channel(1, BLOCK));
        }
        // Offline: each speaker the map covers, convolved with its two ears'
        // impulse responses, summed.
        let map = HesuviMap::for_preset_channels(preset_channels);
        let (mut want_l, mut want_r) = (vec![0.0f64; total], vec![0.0f64; total]);
        let speakers = Layout::for_channels(device_channels);
        let mapped: Vec<_> = speakers
            .speakers()
            .iter()
            .filter_map(|s| map.indices(*s))
            .collect();
        for (c, (li, ri)) in mapped.into_iter().enumerate() {
            let x: Vec<f32> = (0..total as u64).map(|n| signal(c, n)).collect();
            for (acc, ir) in [(&mut want_l, li), (&mut want_r, ri)] {
                let y = convolve(&x, preset.channel(ir).unwrap(), total);
                acc.iter_mut().zip(y).for_each(|(a, v)| *a += v);
            }
        }
        let scale = want_l
            .iter()
            .chain(&want_r)
            .fold(0.0f64, |m, v| m.max(v.abs()));
        for (got, want, ear) in [(&left, &want_l, "left"), (&right, &want_r, "right")] {
            let err = got
                .iter()
                .zip(want)
                .map(|(g, w)| (f64::from(*g) - w).abs())
                .fold(0.0, f64::max);
            assert!(
                err <= 1e-5 * scale,
                "{preset_channels}-ch preset, {device_channels}-ch device, {ear}: error {err:e} of {scale:e}"
            );
        }
    }
}

#[test]
fn frames_past_the_last_whole_block_are_left_unrendered() {
    let preset = synthetic_preset(14, 558);
    let mut rig = Rig::new(&EngineConfig::new(8, 48_000), 2);
    rig.engine.control.activate(&preset).unwrap();
    rig.input(700);
    let o = rig.output(700);
    assert_eq!(
        (o.report.rendered_blocks, o.report.frames_unrendered),
        (1, 188)
    );
    // The stereo buffers were never written past frame 512: still zero.
    assert!(rig.out_channel(0, 700)[BLOCK..].iter().all(|&x| x == 0.0));
    assert!(rig.out_channel(0, 700)[..BLOCK].iter().any(|&x| x != 0.0));
    let before = rig.out_channel(0, 256);
    rig.input(256);
    let o = rig.output(256);
    assert_eq!(
        (o.report.rendered_blocks, o.report.frames_unrendered),
        (0, 256)
    );
    assert_eq!(
        rig.out_channel(0, 256),
        before,
        "N < 512 replays stale samples"
    );
}

#[test]
fn a_16_channel_device_with_a_14_channel_preset_has_no_renderers() {
    let mut rig = Rig::new(&EngineConfig::new(16, 48_000), 2);
    let err = rig
        .engine
        .control
        .activate(&synthetic_preset(14, 64))
        .unwrap_err();
    assert!(matches!(err, ActivateError::NoRenderers { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("no renderers") && msg.contains("16 channel"),
        "{msg}"
    );
    // With no set, convolution copies channels 0 and 1 through.
    rig.input(512);
    rig.output(512);
    assert_eq!(
        rig.out_channel(1, 3),
        [signal(1, 0), signal(1, 1), signal(1, 2)]
    );
}

#[test]
fn fixed_never_allocates_or_frees_in_a_callback_across_preset_switches_and_toggles() {
    let presets = [synthetic_preset(14, 558), synthetic_preset(7, 1500)];
    let mut rig = Rig::new(&EngineConfig::new(8, 48_000), 2);
    let mut callbacks = 0;
    for round in 0..6 {
        let preset = &presets[round % 2];
        let built = measure(|| rig.engine.control.activate(preset).unwrap());
        assert!(
            built.stats.counts.allocations > 0,
            "building happens here, off the audio thread"
        );
        rig.engine.control.set_convolution(round != 3);
        for frames in [512, 1024, 700, 256, 4096, 512] {
            let i = rig.input(frames);
            let o = rig.output(frames);
            for (what, s) in [("input", &i.stats), ("output", &o.stats)] {
                assert!(
                    s.is_allocation_free(),
                    "round {round} {what} N={frames}: {s}"
                );
            }
            callbacks += 2;
        }
        // The set replaced in this round came back to be freed here.
        let freed = measure(|| rig.engine.control.collect_retired());
        assert_eq!(freed.value, usize::from(round > 0));
        if round > 0 {
            assert!(freed.stats.counts.deallocations > 0);
        }
    }
    assert_eq!(callbacks, 72);
}

#[test]
fn the_kemar_preset_is_resampled_to_the_device_rate() {
    // 558 taps at 48 kHz: 513 at 44.1 kHz (2 partitions), 1 116 at 96 kHz
    // (3 partitions), 558 at 48 kHz (2 partitions).
    let kemar = Preset::kemar();
    for (rate, partitions) in [(44_100, 2), (48_000, 2), (96_000, 3)] {
        let mut rig = Rig::new(&EngineConfig::new(8, rate), 2);
        let a = rig.engine.control.activate(&kemar).unwrap();
        assert_eq!((a.renderers, a.partitions), (8, partitions), "{rate} Hz");
        for _ in 0..4 {
            assert!(rig.input(512).stats.is_allocation_free());
            let o = rig.output(512);
            assert!(o.stats.is_allocation_free(), "{rate} Hz: {}", o.stats);
            assert_eq!(o.report.rendered_blocks, 1);
        }
        assert!(rig.out_channel(0, 512).iter().any(|&x| x != 0.0));
    }
}

#[test]
fn kemar_places_the_side_left_speaker_in_the_left_ear() {
    // Only the SL channel (index 6 of 7.1) carries signal: the left ear
    // must be louder than the right by the head's shadow (over 6 dB).
    let mut rig = Rig::new(&EngineConfig::new(8, 48_000), 2);
    rig.engine.control.activate(&Preset::kemar()).unwrap();
    let (mut l, mut r) = (0.0f64, 0.0f64);
    for _ in 0..8 {
        rig.input_with(512, |c, n| if c == 6 { signal(0, n) - 0.5 } else { 0.0 });
        rig.output(512);
        l += rig
            .out_channel(0, 512)
            .iter()
            .map(|x| f64::from(x * x))
            .sum::<f64>();
        r += rig
            .out_channel(1, 512)
            .iter()
            .map(|x| f64::from(x * x))
            .sum::<f64>();
    }
    let db = 10.0 * (l / r).log10();
    assert!(db > 6.0, "left over right: {db:.1} dB");
}
