//! The per-thread state the counting allocator reads on every call.
//!
//! Everything lives in one `thread_local!` with a `const` initialiser and no
//! destructor, so reaching it never allocates, never registers a destructor
//! and stays valid while a thread starts up or tears down. Outside a scope the
//! allocator reads one byte (the mode) and goes straight to the wrapped
//! allocator. No lock and no atomic read-modify-write is involved: the state
//! belongs to its thread, so other threads can never show in its figures.

use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicBool, Ordering};

use super::blocking::BlockingCall;
use super::c_level::CAllocCall;
use super::stats::{Event, Stats};
#[cfg(feature = "backtrace")]
use super::trace;

/// What the allocator does with a call on this thread: one byte, the only
/// field the fast path reads.
mod mode {
    /// No scope open: forward the call, count nothing.
    pub(super) const IDLE: u8 = 0;
    /// Bit set while a scope is open and calls are counted.
    pub(super) const COUNTING: u8 = 1;
    /// Bit set, with `COUNTING`, inside a permitted region.
    pub(super) const PERMITTED: u8 = 2;
    /// Inside the wrapped allocator on behalf of a counted call: calls it
    /// makes back into the global allocator (dhat's bookkeeping does) are
    /// forwarded uncounted.
    pub(super) const BUSY: u8 = 4;
    /// The install probe runs: note that the call reached us, count nothing.
    pub(super) const PROBING: u8 = 8;
    /// Bit set, with `COUNTING`, while site tracing is on for this thread:
    /// each counted call also captures its stack.
    pub(super) const TRACING: u8 = 16;
    /// A stack capture runs: calls the unwinder makes are forwarded
    /// uncounted, and only tallied as nested calls.
    pub(super) const CAPTURING: u8 = 32;
    /// Bit set, with `COUNTING`, when a C-level layer is attached (see
    /// `crate::c_level`): the counting allocator then forwards each counted
    /// call in `BUSY` mode, so the layer does not count it a second time
    /// when the wrapped allocator reaches `malloc`.
    pub(super) const C_LEVEL: u8 = 64;
}

/// Set once, before any scope opens, by a C-level layer: scopes opened
/// from then on carry the `C_LEVEL` bit.
static C_LEVEL_ATTACHED: AtomicBool = AtomicBool::new(false);

struct ThreadState {
    mode: Cell<u8>,
    /// Number of open scopes on this thread.
    depth: Cell<u32>,
    /// Calls are counted as permitted rather than forbidden.
    permitted: Cell<bool>,
    probing: Cell<bool>,
    probe_hit: Cell<bool>,
    /// Site tracing is on for this thread (see `trace`).
    tracing: Cell<bool>,
    /// Figures of the innermost open scope.
    frame: UnsafeCell<Stats>,
}

impl ThreadState {
    const fn new() -> Self {
        ThreadState {
            mode: Cell::new(mode::IDLE),
            depth: Cell::new(0),
            permitted: Cell::new(false),
            probing: Cell::new(false),
            probe_hit: Cell::new(false),
            tracing: Cell::new(false),
            frame: UnsafeCell::new(Stats::new()),
        }
    }

    /// Derives the mode from the scope depth, the permit flag and the probe
    /// flag. Never called while a counted call is in progress (that is
    /// allocator code, which opens no scope, permits nothing and runs no
    /// probe).
    fn update_mode(&self) {
        self.mode.set(if self.probing.get() {
            mode::PROBING
        } else if self.depth.get() == 0 {
            mode::IDLE
        } else {
            let permitted = if self.permitted.get() {
                mode::PERMITTED
            } else {
                0
            };
            let tracing = if self.tracing.get() { mode::TRACING } else { 0 };
            let c_level = if C_LEVEL_ATTACHED.load(Ordering::Relaxed) {
                mode::C_LEVEL
            } else {
                0
            };
            mode::COUNTING | permitted | tracing | c_level
        });
    }

    /// Runs `f` on the innermost scope's figures.
    #[inline(always)]
    fn with_frame<R>(&self, f: impl FnOnce(&mut Stats) -> R) -> R {
        // SAFETY: the frame is reached only through this method, only from
        // its own thread (it is thread-local and the state is never shared),
        // and every closure passed here does arithmetic and copies only: it
        // neither allocates nor calls back into this state. So no other
        // reference to the frame exists while `f` runs.
        f(unsafe { &mut *self.frame.get() })
    }
}

thread_local! {
    static STATE: ThreadState = const { ThreadState::new() };
}

/// The fast path: one read of the mode byte decides what a call needs.
///
/// Returns true when the caller may forward the call to the wrapped
/// allocator right away: no scope is open (nothing counted), or a scope is
/// open in plain counting mode (no permit, no tracing, no C-level layer)
/// and no re-entrancy guard is needed, in which case the call has just been recorded. Returns
/// false when [`counted`] must handle it (permit, tracing, probe, capture,
/// re-entrancy guard), which is off the fast path.
#[inline(always)]
pub(crate) fn record_fast(guard_reentry: bool, event: Event) -> bool {
    // `try_with` cannot fail for a const-initialised key without destructor;
    // it keeps the allocator free of panics all the same. Taking the address
    // in a tiny closure keeps the path inlined, with one TLS address
    // computation for the mode and the frame.
    let Ok(state) = STATE.try_with(|s| s as *const ThreadState) else {
        return true;
    };
    // SAFETY: a const-initialised thread-local without destructor lives as
    // long as its thread, which outlives this call; only a shared reference
    // is made, and mutation goes through `Cell`s and `with_frame`.
    let s = unsafe { &*state };
    let current = s.mode.get();
    if current == mode::IDLE {
        return true;
    }
    if current == mode::COUNTING && !guard_reentry {
        s.with_frame(|f| f.apply(event, false));
        return true;
    }
    false
}

/// Runs one allocator call and, when the current thread has a scope open,
/// records it in the innermost scope first.
///
/// A call is counted when it is made, whether or not it succeeds: a request
/// that fails has still entered the allocator, which is the hazard a
/// real-time gate looks for. Recording before the call also lets the call
/// be a tail call when no re-entrancy guard is needed.
///
/// Not counted: calls on a thread without an open scope, calls the wrapped
/// allocator makes back into the global allocator while `call` runs (when
/// `guard_reentry` is set: the re-entrancy guard), and the install probe's
/// allocation.
#[inline(always)]
pub(crate) fn counted<R>(guard_reentry: bool, event: Event, call: impl FnOnce() -> R) -> R {
    // Taking the address in a tiny closure keeps the whole path inlined
    // (`LocalKey::with` around the full body is not).
    let state: *const ThreadState = STATE.with(|s| s as *const ThreadState);
    // SAFETY: a const-initialised thread-local without destructor lives as
    // long as its thread, which outlives this call. Only a shared reference
    // is made, so the re-entrant calls `call` may make can reach the state
    // too; mutation goes through `Cell`s and `with_frame`.
    let s = unsafe { &*state };
    let current = s.mode.get();
    if current & mode::COUNTING != 0 {
        count_in_scope(s, current, event);
        if guard_reentry || current & mode::C_LEVEL != 0 {
            s.mode.set(mode::BUSY);
            let result = call();
            s.mode.set(current);
            return result;
        }
    } else if current == mode::PROBING {
        s.probe_hit.set(true);
    } else if current == mode::CAPTURING {
        #[cfg(feature = "backtrace")]
        trace::nested_call();
    }
    call()
}

/// Records `event` in the innermost scope, as permitted or forbidden, and
/// captures its stack when site tracing is on. `current` is the mode, with
/// the `COUNTING` bit set.
#[inline(always)]
fn count_in_scope(s: &ThreadState, current: u8, event: Event) {
    let permitted = current & mode::PERMITTED != 0;
    s.with_frame(|f| f.apply(event, permitted));
    #[cfg(feature = "backtrace")]
    if current & mode::TRACING != 0 {
        // Anything the unwinder allocates while the stack is captured is
        // forwarded uncounted (the `CAPTURING` branch of `counted`): it is
        // the tracer's, not the callback's.
        s.mode.set(mode::CAPTURING);
        trace::capture(event);
        s.mode.set(current);
    }
}

/// Whether a call reaching a C-level layer on this thread now is to be
/// counted: a scope is open, a layer is attached, and the call is not one
/// the counting allocator is forwarding (`BUSY`), the install probe's, or
/// the unwinder's during a stack capture (those modes carry neither bit).
#[inline(always)]
pub(crate) fn c_level_counting() -> bool {
    STATE
        .try_with(|s| c_level_counts(s.mode.get()))
        .unwrap_or(false)
}

#[inline(always)]
fn c_level_counts(current: u8) -> bool {
    current & (mode::COUNTING | mode::C_LEVEL) == mode::COUNTING | mode::C_LEVEL
}

/// Records a call a C-level layer received, if [`c_level_counting`].
#[inline(always)]
pub(crate) fn record_c_level(function: CAllocCall, event: Event) {
    let Ok(state) = STATE.try_with(|s| s as *const ThreadState) else {
        return;
    };
    // SAFETY: as in `record_fast`: the state lives as long as its thread,
    // only a shared reference is made, mutation goes through `Cell`s and
    // `with_frame`.
    let s = unsafe { &*state };
    let current = s.mode.get();
    if c_level_counts(current) {
        let permitted = current & mode::PERMITTED != 0;
        s.with_frame(|f| f.add_c_allocator(function, permitted));
        count_in_scope(s, current, event);
    }
}

/// Records a blocking call a C-level layer received, if
/// [`c_level_counting`]. Blocking calls are counted, not traced.
#[inline(always)]
pub(crate) fn record_c_level_blocking(call: BlockingCall) {
    let Ok(state) = STATE.try_with(|s| s as *const ThreadState) else {
        return;
    };
    // SAFETY: as in `record_fast`.
    let s = unsafe { &*state };
    let current = s.mode.get();
    if c_level_counts(current) {
        let permitted = current & mode::PERMITTED != 0;
        s.with_frame(|f| f.add_blocking(call, permitted));
    }
}

/// Marks the process as having a C-level layer; see `crate::c_level`.
pub(crate) fn attach_c_level() {
    C_LEVEL_ATTACHED.store(true, Ordering::Relaxed);
}

/// Whether [`attach_c_level`] has run in this process.
pub(crate) fn c_level_attached() -> bool {
    C_LEVEL_ATTACHED.load(Ordering::Relaxed)
}

/// An open scope. Closing it returns its figures and adds them to the
/// enclosing scope, if any. Closed on drop too, so a panic unwinding out of
/// a measured closure leaves the thread's state consistent.
pub(crate) struct OpenScope {
    /// Figures of the enclosing scope, set aside while this one runs.
    parent: Option<Stats>,
    closed: bool,
}

impl OpenScope {
    pub(crate) fn open() -> OpenScope {
        let parent = STATE.with(|s| {
            let depth = s.depth.get();
            // A nested scope keeps its parent's figures; an outermost one
            // only clears the frame (no copy of it to throw away).
            let parent = s.with_frame(|f| {
                if depth > 0 {
                    Some(std::mem::take(f))
                } else {
                    *f = Stats::new();
                    None
                }
            });
            s.depth.set(depth.saturating_add(1));
            s.update_mode();
            parent
        });
        OpenScope {
            parent,
            closed: false,
        }
    }

    pub(crate) fn close(mut self) -> Stats {
        self.finish()
    }

    fn finish(&mut self) -> Stats {
        self.closed = true;
        let parent = self.parent.take();
        STATE.with(|s| {
            let own = s.with_frame(|f| match parent {
                Some(mut p) => {
                    p.merge(f);
                    std::mem::replace(f, p)
                }
                None => std::mem::take(f),
            });
            s.depth.set(s.depth.get().saturating_sub(1));
            s.update_mode();
            own
        })
    }
}

impl Drop for OpenScope {
    fn drop(&mut self) {
        if !self.closed {
            self.finish();
        }
    }
}

/// Sets whether calls on this thread count as permitted; restores the
/// previous setting on drop (also when unwinding).
pub(crate) struct PermitMode {
    previous: bool,
}

impl PermitMode {
    pub(crate) fn set(permitted: bool) -> PermitMode {
        let previous = STATE.with(|s| {
            let previous = s.permitted.replace(permitted);
            s.update_mode();
            previous
        });
        PermitMode { previous }
    }
}

impl Drop for PermitMode {
    fn drop(&mut self) {
        let previous = self.previous;
        STATE.with(|s| {
            s.permitted.set(previous);
            s.update_mode();
        });
    }
}

/// Makes one allocation through the global allocator and reports whether
/// the counting allocator saw it. The allocation itself is never counted.
pub(crate) fn probe_global_allocator() -> bool {
    STATE.with(|s| {
        s.probe_hit.set(false);
        s.probing.set(true);
        s.update_mode();
    });
    // black_box makes the box escape, so the compiler cannot elide the
    // allocation and free.
    drop(std::hint::black_box(Box::new(0u8)));
    STATE.with(|s| {
        s.probing.set(false);
        s.update_mode();
        s.probe_hit.get()
    })
}

/// Switches site tracing on or off for this thread; returns the previous
/// setting. Counted calls are traced only while a scope is open.
#[cfg(feature = "backtrace")]
pub(crate) fn set_tracing(on: bool) -> bool {
    STATE.with(|s| {
        let previous = s.tracing.replace(on);
        s.update_mode();
        previous
    })
}

/// Number of scopes open on this thread.
pub(crate) fn depth() -> u32 {
    STATE.with(|s| s.depth.get())
}
