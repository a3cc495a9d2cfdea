//! What each site costs per callback, derived from first principles: the
//! site's code, the configuration (channels C, frames N, renderers R) and
//! what happened in the callback. Tests and the gate compare measured
//! counts with these, never with figures copied from a run.

use std::ops::Add;

use super::{CallbackKind, Site, SiteSet};
use crate::engine::convolver::DEBUG_PRINT_STEPS;

/// Allocator calls one callback is expected to make.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expected {
    /// `alloc` and `alloc_zeroed` calls.
    pub allocations: u64,
    /// `dealloc` calls.
    pub deallocations: u64,
    /// `realloc` calls.
    pub reallocations: u64,
}

impl Expected {
    const fn new(allocations: u64, deallocations: u64, reallocations: u64) -> Self {
        Expected {
            allocations,
            deallocations,
            reallocations,
        }
    }

    /// True when nothing is expected.
    pub fn is_zero(&self) -> bool {
        *self == Expected::default()
    }
}

impl Add for Expected {
    type Output = Expected;
    fn add(self, o: Expected) -> Expected {
        Expected::new(
            self.allocations + o.allocations,
            self.deallocations + o.deallocations,
            self.reallocations + o.reallocations,
        )
    }
}

/// One callback, as far as the sites care. Fill in what the callback did;
/// fields that do not apply to its kind are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackContext {
    /// Which callback.
    pub kind: CallbackKind,
    /// Input channels C.
    pub channels: usize,
    /// Frames N.
    pub frames: usize,
    /// Output: renderers that received input (those with index < C) when
    /// the renderer ran, else 0.
    pub renderers: usize,
    /// Output: whole 512-frame blocks the renderer processed.
    pub blocks: usize,
    /// Output: block steps each engine of the current renderer set had
    /// made before this callback (engines of one set step together).
    pub steps_before: u64,
    /// Output: the first output callback of the engine.
    pub first: bool,
    /// Output: the ring ran short in this callback.
    pub underrun: bool,
    /// Output: the largest frame count of earlier callbacks (0 if none).
    pub max_frames_before: usize,
    /// Output: heap blocks of the renderer sets replaced in this callback
    /// ([`RendererSet::heap_blocks`](crate::engine::renderer::RendererSet::heap_blocks)).
    pub replaced_set_blocks: usize,
}

impl CallbackContext {
    /// An input callback of `frames` frames of `channels` channels.
    pub fn input(channels: usize, frames: usize) -> Self {
        CallbackContext {
            kind: CallbackKind::Input,
            channels,
            frames,
            renderers: 0,
            blocks: 0,
            steps_before: 0,
            first: false,
            underrun: false,
            max_frames_before: 0,
            replaced_set_blocks: 0,
        }
    }

    /// An output callback of `frames` frames of `channels` channels in
    /// which nothing else happened (fill in the rest).
    pub fn output(channels: usize, frames: usize) -> Self {
        CallbackContext {
            kind: CallbackKind::Output,
            ..Self::input(channels, frames)
        }
    }
}

/// Reallocations made by appending `n` pointers one by one to an empty
/// `Vec`: std allocates 4 slots for elements of 8 bytes on the first push
/// (its minimum non-zero capacity for elements up to 1 KiB), then doubles
/// when full: capacities 4, 8, 16, … , one reallocation per doubling.
pub const fn append_reallocations(n: usize) -> u64 {
    let mut capacity = 4;
    let mut reallocations = 0;
    while capacity < n {
        capacity *= 2;
        reallocations += 1;
    }
    reallocations
}

impl Site {
    /// What this site alone makes in the callback `cx`.
    pub fn expected(self, cx: &CallbackContext) -> Expected {
        if self.callback() != cx.kind {
            return Expected::default();
        }
        let c = cx.channels as u64;
        // Engines stepping per block: a left and a right ear per renderer.
        let engines = 2 * cx.renderers as u64;
        match self {
            // One buffer list (header plus C descriptors), freed at the end.
            Site::Abl => Expected::new(1, 1, 0),
            // One array, grown by appending C pointers, freed at the end.
            Site::PtrArray => Expected::new(1, 1, append_reallocations(cx.channels)),
            // C channel buffers of N × 4 bytes, each freed at the end.
            Site::ChannelBuffers => Expected::new(c, c, 0),
            // Two 36-byte arrays per engine per block step, dropped at once.
            Site::ScaleArray => {
                let n = 2 * engines * cx.blocks as u64;
                Expected::new(n, n, 0)
            }
            // A lock and a reference-count increment: no heap traffic.
            Site::RendererSnapshot => Expected::default(),
            // One formatted line per engine on its first two block steps.
            Site::DebugPrint => {
                let after = (cx.steps_before + cx.blocks as u64).min(DEBUG_PRINT_STEPS);
                let n = engines * (after - cx.steps_before.min(DEBUG_PRINT_STEPS));
                Expected::new(n, n, 0)
            }
            // One buffer on the first callback, kept for the engine's life.
            Site::FirstCallback => Expected::new(u64::from(cx.first), 0, 0),
            // One formatted line per underrun.
            Site::UnderrunLog => {
                let n = u64::from(cx.underrun);
                Expected::new(n, n, 0)
            }
            // Grown to exactly N when N exceeds every earlier N: the first
            // growth allocates, later ones reallocate.
            Site::GrowOnFrames if cx.frames > cx.max_frames_before => {
                if cx.max_frames_before == 0 {
                    Expected::new(1, 0, 0)
                } else {
                    Expected::new(0, 0, 1)
                }
            }
            Site::GrowOnFrames => Expected::default(),
            // Every heap block of each replaced set, freed in the callback.
            Site::DropOnAudioThread => Expected::new(0, cx.replaced_set_blocks as u64, 0),
        }
    }
}

impl SiteSet {
    /// What these sites together make in the callback `cx`.
    pub fn expected(self, cx: &CallbackContext) -> Expected {
        self.iter()
            .map(|s| s.expected(cx))
            .fold(Expected::default(), Add::add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appending_pointers_doubles_from_four() {
        let got: Vec<u64> = [1, 4, 5, 8, 9, 16].map(append_reallocations).to_vec();
        assert_eq!(got, [0, 0, 1, 1, 2, 2]);
    }

    #[test]
    fn the_seed_input_callback_at_7_1_makes_ten_allocations() {
        // The seed counts 1 list + 1 array + 8 channel buffers (+0–2 resizes).
        let e = crate::engine::sites::Variant::Seed
            .sites()
            .expected(&CallbackContext::input(8, 512));
        assert_eq!(e, Expected::new(10, 10, 1));
    }

    #[test]
    fn scale_arrays_at_7_1_48k_and_512_come_to_3000_a_second() {
        // 7.1 with a 14-channel preset: 8 renderers, 16 engines, 1 block.
        let cx = CallbackContext {
            renderers: 8,
            blocks: 1,
            ..CallbackContext::output(8, 512)
        };
        let per_callback = Site::ScaleArray.expected(&cx).allocations;
        assert_eq!(per_callback, 32);
        // 32 per callback × 48 000 / 512 callbacks per second = 3 000 /s.
        assert_eq!(per_callback * 48_000 / 512, 3_000);
    }

    #[test]
    fn debug_print_stops_after_two_steps_per_engine() {
        let cx = |steps_before, blocks| CallbackContext {
            renderers: 1,
            blocks,
            steps_before,
            ..CallbackContext::output(2, 512 * blocks)
        };
        assert_eq!(Site::DebugPrint.expected(&cx(0, 1)).allocations, 2);
        assert_eq!(Site::DebugPrint.expected(&cx(1, 8)).allocations, 2);
        assert_eq!(Site::DebugPrint.expected(&cx(0, 8)).allocations, 4);
        assert_eq!(Site::DebugPrint.expected(&cx(2, 1)).allocations, 0);
    }

    #[test]
    fn sites_cost_nothing_in_the_other_callback() {
        let input = CallbackContext::input(8, 512);
        for s in Site::ALL {
            if s.callback() == CallbackKind::Output {
                assert!(s.expected(&input).is_zero(), "{s}");
            }
        }
    }
}
