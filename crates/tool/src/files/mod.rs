//! The files a user names: every output is checked before a command does
//! any work and written atomically, every input is read through one
//! bounded reader.
//!
//! - [`Outputs`]: the files one command will write, checked together
//!   before it runs: each directory made, each target a regular file, a
//!   symlink to one or a new path, a temporary file created and removed
//!   beside each, no two naming the same file.
//! - [`write_atomically`]: a temporary file beside the target, synced,
//!   renamed over it; through a symlink to its regular file, never over a
//!   device, FIFO, socket or directory.
//! - [`read_input`]: a regular file only (checked before it is opened,
//!   and again on the open file), at most its [`InputKind`]'s cap (the
//!   engine's reader, which presets go through too).

mod output;

pub use allocgate_engine::read::{InputKind, kind, read_capped, read_input};
pub use output::{OutputError, Outputs, write_atomically};
