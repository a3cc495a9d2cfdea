//! Measured scopes, the no-allocation assertion and permitted regions.
//!
//! Rules, all per thread:
//! - [`measure`] counts every allocator call the current thread makes while
//!   its closure runs. Scopes nest; an outer scope's figures include its
//!   inner scopes'. Calls made by other threads never show.
//! - [`assert_no_alloc`] is a measured scope that forbids: calls inside it
//!   count as forbidden even within an enclosing [`permit`], and it panics
//!   after its closure returns if any forbidden call was counted.
//! - [`permit`] marks calls as accepted: they are counted in
//!   [`Stats::permitted`], apart from the forbidden ones, not hidden.
//!   A [`permit`] inside an [`assert_no_alloc`] permits; an
//!   [`assert_no_alloc`] inside a [`permit`] forbids again.
//! - [`measure`] only observes: it keeps whatever mode encloses it.

use std::sync::atomic::{AtomicU8, Ordering};

use super::error::Error;
use super::stats::Stats;
use super::thread_state::{self, OpenScope, PermitMode};

/// A closure's return value and what it made the allocator do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measured<R> {
    /// What the closure returned.
    pub value: R,
    /// What the current thread asked of the allocator while it ran.
    pub stats: Stats,
}

const UNKNOWN: u8 = 0;
const INSTALLED: u8 = 1;
const NOT_INSTALLED: u8 = 2;
static INSTALL_STATE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Checks that the counting allocator is the global allocator, so that a
/// measurement cannot pass vacuously.
///
/// The first call in a process makes one one-byte allocation to find out
/// (never counted in any scope); later calls read a cached answer. Call it
/// once at start-up, off the audio thread, to keep that allocation out of a
/// callback.
pub fn check_installed() -> Result<(), Error> {
    let state = match INSTALL_STATE.load(Ordering::Acquire) {
        UNKNOWN => {
            let state = if thread_state::probe_global_allocator() {
                INSTALLED
            } else {
                NOT_INSTALLED
            };
            INSTALL_STATE.store(state, Ordering::Release);
            state
        }
        known => known,
    };
    if state == INSTALLED {
        Ok(())
    } else {
        Err(Error::NotInstalled)
    }
}

/// Runs `f` in a measured scope on the current thread and returns what it
/// returned with the figures, or an error if nothing could be counted.
///
/// Real-time safe once [`check_installed`] has run once in the process:
/// it neither allocates, locks nor blocks.
pub fn try_measure<R>(f: impl FnOnce() -> R) -> Result<Measured<R>, Error> {
    check_installed()?;
    Ok(measure_installed(f))
}

/// Like [`try_measure`], panicking if the counting allocator is not the
/// global allocator.
///
/// ```rust,standalone_crate
/// #[global_allocator]
/// static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();
///
/// # fn main() {
/// let m = allocgate::measure(|| vec![0.0f32; 512]);
/// assert_eq!(m.stats.counts.allocations, 1);
/// assert_eq!(m.stats.counts.bytes_allocated, 512 * 4);
/// # }
/// ```
pub fn measure<R>(f: impl FnOnce() -> R) -> Measured<R> {
    match try_measure(f) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

/// A measured scope opened by one call and closed by another, for a
/// callback whose start and end are two separate calls on the same
/// thread (a C API's `begin()` / `end()`, JACK's `jack_cycle_wait` and
/// `jack_cycle_signal`): [`open_scope`] opens it, [`OpenedScope::close`]
/// returns its figures. Everything [`measure`] says holds between the two.
///
/// Scopes on one thread must close in the reverse order of their
/// opening; dropping one without closing it closes it. It cannot leave
/// its thread.
///
/// ```rust,standalone_crate
/// #[global_allocator]
/// static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();
///
/// # fn main() {
/// let scope = allocgate::open_scope().unwrap();
/// let v = vec![0u8; 64];
/// let stats = scope.close();
/// assert_eq!(stats.counts.allocations, 1);
/// # drop(v);
/// # }
/// ```
pub struct OpenedScope {
    scope: OpenScope,
    _this_thread: std::marker::PhantomData<*const ()>,
}

impl std::fmt::Debug for OpenedScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpenedScope")
    }
}

/// Opens a measured scope on the current thread until
/// [`OpenedScope::close`], or fails if nothing could be counted. Real-time
/// safe once [`check_installed`] has run once in the process.
pub fn open_scope() -> Result<OpenedScope, Error> {
    check_installed()?;
    Ok(OpenedScope {
        scope: OpenScope::open(),
        _this_thread: std::marker::PhantomData,
    })
}

impl OpenedScope {
    /// Closes the scope and returns what the thread asked of the
    /// allocator since it opened.
    pub fn close(self) -> Stats {
        self.scope.close()
    }
}

/// Measures without the install check, for callers that made it already.
pub(crate) fn measure_installed<R>(f: impl FnOnce() -> R) -> Measured<R> {
    let scope = OpenScope::open();
    let value = f();
    let stats = scope.close();
    Measured { value, stats }
}

/// Runs `f` and panics, after it returns, if the current thread made any
/// allocation, deallocation or reallocation outside a [`permit`] region
/// meanwhile. The panic message states what was counted.
///
/// Nothing is aborted or interrupted: `f` always runs to completion, and the
/// verdict comes once the scope has closed. Panics too if the counting
/// allocator is not the global allocator.
///
/// ```rust,standalone_crate
/// #[global_allocator]
/// static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();
///
/// # fn main() {
/// let mut buffer = vec![0.0f32; 512]; // allocated before: fine
/// allocgate::assert_no_alloc(|| buffer.iter_mut().for_each(|s| *s = 0.5));
///
/// let caught = std::panic::catch_unwind(|| allocgate::assert_no_alloc(|| vec![1u8; 36]));
/// assert!(caught.is_err());
/// # }
/// ```
pub fn assert_no_alloc<R>(f: impl FnOnce() -> R) -> R {
    if let Err(e) = check_installed() {
        panic!("{e}");
    }
    let forbid = PermitMode::set(false);
    let Measured { value, stats } = measure_installed(f);
    drop(forbid);
    if !stats.is_allocation_free() {
        panic!(
            "allocgate: expected no allocator calls on this thread, counted {}",
            stats
        );
    }
    value
}

/// Runs `f` with its allocator calls counted as permitted: they show in
/// [`Stats::permitted`] and do not fail [`assert_no_alloc`].
///
/// ```rust,standalone_crate
/// #[global_allocator]
/// static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();
///
/// # fn main() {
/// let m = allocgate::measure(|| {
///     allocgate::assert_no_alloc(|| allocgate::permit(|| drop(String::from("logged"))))
/// });
/// assert_eq!(m.stats.counts.allocations, 0);
/// assert_eq!(m.stats.permitted.allocations, 1);
/// # }
/// ```
pub fn permit<R>(f: impl FnOnce() -> R) -> R {
    let _permit = PermitMode::set(true);
    f()
}

/// Number of measured scopes open on the current thread.
pub fn scope_depth() -> u32 {
    thread_state::depth()
}
