//! allocgate proves that an audio callback never allocates, locks or
//! blocks, and finds the line that does when it does.
//!
//! Add it as a dev-dependency, install [`CountingAlloc`] as the global
//! allocator of a test binary, and put each per-block call of your code
//! (or of the crates it uses) through a [`CallbackGate`]:
//!
//! ```toml
//! [dev-dependencies]
//! allocgate = "0.1"
//! ```
//!
//! ```rust,standalone_crate
//! // tests/realtime.rs
//! #[global_allocator]
//! static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();
//!
//! struct Gain { gain: f32 }
//!
//! impl Gain {
//!     fn process(&mut self, block: &mut [f32]) {
//!         block.iter_mut().for_each(|s| *s *= self.gain);
//!     }
//! }
//!
//! # /*
//! #[test]
//! # */
//! fn gain_is_real_time_safe() {
//!     let mut gain = Gain { gain: 0.5 };
//!     let mut block = vec![0.25f32; 512]; // allocated and written up front
//!     allocgate::CallbackGate::new("gain")
//!         .trace_sites() // a failure names each call site
//!         .check_hazards() // tracked locks, page faults, voluntary switches
//!         .warm_up(1)
//!         .allow_warm_up() // a first call may fault on its code pages
//!         .run(10_000, |_| gain.process(&mut block))
//!         .unwrap()
//!         .assert_clean();
//! }
//! # fn main() { gain_is_real_time_safe() }
//! ```
//!
//! Every invocation is measured on its own; a failing gate lists the
//! offending invocations, the totals and, with
//! [`trace_sites`](CallbackGate::trace_sites), each call site grouped by
//! function with its sizes, the invocations it occurred in and a short
//! backtrace. From this crate's own test of realfft's odd-length
//! transform, which allocates its scratch buffer on every call (Linux,
//! debug build):
//!
//! ```text
//! callback 'spectrum' touched the allocator in 4 of 4 invocations:
//!   invocation 0: 1 allocation (16368 bytes), 0 reallocations, 1 deallocation; in macOS's size classes (not this platform's): 1 x 16384 B (small); at <realfft::RealToComplexOdd<T> as realfft::RealToComplex<T>>::make_scratch_vec, <realfft::RealToComplexOdd<T> as realfft::RealToComplex<T>>::process
//!   …
//!   in all: 4 allocations (65472 bytes), 0 reallocations, 4 deallocations
//! 2 call sites (first frame outside std and allocgate):
//!   <realfft::RealToComplexOdd<T> as realfft::RealToComplex<T>>::make_scratch_vec: 4 allocations
//!     16368 bytes: 4 allocations
//!     in invocations 0, 1, 2, 3
//!     backtrace:
//!       <realfft::RealToComplexOdd<T> as realfft::RealToComplex<T>>::make_scratch_vec
//!       <realfft::RealToComplexOdd<T> as realfft::RealToComplex<T>>::process
//!       gate::an_odd_length_realfft_transform_is_named_at_realfft::{{closure}}
//!       gate::an_odd_length_realfft_transform_is_named_at_realfft
//!   <realfft::RealToComplexOdd<T> as realfft::RealToComplex<T>>::process: 4 deallocations
//!     16368 bytes: 4 deallocations
//!     …
//! ```
//!
//! Counting is per thread and per scope, never aborts, and refuses to pass
//! vacuously when the allocator is not installed.
//!
//! What allocgate cannot see:
//! - allocations by C code that calls `malloc` directly (a C library
//!   behind a binding), unless the `allocgate-interpose` crate is added
//!   (Linux with glibc): otherwise only calls through Rust's global
//!   allocator are counted;
//! - locks other than [`hazard::TrackedMutex`] and
//!   [`hazard::TrackedRwLock`]: an uncontended `std::sync::Mutex` leaves
//!   no trace at all, and a contended one shows only as a voluntary context
//!   switch, with [`check_hazards`](CallbackGate::check_hazards), on Linux.
//!
//! The parts:
//! - the gate: [`CallbackGate`], judging every invocation of a callback,
//!   and what it returns, [`GateRun`];
//! - scopes: [`measure`], [`try_measure`], [`open_scope`], [`assert_no_alloc`],
//!   [`permit`], and [`Probe`] for a callback measured call by call in
//!   your own driver;
//! - [`trace`]: where counted calls come from (feature `backtrace`, on by
//!   default; `default-features = false` builds with `libc` alone);
//! - [`hazard`]: tracked locks, page faults and context switches;
//! - [`size_class`]: request sizes and the allocator size classes they
//!   fall in;
//! - [`c_level`]: the hook through which the `allocgate-interpose` crate
//!   counts C code's `malloc` family in the same scopes.
//!
//! ```rust,standalone_crate
//! #[global_allocator]
//! static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();
//!
//! # fn main() {
//! let m = allocgate::measure(|| vec![0u8; 36]);
//! assert_eq!(m.stats.counts.allocations, 1);
//! assert_eq!(m.stats.macos_classes().count_like(36), 1); // the 48-byte class
//! # }
//! ```

#![deny(missing_docs, missing_debug_implementations, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod blocking;
pub mod c_level;
mod callback;
mod callback_gate;
mod counting;
mod error;
pub mod hazard;
mod named_counts;
mod scope;
pub mod size_class;
mod stats;
mod text;
mod thread_state;
#[cfg(feature = "backtrace")]
pub mod trace;

pub use blocking::{BlockingCall, BlockingCounts};
pub use callback::{CallLog, Probe, Sink, Totals};
pub use callback_gate::{CallFigures, CallbackGate, GateError, GateRun, KEPT_OFFENDERS, Offender};
#[cfg(feature = "backtrace")]
pub use callback_gate::{CallSite, SiteSize};
pub use counting::CountingAlloc;
pub use error::Error;
pub use named_counts::{CallName, NamedCounts};
pub use scope::{
    Measured, OpenedScope, assert_no_alloc, check_installed, measure, open_scope, permit,
    scope_depth, try_measure,
};
pub use stats::{Counts, Stats};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
