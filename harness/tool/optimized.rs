//! The `optimized` variant: allocation-free in every default scenario,
//! its output checked everywhere (no unrendered frames to excuse), equal
//! to `fixed` within the stated tolerance one block later, the same for
//! any frame count, and its sites counted exactly.

use allocgate_engine::block_fifo::FIFO_LATENCY;
use allocgate_engine::layout::Layout;
use allocgate_engine::preset::Preset;
use allocgate_engine::renderer::{RenderMode, mapped_impulse_responses};
use allocgate_engine::sites::{Site, SiteSet};
use allocgate_engine::spectral::SPECTRAL_TOLERANCE;
use allocgate_engine::variant::Variant;
use allocgate_engine::{EngineConfig, synthetic};
use allocgate_tool::gate::expect::measured;
use allocgate_tool::gate::{GateConfig, run_matrix, run_scenario};
use allocgate_tool::scenario;

use crate::rig::Rig;

fn optimized(sites: SiteSet) -> GateConfig {
    GateConfig {
        variant: Variant::Optimized,
        sites,
        integrity: true,
        trace_sites: false,
        rusage: allocgate::hazard::RUSAGE_SUPPORTED,
        c_level: false,
    }
}

#[test]
fn the_default_matrix_on_optimized_allocates_nothing_and_every_output_checks() {
    let all = scenario::defaults().unwrap();
    let outcome = run_matrix(&all, &optimized(SiteSet::EMPTY), &mut |_| {}).unwrap();
    for r in &outcome.results {
        assert!(r.callbacks.0 > 0 && r.callbacks.1 > 0, "{}: ran", r.name);
        assert_eq!(r.counts.calls(), 0, "{}", r.name);
        assert!(r.expected.is_zero() && r.mismatch.is_none(), "{}", r.name);
        // `fixed` leaves frames unrendered in the scenarios whose frame
        // counts are not multiples of 512, and those go unchecked; here
        // every frame is rendered, so every scenario's output is checked
        // and passes, bit for bit against a fresh spectral set.
        assert!(r.integrity.passed(), "{}: {}", r.name, r.integrity);
        assert!(r.passed(), "{}", r.name);
    }
    assert!(outcome.passed());
}

#[test]
fn each_supported_site_alone_is_counted_exactly_on_optimized() {
    let all = scenario::defaults().unwrap();
    for site in Site::ALL {
        if Variant::Optimized.unsupported().contains(site) {
            continue;
        }
        let mut caught = false;
        for s in &all {
            let r = run_scenario(s, &optimized(SiteSet::only(site))).unwrap();
            assert_eq!(r.mismatch, None, "{site} in {}", s.name);
            assert_eq!(measured(&r.counts), r.expected, "{site} in {}", s.name);
            caught |= r.counts.calls() > 0;
        }
        // The snapshot is a lock, and the hazard sites sleep, fault or
        // wait: none of them is an allocation.
        assert_eq!(caught, site.calls_allocator(), "{site}");
    }
}

#[test]
fn the_sites_that_live_in_the_reference_convolver_are_refused() {
    for site in ["scale-array", "debug-print"] {
        let e =
            allocgate_tool::cli::variant_and_sites("optimized", &[site.to_owned()]).unwrap_err();
        assert!(e.to_string().contains(site), "{e}");
        assert!(!e.to_string().contains('\n'));
    }
    assert!(
        allocgate_tool::cli::variant_and_sites("optimized", &["underrun-log".to_owned()]).is_ok()
    );
}

/// The played left and right streams of `callbacks` lockstep callback
/// pairs of `frames` frames on `variant`, KEMAR 7.1, and the frames of
/// buffering silence before playback started.
fn play(variant: Variant, frames: usize, callbacks: usize) -> (Vec<f32>, Vec<f32>, usize) {
    let config = EngineConfig::new(8, 48_000).with_variant(variant, SiteSet::EMPTY);
    let mut rig = Rig::new(&config, 2);
    rig.engine.control.activate(&Preset::kemar()).unwrap();
    let (mut left, mut right, mut silent) = (Vec::new(), Vec::new(), 0);
    for _ in 0..callbacks {
        assert!(rig.input(frames).stats.is_allocation_free());
        let o = rig.output(frames);
        assert!(o.stats.is_allocation_free(), "{}", o.stats);
        assert_eq!(o.report.frames_unrendered, 0, "{} frames", frames);
        if o.report.buffering {
            silent += frames;
            continue;
        }
        left.extend(rig.out_channel(0, frames));
        right.extend(rig.out_channel(1, frames));
    }
    (left, right, silent)
}

/// The largest output KEMAR's 7.1 filters can give for the rig's signal,
/// whose channel `c` stays below `c + 1`: per ear, Σ over speakers of
/// (c + 1) · Σ|h|, the larger ear.
fn kemar_bound() -> f32 {
    let mapped =
        mapped_impulse_responses(&Preset::kemar(), &Layout::for_channels(8), 48_000).unwrap();
    (0..2)
        .map(|ear| {
            mapped
                .iter()
                .enumerate()
                .map(|(c, (_, ears))| {
                    (c + 1) as f32 * ears[ear].iter().map(|v| v.abs()).sum::<f32>()
                })
                .sum::<f32>()
        })
        .fold(0.0, f32::max)
}

#[test]
fn optimized_plays_what_fixed_plays_one_block_later_within_the_tolerance() {
    let tolerance = SPECTRAL_TOLERANCE * kemar_bound();
    for frames in [512, 1024, 2048] {
        let callbacks = 40 * 512 / frames;
        let (fl, fr, f_silent) = play(Variant::Fixed, frames, callbacks);
        let (ol, or, o_silent) = play(Variant::Optimized, frames, callbacks);
        assert_eq!(f_silent, o_silent, "both buffer alike");
        assert_eq!(RenderMode::Spectral.latency_frames(), FIFO_LATENCY);
        // The first block out of the FIFO is silence, then fixed's output.
        assert!(ol[..FIFO_LATENCY].iter().all(|&x| x == 0.0));
        let mut worst = 0.0f32;
        for t in 0..fl.len() - FIFO_LATENCY {
            for (f, o) in [(&fl, &ol), (&fr, &or)] {
                worst = worst.max((f[t] - o[t + FIFO_LATENCY]).abs());
            }
        }
        assert!(
            worst <= tolerance,
            "{frames} frames: worst difference {worst:e} against {tolerance:e}"
        );
        let loudest = fl.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(
            loudest > 0.1,
            "{frames} frames: fixed played {loudest}: not silence"
        );
    }
}

#[test]
fn optimized_renders_the_same_stream_whatever_the_frame_count() {
    let total = 30 * 512;
    let (rl, rr, _) = play(Variant::Optimized, 512, total / 512);
    for frames in [1, 100, 128, 471, 1000] {
        let (l, r, _) = play(Variant::Optimized, frames, total / frames);
        let n = l.len().min(rl.len());
        assert!(n > 20 * 512, "{frames}: {n} frames played");
        // The same blocks reach the renderer whatever N, so the rendered
        // stream is the same sample for sample, bit for bit.
        assert_eq!(&l[..n], &rl[..n], "{frames} frames, left");
        assert_eq!(&r[..n], &rr[..n], "{frames} frames, right");
    }
}

#[test]
fn a_synthetic_set_renders_one_speaker_per_channel_past_what_hesuvi_maps() {
    let filters = synthetic::ear_filters(16, 600);
    for variant in [Variant::Fixed, Variant::Optimized] {
        let config = EngineConfig::new(16, 48_000).with_variant(variant, SiteSet::EMPTY);
        let mut rig = Rig::new(&config, 2);
        let a = rig
            .engine
            .control
            .activate_filters("synthetic", &filters)
            .unwrap();
        assert_eq!((a.renderers, a.partitions), (16, 2), "{}", variant.name());
        let mut loudest = 0.0f32;
        for _ in 0..6 {
            rig.input(512);
            let o = rig.output(512);
            assert!(o.stats.is_allocation_free());
            loudest = rig
                .out_channel(0, 512)
                .iter()
                .fold(loudest, |m, x| m.max(x.abs()));
        }
        assert!(loudest > 0.1, "{}: {loudest}", variant.name());
    }
}
