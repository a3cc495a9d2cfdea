//! The tool and the reference engine under the counting allocator: passthrough
//! integrity, the buffering state machine, the renderer, publication, and
//! every allocation site's exact count per callback against its formula;
//! and the metrics aggregator, which must not allocate while recording.

#[global_allocator]
static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();

mod rig;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod attach;
#[cfg(all(feature = "jack", target_os = "linux", target_env = "gnu"))]
mod attach_jack;
mod bad_input;
mod baselines;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod c_level;
mod cli;
mod compare_pairs;
mod convolver_peer;
mod figures;
mod gate;
mod hazards;
// Feature-gated suites: a build without them says so
// (harness/unbuilt.rs).
#[cfg(feature = "dhat-heap")]
mod heap_profile;
#[cfg(target_os = "linux")]
mod interrupt;
#[cfg(all(feature = "jack", target_os = "linux"))]
mod jack;
mod layering;
mod metrics;
mod optimized;
mod outputs;
mod passthrough;
mod publish_stress;
mod rendering;
mod simulated;
mod sites;
mod soak;
mod sweep;
mod trace;
mod words;
