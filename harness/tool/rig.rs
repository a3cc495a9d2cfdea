//! A test rig: one engine, a source of known per-channel signals, output
//! buffers, and both callbacks run in lockstep under the counting
//! allocator, each callback measured on its own.

use allocgate::trace::tagged;
use allocgate::{Stats, measure};
use allocgate_engine::buffers::{AudioBuffer, BufferList, OwnedBufferList};
use allocgate_engine::input::InputReport;
use allocgate_engine::output::OutputReport;
use allocgate_engine::sites::expected::CallbackContext;
use allocgate_engine::sites::expected::Expected;
use allocgate_engine::sites::{CallbackKind, SiteSet};
use allocgate_engine::{Engine, EngineConfig, MAX_FRAMES};

/// True under CI (`CI=true`), where a test that needs a system component
/// must fail, not skip, when it is missing.
pub fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Sample `n` of channel `c` of the test signal: distinct for every
/// channel and frame within the tests' lengths, exact in f32.
pub fn signal(c: usize, n: u64) -> f32 {
    ((n % 65_536) as f32 + 1.0) / 65_536.0 + c as f32
}

/// What one measured callback did and cost.
#[derive(Debug)]
pub struct Measured<R> {
    pub report: R,
    pub stats: Stats,
}

pub struct Rig {
    pub engine: Engine,
    pub channels: usize,
    source: OwnedBufferList,
    pub out: OwnedBufferList,
    /// Frames the source has produced so far.
    pub produced: u64,
}

impl Rig {
    pub fn new(config: &EngineConfig, output_channels: usize) -> Rig {
        Rig {
            engine: Engine::new(config).expect("valid test configuration"),
            channels: config.channels,
            source: OwnedBufferList::new(config.channels, MAX_FRAMES),
            out: OwnedBufferList::new(output_channels, MAX_FRAMES),
            produced: 0,
        }
    }

    /// One input callback of `frames` frames of the test signal.
    pub fn input(&mut self, frames: usize) -> Measured<InputReport> {
        self.input_with(frames, signal)
    }

    /// One input callback of `frames` frames of `source(channel, frame)`.
    pub fn input_with(
        &mut self,
        frames: usize,
        source: impl Fn(usize, u64) -> f32,
    ) -> Measured<InputReport> {
        // The device's buffers are filled before the callback, as a device
        // would; only the callback itself is measured.
        {
            let mut view = self.source.view();
            for c in 0..self.channels {
                let ch = view.channel_mut(c).unwrap();
                for (i, x) in ch.iter_mut().take(frames).enumerate() {
                    *x = source(c, self.produced + i as u64);
                }
            }
        }
        self.produced += frames as u64;
        let channels = self.channels;
        let source = &self.source;
        let input = &mut self.engine.input;
        let m = tagged(CallbackKind::Input.trace_tag(), || {
            measure(|| {
                input.process(frames, |list: &mut BufferList<'_>| {
                    for c in 0..channels {
                        let src = source.channel(c, frames);
                        match list.channel_mut(c) {
                            Some(dst) if dst.len() >= frames => dst[..frames].copy_from_slice(src),
                            _ => return false,
                        }
                    }
                    true
                })
            })
        });
        Measured {
            report: m.value,
            stats: m.stats,
        }
    }

    /// One output callback of `frames` frames into the rig's buffers.
    pub fn output(&mut self, frames: usize) -> Measured<OutputReport> {
        let output = &mut self.engine.output;
        let out = &mut self.out;
        let m = tagged(CallbackKind::Output.trace_tag(), || {
            measure(|| {
                let mut view = out.view();
                view.set_frames(frames);
                output.process(&mut view, frames)
            })
        });
        Measured {
            report: m.value,
            stats: m.stats,
        }
    }

    /// Output channel `i`'s first `frames` samples.
    pub fn out_channel(&self, i: usize, frames: usize) -> Vec<f32> {
        self.out.channel(i, frames).to_vec()
    }
}

/// Tracks what the site formulas need to know about earlier callbacks, and
/// checks every callback's measured counts against the formulas.
pub struct Expect {
    pub sites: SiteSet,
    pub channels: usize,
    outputs: u64,
    max_frames: usize,
    steps: u64,
    /// Active renderers (index < C) of the current set.
    pub renderers: usize,
    /// Heap blocks of sets published and not yet adopted, oldest first,
    /// and of the current set.
    pending: std::collections::VecDeque<usize>,
    current_blocks: usize,
    pub checked: u64,
    /// The formulas' totals over every checked callback.
    pub total: Expected,
}

impl Expect {
    pub fn new(sites: SiteSet, channels: usize) -> Expect {
        Expect {
            sites,
            channels,
            outputs: 0,
            max_frames: 0,
            steps: 0,
            renderers: 0,
            pending: Default::default(),
            current_blocks: 0,
            checked: 0,
            total: Expected::default(),
        }
    }

    /// A set with `blocks` heap blocks and `renderers` active renderers was
    /// published; it is adopted at the next output callback.
    pub fn published(&mut self, blocks: usize) {
        self.pending.push_back(blocks);
    }

    pub fn check_input(&mut self, m: &Measured<InputReport>, frames: usize) {
        let cx = CallbackContext::input(self.channels, frames);
        self.total = self.total + self.sites.expected(&cx);
        assert_counts(
            self.sites.expected(&cx),
            &m.stats,
            "input",
            self.checked,
            self.sites,
        );
        self.checked += 1;
    }

    pub fn check_output(
        &mut self,
        m: &Measured<OutputReport>,
        frames: usize,
        renderers_of_new: usize,
    ) {
        let r = &m.report;
        let mut replaced = 0;
        for _ in 0..r.adopted_sets {
            replaced += self.current_blocks;
            self.current_blocks = self.pending.pop_front().expect("adopted a published set");
            self.steps = 0;
            self.renderers = renderers_of_new;
        }
        let cx = CallbackContext {
            kind: CallbackKind::Output,
            channels: self.channels,
            frames,
            renderers: if r.rendered_blocks > 0 {
                self.renderers
            } else {
                0
            },
            blocks: r.rendered_blocks,
            steps_before: self.steps,
            first: self.outputs == 0,
            underrun: r.underrun,
            max_frames_before: self.max_frames,
            replaced_set_blocks: replaced,
            rendering: !r.buffering,
        };
        self.total = self.total + self.sites.expected(&cx);
        assert_counts(
            self.sites.expected(&cx),
            &m.stats,
            "output",
            self.checked,
            self.sites,
        );
        self.outputs += 1;
        if !r.rejected {
            self.max_frames = self.max_frames.max(frames);
        }
        self.steps += r.rendered_blocks as u64;
        self.checked += 1;
    }
}

fn assert_counts(e: Expected, s: &Stats, what: &str, index: u64, sites: SiteSet) {
    let got = (
        s.counts.allocations,
        s.counts.deallocations,
        s.counts.reallocations,
    );
    assert_eq!(
        got,
        (e.allocations, e.deallocations, e.reallocations),
        "sites {sites}, {what} callback #{index}: measured (allocs, deallocs, reallocs) vs the formulas"
    );
}

/// A descriptor array for ad-hoc buffer lists in tests.
pub fn descriptors() -> [AudioBuffer; 16] {
    [AudioBuffer::EMPTY; 16]
}

/// A fresh, empty directory for one test, under the system's temporary
/// directory: `allocgate-{area}-{name}-{pid}`.
pub fn scratch(area: &str, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("allocgate-{area}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

/// The binary run to its end with `args`.
pub fn allocgate(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .args(args)
        .output()
        .expect("the binary runs")
}
