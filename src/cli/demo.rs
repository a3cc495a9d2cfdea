//! The default command: two small output callbacks measured side by side,
//! one that makes per-call temporaries and one that uses pre-allocated
//! scratch, as the counting allocator sees them.

use std::fmt::Write as _;

use crate::alloc::{Error, Probe, Totals};

/// Sample rate and callback size the demo models.
const SAMPLE_RATE: f64 = 48_000.0;
const FRAMES: usize = 512;
/// One second of callbacks at 48 kHz / 512 frames, rounded up.
const CALLS: u64 = 94;
/// A one-element Swift `[Float]`: 32-byte header plus 4 bytes of payload.
const SWIFT_ONE_FLOAT_ARRAY: usize = 36;

/// One callback's figures over the demo run.
#[derive(Debug)]
pub struct DemoRow {
    /// What the callback does.
    pub name: &'static str,
    /// Everything its invocations did, added up.
    pub totals: Totals,
}

impl DemoRow {
    fn per_call(&self, n: u64) -> f64 {
        n as f64 / self.totals.calls.max(1) as f64
    }
}

/// Scales a block of samples, making two short-lived 36-byte temporaries on
/// every call (the pattern behind the reference app's 48-byte mallocs).
fn scale_with_temporaries(block: &mut [f32], gain: f32) {
    let mut real = Vec::<f32>::with_capacity(SWIFT_ONE_FLOAT_ARRAY / 4);
    real.push(gain);
    let mut imag = Vec::<f32>::with_capacity(SWIFT_ONE_FLOAT_ARRAY / 4);
    imag.push(gain);
    let g = std::hint::black_box(&real)[0] * std::hint::black_box(&imag)[0];
    block.iter_mut().for_each(|s| *s *= g);
}

/// The same work with the factor kept in pre-allocated state.
fn scale_preallocated(block: &mut [f32], gain: &[f32; 2]) {
    let g = gain[0] * gain[1];
    block.iter_mut().for_each(|s| *s *= g);
}

/// Runs both callbacks for one simulated second and returns their figures.
pub fn run_demo() -> Result<Vec<DemoRow>, Error> {
    let mut block = vec![0.25f32; FRAMES];
    let gain = [0.5f32, 1.0];

    let mut probe = Probe::new(Totals::default())?;
    for _ in 0..CALLS {
        probe.run(|| scale_with_temporaries(&mut block, 0.5));
    }
    let before = DemoRow {
        name: "temporaries per call",
        totals: probe.into_sink(),
    };

    let mut probe = Probe::new(Totals::default())?;
    for _ in 0..CALLS {
        probe.run(|| scale_preallocated(&mut block, &gain));
    }
    let after = DemoRow {
        name: "pre-allocated scratch",
        totals: probe.into_sink(),
    };
    Ok(vec![before, after])
}

/// The demo's table, as printed.
pub fn render_demo(rows: &[DemoRow]) -> String {
    let callbacks_per_second = SAMPLE_RATE / FRAMES as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "allocgate demo: {CALLS} calls of each callback (1 s at {} Hz / {FRAMES} frames, \
         {callbacks_per_second:.2} callbacks/s)\n",
        SAMPLE_RATE as u32
    );
    let _ = writeln!(
        out,
        "| callback | allocs/call | deallocs/call | bytes/call | 48-byte class | allocs/s |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for row in rows {
        let c = &row.totals.total.counts;
        let allocs = row.per_call(c.allocations);
        let _ = writeln!(
            out,
            "| {} | {:.2} | {:.2} | {:.1} | {} | {:.1} |",
            row.name,
            allocs,
            row.per_call(c.deallocations),
            row.per_call(c.bytes_allocated),
            row.totals.total.macos_classes().count_like(48),
            allocs * callbacks_per_second,
        );
    }
    out
}
