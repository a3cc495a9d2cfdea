//! What the `allocgate` binary does, kept in the library so tests reach it.
//! `main.rs` only parses arguments and dispatches here.

mod backend_args;
mod baselines;
mod compare;
mod demo;
mod devices;
mod gate;
mod heap_profile;
mod hrir;
mod progress;
mod realtime;
mod run;
mod run_args;
mod signals;
mod soak;
mod sweep_args;

pub use backend_args::{BackendArgs, BackendChoice, JACK_BUILD_HINT, MAX_REAL_SECONDS};
pub use baselines::{
    BASELINES_DIR, BaselineError, BaselinesArgs, CASE_FILES, CASES, Case, CaseRuns,
    LATEST_BASELINES_DIR, case_config, run_case, write_baselines,
};
pub use compare::{CompareArgs, Compared};
pub use demo::{
    DEMO_DIR, DEMO_TABLE, DEMO_VARIANTS, DemoError, DemoRow, demo_config, render_demo, run_demo,
    run_demo_checked, write_demo,
};
pub use devices::{DevicesArgs, Listing, render_devices};
pub use gate::{
    BaselineVerdict, GateArgs, GatePlan, GateRunError, Hold, apply_baseline,
    fails_besides_allocating, gate_outputs, run_gate, write_junit,
};
pub use hrir::{
    DEFAULT_OUT, DEFAULT_SOFA, EMBEDDED_PRESET, HrirError, ImportReport, ImportSofa,
    ImportSofaArgs, import_sofa, render_import,
};
pub use progress::{Bar, SHOW_AFTER};
pub use realtime::ended_early;
pub use run::{
    BACKEND, Run, RunError, TraceSummary, execute, failures, outputs, ran_nothing, render_sites,
    render_summary, report_config, run_and_write, run_checked, sim_config, write_run,
};
pub use run_args::{
    DHAT_BUILD_HINT, MAX_SECONDS, RunArgs, RunConfig, TraceConfig, UsageError, variant_and_sites,
};
pub use signals::{FIRST_INTERRUPT, Interrupts};
pub use soak::{
    MAX_SOAK_MINUTES, MemoryTrace, RSS_GROWTH_LIMIT, SoakArgs, SoakPlan, Soaked, render_soak,
    resident_bytes, soak, soak_checked, soak_failures,
};
pub use sweep_args::{MAX_SWEEP_SECONDS, SWEEP_DIR, SweepArgs, SweepConfig};
