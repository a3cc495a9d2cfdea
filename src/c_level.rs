//! The hook a C-level layer counts through: for a layer that defines the C
//! library's `malloc` family in the process (the `allocgate-interpose`
//! crate does), so that allocations C code makes directly show in the same
//! scopes as Rust's.
//!
//! Rules:
//! - The layer calls [`attach`] once, at load time. From then on, in each
//!   scope, the counting allocator marks each call it counts as forwarded
//!   while it passes it to the allocator it wraps: Rust's `System`
//!   allocator calls `malloc`, and that `malloc` must not count the same
//!   allocation a second time. Until [`attach`] runs, [`record`] counts
//!   nothing and the counting allocator works as without a layer; calls
//!   outside scopes take the same path either way. Both sides read the
//!   same per-thread mode, so a scope never counts a Rust allocation twice,
//!   even one open while [`attach`] runs.
//! - The layer passes each call it receives to [`record`], which counts it
//!   in the innermost scope open on the current thread, as permitted or
//!   forbidden, with its stack when site tracing is on. Not counted: calls
//!   on a thread without an open scope, calls the counting allocator is
//!   forwarding, the install probe's allocation, and calls the unwinder
//!   makes while a stack is captured.
//! - The layer passes each blocking call it receives (`pthread_mutex_lock`,
//!   `nanosleep`, …) to [`record_blocking`], which counts it by name in
//!   the same scope ([`Stats::blocking`](crate::Stats::blocking)), under
//!   the same rules, without a stack even when site tracing is on.
//! - [`counting`] tells the layer whether [`record`] would count a call now,
//!   so that work needed only for counting (the size of a block being
//!   freed) is skipped outside scopes.
//!
//! Both read one thread-local byte (a `const`-initialised thread-local
//! without destructor, valid in a thread's first and last calls) and
//! update thread-local counters: they never allocate, lock or block.
//! [`check_installed`](crate::check_installed) still asks for the counting
//! allocator: the layer adds to it, it does not replace it.

use std::fmt;

use super::blocking::BlockingCall;
use super::named_counts::{CallName, NamedCounts};
use super::stats::Event;
use super::thread_state;

/// The C allocator entry point a call came through, named after the
/// function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
#[repr(u8)]
pub enum CAllocCall {
    /// `malloc`.
    Malloc,
    /// `calloc`.
    Calloc,
    /// `realloc`.
    Realloc,
    /// `reallocarray`.
    ReallocArray,
    /// `free`.
    Free,
    /// `posix_memalign`.
    PosixMemalign,
    /// `aligned_alloc`.
    AlignedAlloc,
    /// `memalign`.
    Memalign,
    /// `valloc`.
    Valloc,
    /// `pvalloc`.
    Pvalloc,
}

impl CAllocCall {
    /// Number of entry points named.
    pub const COUNT: usize = 10;

    /// Every entry point, in the order of their counters.
    pub const ALL: [CAllocCall; Self::COUNT] = [
        CAllocCall::Malloc,
        CAllocCall::Calloc,
        CAllocCall::Realloc,
        CAllocCall::ReallocArray,
        CAllocCall::Free,
        CAllocCall::PosixMemalign,
        CAllocCall::AlignedAlloc,
        CAllocCall::Memalign,
        CAllocCall::Valloc,
        CAllocCall::Pvalloc,
    ];

    /// The C function's name, as in `"malloc"`.
    pub const fn name(self) -> &'static str {
        match self {
            CAllocCall::Malloc => "malloc",
            CAllocCall::Calloc => "calloc",
            CAllocCall::Realloc => "realloc",
            CAllocCall::ReallocArray => "reallocarray",
            CAllocCall::Free => "free",
            CAllocCall::PosixMemalign => "posix_memalign",
            CAllocCall::AlignedAlloc => "aligned_alloc",
            CAllocCall::Memalign => "memalign",
            CAllocCall::Valloc => "valloc",
            CAllocCall::Pvalloc => "pvalloc",
        }
    }
}

impl fmt::Display for CAllocCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl CallName for CAllocCall {
    const ALL: &'static [CAllocCall] = &CAllocCall::ALL;

    #[inline(always)]
    fn index(self) -> usize {
        self as usize
    }
}

/// C allocator calls counted per [`CAllocCall`].
pub type CAllocCounts = NamedCounts<CAllocCall, { CAllocCall::COUNT }>;

/// One C-level allocator call, as a layer reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// An allocation of `size` bytes (`malloc`, `memalign` and the like;
    /// `zeroed` for `calloc`): counted like `alloc` / `alloc_zeroed`.
    Alloc {
        /// Bytes requested.
        size: usize,
        /// Whether the memory is returned zeroed.
        zeroed: bool,
    },
    /// A `free` of a non-null block of `size` bytes: counted like `dealloc`.
    Free {
        /// The block's size, as far as the layer knows it.
        size: usize,
    },
    /// A `realloc` of a non-null block from `old` to `new` bytes: counted
    /// like `realloc`.
    Realloc {
        /// The block's size before the call, as far as the layer knows it.
        old: usize,
        /// Bytes requested.
        new: usize,
    },
}

impl From<Call> for Event {
    #[inline(always)]
    fn from(call: Call) -> Event {
        match call {
            Call::Alloc { size, zeroed } => Event::Alloc { size, zeroed },
            Call::Free { size } => Event::Dealloc { size },
            Call::Realloc { old, new } => Event::Realloc { old, new },
        }
    }
}

/// Marks this process as having a C-level layer: [`record`] counts from
/// the next change of scope (open, close, permit) on each thread.
pub fn attach() {
    thread_state::attach_c_level();
}

/// Whether a C-level layer has called [`attach`] in this process.
pub fn is_attached() -> bool {
    thread_state::c_level_attached()
}

/// Whether [`record`] would count a call made on this thread now.
#[inline]
pub fn counting() -> bool {
    thread_state::c_level_counting()
}

/// Counts `call`, made through the C function `function`, in the
/// innermost scope open on this thread, unless no layer is attached or it
/// is one of the calls not counted (see the module docs): in the scope's
/// counts as the counting allocator counts Rust's, and by name in
/// [`Stats::c_allocator`](crate::Stats::c_allocator).
#[inline(always)]
pub fn record(function: CAllocCall, call: Call) {
    thread_state::record_c_level(function, call.into());
}

/// Counts one blocking call by name in the innermost scope open on this
/// thread, under the same rules as [`record`] (site tracing leaves blocking
/// calls out: they are counted, not traced).
#[inline]
pub fn record_blocking(call: BlockingCall) {
    thread_state::record_c_level_blocking(call);
}
