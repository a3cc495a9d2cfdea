//! What the `allocgate` binary does, kept in the library so tests reach it.
//! `main.rs` only parses arguments and dispatches here.

mod demo;

pub use demo::{DemoRow, render_demo, run_demo};
