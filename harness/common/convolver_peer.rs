//! Our partitioned convolver and `fft-convolver` on the same filters and
//! input, shared by the engine tests' `convolver_peer` module and the `convolver` bench.
//!
//! Ours is uniform partitioned overlap-save, fft-convolver's is zero-latency
//! uniform partitioned overlap-add, both with blocks of 512 on `realfft`:
//! from a cleared state both compute the linear convolution, so their
//! outputs agree sample for sample up to single-precision FFT round-off,
//! from the first block on.

use allocgate_engine::convolver::{BLOCK, Convolver, FftPlans};
use allocgate_engine::preset::Preset;
use allocgate_engine::sites::SiteSet;
use allocgate_engine::synthetic;
use fft_convolver::FFTConvolver;

/// Taps of the synthetic filter: 8 partitions.
pub const SYNTHETIC_TAPS: usize = 4096;

/// Largest allowed difference between the two outputs, relative to
/// max|x| · Σ|h| (the bound on any output sample): each stays within 1e-5
/// of the direct convolution (the convolver's own tests), so within twice
/// that of each other.
pub const TOLERANCE: f64 = 2e-5;

/// The 558-tap KEMAR filter: the embedded preset's channel 0 (2 partitions).
pub fn kemar_filter() -> Vec<f32> {
    Preset::kemar()
        .channel(0)
        .expect("the embedded preset has 14 channels")
        .to_vec()
}

/// A 4 096-tap synthetic filter (decaying noise, 60 dB over its length).
pub fn synthetic_filter() -> Vec<f32> {
    synthetic::decaying_noise(SYNTHETIC_TAPS, 4096)
}

/// fft-convolver set up for `h` with our block size.
pub fn fft_convolver(h: &[f32]) -> FFTConvolver<f32> {
    let mut c = FFTConvolver::default();
    c.init(BLOCK, h).expect("a non-zero block size");
    c
}

/// What the two convolvers' outputs for `x` (whole blocks) say about each
/// other.
#[derive(Debug, Clone, Copy)]
pub struct Agreement {
    /// Largest |ours − theirs| over every sample, relative to
    /// max|x| · Σ|h|.
    pub relative_difference: f64,
    /// Largest |ours| relative to the same bound: the comparison is not
    /// between two silent outputs.
    pub relative_peak: f64,
}

/// Runs both convolvers, fresh, block by block over `x` and compares
/// every output sample.
pub fn compare(h: &[f32], x: &[f32]) -> Agreement {
    assert_eq!(x.len() % BLOCK, 0, "whole blocks");
    let plans = FftPlans::new();
    let mut ours = Convolver::new(h, &plans).expect("a non-empty filter");
    let mut theirs = fft_convolver(h);
    let mut their_out = vec![0.0f32; BLOCK];
    let (mut difference, mut peak) = (0.0f32, 0.0f32);
    for block in x.chunks_exact(BLOCK) {
        theirs
            .process(block, &mut their_out)
            .expect("equal input and output lengths");
        let our_out = ours.process_block(block, SiteSet::EMPTY);
        for (a, b) in our_out.iter().zip(&their_out) {
            difference = difference.max((a - b).abs());
            peak = peak.max(a.abs());
        }
    }
    let bound = f64::from(x.iter().fold(0.0f32, |m, v| m.max(v.abs())))
        * h.iter().map(|v| f64::from(v.abs())).sum::<f64>();
    Agreement {
        relative_difference: f64::from(difference) / bound,
        relative_peak: f64::from(peak) / bound,
    }
}
