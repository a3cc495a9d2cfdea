//! Synthetic signals and impulse responses for tests and scaling runs,
//! deterministic for a seed, so nothing depends on measured data.

/// A small, fast, seedable generator (SplitMix64), good enough for test
/// signals; not for anything cryptographic.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub fn next_f32(&mut self) -> f32 {
        // 24 random bits: exactly representable as f32.
        let bits = (self.next_u64() >> 40) as u32;
        bits as f32 / (1u32 << 23) as f32 - 1.0
    }
}

/// `len` samples of uniform noise in [-1, 1).
pub fn noise(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix::new(seed);
    (0..len).map(|_| rng.next_f32()).collect()
}

/// An impulse-response-like filter: noise under an exponential decay that
/// falls by 60 dB over `taps`.
pub fn decaying_noise(taps: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix::new(seed);
    let rate = (1e-3f64).ln() / taps.max(1) as f64;
    (0..taps)
        .map(|n| (rng.next_f32() as f64 * (rate * n as f64).exp()) as f32)
        .collect()
}

/// `speakers` (left, right) pairs of `taps`-tap [`decaying_noise`]
/// filters, every one its own seed: a synthetic renderer set of any size
/// (`Control::activate_filters`).
pub fn ear_filters(speakers: usize, taps: usize) -> Vec<[Vec<f32>; 2]> {
    (0..speakers as u64)
        .map(|s| {
            [
                decaying_noise(taps, 2 * s + 1),
                decaying_noise(taps, 2 * s + 2),
            ]
        })
        .collect()
}

/// A synthetic HeSuVi set of `channels` impulse responses of `taps`
/// samples, each told apart by where its leading impulse sits (tap
/// `2 × index + 1`, gain 0.5) under a quiet decaying tail of its own.
pub fn impulse_set(channels: usize, taps: usize) -> Vec<Vec<f32>> {
    (0..channels)
        .map(|c| {
            let mut ir: Vec<f32> = decaying_noise(taps, 1000 + c as u64)
                .into_iter()
                .map(|v| v * 0.05)
                .collect();
            if let Some(tap) = ir.get_mut(2 * c + 1) {
                *tap = 0.5;
            }
            ir
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_deterministic_and_in_range() {
        assert_eq!(noise(64, 9), noise(64, 9));
        assert_ne!(noise(64, 9), noise(64, 10));
        assert!(noise(10_000, 1).iter().all(|v| (-1.0..1.0).contains(v)));
    }

    #[test]
    fn impulse_sets_mark_each_channel_with_its_own_tap() {
        let set = impulse_set(14, 558);
        assert_eq!(set.len(), 14);
        for (c, ir) in set.iter().enumerate() {
            assert_eq!(ir.len(), 558);
            let peak = ir
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                .unwrap()
                .0;
            assert_eq!(peak, 2 * c + 1);
        }
    }
}
