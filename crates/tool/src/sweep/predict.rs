//! What a steady run should cost, from the site formulas alone: a model of
//! the simulated clock and the engine's buffering, with no engine run.
//!
//! For a run without drift or scheduled actions, with N frames per
//! callback on both devices at `rate`, the clock fires callback `k` of each
//! device at frame `k·N` while `k·N/rate` is before the end, the input
//! first: `ceil(S·rate/N)` callbacks a side. The model follows the ring in
//! bytes (each input callback writes `N·C·4` bytes, cut short when the ring
//! is full; the output callback buffers until the ring holds `512·C·4`,
//! then reads `N·C·4`, and an underrun sends it back to buffering), and
//! hands each callback's context to [`SiteSet::expected`]: renderers and
//! `floor(N/512)` blocks when the output callback renders, the block steps
//! made before it, whether it is the first, whether it underran. The sum
//! over the run is the exact prediction a measured run must equal.
//!
//! The steady figure is the cost of one callback pair long after start-up
//! (the model's callback [`STEADY_INDEX`]) times `rate / N` callbacks a
//! second: what the site formulas say a long run tends to.

use std::time::Duration;

use allocgate_engine::buffers::BYTES_PER_SAMPLE;
use allocgate_engine::convolver::BLOCK;
use allocgate_engine::layout::{HesuviMap, Layout};
use allocgate_engine::output::BUFFERING_FRAMES;
use allocgate_engine::sites::SiteSet;
use allocgate_engine::sites::expected::{CallbackContext, Expected};

/// The callback pair whose cost stands for the steady state: past every
/// start-up path (buffering needs at most 512 callbacks, at N = 1; debug
/// lines stop after two block steps).
pub const STEADY_INDEX: u64 = 1024;

/// One configuration to predict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    /// Switched-on sites.
    pub sites: SiteSet,
    /// Both devices' sample rate, in Hz.
    pub rate: u32,
    /// Frames per callback N, on both devices.
    pub frames: usize,
    /// Input channels C.
    pub channels: usize,
    /// Renderers of the active set (each reads one input channel).
    pub renderers: usize,
    /// Simulated duration.
    pub duration: Duration,
    /// Ring capacity in bytes (one byte is always kept empty).
    pub ring_bytes: usize,
}

/// The predicted allocator calls of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prediction {
    /// Callbacks of each kind.
    pub callbacks: u64,
    /// Every input callback's calls added up.
    pub input: Expected,
    /// Every output callback's calls added up.
    pub output: Expected,
    /// One steady input callback.
    pub steady_input: Expected,
    /// One steady output callback.
    pub steady_output: Expected,
    /// Output callbacks that render (not buffering).
    pub rendering_callbacks: u64,
    /// Output callbacks that underran.
    pub underruns: u64,
}

impl Prediction {
    /// Steady allocations a second, input and output together:
    /// `(steady input + steady output) × rate / N`.
    pub fn steady_allocations_per_second(&self, rate: u32, frames: usize) -> f64 {
        let per_pair = self.steady_input.allocations + self.steady_output.allocations;
        per_pair as f64 * f64::from(rate) / frames as f64
    }
}

/// Callbacks a device fires in `duration` at `rate` with `frames` frames
/// each: callback `k` fires at frame `k·N`, which is inside the run while
/// `k·N·10⁹ < S_ns·rate`, so there are `ceil(S_ns·rate / (N·10⁹))`.
pub fn callbacks(rate: u32, frames: usize, duration: Duration) -> u64 {
    let reach = duration.as_nanos() * u128::from(rate);
    let step = frames.max(1) as u128 * 1_000_000_000;
    u64::try_from(reach.div_ceil(step)).unwrap_or(u64::MAX)
}

/// Renderers a device of `channels` channels gets from a HeSuVi preset of
/// `preset_channels` channels: one per speaker of the channel count's
/// layout that the preset's map covers (heights and generic channels are
/// not covered).
pub fn renderers(channels: usize, preset_channels: usize) -> usize {
    let map = HesuviMap::for_preset_channels(preset_channels);
    Layout::for_channels(channels)
        .speakers()
        .iter()
        .filter(|&&s| map.indices(s).is_some())
        .count()
}

/// The ring and the output callback's buffering, in bytes.
#[derive(Debug)]
struct Model {
    capacity: usize,
    held: usize,
    buffering: bool,
    steps: u64,
}

/// One modelled callback pair.
#[derive(Debug)]
struct Pair {
    input: CallbackContext,
    output: CallbackContext,
}

impl Model {
    fn pair(&mut self, p: &Point, k: u64) -> Pair {
        let bytes = p.frames * p.channels * BYTES_PER_SAMPLE;
        // Input k: the whole callback, or what fits.
        self.held += bytes.min(self.capacity - self.held);
        // Output k, at the same instant, after the input.
        let mut output = CallbackContext {
            first: k == 0,
            max_frames_before: if k == 0 { 0 } else { p.frames },
            ..CallbackContext::output(p.channels, p.frames)
        };
        if self.buffering && self.held >= BUFFERING_FRAMES * p.channels * BYTES_PER_SAMPLE {
            self.buffering = false;
        }
        if !self.buffering {
            let read = bytes.min(self.held);
            self.held -= read;
            if read < bytes {
                output.underrun = true;
                self.buffering = true;
            }
            let blocks = p.frames / BLOCK;
            output.renderers = p.renderers.min(p.channels);
            output.blocks = blocks;
            output.steps_before = self.steps;
            self.steps += blocks as u64;
        }
        Pair {
            input: CallbackContext::input(p.channels, p.frames),
            output,
        }
    }
}

/// The prediction for `p`.
pub fn predict(p: &Point) -> Prediction {
    let mut model = Model {
        capacity: p.ring_bytes.saturating_sub(1),
        held: 0,
        buffering: true,
        steps: 0,
    };
    let n = callbacks(p.rate, p.frames, p.duration);
    let mut out = Prediction {
        callbacks: n,
        ..Prediction::default()
    };
    for k in 0..n.max(STEADY_INDEX + 1) {
        let pair = model.pair(p, k);
        let input = p.sites.expected(&pair.input);
        let output = p.sites.expected(&pair.output);
        if k < n {
            out.input = out.input + input;
            out.output = out.output + output;
            out.rendering_callbacks += u64::from(pair.output.renderers > 0);
            out.underruns += u64::from(pair.output.underrun);
        }
        if k == STEADY_INDEX {
            out.steady_input = input;
            out.steady_output = output;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use allocgate_engine::ring::RING_BYTES;
    use allocgate_engine::sites::Site;
    use allocgate_engine::variant::Variant;

    fn point(sites: SiteSet, rate: u32, frames: usize, channels: usize, secs: u64) -> Point {
        Point {
            sites,
            rate,
            frames,
            channels,
            renderers: renderers(channels, 14),
            duration: Duration::from_secs(secs),
            ring_bytes: RING_BYTES,
        }
    }

    #[test]
    fn callbacks_are_the_frames_in_the_run_over_n_rounded_up() {
        assert_eq!(callbacks(48_000, 512, Duration::from_secs(16)), 1_500);
        // 480 000 / 512 = 937.5: frames 0 … 937·512 = 479 744 < 480 000.
        assert_eq!(callbacks(48_000, 512, Duration::from_secs(10)), 938);
        assert_eq!(callbacks(44_100, 441, Duration::from_secs(2)), 200);
        assert_eq!(callbacks(192_000, 1024, Duration::from_millis(500)), 94);
    }

    #[test]
    fn the_kemar_preset_renders_every_named_speaker_but_the_heights() {
        // Stereo FL FR; 5.1 FL FR FC LFE BL BR (LFE takes FC's filters);
        // 7.1 adds SL SR; 7.1.4's four heights have no HeSuVi filters.
        assert_eq!(renderers(2, 14), 2);
        assert_eq!(renderers(6, 14), 6);
        assert_eq!(renderers(8, 14), 8);
        assert_eq!(renderers(12, 14), 8);
        assert_eq!(renderers(12, 7), 8);
        for generic in [1, 3, 16] {
            assert_eq!(renderers(generic, 14), 0, "{generic} channels");
        }
    }

    #[test]
    fn prefix_at_7_1_48k_512_for_10_s_is_32_scale_arrays_a_callback_and_32_debug_lines() {
        let p = predict(&point(Variant::Prefix.sites(), 48_000, 512, 8, 10));
        // 938 callbacks, each rendering one block with 16 engines: 2 × 16
        // scale arrays; each engine prints on its first two blocks: 32.
        assert_eq!(p.callbacks, 938);
        assert_eq!(p.rendering_callbacks, 938);
        assert_eq!(p.output.allocations, 32 * 938 + 32);
        assert_eq!(p.output.deallocations, 32 * 938 + 32);
        assert!(p.input.is_zero());
        assert_eq!(p.steady_output.allocations, 32);
        assert_eq!(p.steady_allocations_per_second(48_000, 512), 3_000.0);
    }

    #[test]
    fn twelve_thousand_a_second_is_7_1_at_192k_with_whole_blocks() {
        // 32 scale arrays per 512 frames rendered: rate / 16 a second.
        for frames in [512, 1024, 2048] {
            let p = predict(&point(Variant::Prefix.sites(), 192_000, frames, 8, 1));
            assert_eq!(
                p.steady_allocations_per_second(192_000, frames),
                12_000.0,
                "{frames}"
            );
        }
        // 7.1.4 has the same 8 renderers; stereo a quarter of them.
        let p = predict(&point(Variant::Prefix.sites(), 192_000, 512, 12, 1));
        assert_eq!(p.steady_allocations_per_second(192_000, 512), 12_000.0);
        let p = predict(&point(Variant::Prefix.sites(), 192_000, 512, 2, 1));
        assert_eq!(p.steady_allocations_per_second(192_000, 512), 3_000.0);
    }

    #[test]
    fn under_512_frames_nothing_is_rendered_so_prefix_makes_nothing() {
        // N = 128: the output buffers for three callbacks (128, 256, 384
        // frames held), starts on the fourth, and renders floor(128/512)
        // = 0 blocks on every callback.
        let p = predict(&point(Variant::Prefix.sites(), 48_000, 128, 8, 1));
        assert_eq!(p.callbacks, 375);
        assert_eq!(p.rendering_callbacks, 375 - 3);
        assert!(p.output.is_zero());
        // N = 768 renders one block per callback, 256 frames left over.
        let p = predict(&point(Variant::Prefix.sites(), 48_000, 768, 8, 1));
        assert_eq!(p.callbacks, 63); // 48 000 / 768 = 62.5
        assert_eq!(p.output.allocations, 32 * 63 + 32);
        assert_eq!(p.steady_allocations_per_second(48_000, 768), 2_000.0);
    }

    #[test]
    fn debug_lines_come_on_the_first_two_blocks_even_within_one_callback() {
        // N = 1024: two blocks in the first callback, so every engine
        // prints twice there and never again.
        let p = predict(&point(SiteSet::only(Site::DebugPrint), 48_000, 1024, 2, 1));
        assert_eq!(p.output.allocations, 2 * 2 * 2);
        assert!(p.steady_output.is_zero());
    }

    #[test]
    fn the_seed_input_callback_costs_2_plus_c_allocations_each_time() {
        // abl + pointer array + C channel buffers; the array reallocates
        // once growing past 4 pointers (8 channels), twice past 8 (12).
        let p = predict(&point(Variant::Seed.sites(), 96_000, 256, 8, 2));
        assert_eq!(p.callbacks, 750);
        assert_eq!(p.input.allocations, 10 * 750);
        assert_eq!(p.input.reallocations, 750);
        assert!(p.output.is_zero());
        assert_eq!(p.steady_allocations_per_second(96_000, 256), 3_750.0);
        let p = predict(&point(Variant::Seed.sites(), 44_100, 1024, 12, 2));
        assert_eq!(p.callbacks, 87); // 88 200 / 1024 = 86.1
        assert_eq!(p.input.allocations, 14 * 87);
        assert_eq!(p.input.reallocations, 2 * 87);
    }

    #[test]
    fn a_callback_larger_than_the_ring_underruns_every_time_but_still_renders() {
        // 16 channels of 1024 frames are 65 536 bytes; the ring holds
        // 65 535: every input is cut short, every output underruns (and
        // logs it), and after each underrun the next callback finds the
        // threshold met at once.
        let sites = SiteSet::of(&[Site::UnderrunLog, Site::ScaleArray]);
        let p = predict(&Point {
            renderers: 8,
            ..point(sites, 48_000, 1024, 16, 1)
        });
        assert_eq!(p.callbacks, 47);
        assert_eq!(p.underruns, 47);
        assert_eq!(p.rendering_callbacks, 47);
        assert_eq!(p.output.allocations, 47 * (1 + 2 * 16 * 2));
    }

    #[test]
    fn fixed_predicts_nothing() {
        let p = predict(&point(Variant::Fixed.sites(), 192_000, 1024, 12, 2));
        assert!(p.input.is_zero() && p.output.is_zero());
        assert_eq!(p.steady_allocations_per_second(192_000, 1024), 0.0);
    }
}
