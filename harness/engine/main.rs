//! The reference engine under the counting allocator: passthrough
//! integrity, the buffering state machine, the renderer, publication, and
//! every allocation site's exact count per callback against its formula;
//! and the metrics aggregator, which must not allocate while recording.

#[global_allocator]
static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();

mod rig;

mod bad_input;
mod baselines;
mod cli;
mod convolver_peer;
mod figures;
mod gate;
mod hazards;
#[cfg(feature = "dhat-heap")]
mod heap_profile;
#[cfg(all(feature = "jack", target_os = "linux"))]
mod jack;
mod metrics;
mod optimized;
mod passthrough;
mod publish_stress;
mod rendering;
mod simulated;
mod sites;
mod soak;
mod sweep;
mod trace;
