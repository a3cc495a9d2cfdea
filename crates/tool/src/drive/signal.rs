//! The known input signal: every channel its own deterministic noise,
//! addressable by (channel, device frame) without storing anything, so the
//! integrity checker can say what any played sample should be.

use allocgate_engine::buffers::OwnedBufferList;

/// Peak amplitude of the signal: half scale, so mixes of many speakers
/// stay in a sane range.
pub const AMPLITUDE: f32 = 0.5;

/// Per-channel noise for a seed: sample `(c, t)` is a 32-bit hash of the
/// seed, the channel and the input device frame, its top 24 bits scaled
/// to [−0.5, 0.5), exact in `f32`. The hash works on 32-bit words so that
/// filling a device buffer vectorises: it is the simulated device's cost,
/// paid on the driver thread before every input callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    key: u64,
}

/// The SplitMix64 finaliser: a bijection on u64 that mixes every bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The MurmurHash3 finaliser: a bijection on u32 that mixes every bit.
#[inline]
fn mix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85EB_CA6B);
    h ^= h >> 13;
    h = h.wrapping_mul(0xC2B2_AE35);
    h ^ (h >> 16)
}

/// Each frame's contribution to the hash input: `frame × FRAME_STEP`
/// (odd, so distinct for 2³² consecutive frames: 24.8 hours at 48 kHz;
/// the frame's high word is mixed in apart).
const FRAME_STEP: u32 = 0x9E37_79B9;

/// The top 24 bits of `h`, centred and scaled to ±[`AMPLITUDE`]: exact.
#[inline]
fn scaled(h: u32) -> f32 {
    let bits = (h >> 8) as i32 - (1 << 23);
    bits as f32 * (AMPLITUDE / (1 << 23) as f32)
}

impl Signal {
    /// The signal for `seed`.
    pub fn new(seed: u64) -> Signal {
        Signal {
            key: mix(seed ^ 0xA11C_6A7E_0000_0001),
        }
    }

    /// The hash key of `channel` for frames whose high word is `high`.
    fn key(&self, channel: usize, high: u32) -> u32 {
        let k = mix(self.key ^ (channel as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
        (k as u32) ^ mix32(high ^ (k >> 32) as u32)
    }

    /// Sample of `channel` at input device frame `frame`.
    pub fn sample(&self, channel: usize, frame: u64) -> f32 {
        let key = self.key(channel, (frame >> 32) as u32);
        scaled(mix32(key ^ (frame as u32).wrapping_mul(FRAME_STEP)))
    }

    /// Writes frames `start..start + frames` of every channel of `device`
    /// into its first `frames` samples: [`sample`](Self::sample) for each.
    /// Never allocates.
    pub fn fill(&self, start: u64, frames: usize, device: &mut OwnedBufferList) {
        for (c, channel) in device.channels_mut(frames).enumerate() {
            let mut t = start;
            let mut rest = channel;
            while !rest.is_empty() {
                // Frames up to the next change of the high word share a key.
                let low = t as u32;
                let run = (u64::from(u32::MAX - low) + 1).min(rest.len() as u64) as usize;
                let (now, later) = rest.split_at_mut(run);
                let key = self.key(c, (t >> 32) as u32);
                for (i, x) in now.iter_mut().enumerate() {
                    let frame = low.wrapping_add(i as u32);
                    *x = scaled(mix32(key ^ frame.wrapping_mul(FRAME_STEP)));
                }
                t += run as u64;
                rest = later;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signal_is_deterministic_for_a_seed_and_differs_across_seeds() {
        let (a, b) = (Signal::new(7), Signal::new(8));
        assert_eq!(a.sample(3, 1_000_000), Signal::new(7).sample(3, 1_000_000));
        let differ = (0..1000)
            .filter(|&t| a.sample(0, t) != b.sample(0, t))
            .count();
        assert!(differ > 990, "{differ}");
    }

    #[test]
    fn every_channel_is_distinct_and_within_half_scale() {
        let s = Signal::new(1);
        for c in 1..16 {
            let same = (0..1000)
                .filter(|&t| s.sample(0, t) == s.sample(c, t))
                .count();
            assert!(same < 5, "channel {c} repeats channel 0 {same} times");
        }
        let mut peak = 0f32;
        let mut mean = 0f64;
        for t in 0..100_000 {
            let x = s.sample(1, t);
            peak = peak.max(x.abs());
            mean += f64::from(x);
        }
        assert!(peak <= AMPLITUDE && peak > 0.49, "{peak}");
        assert!((mean / 100_000.0).abs() < 0.01, "{mean}");
    }

    #[test]
    fn fill_agrees_with_sample_across_a_change_of_the_frames_high_word() {
        let s = Signal::new(9);
        let mut dev = OwnedBufferList::new(2, 16);
        let start = (1u64 << 32) - 5;
        s.fill(start, 16, &mut dev);
        for c in 0..2 {
            let want: Vec<f32> = (start..start + 16).map(|t| s.sample(c, t)).collect();
            assert_eq!(dev.channel(c, 16), &want[..]);
        }
        assert_ne!(s.sample(0, 3), s.sample(0, 3 + (1 << 32)));
    }

    #[test]
    fn fill_writes_the_frames_of_each_channel() {
        let s = Signal::new(5);
        let mut dev = OwnedBufferList::new(3, 16);
        s.fill(100, 10, &mut dev);
        for c in 0..3 {
            let want: Vec<f32> = (100..110).map(|t| s.sample(c, t)).collect();
            assert_eq!(dev.channel(c, 10), &want[..]);
        }
    }
}
