//! Virtual-time throughput of the simulated clock: simulated seconds per
//! wall second for the engine variants at 7.1, 48 kHz / 512 frames, on
//! the embedded KEMAR preset, with every callback measured on its own.
//!
//! ```text
//! cargo run --release --example sim_throughput [SECONDS]
//! ```
//!
//! One line per variant and integrity mode: the speed, the callbacks run
//! and their allocator calls, and the verdict.

use std::time::Duration;

use allocgate_engine::EngineConfig;
use allocgate_engine::preset::Preset;
use allocgate_engine::sites::SiteSet;
use allocgate_engine::variant::Variant;
use allocgate_tool::drive::integrity::{ConvolutionReference, IntegrityMode};
use allocgate_tool::drive::sim::{FrameSequence, SimConfig, Simulation};

#[global_allocator]
static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();

fn main() {
    let seconds: u64 = match std::env::args().nth(1).map(|s| s.parse()) {
        None => 60,
        Some(Ok(s)) if s > 0 => s,
        Some(_) => {
            eprintln!(
                "usage: sim_throughput [SECONDS]; expected a whole number of seconds above 0"
            );
            std::process::exit(2);
        }
    };
    let preset = Preset::kemar();
    let modes = [
        ("integrity off", IntegrityMode::Off, seconds),
        (
            "partitioned reference",
            IntegrityMode::Check(ConvolutionReference::Partitioned),
            seconds,
        ),
        (
            "direct reference",
            IntegrityMode::Check(ConvolutionReference::Direct),
            seconds.div_ceil(10),
        ),
    ];
    println!("7.1, 48 kHz / 512 frames, KEMAR, virtual time");
    for variant in [Variant::Optimized, Variant::Fixed, Variant::Prefix] {
        for (name, integrity, secs) in modes {
            let config = SimConfig::new(
                EngineConfig::new(8, 48_000).with_variant(variant, SiteSet::EMPTY),
                FrameSequence::Fixed(512),
                Duration::from_secs(secs),
            )
            .with_preset(preset.clone())
            .with_integrity(integrity);
            let mut simulation = match Simulation::new(&config) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(2);
                }
            };
            let outcome = match simulation.run(&mut |_: &allocgate_tool::metrics::Record| {}) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(2);
                }
            };
            let callbacks = outcome.input.all.callbacks + outcome.output.all.callbacks;
            let mut calls = outcome.input.stats.counts;
            calls.merge(&outcome.output.stats.counts);
            println!(
                "{:<7} {:<22} {:>6} s simulated in {:>7.3} s: {:>8.1} simulated s per wall s \
                 ({callbacks} callbacks, {} allocator calls; integrity {})",
                variant.name(),
                name,
                secs,
                outcome.wall.as_secs_f64(),
                outcome.speed(),
                calls.calls(),
                outcome.integrity.verdict,
            );
        }
    }
}
