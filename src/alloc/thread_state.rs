//! The per-thread state the counting allocator reads on every call.
//!
//! Everything lives in one `thread_local!` with a `const` initialiser and no
//! destructor, so reaching it never allocates, never registers a destructor
//! and stays valid while a thread starts up or tears down. Outside a scope the
//! allocator reads one flag (`armed`) and goes straight to the wrapped
//! allocator. No lock and no atomic read-modify-write is involved: the state
//! belongs to its thread, so other threads can never show in its figures.

use std::cell::{Cell, UnsafeCell};

use super::stats::{Event, Stats};

struct ThreadState {
    /// A scope is open or the install probe runs: the allocator must look
    /// further. The only field the fast path reads.
    armed: Cell<bool>,
    /// Number of open scopes on this thread.
    depth: Cell<u32>,
    /// The allocator is inside the wrapped allocator: calls it makes back
    /// into the global allocator (dhat's bookkeeping does) are not counted.
    busy: Cell<bool>,
    /// Calls are counted as permitted rather than forbidden.
    permitted: Cell<bool>,
    /// The install probe runs: the next call proves we are the global
    /// allocator and is not counted.
    probing: Cell<bool>,
    probe_hit: Cell<bool>,
    /// Figures of the innermost open scope.
    frame: UnsafeCell<Stats>,
}

impl ThreadState {
    const fn new() -> Self {
        ThreadState {
            armed: Cell::new(false),
            depth: Cell::new(0),
            busy: Cell::new(false),
            permitted: Cell::new(false),
            probing: Cell::new(false),
            probe_hit: Cell::new(false),
            frame: UnsafeCell::new(Stats::new()),
        }
    }

    fn rearm(&self) {
        self.armed.set(self.depth.get() > 0 || self.probing.get());
    }

    /// Runs `f` on the innermost scope's figures.
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

/// The fast-path check: true when a call must be looked at more closely.
/// One thread-local read.
#[inline(always)]
pub(crate) fn armed() -> bool {
    // `try_with` cannot fail for a const-initialised key without destructor;
    // it keeps the allocator free of panics all the same.
    STATE.try_with(|s| s.armed.get()).unwrap_or(false)
}

/// Proof that the allocator call in progress is counted. Dropping it ends
/// the call (and the re-entrancy guard) without recording anything.
pub(crate) struct CountedCall(());

impl CountedCall {
    /// Starts counting one allocator call, or says why it is not counted:
    /// no scope open, a nested call from the wrapped allocator, or the
    /// install probe.
    pub(crate) fn begin() -> Option<CountedCall> {
        STATE
            .try_with(|s| {
                if s.busy.get() {
                    return None;
                }
                if s.probing.get() {
                    s.probe_hit.set(true);
                    return None;
                }
                if s.depth.get() == 0 {
                    return None;
                }
                s.busy.set(true);
                Some(CountedCall(()))
            })
            .ok()
            .flatten()
    }

    /// Records the call in the innermost scope.
    pub(crate) fn record(self, event: Event) {
        let _ = STATE.try_with(|s| {
            let permitted = s.permitted.get();
            s.with_frame(|f| f.apply(event, permitted));
        });
    }
}

impl Drop for CountedCall {
    fn drop(&mut self) {
        let _ = STATE.try_with(|s| s.busy.set(false));
    }
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
            let parent = s.with_frame(|f| {
                let saved = std::mem::take(f);
                (depth > 0).then_some(saved)
            });
            s.depth.set(depth.saturating_add(1));
            s.rearm();
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
            s.rearm();
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
        let previous = STATE.with(|s| s.permitted.replace(permitted));
        PermitMode { previous }
    }
}

impl Drop for PermitMode {
    fn drop(&mut self) {
        let previous = self.previous;
        STATE.with(|s| s.permitted.set(previous));
    }
}

/// Makes one allocation through the global allocator and reports whether
/// the counting allocator saw it. The allocation itself is never counted.
pub(crate) fn probe_global_allocator() -> bool {
    STATE.with(|s| {
        s.probe_hit.set(false);
        s.probing.set(true);
        s.rearm();
    });
    // black_box makes the box escape, so the compiler cannot elide the
    // allocation and free.
    drop(std::hint::black_box(Box::new(0u8)));
    STATE.with(|s| {
        s.probing.set(false);
        s.rearm();
        s.probe_hit.get()
    })
}

/// Number of scopes open on this thread.
pub(crate) fn depth() -> u32 {
    STATE.with(|s| s.depth.get())
}
