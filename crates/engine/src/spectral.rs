//! The `optimized` renderer's block step: the reference engine's
//! convolution with its waste removed. The reference convolves every
//! speaker for each ear on its own, so a 512-frame block of 7.1 costs 16
//! forward FFTs, 16 inverse FFTs and 16 scale passes. Here each input
//! channel is transformed once and its spectrum shared by both ears, every
//! speaker is accumulated into each ear in the frequency domain, and each
//! ear is transformed back once: C forward and 2 inverse real transforms
//! per block. Two real signals ride in one complex FFT (one as the real
//! part, one as the imaginary part, separated by the spectrum's
//! symmetry), so that is ⌈C/2⌉ + 1 complex FFTs of 1 024 points: 5 for
//! 7.1. The scales (1/FFT_SIZE, and the separation's 1/2) are folded into
//! the filter spectra at set-up.
//!
//! The arithmetic is the same overlap-save as [`Convolver`](crate::convolver::Convolver)
//! (block 512, FFT 1 024, the same partitions), summed in another order,
//! so the output equals the reference's within single-precision round-off
//! ([`SPECTRAL_TOLERANCE`]), not bit for bit.

use std::fmt;

use realfft::num_complex::Complex32;

use crate::block_fifo::BlockRender;
use crate::buffers::Planar;
use crate::convolver::{BINS, BLOCK, ConvolverError, EarFilters, FFT_SIZE, FftPlans};

/// Largest difference accepted between this renderer's output and the
/// reference renderer's for the same input, relative to the largest output
/// the filters can produce (the sum of the active filters' absolute taps ×
/// the input's peak). Both are single-precision FFT convolutions of the
/// same blocks, within 10⁻⁶ each of direct convolution (the integrity
/// check's direct tolerance), so of each other within twice that.
pub const SPECTRAL_TOLERANCE: f32 = 2e-6;

/// One block step for every speaker at once. See the
/// [module documentation](self).
pub struct SpectralMixer {
    plans: FftPlans,
    speakers: usize,
    partitions: usize,
    /// Per speaker, per partition: the left ear's spectrum then the
    /// right's, each scaled by 1/FFT_SIZE, split into real and imaginary
    /// parts (so the multiply-accumulate vectorises);
    /// `speakers × partitions × 2` [`Split`] spectra.
    filters: Vec<f32>,
    /// Per speaker: the spectra of its past `partitions` input blocks, a
    /// ring with the newest at `head`; `speakers × partitions` [`Split`]
    /// spectra.
    delay_line: Vec<f32>,
    head: usize,
    /// Per speaker: the previous input block; `speakers × BLOCK`.
    previous: Vec<f32>,
    /// Two signals packed into one, real and imaginary parts: two
    /// speakers' [previous | current], or the two ears' mixes.
    packed: Vec<Complex32>,
    /// The two ears' mixes, split: left re, left im, right re, right im.
    mix: Vec<f32>,
    scratch: Vec<Complex32>,
    /// The processor has AVX2: the block step runs its AVX2 flavour.
    avx2: bool,
}

/// Floats of one split spectrum: `BINS` real parts, then `BINS`
/// imaginary parts.
const SPLIT: usize = 2 * BINS;

impl fmt::Debug for SpectralMixer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpectralMixer")
            .field("speakers", &self.speakers)
            .field("partitions", &self.partitions)
            .finish_non_exhaustive()
    }
}

impl SpectralMixer {
    /// Transforms every speaker's two filters, partitioned as the
    /// reference does (P = ceil(taps / 512), the longest filter's P for
    /// all), and allocates every buffer a block step needs. Off the audio
    /// thread.
    pub fn new(filters: &[EarFilters], plans: &FftPlans) -> Result<SpectralMixer, ConvolverError> {
        if filters.iter().flatten().any(|h| h.is_empty()) {
            return Err(ConvolverError::EmptyFilter);
        }
        let speakers = filters.len();
        let partitions = filters
            .iter()
            .flatten()
            .map(|h| h.len().div_ceil(BLOCK))
            .max()
            .unwrap_or(1);
        let mut scratch = vec![Complex32::default(); plans.scratch_len()];
        let mut spectrum = vec![Complex32::default(); BINS];
        let mut spectra = vec![0.0f32; speakers * partitions * 2 * SPLIT];
        let mut padded = vec![0.0f32; FFT_SIZE];
        // The transforms are unnormalised (1/FFT_SIZE), and the packed
        // forward transform yields each spectrum doubled (1/2).
        let scale = 0.5 / FFT_SIZE as f32;
        for (s, ears) in filters.iter().enumerate() {
            for (ear, h) in ears.iter().enumerate() {
                for (p, part) in h.chunks(BLOCK).enumerate() {
                    padded.fill(0.0);
                    for (d, x) in padded.iter_mut().zip(part) {
                        *d = x * scale;
                    }
                    plans.forward(&mut padded, &mut spectrum, &mut scratch);
                    let at = ((s * partitions + p) * 2 + ear) * SPLIT;
                    split(&spectrum, &mut spectra[at..at + SPLIT]);
                }
            }
        }
        Ok(SpectralMixer {
            plans: plans.clone(),
            speakers,
            partitions,
            filters: spectra,
            delay_line: vec![0.0; speakers * partitions * SPLIT],
            head: 0,
            previous: vec![0.0; speakers * BLOCK],
            packed: vec![Complex32::default(); FFT_SIZE],
            mix: vec![0.0; 2 * SPLIT],
            scratch,
            avx2: has_avx2(),
        })
    }

    /// Speakers it renders.
    pub fn speakers(&self) -> usize {
        self.speakers
    }

    /// Partitions per filter (P, the longest filter's).
    pub fn partitions(&self) -> usize {
        self.partitions
    }

    /// Heap blocks it owns, each freed when it is dropped: filters, delay
    /// line, previous blocks, packed transform, the ears' mixes, scratch (the FFT plans are shared and outlive it).
    pub fn heap_blocks(&self) -> usize {
        [
            self.filters.capacity(),
            self.delay_line.capacity(),
            self.previous.capacity(),
            self.packed.capacity(),
            self.mix.capacity(),
            self.scratch.capacity(),
        ]
        .iter()
        .filter(|&&c| c > 0)
        .count()
    }

    /// Renders one [`BLOCK`] of the first `channels` planar channels
    /// (speaker `i` reads channel `i`; speakers past `channels` hear
    /// silence, as the reference leaves them unfed) into `left` and
    /// `right`. Audio thread: never allocates.
    ///
    /// # Panics
    ///
    /// If `left` or `right` is shorter than a block (a caller bug).
    pub fn process_block(
        &mut self,
        input: &Planar,
        channels: usize,
        left: &mut [f32],
        right: &mut [f32],
    ) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the processor reports AVX2
            // (checked in `new`), which is all the function requires.
            unsafe { self.process_block_avx2(input, channels, left, right) };
            return;
        }
        self.step(input, channels, left, right);
    }

    /// [`step`](Self::step) compiled for AVX2: the same code, with its
    /// loops vectorised eight floats wide instead of four. The same
    /// operations in the same order, so the same results.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn process_block_avx2(
        &mut self,
        input: &Planar,
        channels: usize,
        left: &mut [f32],
        right: &mut [f32],
    ) {
        self.step(input, channels, left, right);
    }

    /// The block step itself; inlined into each compiled flavour of
    /// [`process_block`](Self::process_block).
    #[inline(always)]
    fn step(&mut self, input: &Planar, channels: usize, left: &mut [f32], right: &mut [f32]) {
        let active = self.speakers.min(channels);
        let p_count = self.partitions;
        self.head = if self.head == 0 {
            p_count - 1
        } else {
            self.head - 1
        };
        for a in (0..active).step_by(2) {
            let b = (a + 1 < active).then_some(a + 1);
            self.transform_pair(input, a, b);
        }

        self.mix.fill(0.0);
        let (mix_left, mix_right) = self.mix.split_at_mut(SPLIT);
        for s in 0..active {
            for p in 0..p_count {
                let slot = (self.head + p) % p_count;
                let x = &self.delay_line[(s * p_count + slot) * SPLIT..][..SPLIT];
                let h = &self.filters[(s * p_count + p) * 2 * SPLIT..][..2 * SPLIT];
                let (hl, hr) = h.split_at(SPLIT);
                multiply_accumulate(mix_left, mix_right, x, hl, hr);
            }
        }

        pack_ears(mix_left, mix_right, &mut self.packed);
        self.plans
            .complex_inverse(&mut self.packed, &mut self.scratch);
        for ((l, r), y) in left[..BLOCK]
            .iter_mut()
            .zip(&mut right[..BLOCK])
            .zip(&self.packed[BLOCK..])
        {
            *l = y.re;
            *r = y.im;
        }
    }

    /// Speakers `a` and `b` (or `a` alone): their [previous | current]
    /// blocks as the real and imaginary parts of one complex FFT, the two
    /// spectra separated into the delay line's newest slots.
    #[inline(always)]
    fn transform_pair(&mut self, input: &Planar, a: usize, b: Option<usize>) {
        const SILENCE: [f32; BLOCK] = [0.0; BLOCK];
        let current = |s: Option<usize>| s.map_or(&SILENCE[..], |s| &input.channel(s)[..BLOCK]);
        let (xa, xb) = (current(Some(a)), current(b));
        {
            let previous = |s: Option<usize>| {
                s.map_or(&SILENCE[..], |s| &self.previous[s * BLOCK..(s + 1) * BLOCK])
            };
            let (pa, pb) = (previous(Some(a)), previous(b));
            let (old, new) = self.packed.split_at_mut(BLOCK);
            for (z, (&re, &im)) in old.iter_mut().zip(pa.iter().zip(pb)) {
                *z = Complex32::new(re, im);
            }
            for (z, (&re, &im)) in new.iter_mut().zip(xa.iter().zip(xb)) {
                *z = Complex32::new(re, im);
            }
        }
        self.previous[a * BLOCK..(a + 1) * BLOCK].copy_from_slice(xa);
        if let Some(b) = b {
            self.previous[b * BLOCK..(b + 1) * BLOCK].copy_from_slice(xb);
        }
        self.plans
            .complex_forward(&mut self.packed, &mut self.scratch);

        // Z = A + iB with A, B the spectra of real signals, so
        // A[k] = (Z[k] + conj Z[N−k]) / 2 and B[k] = (Z[k] − conj Z[N−k]) / 2i;
        // the halves are in the filters. Speaker b's slot lies after a's.
        let slot = |s: usize| (s * self.partitions + self.head) * SPLIT;
        let (at_a, at_b) = (slot(a), b.map(slot));
        let (front, back) = self.delay_line.split_at_mut(at_b.unwrap_or(at_a + SPLIT));
        let (a_re, a_im) = front[at_a..at_a + SPLIT].split_at_mut(BINS);
        let z = &self.packed[..FFT_SIZE];
        let mirrored = |k: usize| z[(FFT_SIZE - k) % FFT_SIZE];
        match b {
            Some(_) => {
                let (b_re, b_im) = back[..SPLIT].split_at_mut(BINS);
                for k in 0..BINS {
                    let (p, q, m) = (z[k].re, z[k].im, mirrored(k));
                    a_re[k] = p + m.re;
                    a_im[k] = q - m.im;
                    b_re[k] = q + m.im;
                    b_im[k] = m.re - p;
                }
            }
            None => {
                for k in 0..BINS {
                    let (p, q, m) = (z[k].re, z[k].im, mirrored(k));
                    a_re[k] = p + m.re;
                    a_im[k] = q - m.im;
                }
            }
        }
    }

    /// Clears the delay line and the previous blocks (the filters stay).
    pub fn reset(&mut self) {
        self.previous.fill(0.0);
        self.delay_line.fill(0.0);
        self.head = 0;
    }
}

impl BlockRender for SpectralMixer {
    fn render_block(
        &mut self,
        input: &Planar,
        channels: usize,
        left: &mut [f32],
        right: &mut [f32],
    ) {
        self.process_block(input, channels, left, right);
    }
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Splits `spectrum` into its real parts, then its imaginary parts.
fn split(spectrum: &[Complex32], out: &mut [f32]) {
    let (re, im) = out.split_at_mut(BINS);
    for ((c, r), i) in spectrum.iter().zip(re).zip(im) {
        *r = c.re;
        *i = c.im;
    }
}

/// The full spectrum of `l + i·r` from the half spectra (split) of the
/// real signals `l` and `r`: bin k is L[k] + i·R[k], and bin N−k is
/// conj L[k] + i·conj R[k]. DC and Nyquist of L and R are taken as real
/// (their imaginary parts are rounding residue).
#[inline(always)]
fn pack_ears(left: &[f32], right: &[f32], packed: &mut [Complex32]) {
    let (lr, li) = left[..SPLIT].split_at(BINS);
    let (rr, ri) = right[..SPLIT].split_at(BINS);
    packed[0] = Complex32::new(lr[0], rr[0]);
    packed[BINS - 1] = Complex32::new(lr[BINS - 1], rr[BINS - 1]);
    for k in 1..BINS - 1 {
        let (a, b, c, d) = (lr[k], li[k], rr[k], ri[k]);
        packed[k] = Complex32::new(a - d, b + c);
        packed[FFT_SIZE - k] = Complex32::new(a + d, c - b);
    }
}

/// `left += x · hl` and `right += x · hr`, bin by bin, on split spectra:
/// each input spectrum read once for both ears, in loops the compiler
/// vectorises.
#[inline(always)]
fn multiply_accumulate(left: &mut [f32], right: &mut [f32], x: &[f32], hl: &[f32], hr: &[f32]) {
    // Every slice cut to exactly BINS, so the loop carries no bounds
    // check and vectorises.
    let (lr, li) = left[..SPLIT].split_at_mut(BINS);
    let (rr, ri) = right[..SPLIT].split_at_mut(BINS);
    let (xr, xi) = x[..SPLIT].split_at(BINS);
    let (hlr, hli) = hl[..SPLIT].split_at(BINS);
    let (hrr, hri) = hr[..SPLIT].split_at(BINS);
    for k in 0..BINS {
        let (a, b) = (xr[k], xi[k]);
        lr[k] += a * hlr[k] - b * hli[k];
        li[k] += a * hli[k] + b * hlr[k];
        rr[k] += a * hrr[k] - b * hri[k];
        ri[k] += a * hri[k] + b * hrr[k];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::renderer::{RenderMode, RendererSet};
    use crate::sites::SiteSet;
    use crate::synthetic;

    fn filters(speakers: usize, taps: usize) -> Vec<EarFilters> {
        synthetic::ear_filters(speakers, taps)
    }

    fn planar(channels: usize, frames: usize, seed: u64) -> Planar {
        let mut p = Planar::new(channels, frames);
        for c in 0..channels {
            p.channel_mut(c)
                .copy_from_slice(&synthetic::noise(frames, seed + c as u64));
        }
        p
    }

    /// The largest output the filters can produce for input in [-1, 1).
    fn bound(filters: &[EarFilters], channels: usize) -> f32 {
        (0..2)
            .map(|ear| {
                filters
                    .iter()
                    .take(channels)
                    .map(|f| f[ear].iter().map(|v| v.abs()).sum::<f32>())
                    .sum::<f32>()
            })
            .fold(0.0, f32::max)
    }

    #[test]
    fn one_block_step_equals_the_reference_renderer_within_tolerance() {
        let plans = FftPlans::new();
        for (speakers, channels, taps) in [(8, 8, 558), (2, 2, 4096), (8, 6, 1500), (3, 8, 1)] {
            let f = filters(speakers, taps);
            let mut reference =
                RendererSet::from_filters("t", &f, RenderMode::PerSpeaker, &plans).unwrap();
            let mut mixer = SpectralMixer::new(&f, &plans).unwrap();
            let tolerance = SPECTRAL_TOLERANCE * bound(&f, channels);
            let (mut rl, mut rr) = (vec![0.0; BLOCK], vec![0.0; BLOCK]);
            let (mut ml, mut mr) = (vec![0.0; BLOCK], vec![0.0; BLOCK]);
            for block in 0..12 {
                let x = planar(channels, BLOCK, 100 * block);
                reference.render(&x, channels, BLOCK, &mut rl, &mut rr, SiteSet::EMPTY);
                mixer.process_block(&x, channels, &mut ml, &mut mr);
                for (a, b) in rl.iter().chain(&rr).zip(ml.iter().chain(&mr)) {
                    assert!(
                        (a - b).abs() <= tolerance,
                        "{speakers} speakers, {taps} taps, block {block}: {a} against {b} (tolerance {tolerance:e})"
                    );
                }
            }
        }
    }

    #[test]
    fn both_flavours_of_the_block_step_agree_bit_for_bit() {
        if !has_avx2() {
            eprintln!("no AVX2 on this processor: one flavour only, nothing to compare");
            return;
        }
        let plans = FftPlans::new();
        let f = filters(7, 1500);
        let mut wide = SpectralMixer::new(&f, &plans).unwrap();
        let mut narrow = SpectralMixer::new(&f, &plans).unwrap();
        narrow.avx2 = false;
        let (mut wl, mut wr) = (vec![0.0; BLOCK], vec![0.0; BLOCK]);
        let (mut nl, mut nr) = (vec![0.0; BLOCK], vec![0.0; BLOCK]);
        for block in 0..5 {
            let x = planar(8, BLOCK, 7 * block);
            wide.process_block(&x, 8, &mut wl, &mut wr);
            narrow.process_block(&x, 8, &mut nl, &mut nr);
            assert_eq!((&wl, &wr), (&nl, &nr), "block {block}");
        }
    }

    #[test]
    fn reset_forgets_past_input_and_empty_filters_are_refused() {
        let plans = FftPlans::new();
        let f = filters(2, 900);
        let mut m = SpectralMixer::new(&f, &plans).unwrap();
        assert_eq!((m.speakers(), m.partitions()), (2, 2));
        let x = planar(2, BLOCK, 9);
        let (mut l, mut r) = (vec![0.0; BLOCK], vec![0.0; BLOCK]);
        m.process_block(&x, 2, &mut l, &mut r);
        let first = (l.clone(), r.clone());
        m.process_block(&x, 2, &mut l, &mut r);
        assert_ne!(first.0, l, "the second block hears the first");
        m.reset();
        m.process_block(&x, 2, &mut l, &mut r);
        assert_eq!((l, r), first);
        let empty = vec![[vec![0.5; 10], Vec::new()]];
        assert_eq!(
            SpectralMixer::new(&empty, &plans).unwrap_err(),
            ConvolverError::EmptyFilter
        );
    }
}
