//! The stream between `liballocgate_preload.so`, loaded into a profiled
//! program, and `allocgate attach`, which reads what it wrote.
//!
//! The tool sets the [`env`](mod@env) variables before it starts the program; the
//! preload library writes one file of length-prefixed frames (see
//! [`Message`]), the tool reads it with [`Capture::read`] (everything at
//! once) or [`Frames`] (frame by frame, resumable on a growing file).
//!
//! A stream is a [`Header`], then in any order: a [`Client`] for every
//! registration (a slot), a [`Callback`] per measured invocation, [`Drops`]
//! when a slot's queue overflowed, [`Site`]s when site tracing is on, and,
//! when the program exited normally, an [`End`]. A program killed or
//! crashed leaves a stream without an end, possibly cut inside a frame:
//! the reader returns everything before the cut and says where it was.
//!
//! # Frames
//!
//! Every frame is a little-endian `u32` length (the bytes that follow it,
//! at least 1 and at most [`MAX_FRAME`]), a one-byte kind, and the
//! kind's fields, little-endian; strings are a `u16` byte length and UTF-8;
//! lists a `u16` count and their items. The header frame comes first and
//! starts with [`MAGIC`] and [`VERSION`]. A reader skips frames of kinds
//! it does not know (a later version may add some) and stops at the first
//! frame it cannot make sense of, never panicking.

#![deny(missing_docs, missing_debug_implementations, unsafe_op_in_unsafe_fn)]

mod capture;
mod decode;
mod encode;
pub mod env;
mod message;

pub use capture::{Capture, SiteTotal};
pub use decode::{Frames, ReadError};
pub use encode::encode;
pub use message::{Callback, Client, Counts, Drops, End, Header, Message, Role, Site, Usage};

/// First bytes of a stream's header frame.
pub const MAGIC: [u8; 8] = *b"AGATTACH";

/// The format version this crate writes and reads.
pub const VERSION: u16 = 1;

/// Largest frame, length field excluded: a longer length means the
/// stream is corrupt.
pub const MAX_FRAME: u32 = 1 << 20;

#[cfg(test)]
mod tests;
