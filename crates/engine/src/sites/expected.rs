//! What each site costs per callback, derived from first principles: the
//! site's code, the configuration (channels C, frames N, renderers R) and
//! what happened in the callback. Tests and the gate compare measured
//! counts with these, never with figures copied from a run.

use std::ops::Add;

use super::hazards::FRESH_PAGES;
use super::{CallbackKind, DEBUG_PRINT_STEPS, Site, SiteSet};
use crate::text::count;
use allocgate::hazard::Hazards;

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

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::text::allocator_calls(
            self.allocations,
            self.deallocations,
            self.reallocations,
        ))
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
    /// ([`RendererSet::heap_blocks`](crate::renderer::RendererSet::heap_blocks)).
    pub replaced_set_blocks: usize,
    /// Output: the callback reached the rendering step (convolution on,
    /// not buffering), with or without a renderer set.
    pub rendering: bool,
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
            rendering: false,
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
            // Blocking hazards, no allocator call (`expected_hazards`).
            Site::Sleep | Site::FreshPages | Site::ContendedLock => Expected::default(),
        }
    }

    /// The hazards this site alone causes in the callback `cx`.
    pub fn expected_hazards(self, cx: &CallbackContext) -> ExpectedHazards {
        if self.callback() != cx.kind {
            return ExpectedHazards::default();
        }
        match self {
            // One read lock of the shared record, at the rendering step;
            // nothing else takes it while the callback runs.
            Site::RendererSnapshot if cx.rendering => ExpectedHazards {
                lock_acquisitions: 1,
                ..ExpectedHazards::default()
            },
            // One sleep: the thread blocks once.
            Site::Sleep => ExpectedHazards {
                voluntary_switches: 1,
                ..ExpectedHazards::default()
            },
            // One first write per fresh page.
            Site::FreshPages => ExpectedHazards {
                minor_faults: FRESH_PAGES as u64,
                ..ExpectedHazards::default()
            },
            // The hog holds the lock until this thread waits for it: one
            // contended acquisition, and at least one sleep in the kernel.
            Site::ContendedLock => ExpectedHazards {
                lock_acquisitions: 1,
                lock_contentions: 1,
                voluntary_switches: 1,
                ..ExpectedHazards::default()
            },
            _ => ExpectedHazards::default(),
        }
    }
}

/// Hazards one callback is expected to show ([`allocgate::hazard::Hazards`]).
///
/// Lock counts are exact. The usage counts are floors: the kernel may add
/// to them (a fault on a page the callback had not touched for long, a
/// second wake-up in a wait) but never take away. A floor of zero is
/// exact: nothing the callback does may fault or wait.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpectedHazards {
    /// Tracked locks taken.
    pub lock_acquisitions: u64,
    /// Of those, contended.
    pub lock_contentions: u64,
    /// At least this many voluntary context switches (zero: none).
    pub voluntary_switches: u64,
    /// At least this many minor page faults (zero: none).
    pub minor_faults: u64,
}

impl Add for ExpectedHazards {
    type Output = ExpectedHazards;
    fn add(self, o: ExpectedHazards) -> ExpectedHazards {
        ExpectedHazards {
            lock_acquisitions: self.lock_acquisitions + o.lock_acquisitions,
            lock_contentions: self.lock_contentions + o.lock_contentions,
            voluntary_switches: self.voluntary_switches + o.voluntary_switches,
            minor_faults: self.minor_faults + o.minor_faults,
        }
    }
}

impl ExpectedHazards {
    /// Every way `h` (measured in one callback) breaks these
    /// expectations, one line each; empty when it keeps them. Usage
    /// counts are judged only when sampled; minor faults only when
    /// `judge_faults` (past the warm-up, whose first touches of the
    /// engine's buffers fault by design). Involuntary switches are never
    /// judged: being preempted is the machine's doing. Against
    /// `ExpectedHazards::default()` this is the gate's list of a
    /// callback's hazards.
    pub fn deviations(&self, h: &Hazards, judge_faults: bool) -> Vec<String> {
        let mut why = Vec::new();
        let (a, c) = (
            u64::from(h.lock_acquisitions),
            u64::from(h.lock_contentions),
        );
        if (a, c) != (self.lock_acquisitions, self.lock_contentions) {
            let found = format!("{} ({c} contended)", count(a, "lock acquisition"));
            why.push(
                if (self.lock_acquisitions, self.lock_contentions) == (0, 0) {
                    found
                } else {
                    format!(
                        "{found}, expected {} ({} contended)",
                        self.lock_acquisitions, self.lock_contentions
                    )
                },
            );
        }
        if !h.usage_sampled {
            return why;
        }
        let mut judge = |measured: u32, floor: u64, what: &str| {
            let m = u64::from(measured);
            match floor {
                0 if m > 0 => why.push(count(m, what).to_string()),
                f if f > 0 && m < f => {
                    why.push(format!("{}, expected at least {f}", count(m, what)))
                }
                _ => {}
            }
        };
        judge(
            h.voluntary_switches,
            self.voluntary_switches,
            "voluntary context switch",
        );
        judge(h.major_faults, 0, "major page fault");
        if judge_faults {
            judge(h.minor_faults, self.minor_faults, "minor page fault");
        }
        why
    }

    /// The first of [`deviations`](Self::deviations), if any.
    pub fn violation(&self, h: &Hazards, judge_faults: bool) -> Option<String> {
        self.deviations(h, judge_faults).into_iter().next()
    }
}

impl SiteSet {
    /// What these sites together make in the callback `cx`.
    pub fn expected(self, cx: &CallbackContext) -> Expected {
        self.iter()
            .map(|s| s.expected(cx))
            .fold(Expected::default(), Add::add)
    }

    /// The hazards these sites together cause in the callback `cx`.
    pub fn expected_hazards(self, cx: &CallbackContext) -> ExpectedHazards {
        self.iter()
            .map(|s| s.expected_hazards(cx))
            .fold(ExpectedHazards::default(), Add::add)
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
        // 1 list + 1 array + 8 channel buffers (+0–2 resizes).
        let e = crate::variant::Variant::Seed
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
                assert_eq!(s.expected_hazards(&input), ExpectedHazards::default());
            }
        }
    }

    #[test]
    fn hazard_sites_allocate_nothing_and_each_expects_its_hazard() {
        let cx = CallbackContext {
            rendering: true,
            ..CallbackContext::output(8, 512)
        };
        for s in Site::HAZARDS {
            assert!(s.expected(&cx).is_zero(), "{s}");
            assert_ne!(s.expected_hazards(&cx), ExpectedHazards::default(), "{s}");
        }
        let snapshot = Site::RendererSnapshot;
        assert_eq!(snapshot.expected_hazards(&cx).lock_acquisitions, 1);
        let buffering = CallbackContext::output(8, 512);
        assert_eq!(snapshot.expected_hazards(&buffering).lock_acquisitions, 0);
    }

    #[test]
    fn zero_floors_are_exact_and_positive_floors_are_minimums() {
        let none = ExpectedHazards::default();
        let sampled = |voluntary, minor| Hazards {
            voluntary_switches: voluntary,
            minor_faults: minor,
            usage_sampled: true,
            ..Hazards::NONE
        };
        assert_eq!(none.violation(&sampled(0, 0), true), None);
        assert!(none.violation(&sampled(1, 0), true).is_some());
        assert!(none.violation(&sampled(0, 1), true).is_some());
        assert_eq!(
            none.violation(&sampled(0, 1), false),
            None,
            "warm-up faults"
        );
        let sleeps = Site::Sleep.expected_hazards(&CallbackContext::output(2, 512));
        assert_eq!(sleeps.violation(&sampled(2, 0), true), None);
        assert!(sleeps.violation(&sampled(0, 0), true).is_some());
        let unsampled = Hazards {
            voluntary_switches: 5,
            ..Hazards::NONE
        };
        assert_eq!(none.violation(&unsampled, true), None, "not looked at");
        let locked = Hazards {
            lock_acquisitions: 1,
            ..Hazards::NONE
        };
        assert!(none.violation(&locked, true).unwrap().contains("1 lock"));
    }
}
