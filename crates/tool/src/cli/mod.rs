//! The `allocgate` command's arguments and text: each subcommand's flags
//! and their validation into what the library runs (a
//! [`RunConfig`](crate::run::RunConfig), a [`GatePlan`](crate::gate::GatePlan),
//! …), and what it prints. Kept in the library so tests reach it;
//! `main.rs` parses arguments and dispatches here.

mod attach_args;
mod attach_summary;
mod backend_args;
mod baselines;
mod compare;
mod demo;
mod devices;
mod gate;
mod hrir;
mod progress;
mod run_args;
mod signals;
mod soak;
mod summary;
mod sweep_args;

pub use attach_args::AttachArgs;
pub use attach_summary::render_attach;
pub use backend_args::{BackendArgs, MAX_REAL_SECONDS};
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
pub use gate::GateArgs;
pub use hrir::{
    DEFAULT_OUT, DEFAULT_SOFA, EMBEDDED_PRESET, HrirError, ImportReport, ImportSofa,
    ImportSofaArgs, import_sofa, render_import,
};
pub use progress::{Bar, SHOW_AFTER};
pub use run_args::{MAX_SECONDS, RunArgs, UsageError, variant_and_sites};
pub use signals::{FIRST_INTERRUPT, Interrupts};
pub use soak::{MAX_SOAK_MINUTES, SoakArgs, render_soak};
pub use summary::{render_site_table, render_sites, render_summary};
pub use sweep_args::{MAX_SWEEP_SECONDS, SWEEP_DIR, SweepArgs, SweepConfig};
