//! Site tracing: where a scope's allocator calls come from.
//!
//! For a callback in a test, [`CallbackGate::trace_sites`](crate::CallbackGate::trace_sites)
//! does all of this and prints the sites when the gate fails; what follows
//! is for your own driver.
//!
//! While [`trace`] runs, every call the counting allocator counts on this
//! thread (inside [`measure`](crate::measure) and the other scopes) also
//! captures its stack: up to [`MAX_FRAMES`] raw return addresses, walked by
//! `backtrace::trace_unsynchronized` into an array on the stack, and
//! recorded with the call's kind, size and the thread's [`tagged`] value
//! into a [`SiteTable`] made before the run. Capture never allocates and
//! takes no lock of ours (the platform unwinder may take the dynamic
//! loader's lock to find unwind tables: tracing is for diagnosis, not for
//! runs whose timing matters). Names are looked up afterwards, off the
//! audio thread, by [`symbolise`].
//!
//! Calls made while a stack is captured (the unwinder's, if any) are
//! forwarded uncounted, never recorded, and tallied in
//! [`SiteTable::nested`]; the tests find none. Tracing is off by default:
//! untraced scopes pay nothing for it beyond one bit of the mode byte the
//! allocator reads anyway.

mod c_library;
mod symbols;
mod table;

pub use symbols::{DEFAULT_SKIP, SiteGroup};
pub(crate) use symbols::{Symboliser, TracedStack, group};
pub(crate) use table::CallKind;
pub use table::{MAX_FRAMES, SiteTable};

use std::cell::Cell;
use std::ptr::NonNull;

use super::stats::Event;
use super::thread_state;

/// The table the current thread records into, and its tag.
struct TraceState {
    table: Cell<Option<NonNull<SiteTable>>>,
    tag: Cell<u8>,
    nested: Cell<u64>,
}

thread_local! {
    static TRACE: TraceState = const {
        TraceState {
            table: Cell::new(None),
            tag: Cell::new(0),
            nested: Cell::new(0),
        }
    };
}

/// Runs `f` with site tracing on for this thread, recording every counted
/// allocator call into `table` (which keeps what it had). Other threads
/// are not traced. Nested `trace` calls record into the innermost table.
///
/// The table must be made before: `trace` itself never allocates.
pub fn trace<R>(table: &mut SiteTable, f: impl FnOnce() -> R) -> R {
    let _on = Installed::new(table);
    f()
}

/// Runs `f` with this thread's trace tag set to `tag` (restored after,
/// also when unwinding): rows recorded meanwhile carry it, so a driver can
/// tell its input callbacks from its output callbacks. Costs two
/// thread-local writes whether tracing or not; never allocates.
pub fn tagged<R>(tag: u8, f: impl FnOnce() -> R) -> R {
    let previous = TRACE.with(|t| t.tag.replace(tag));
    let _restore = RestoreTag(previous);
    f()
}

struct RestoreTag(u8);

impl Drop for RestoreTag {
    fn drop(&mut self) {
        let tag = self.0;
        TRACE.with(|t| t.tag.set(tag));
    }
}

/// Tracing switched on into one table; restores the previous table (or
/// none) on drop, also when unwinding.
struct Installed {
    previous: Option<NonNull<SiteTable>>,
    nested_before: u64,
    was_tracing: bool,
    table: NonNull<SiteTable>,
}

impl Installed {
    fn new(table: &mut SiteTable) -> Installed {
        let table = NonNull::from(table);
        let (previous, nested_before) =
            TRACE.with(|t| (t.table.replace(Some(table)), t.nested.get()));
        let was_tracing = thread_state::set_tracing(true);
        Installed {
            previous,
            nested_before,
            was_tracing,
            table,
        }
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        thread_state::set_tracing(self.was_tracing);
        let nested = TRACE.with(|t| {
            t.table.set(self.previous);
            t.nested.get() - self.nested_before
        });
        TRACE.with(|t| t.nested.set(self.nested_before));
        // SAFETY: `table` came from the `&mut SiteTable` that `trace`
        // borrows for as long as this guard lives, and the allocator no
        // longer reaches it (the pointer was just replaced above), so this
        // is the only access.
        unsafe { self.table.as_mut() }.add_nested(nested);
    }
}

/// Captures the current stack and records it with `event`. Called by the
/// counting allocator, on its counted path, with the mode set so that the
/// unwinder's own calls are not counted. Never allocates.
pub(super) fn capture(event: Event) {
    let (table, tag) = match TRACE.try_with(|t| (t.table.get(), t.tag.get())) {
        Ok((Some(table), tag)) => (table, tag),
        _ => return,
    };
    let mut frames = [0usize; MAX_FRAMES];
    let mut depth = 0;
    let mut truncated = false;
    let _errno = ErrnoKept::new();
    // SAFETY: `trace_unsynchronized` is unsafe only because it skips the
    // crate's global lock, which serialises dbghelp on Windows; on the
    // libunwind/gcc_s unwinders it walks this thread's own stack and
    // shares nothing. allocgate resolves symbols only after a traced run
    // (`symbolise`), and the callback below only writes into `frames`.
    unsafe {
        backtrace::trace_unsynchronized(|frame| {
            if depth == MAX_FRAMES {
                truncated = true;
                return false;
            }
            frames[depth] = frame.ip() as usize;
            depth += 1;
            true
        });
    }
    let (kind, size) = match event {
        Event::Alloc { size, .. } => (CallKind::Alloc, size),
        Event::Dealloc { size } => (CallKind::Dealloc, size),
        Event::Realloc { new, .. } => (CallKind::Realloc, new),
    };
    let mut table = table;
    // SAFETY: the pointer was made by `trace` from a `&mut SiteTable` it
    // holds for as long as the pointer is installed, and is used only on
    // this thread; the allocator is not re-entered while `record` runs
    // (it does arithmetic and copies only), so no other reference exists.
    unsafe { table.as_mut() }.record(&frames[..depth], truncated, kind, size, tag);
}

/// Tallies one allocator call made during a capture.
pub(super) fn nested_call() {
    let _ = TRACE.try_with(|t| t.nested.set(t.nested.get() + 1));
}

/// The symbolised sites of `table`, grouped per (function, tag, size),
/// most calls first: each stack's function is its first frame outside
/// [`DEFAULT_SKIP`] and the `extra_skip` prefixes. Off the audio thread:
/// resolves symbols and allocates freely.
pub fn symbolise(table: &SiteTable, extra_skip: &[String]) -> Vec<SiteGroup> {
    let mut symboliser = Symboliser::new(extra_skip);
    group(table.rows().map(|r| symboliser.site(&r)))
}

/// Keeps the thread's `errno` across a stack capture, restoring it when
/// dropped: the unwinder may set it (reading unwind tables), and a C caller
/// whose `free` is traced must find `errno` as it left it. Linux only,
/// where a C-level layer exists; a no-op elsewhere.
struct ErrnoKept {
    #[cfg(target_os = "linux")]
    saved: i32,
}

impl ErrnoKept {
    #[inline(always)]
    fn new() -> ErrnoKept {
        ErrnoKept {
            // SAFETY: `__errno_location` returns this thread's errno, valid
            // for the thread's life; a plain read.
            #[cfg(target_os = "linux")]
            saved: unsafe { *libc::__errno_location() },
        }
    }
}

impl Drop for ErrnoKept {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: as in `new`; a plain write of this thread's int.
        #[cfg(target_os = "linux")]
        unsafe {
            *libc::__errno_location() = self.saved
        };
    }
}
