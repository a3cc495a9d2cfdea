//! What the `allocgate` binary does, kept in the library so tests reach it.
//! `main.rs` only parses arguments and dispatches here.

mod demo;
mod hrir;
mod run_args;

pub use demo::{CALLBACKS, CHANNELS, DemoError, DemoRow, FRAMES, render_demo, run_demo};
pub use hrir::{
    DEFAULT_OUT, DEFAULT_SOFA, HrirError, ImportReport, ImportSofa, import_sofa, render_import,
};
pub use run_args::{MAX_SECONDS, Mode, RunArgs, RunConfig, UsageError};
