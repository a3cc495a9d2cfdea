//! A small synth voice: a fundsp oscillator, a biquad low-pass, an FFT
//! analysis with realfft, and a rubato resampler, processed block by block.

use ::biquad::{Biquad, Coefficients, DirectForm1, Q_BUTTERWORTH_F32, ToHertz, Type};
use fundsp::prelude32::*;
use realfft::num_complex::Complex32;
use realfft::{RealFftPlanner, RealToComplex};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use std::sync::Arc;

pub const BLOCK: usize = 512;

pub struct Voice {
    osc: An<Pipe<Constant<U1>, Sine<f32>>>,
    filter: DirectForm1<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    fft_in: Vec<f32>,
    spectrum: Vec<Complex32>,
    fft_scratch: Vec<Complex32>,
    resampler: Fft<f32>,
}

impl Voice {
    pub fn new(rate: f32, fft_len: usize) -> Voice {
        let mut osc = sine_hz(440.0);
        osc.set_sample_rate(rate as f64);
        let coeffs = Coefficients::<f32>::from_params(
            Type::LowPass,
            rate.hz(),
            2_000.hz(),
            Q_BUTTERWORTH_F32,
        )
        .unwrap();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(fft_len);
        let resampler = Fft::<f32>::new(rate as usize, 44_100, BLOCK, 1, FixedSync::Input).unwrap();
        Voice {
            osc,
            filter: DirectForm1::<f32>::new(coeffs),
            fft_in: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            fft_scratch: fft.make_scratch_vec(),
            fft,
            resampler,
        }
    }

    /// One block: synthesise, filter, analyse; returns the spectrum's peak bin.
    pub fn process(&mut self, out: &mut [f32]) -> usize {
        for o in out.iter_mut() {
            *o = self.filter.run(self.osc.get_mono());
        }
        let n = Ord::min(self.fft_in.len(), out.len());
        self.fft_in[..n].copy_from_slice(&out[..n]);
        self.fft
            .process_with_scratch(&mut self.fft_in, &mut self.spectrum, &mut self.fft_scratch)
            .unwrap();
        let mut peak = 0;
        for (i, c) in self.spectrum.iter().enumerate() {
            if c.norm_sqr() > self.spectrum[peak].norm_sqr() {
                peak = i;
            }
        }
        peak
    }

    /// Resamples one block to 44.1 kHz; returns the frames written.
    pub fn resample(&mut self, block: &[f32]) -> usize {
        let input = InterleavedSlice::new(block, 1, block.len()).unwrap();
        let out = self.resampler.process(&input, None).unwrap();
        out.take_data().len()
    }
}
