//! Resampling one impulse response to the device rate.
//!
//! We use rubato's synchronous [`Fft`] resampler. The ratio between a
//! preset's rate and the device rate is fixed, which is exactly what `Fft`
//! is for: it converts by the exact rational ratio, with anti-aliasing as
//! good as the asynchronous sinc resampler at a fraction of its cost, and
//! has no quality settings to get wrong. Its one weakness, an FFT block of
//! a multiple of `rate / gcd(from, to)` frames, is bounded here by the
//! sane-rate range (at worst two blocks' worth, ~1.5 M frames, for co-prime
//! rates), and this runs off the audio thread.
//!
//! [`Resampler::process_all`] trims the `fft_size_out / 2` frames rubato
//! reports as its delay. The true delay of its windowed-sinc filter is
//! `fft_size_in / 2` input frames (`make_sincs` centres the sinc at
//! `npoints / 2`), which equals `fft_size_out / 2` output frames only when
//! both block sizes are even; with odd blocks (44.1 → 48 kHz gives 1029 →
//! 1120) the output comes out half a sample early. [`fft_chunk_frames`]
//! therefore asks for an even number of minimal blocks.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::error::PresetError;
use super::rates::{MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};

/// About how many input frames one FFT block should span: ~1 000 keeps the
/// anti-aliasing cutoff close to Nyquist (rubato's cutoff rises with the
/// block length) while the block stays cheap.
const TARGET_BLOCK_FRAMES: usize = 1024;

/// The chunk size to give `Fft::new` with `FixedSync::Both`: an even number
/// of minimal blocks (`from / gcd` input frames each) spanning at least
/// [`TARGET_BLOCK_FRAMES`], so both FFT block sizes are even and rubato's
/// delay trim is exact (see the module doc).
fn fft_chunk_frames(from: u32, to: u32) -> usize {
    let min_block = (from / gcd(from, to)) as usize;
    let blocks = TARGET_BLOCK_FRAMES.div_ceil(min_block);
    (blocks + blocks % 2) * min_block
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Resamples `ir` from `from` Hz to `to` Hz.
///
/// The result has `ceil(ir.len() * to / from)` samples and is time-aligned:
/// a unit impulse at sample `k` peaks at about `k * to / from`. The same
/// rate gives an exact copy. Both rates must lie in
/// [`MIN_SAMPLE_RATE`]`..=`[`MAX_SAMPLE_RATE`]. Allocates; off the audio
/// thread only.
pub(crate) fn resample(ir: &[f32], from: u32, to: u32) -> Result<Vec<f32>, PresetError> {
    let sane = MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE;
    if !sane.contains(&from) || !sane.contains(&to) {
        return Err(PresetError::ResampleRate { from, to });
    }
    if from == to {
        return Ok(ir.to_vec());
    }
    if ir.is_empty() {
        return Ok(Vec::new());
    }
    let failed = |source: Box<dyn std::error::Error + Send + Sync>| PresetError::Resample {
        from,
        to,
        source,
    };

    // Exact integer ceiling; rubato computes the same length in f64, which
    // can land one frame off when the product is a whole number.
    let out_len = (ir.len() as u128 * u128::from(to)).div_ceil(u128::from(from));
    let out_len = usize::try_from(out_len).map_err(|e| failed(Box::new(e)))?;

    // f64 inside the resampler keeps its rounding far below f32 precision.
    let input: Vec<f64> = ir.iter().map(|&x| f64::from(x)).collect();
    let adapter = InterleavedSlice::new(&input, 1, input.len()).map_err(|e| failed(Box::new(e)))?;
    let mut resampler = Fft::<f64>::new(
        from as usize,
        to as usize,
        fft_chunk_frames(from, to),
        1,
        FixedSync::Both,
    )
    .map_err(|e| failed(Box::new(e)))?;
    let output = resampler
        .process_all(&adapter, input.len(), None)
        .map_err(|e| failed(Box::new(e)))?;

    let mut out: Vec<f32> = output.take_data().into_iter().map(|x| x as f32).collect();
    out.resize(out_len, 0.0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::TAU;

    fn impulse(len: usize, at: usize) -> Vec<f32> {
        let mut v = vec![0.0; len];
        v[at] = 1.0;
        v
    }

    fn peak_index(x: &[f32]) -> usize {
        x.iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .map(|(i, _)| i)
            .unwrap_or(0)
    }

    fn expected_len(len: usize, from: u32, to: u32) -> usize {
        (len * to as usize).div_ceil(from as usize)
    }

    #[test]
    fn an_impulse_resampled_from_44100_to_48000_stays_in_place() {
        let len = 512;
        let out = resample(&impulse(len, 100), 44_100, 48_000).unwrap();
        assert_eq!(out.len(), expected_len(len, 44_100, 48_000));
        assert_eq!(out.len(), 558);
        let want = (100.0_f64 * 48_000.0 / 44_100.0).round() as usize;
        let got = peak_index(&out);
        assert!(
            got.abs_diff(want) <= 1,
            "peak at {got}, expected {want} ± 1"
        );
    }

    #[test]
    fn an_impulse_resampled_from_96000_to_44100_stays_in_place() {
        let len = 1000;
        let out = resample(&impulse(len, 200), 96_000, 44_100).unwrap();
        assert_eq!(out.len(), expected_len(len, 96_000, 44_100));
        let want = (200.0_f64 * 44_100.0 / 96_000.0).round() as usize;
        let got = peak_index(&out);
        assert!(
            got.abs_diff(want) <= 1,
            "peak at {got}, expected {want} ± 1"
        );
    }

    #[test]
    fn a_low_sine_keeps_its_amplitude_and_phase() {
        let (from, to, freq) = (44_100u32, 48_000u32, 1_000.0);
        let input: Vec<f32> = (0..4_410)
            .map(|n| (TAU * freq * n as f64 / f64::from(from)).sin() as f32)
            .collect();
        let out = resample(&input, from, to).unwrap();
        assert_eq!(out.len(), 4_800);
        let middle = &out[1_200..3_600];
        let peak = middle.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(
            (peak - 1.0).abs() < 0.01,
            "amplitude {peak}, expected 1 ± 1%"
        );
        // Time alignment: the output is the same sine sampled at the new
        // rate. Half a sample early (rubato's own trim with odd FFT blocks)
        // would be off by up to 0.07 here.
        for (n, &y) in out.iter().enumerate().take(3_600).skip(1_200) {
            let want = (TAU * freq * n as f64 / f64::from(to)).sin() as f32;
            assert!((y - want).abs() < 1e-4, "sample {n}: {y}, expected {want}");
        }
    }

    #[test]
    fn the_same_rate_gives_an_identical_copy() {
        let ir: Vec<f32> = (0..300).map(|n| (n as f32 * 0.37).sin()).collect();
        assert_eq!(resample(&ir, 48_000, 48_000).unwrap(), ir);
    }

    #[test]
    fn lengths_follow_the_rate_ratio_rounded_up() {
        for (len, from, to) in [
            (1000, 48_000, 96_000),
            (1000, 96_000, 44_100),
            (1, 44_100, 48_000),
            (7, 48_000, 44_100),
            (147, 44_100, 48_000),
        ] {
            let out = resample(&vec![0.25; len], from, to).unwrap();
            assert_eq!(
                out.len(),
                expected_len(len, from, to),
                "{len} frames from {from} to {to}"
            );
        }
        assert_eq!(
            resample(&vec![0.0; 1000], 48_000, 96_000).unwrap().len(),
            2000
        );
        assert_eq!(
            resample(&vec![0.0; 1000], 96_000, 44_100).unwrap().len(),
            460
        );
    }

    #[test]
    fn fft_blocks_are_an_even_number_of_minimal_blocks() {
        assert_eq!(gcd(44_100, 48_000), 300);
        assert_eq!(fft_chunk_frames(44_100, 48_000), 8 * 147);
        assert_eq!(fft_chunk_frames(48_000, 44_100), 8 * 160);
        assert_eq!(fft_chunk_frames(48_000, 96_000), 1024);
        assert_eq!(fft_chunk_frames(44_101, 48_000), 2 * 44_101);
    }

    #[test]
    fn an_empty_response_stays_empty() {
        assert_eq!(resample(&[], 44_100, 48_000).unwrap(), Vec::<f32>::new());
    }

    #[test]
    fn absurd_rates_are_refused_with_both_rates_named() {
        for (from, to) in [(44_100, 0), (44_100, 1), (1, 48_000), (48_000, 10_000_000)] {
            let err = resample(&[1.0], from, to).unwrap_err();
            assert!(
                matches!(err, PresetError::ResampleRate { from: f, to: t } if f == from && t == to),
                "{err:?}"
            );
            let msg = err.to_string();
            assert!(msg.contains(&format!("{from} hz")), "{msg}");
            assert!(msg.contains(&format!("{to} hz")), "{msg}");
        }
    }
}
