//! Frames per callback: fixed, cycling, or drawn from a seeded generator.

use std::fmt;

use allocgate_engine::MAX_FRAMES;
use allocgate_engine::synthetic::SplitMix;

/// Frames per callback of one device.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FrameSequence {
    /// Always `N`.
    Fixed(u32),
    /// These counts in turn, from the first, over and over.
    Cycle(Vec<u32>),
    /// Each callback one of `choices`, picked uniformly by a generator
    /// seeded from `seed`, the run's seed and the device.
    Seeded {
        /// The frame counts to pick from.
        choices: Vec<u32>,
        /// The sequence's own seed.
        seed: u64,
    },
}

/// The frame counts CoreAudio is seen to alternate between when it
/// cannot deliver a constant buffer size (around a 512-frame setting).
pub const COREAUDIO_FRAMES: [u32; 3] = [471, 512, 553];

/// Why a frame sequence was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FramesError {
    /// A cycle or a set of choices with nothing in it.
    Empty,
    /// A frame count outside 1..=4096.
    OutOfRange(u32),
}

impl fmt::Display for FramesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramesError::Empty => f.write_str("empty frame sequence; expected at least one count"),
            FramesError::OutOfRange(n) => {
                write!(f, "{n} frames per callback; expected 1 to {MAX_FRAMES}")
            }
        }
    }
}

impl std::error::Error for FramesError {}

impl FrameSequence {
    /// CoreAudio's 471/512/553 frames in turn.
    pub fn coreaudio_cycle() -> FrameSequence {
        FrameSequence::Cycle(COREAUDIO_FRAMES.to_vec())
    }

    /// CoreAudio's 471/512/553 frames in a seeded random order.
    pub fn coreaudio_seeded(seed: u64) -> FrameSequence {
        FrameSequence::Seeded {
            choices: COREAUDIO_FRAMES.to_vec(),
            seed,
        }
    }

    fn counts(&self) -> &[u32] {
        match self {
            FrameSequence::Fixed(n) => std::slice::from_ref(n),
            FrameSequence::Cycle(v) => v,
            FrameSequence::Seeded { choices, .. } => choices,
        }
    }

    /// Checks that there is at least one count and every count is in
    /// 1..=4096.
    pub fn validate(&self) -> Result<(), FramesError> {
        let counts = self.counts();
        if counts.is_empty() {
            return Err(FramesError::Empty);
        }
        match counts.iter().find(|&&n| n == 0 || n as usize > MAX_FRAMES) {
            Some(&n) => Err(FramesError::OutOfRange(n)),
            None => Ok(()),
        }
    }

    /// The smallest count (0 when empty).
    pub fn min(&self) -> u32 {
        self.counts().iter().copied().min().unwrap_or(0)
    }

    /// The largest count (0 when empty).
    pub fn max(&self) -> u32 {
        self.counts().iter().copied().max().unwrap_or(0)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct FrameSource {
    sequence: FrameSequence,
    cursor: usize,
    rng: SplitMix,
}

impl FrameSource {
    pub(crate) fn new(sequence: FrameSequence, run_seed: u64, salt: u64) -> FrameSource {
        let own = match &sequence {
            FrameSequence::Seeded { seed, .. } => *seed,
            _ => 0,
        };
        // Mix rather than xor the seeds, so equal seeds do not cancel.
        let mixed = SplitMix::new(own).next_u64()
            ^ SplitMix::new(run_seed ^ 0x005E_ED0F_C10C).next_u64()
            ^ SplitMix::new(salt).next_u64();
        FrameSource {
            sequence,
            cursor: 0,
            rng: SplitMix::new(mixed),
        }
    }

    pub(crate) fn next(&mut self) -> u32 {
        match &self.sequence {
            FrameSequence::Fixed(n) => *n,
            FrameSequence::Cycle(v) => {
                let n = v[self.cursor % v.len()];
                self.cursor = (self.cursor + 1) % v.len();
                n
            }
            FrameSequence::Seeded { choices, .. } => {
                choices[(self.rng.next_u64() % choices.len() as u64) as usize]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_sequences_reject_empty_and_out_of_range_counts() {
        assert_eq!(
            FrameSequence::Cycle(vec![]).validate(),
            Err(FramesError::Empty)
        );
        assert_eq!(
            FrameSequence::Fixed(4097).validate(),
            Err(FramesError::OutOfRange(4097))
        );
        assert_eq!(
            FrameSequence::Fixed(0).validate().unwrap_err().to_string(),
            "0 frames per callback; expected 1 to 4096"
        );
        assert!(FrameSequence::coreaudio_cycle().validate().is_ok());
    }
}
