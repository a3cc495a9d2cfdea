//! Uniform partitioned overlap-save convolution (docs/engine.md, "The
//! audio path"), on `realfft`: block B = 512, FFT size 2B, P = ceil(taps /
//! B) partitions, each transformed once at set-up; per block one forward
//! FFT, a multiply-accumulate over a frequency-domain delay line of P
//! spectra, one inverse FFT. Every buffer is allocated in
//! [`Convolver::new`]; a block step uses `process_with_scratch` and
//! allocates nothing unless a site ([`Site::ScaleArray`],
//! [`Site::DebugPrint`]) is switched on.

use std::fmt;
use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};

use crate::sites::temporaries::{debug_print, scale_array};
use crate::sites::{DEBUG_PRINT_STEPS, Site, SiteSet};

/// Frames per block step.
pub const BLOCK: usize = 512;
/// FFT length: two blocks, [previous | current].
pub const FFT_SIZE: usize = 2 * BLOCK;
/// Bins of a real FFT of [`FFT_SIZE`] (DC to Nyquist).
pub const BINS: usize = FFT_SIZE / 2 + 1;

/// One speaker's impulse responses: `[left ear, right ear]`, a convolver's
/// filter each.
pub type EarFilters = [Vec<f32>; 2];

/// The forward and inverse FFT plans, shared by every engine.
///
/// Convolvers hold clones of these `Arc`s; whoever builds renderer sets
/// keeps one `FftPlans` alive, so dropping a convolver never frees a plan.
#[derive(Clone)]
pub struct FftPlans {
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
    /// Complex transforms of [`FFT_SIZE`], for two real signals packed
    /// into one ([`crate::spectral`]).
    complex_forward: Arc<dyn Fft<f32>>,
    complex_inverse: Arc<dyn Fft<f32>>,
}

impl FftPlans {
    /// Plans the real and complex transforms of [`FFT_SIZE`].
    pub fn new() -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let mut complex = FftPlanner::<f32>::new();
        FftPlans {
            forward: planner.plan_fft_forward(FFT_SIZE),
            inverse: planner.plan_fft_inverse(FFT_SIZE),
            complex_forward: complex.plan_fft_forward(FFT_SIZE),
            complex_inverse: complex.plan_fft_inverse(FFT_SIZE),
        }
    }

    /// Scratch every transform can use.
    pub(crate) fn scratch_len(&self) -> usize {
        [
            self.forward.get_scratch_len(),
            self.inverse.get_scratch_len(),
            self.complex_forward.get_inplace_scratch_len(),
            self.complex_inverse.get_inplace_scratch_len(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }

    /// `FFT_SIZE` complex samples to their spectrum, in place.
    pub(crate) fn complex_forward(&self, buffer: &mut [Complex32], scratch: &mut [Complex32]) {
        self.complex_forward.process_with_scratch(buffer, scratch);
    }

    /// `FFT_SIZE` bins to complex samples, in place, unnormalised.
    pub(crate) fn complex_inverse(&self, buffer: &mut [Complex32], scratch: &mut [Complex32]) {
        self.complex_inverse.process_with_scratch(buffer, scratch);
    }

    /// `FFT_SIZE` real samples (clobbered) to `BINS` bins.
    pub(crate) fn forward(
        &self,
        time: &mut [f32],
        spectrum: &mut [Complex32],
        scratch: &mut [Complex32],
    ) {
        self.forward
            .process_with_scratch(time, spectrum, scratch)
            .expect("buffers were sized for this plan");
    }
}

impl Default for FftPlans {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for FftPlans {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FftPlans").field("len", &FFT_SIZE).finish()
    }
}

/// Why a convolver could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConvolverError {
    /// The impulse response has no taps.
    EmptyFilter,
}

impl fmt::Display for ConvolverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConvolverError::EmptyFilter => {
                f.write_str("impulse response has 0 taps; expected at least 1")
            }
        }
    }
}

impl std::error::Error for ConvolverError {}

/// One ear's convolution engine for one speaker.
pub struct Convolver {
    plans: FftPlans,
    partitions: usize,
    /// Spectra of the filter's partitions, `partitions × BINS`.
    filter: Vec<Complex32>,
    /// Frequency-domain delay line: spectra of past input blocks,
    /// `partitions × BINS`, newest at `head`.
    fdl: Vec<Complex32>,
    head: usize,
    /// The previous input block.
    previous: Vec<f32>,
    /// FFT input [previous | current]; the forward transform clobbers it.
    time: Vec<f32>,
    spectrum: Vec<Complex32>,
    accumulator: Vec<Complex32>,
    /// Inverse FFT output; the last `BLOCK` samples are the block's output.
    output: Vec<f32>,
    scratch: Vec<Complex32>,
    steps: u64,
    debug_prints: u64,
}

impl fmt::Debug for Convolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Convolver")
            .field("partitions", &self.partitions)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

impl Convolver {
    /// Partitions the impulse response, transforms each partition, and
    /// allocates every buffer a block step needs. Off the audio thread.
    pub fn new(impulse_response: &[f32], plans: &FftPlans) -> Result<Self, ConvolverError> {
        if impulse_response.is_empty() {
            return Err(ConvolverError::EmptyFilter);
        }
        let partitions = impulse_response.len().div_ceil(BLOCK);
        let scratch_len = plans
            .forward
            .get_scratch_len()
            .max(plans.inverse.get_scratch_len());
        let mut scratch = vec![Complex32::default(); scratch_len];
        let mut filter = vec![Complex32::default(); partitions * BINS];
        let mut padded = vec![0.0f32; FFT_SIZE];
        for (part, spectrum) in impulse_response
            .chunks(BLOCK)
            .zip(filter.chunks_exact_mut(BINS))
        {
            padded.fill(0.0);
            padded[..part.len()].copy_from_slice(part);
            plans
                .forward
                .process_with_scratch(&mut padded, spectrum, &mut scratch)
                .expect("buffer lengths come from the plan's own length");
        }
        Ok(Convolver {
            plans: plans.clone(),
            partitions,
            filter,
            fdl: vec![Complex32::default(); partitions * BINS],
            head: 0,
            previous: vec![0.0; BLOCK],
            time: vec![0.0; FFT_SIZE],
            spectrum: vec![Complex32::default(); BINS],
            accumulator: vec![Complex32::default(); BINS],
            output: vec![0.0; FFT_SIZE],
            scratch,
            steps: 0,
            debug_prints: 0,
        })
    }

    /// Partitions of the filter (P).
    pub fn partitions(&self) -> usize {
        self.partitions
    }

    /// Block steps made so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Heap blocks this convolver owns: each of its buffers with a
    /// non-zero capacity (filter, delay line, previous block, FFT input,
    /// spectrum, accumulator, FFT output, scratch). Dropping it frees
    /// exactly these; the FFT plans are shared and outlive it.
    pub fn heap_blocks(&self) -> usize {
        [
            self.filter.capacity(),
            self.fdl.capacity(),
            self.previous.capacity(),
            self.time.capacity(),
            self.spectrum.capacity(),
            self.accumulator.capacity(),
            self.output.capacity(),
            self.scratch.capacity(),
        ]
        .iter()
        .filter(|&&c| c > 0)
        .count()
    }

    /// Convolves one block of [`BLOCK`] samples and returns the block's
    /// output. Audio thread: allocates nothing unless `sites` switches on
    /// [`Site::ScaleArray`] (two 36-byte requests) or [`Site::DebugPrint`]
    /// (one line on each of the first two steps).
    ///
    /// Never inlined, so that a site trace names it as the scale arrays'
    /// function.
    ///
    /// # Panics
    ///
    /// If `input` is not [`BLOCK`] samples long (a caller bug).
    #[inline(never)]
    pub fn process_block(&mut self, input: &[f32], sites: SiteSet) -> &[f32] {
        assert_eq!(input.len(), BLOCK, "convolver input must be one block");
        self.time[..BLOCK].copy_from_slice(&self.previous);
        self.time[BLOCK..].copy_from_slice(input);
        self.previous.copy_from_slice(input);
        self.plans
            .forward
            .process_with_scratch(&mut self.time, &mut self.spectrum, &mut self.scratch)
            .expect("buffers were sized for this plan");

        self.head = if self.head == 0 {
            self.partitions - 1
        } else {
            self.head - 1
        };
        let head = self.head * BINS;
        self.fdl[head..head + BINS].copy_from_slice(&self.spectrum);

        self.accumulator.fill(Complex32::default());
        for p in 0..self.partitions {
            let slot = (self.head + p) % self.partitions * BINS;
            let past = &self.fdl[slot..slot + BINS];
            let h = &self.filter[p * BINS..(p + 1) * BINS];
            for ((acc, x), h) in self.accumulator.iter_mut().zip(past).zip(h) {
                *acc += x * h;
            }
        }

        // realfft is unnormalised: inverse(forward(x)) = FFT_SIZE · x.
        // The binauralizer passes its scale as two one-element arrays, one for
        // the real parts and one for the imaginary parts.
        let scale = 1.0 / FFT_SIZE as f32;
        if sites.contains(Site::ScaleArray) {
            let re = scale_array(scale);
            let im = scale_array(scale);
            self.scale_accumulator(re.element, im.element);
        } else {
            self.scale_accumulator(scale, scale);
        }
        // DC and Nyquist of a product of real spectra are real; clear the
        // rounding residue realfft would reject.
        self.accumulator[0].im = 0.0;
        self.accumulator[BINS - 1].im = 0.0;
        self.plans
            .inverse
            .process_with_scratch(&mut self.accumulator, &mut self.output, &mut self.scratch)
            .expect("buffers were sized for this plan");

        if sites.contains(Site::DebugPrint) && self.debug_prints < DEBUG_PRINT_STEPS {
            self.print_debug_line();
        }
        self.steps += 1;
        &self.output[BLOCK..]
    }

    /// [`Site::DebugPrint`]: the block step's debug line, in a function of
    /// its own (never inlined; `black_box` keeps the call from becoming a
    /// tail call) so a site trace tells it from the scale arrays.
    #[inline(never)]
    fn print_debug_line(&mut self) {
        debug_print(self.partitions);
        self.debug_prints += 1;
        std::hint::black_box(&mut self.debug_prints);
    }

    /// Convolves one block and adds the result into `accumulator` (the
    /// renderer's mix of every speaker into one ear). Audio thread: as
    /// [`process_block`](Self::process_block).
    pub fn process_and_accumulate(
        &mut self,
        input: &[f32],
        accumulator: &mut [f32],
        sites: SiteSet,
    ) {
        let out = self.process_block(input, sites);
        for (a, y) in accumulator.iter_mut().zip(out) {
            *a += y;
        }
    }

    /// Clears the delay line and the previous block (the filter stays).
    pub fn reset(&mut self) {
        self.previous.fill(0.0);
        self.fdl.fill(Complex32::default());
        self.head = 0;
    }

    fn scale_accumulator(&mut self, re: f32, im: f32) {
        for c in self.accumulator.iter_mut() {
            c.re *= re;
            c.im *= im;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic;

    /// Linear convolution in f64, the reference.
    fn direct(x: &[f32], h: &[f32]) -> Vec<f64> {
        let mut y = vec![0.0f64; x.len()];
        for (n, out) in y.iter_mut().enumerate() {
            for (k, &hk) in h.iter().enumerate().take(n + 1) {
                *out += f64::from(hk) * f64::from(x[n - k]);
            }
        }
        y
    }

    fn convolve_blocks(h: &[f32], x: &[f32]) -> Vec<f32> {
        let plans = FftPlans::new();
        let mut c = Convolver::new(h, &plans).unwrap();
        x.chunks(BLOCK)
            .flat_map(|b| c.process_block(b, SiteSet::EMPTY).to_vec())
            .collect()
    }

    /// Largest error against the reference, relative to the bound
    /// max|x| · Σ|h| on any output sample.
    fn relative_error(h: &[f32], x: &[f32]) -> f64 {
        let y = convolve_blocks(h, x);
        let r = direct(x, h);
        let bound = x.iter().fold(0.0f64, |m, v| m.max(f64::from(v.abs())))
            * h.iter().map(|v| f64::from(v.abs())).sum::<f64>();
        y.iter()
            .zip(&r)
            .map(|(a, b)| (f64::from(*a) - b).abs())
            .fold(0.0, f64::max)
            / bound
    }

    /// Tolerance: single-precision FFT round-off, about ε·log2(2B) times a
    /// small constant, against the worst-case output magnitude.
    const TOLERANCE: f64 = 1e-5;

    #[test]
    fn one_partition_equals_direct_convolution() {
        for taps in [1, 2, 100, 511, 512] {
            let h = synthetic::decaying_noise(taps, 7 + taps as u64);
            let x = synthetic::noise(BLOCK * 6, 3);
            let e = relative_error(&h, &x);
            assert!(e < TOLERANCE, "taps {taps}: relative error {e:e}");
        }
    }

    #[test]
    fn several_partitions_equal_direct_convolution() {
        for taps in [513, 558, 1500, 4096] {
            let h = synthetic::decaying_noise(taps, taps as u64);
            let x = synthetic::noise(BLOCK * 12, 11);
            let e = relative_error(&h, &x);
            assert!(e < TOLERANCE, "taps {taps}: relative error {e:e}");
        }
    }

    #[test]
    fn kemar_filters_equal_direct_convolution() {
        let kemar = crate::preset::Preset::kemar();
        for ear in [0, 1, 7, 13] {
            let h = kemar.channel(ear).unwrap();
            let x = synthetic::noise(BLOCK * 8, ear as u64);
            let e = relative_error(h, &x);
            assert!(e < TOLERANCE, "KEMAR channel {ear}: relative error {e:e}");
        }
    }

    #[test]
    fn a_unit_impulse_filter_delays_by_its_tap() {
        let mut h = vec![0.0; 700];
        h[600] = 1.0;
        let x = synthetic::noise(BLOCK * 4, 5);
        let y = convolve_blocks(&h, &x);
        for n in 600..x.len() {
            assert!((y[n] - x[n - 600]).abs() < 1e-5, "sample {n}");
        }
    }

    #[test]
    fn partitions_are_taps_over_the_block_rounded_up() {
        let plans = FftPlans::new();
        for (taps, p) in [(1, 1), (512, 1), (513, 2), (558, 2), (4096, 8)] {
            let c = Convolver::new(&vec![0.1; taps], &plans).unwrap();
            assert_eq!(c.partitions(), p, "{taps} taps");
        }
        assert_eq!(
            Convolver::new(&[], &plans).unwrap_err(),
            ConvolverError::EmptyFilter
        );
    }

    #[test]
    fn reset_forgets_past_input() {
        let plans = FftPlans::new();
        let h = synthetic::decaying_noise(900, 1);
        let mut c = Convolver::new(&h, &plans).unwrap();
        let x = synthetic::noise(BLOCK, 2);
        let first = c.process_block(&x, SiteSet::EMPTY).to_vec();
        c.process_block(&x, SiteSet::EMPTY);
        c.reset();
        assert_eq!(c.process_block(&x, SiteSet::EMPTY), &first[..]);
    }
}
