//! `allocgate attach`: an unmodified program run with the preload library
//! (`liballocgate_preload.so`, `LD_PRELOAD`; Linux with glibc), each of
//! its audio callbacks measured on its own inside it, and the capture the
//! library wrote turned into the same report every run has.
//!
//! - [`preload`](locate): where the library is;
//! - [`program`](resolve): the program found, started in a process group
//!   of its own, stopped with `SIGTERM` and then `SIGKILL`, nothing of
//!   its group left running;
//! - [`build`]: the captures as the tool's records and figures;
//! - [`attach_checked`] runs it all, [`write_attached`] writes the report
//!   and the HdrHistogram log, [`failures`] is the gate's verdict.

mod convert;
mod preload;
#[cfg(unix)]
mod program;
mod run;
mod verdict;

#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use crate::baseline::BaselineError;
use crate::files::OutputError;
use crate::gate::Hold;
use crate::interrupt::{Interrupt, Stop};
use crate::report::{HdrLogError, ReportError};

pub use convert::{Built, build, role_name};
pub use preload::{BUILD_HINT, PRELOAD_VAR, locate, missing};
#[cfg(unix)]
pub use program::{GRACE, kill_running_group, resolve, signal_name};
pub use run::{Attached, attach_checked, outputs, site_counts, write_attached};
pub use verdict::{AttachFailure, client_label, failures};

/// The report's `backend` for attached programs.
pub const BACKEND: &str = "attach";

/// Where the report goes unless `--out` says otherwise.
pub const DEFAULT_OUT: &str = "reports/latest/attach.json";

/// Whether this platform can attach: the preload library interposes
/// glibc's functions through the dynamic loader's `LD_PRELOAD`.
pub const SUPPORTED: bool = cfg!(all(target_os = "linux", target_env = "gnu"));

/// A validated `allocgate attach`.
#[derive(Debug, Clone)]
pub struct AttachConfig {
    /// The program as named.
    pub program: OsString,
    /// Its arguments.
    pub arguments: Vec<OsString>,
    /// Stop it after this many seconds; none: when it exits.
    pub seconds: Option<f64>,
    /// Where the report goes.
    pub out: PathBuf,
    /// Where the HdrHistogram interval log goes, if anywhere.
    pub hdr_log: Option<PathBuf>,
    /// Judge the callbacks (`--gate`).
    pub gate: bool,
    /// Invocations of each slot counted as warm-up.
    pub warm_up: u64,
    /// Zero, a baseline, or a baseline to write.
    pub hold: Hold,
    /// Record allocation sites.
    pub trace_sites: bool,
    /// Read page faults and context switches around each callback.
    pub rusage: bool,
    /// Profile child processes too.
    pub children: bool,
    /// Stops the program early, keeping the partial report, once
    /// requested.
    pub stop: Option<Stop>,
}

impl AttachConfig {
    /// The program as it was named, for messages.
    pub fn program_name(&self) -> String {
        self.program.to_string_lossy().into_owned()
    }
}

/// Why `allocgate attach` produced no report (exit code 2), or could not
/// write it.
#[derive(Debug)]
#[non_exhaustive]
pub enum AttachError {
    /// Not Linux with glibc.
    Unsupported,
    /// An output was refused before the run.
    Output(OutputError),
    /// The program cannot be run: not found, not a file, not executable.
    Program(String),
    /// The preload library was not found: every place looked at.
    PreloadMissing(Vec<PathBuf>),
    /// The run directory could not be made.
    RunDirectory(std::io::Error),
    /// The program could not be started.
    Start {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// Waiting for the program failed.
    Wait(std::io::Error),
    /// The capture holds no header: the library did not load.
    NotLoaded {
        /// The program.
        program: String,
        /// How it ended.
        ended: String,
    },
    /// The capture could not be read (kept for inspection).
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No audio-cycle callback was registered.
    NoCallback {
        /// The program.
        program: String,
        /// Seconds it ran.
        seconds: f64,
        /// How it ended.
        ended: String,
    },
    /// A cycle callback was registered but never recorded.
    NeverRan {
        /// The program.
        program: String,
        /// Seconds it ran.
        seconds: f64,
        /// How it ended.
        ended: String,
        /// Records dropped (none recorded, maybe some run).
        dropped: u64,
    },
    /// Interrupted before any callback ran: nothing to report.
    InterruptedEarly(Interrupt),
    /// `--baseline` needs sites the capture does not have.
    NoSites,
    /// The report could not be written.
    Report(ReportError),
    /// The HdrHistogram log could not be written.
    HdrLog(HdrLogError),
    /// The baseline could not be written.
    Baseline(BaselineError),
}

impl fmt::Display for AttachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttachError::Unsupported => write!(
                f,
                "attach on {}; expected Linux with glibc, where the preload library works \
                 through LD_PRELOAD",
                std::env::consts::OS
            ),
            AttachError::Output(e) => write!(f, "{e}"),
            AttachError::Program(why) => f.write_str(why),
            AttachError::PreloadMissing(looked) => f.write_str(&missing(looked)),
            AttachError::RunDirectory(e) => {
                write!(
                    f,
                    "cannot make a run directory in {}: {e}",
                    std::env::temp_dir().display()
                )
            }
            AttachError::Start { program, source } => {
                write!(f, "cannot start '{program}': {source}")
            }
            AttachError::Wait(e) => write!(f, "cannot wait for the program: {e}"),
            AttachError::NotLoaded { program, ended } => write!(
                f,
                "the preload library did not load into '{program}' ({ended}): its capture has \
                 no header; a statically linked or set-user-ID program ignores LD_PRELOAD, and \
                 the dynamic loader names a library it could not load on standard error"
            ),
            AttachError::Unreadable { path, reason } => write!(
                f,
                "cannot read the capture '{}': {reason} (kept for inspection)",
                path.display()
            ),
            AttachError::NoCallback {
                program,
                seconds,
                ended,
            } => write!(
                f,
                "{program} registered no JACK process callback in {seconds:.1} s ({ended}); \
                 expected a JACK client, or callbacks marked with allocgate_callback_begin()"
            ),
            AttachError::NeverRan {
                program,
                seconds,
                ended,
                dropped,
            } => {
                write!(
                    f,
                    "{program} registered a JACK process callback but none was recorded in \
                     {seconds:.1} s ({ended})"
                )?;
                if *dropped > 0 {
                    write!(f, "; {dropped} records were dropped")?;
                }
                Ok(())
            }
            AttachError::InterruptedEarly(why) => {
                write!(
                    f,
                    "interrupted by {why} before the first callback: nothing written"
                )
            }
            AttachError::NoSites => f.write_str(
                "--baseline: the capture holds no allocation sites (the preload library did not \
                 record them); expected a library that records sites",
            ),
            AttachError::Report(e) => write!(f, "{e}"),
            AttachError::HdrLog(e) => write!(f, "{e}"),
            AttachError::Baseline(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AttachError {}
