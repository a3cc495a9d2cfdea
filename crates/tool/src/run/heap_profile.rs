//! `allocgate run --dhat FILE`: a DHAT heap profile of the whole process
//! over a run, for dhat's viewer (`dh_view.html`), beside the report's
//! per-callback figures.
//!
//! Only in builds with the `dhat-heap` feature, whose global allocator is
//! the counting allocator stacked on `dhat::Alloc` (see `src/main.rs`):
//! dhat takes a global lock and captures a backtrace on every allocation,
//! so a profiled run is slower, its latencies are not representative, and
//! a callback that allocates waits on that lock. The counting allocator's
//! figures are unchanged: dhat's own bookkeeping allocates through it, and
//! its re-entrancy guard leaves those calls uncounted
//! (`harness/agree_dhat.rs` checks the two agree).

use std::path::{Path, PathBuf};

use super::RunError;

/// A profile being recorded; [`finish`](Self::finish) writes it.
#[cfg(feature = "dhat-heap")]
#[derive(Debug)]
pub(crate) struct HeapProfile {
    profiler: dhat::Profiler,
    path: PathBuf,
}

/// Without the `dhat-heap` feature there is no profile to record.
#[cfg(not(feature = "dhat-heap"))]
#[derive(Debug)]
pub(crate) enum HeapProfile {}

impl HeapProfile {
    /// Checks that `path` can be written (creating it empty if it is
    /// missing, so that a bad path fails before the run rather than after
    /// it), then starts dhat's profiler, which writes `path` when the
    /// profile is finished or dropped.
    #[cfg(feature = "dhat-heap")]
    pub(crate) fn start(path: &Path) -> Result<HeapProfile, RunError> {
        writable(path)?;
        let profiler = dhat::Profiler::builder().file_name(path).build();
        Ok(HeapProfile {
            profiler,
            path: path.to_owned(),
        })
    }

    /// Refused: this build has no dhat.
    #[cfg(not(feature = "dhat-heap"))]
    pub(crate) fn start(_path: &Path) -> Result<HeapProfile, RunError> {
        Err(RunError::DhatNotBuilt)
    }

    /// Stops the profiler, which writes the profile (and says so on
    /// standard error), and checks that it did.
    #[cfg(feature = "dhat-heap")]
    pub(crate) fn finish(self) -> Result<PathBuf, RunError> {
        let HeapProfile { profiler, path } = self;
        drop(profiler);
        // dhat reports a failed write on standard error only; the file
        // `start` created is still empty then.
        match std::fs::metadata(&path) {
            Ok(m) if m.len() > 0 => Ok(path),
            _ => Err(RunError::DhatNotWritten { path }),
        }
    }

    /// Nothing to finish: no such profile exists in this build.
    #[cfg(not(feature = "dhat-heap"))]
    pub(crate) fn finish(self) -> Result<PathBuf, RunError> {
        match self {}
    }
}

/// Opens `path` for writing without changing it (created empty if
/// missing).
#[cfg(feature = "dhat-heap")]
fn writable(path: &Path) -> Result<(), RunError> {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map(drop)
        .map_err(|source| RunError::DhatFile {
            path: path.to_owned(),
            source,
        })
}
