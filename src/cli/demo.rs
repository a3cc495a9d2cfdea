//! The default command: the reference engine on the embedded KEMAR preset,
//! 7.1 at 48 kHz / 512 frames, one simulated second of each variant
//! (`seed`, `prefix`, `fixed`), every callback measured on its own.
//!
//! The callbacks run in lockstep on this thread (an input callback, then an
//! output callback); the simulated clock with drift, records and reports
//! is `allocgate run`'s job.

use std::fmt::Write as _;

use crate::alloc::{Error, Probe, Totals};
use crate::engine::buffers::OwnedBufferList;
use crate::engine::preset::Preset;
use crate::engine::sites::Variant;
use crate::engine::synthetic::SplitMix;
use crate::engine::{Engine, EngineConfig, MAX_FRAMES};

/// The demo's device: 7.1 at 48 kHz, 512 frames per callback.
pub const CHANNELS: usize = 8;
/// Sample rate of the demo's devices.
pub const SAMPLE_RATE: u32 = 48_000;
/// Frames per callback.
pub const FRAMES: usize = 512;
/// One second of callbacks at 48 kHz / 512 frames, rounded up.
pub const CALLBACKS: u64 = 94;

/// One variant's figures over the demo run.
#[derive(Debug)]
pub struct DemoRow {
    /// The variant.
    pub variant: Variant,
    /// Every input callback, added up.
    pub input: Totals,
    /// Every output callback, added up.
    pub output: Totals,
}

/// Why the demo could not run.
#[derive(Debug)]
pub enum DemoError {
    /// The counting allocator is not installed.
    Alloc(Error),
    /// The engine or preset refused the configuration.
    Engine(String),
}

impl std::fmt::Display for DemoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DemoError::Alloc(e) => write!(f, "{e}"),
            DemoError::Engine(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for DemoError {}

impl From<Error> for DemoError {
    fn from(e: Error) -> Self {
        DemoError::Alloc(e)
    }
}

/// Runs every variant for [`CALLBACKS`] pairs of callbacks.
pub fn run_demo() -> Result<Vec<DemoRow>, DemoError> {
    let preset = Preset::kemar();
    Variant::ALL
        .into_iter()
        .map(|v| run_variant(v, &preset))
        .collect()
}

fn run_variant(variant: Variant, preset: &Preset) -> Result<DemoRow, DemoError> {
    let config = EngineConfig::new(CHANNELS, SAMPLE_RATE).with_sites(variant.sites());
    let mut engine = Engine::new(&config).map_err(|e| DemoError::Engine(e.to_string()))?;
    engine
        .control
        .activate(preset)
        .map_err(|e| DemoError::Engine(e.to_string()))?;
    let mut device_in = OwnedBufferList::new(CHANNELS, MAX_FRAMES);
    let mut device_out = OwnedBufferList::new(2, MAX_FRAMES);
    let mut noise = SplitMix::new(7);
    let mut input = Probe::new(Totals::default())?;
    let mut output = Probe::new(Totals::default())?;
    for _ in 0..CALLBACKS {
        {
            let mut v = device_in.view();
            for c in 0..CHANNELS {
                for x in v.channel_mut(c).into_iter().flatten().take(FRAMES) {
                    *x = 0.25 * noise.next_f32();
                }
            }
        }
        let source = &device_in;
        input.run(|| {
            engine.input.process(FRAMES, |list| {
                (0..CHANNELS).all(|c| match list.channel_mut(c) {
                    Some(dst) => {
                        dst[..FRAMES].copy_from_slice(source.channel(c, FRAMES));
                        true
                    }
                    None => false,
                })
            })
        });
        let out = &mut device_out;
        let callback = &mut engine.output;
        output.run(|| {
            let mut view = out.view();
            view.set_frames(FRAMES);
            callback.process(&mut view, FRAMES)
        });
        engine.control.collect_retired();
    }
    Ok(DemoRow {
        variant,
        input: input.into_sink(),
        output: output.into_sink(),
    })
}

/// The demo's table, as printed.
pub fn render_demo(rows: &[DemoRow]) -> String {
    let per_second = f64::from(SAMPLE_RATE) / FRAMES as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "allocgate demo: reference engine, 7.1 ({CHANNELS} ch) at {SAMPLE_RATE} Hz / {FRAMES} frames, \
         embedded KEMAR preset, {CALLBACKS} input and {CALLBACKS} output callbacks per variant \
         ({per_second:.2} callbacks/s per side)\n"
    );
    let _ = writeln!(
        out,
        "| variant | allocs/input cb | allocs/output cb | deallocs | reallocs | 48-byte class | allocs/s |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let (i, o) = (&row.input.total, &row.output.total);
        let allocs_in = i.counts.allocations as f64 / row.input.calls.max(1) as f64;
        let allocs_out = o.counts.allocations as f64 / row.output.calls.max(1) as f64;
        let _ = writeln!(
            out,
            "| {} | {:.2} | {:.2} | {} | {} | {} | {:.0} |",
            row.variant.name(),
            allocs_in,
            allocs_out,
            i.counts.deallocations + o.counts.deallocations,
            i.counts.reallocations + o.counts.reallocations,
            i.macos_classes().count_like(48) + o.macos_classes().count_like(48),
            (allocs_in + allocs_out) * per_second,
        );
    }
    let _ = writeln!(
        out,
        "\nseed: the seed document's input callback (fresh buffer list, pointer array, channel \
         buffers).\nprefix: the original's source before its fix (two 36-byte scale arrays per \
         engine per block: the 48-byte class; debug lines on the first two blocks).\nfixed: \
         nothing allocated, freed or reallocated in any callback."
    );
    out
}
