//! Why a run produced no report.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::drive::sim::SimError;
use crate::files::OutputError;
use crate::report::{HdrLogError, ReportError};

use super::{C_LEVEL_NOT_ATTACHED, DHAT_BUILD_HINT};

/// Why a run produced no report.
#[derive(Debug)]
pub enum RunError {
    /// The simulation refused its configuration.
    Sim(SimError),
    /// An output was refused before the run (its directory could not be
    /// made, it is not a regular file, it cannot be created, or two name
    /// the same file).
    Output(OutputError),
    /// The report could not be written (an existing report is left as it
    /// was).
    Report(ReportError),
    /// The driver thread could not be started.
    Thread(io::Error),
    /// A real backend refused to start.
    Backend(crate::drive::backend::BackendError),
    /// The HdrHistogram log could not be written (`--hdr-log`; the JSON
    /// report is written by then).
    HdrLog(HdrLogError),
    /// `--dhat` in a build without the `dhat-heap` feature.
    DhatNotBuilt,
    /// `--c-level` in a program that has not attached the C-level layer.
    CLevelNotAttached,
    /// The DHAT profile's file cannot be written (checked before the
    /// run).
    DhatFile {
        /// The profile's path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// dhat did not write its profile (its own message, on standard
    /// error, says why).
    DhatNotWritten {
        /// The profile's path.
        path: PathBuf,
    },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Sim(e) => write!(f, "{e}"),
            RunError::Output(e) => write!(f, "{e}"),
            RunError::Report(e) => write!(f, "{e}"),
            RunError::Thread(e) => write!(f, "cannot start the driver thread: {e}"),
            RunError::Backend(e) => write!(f, "{e}"),
            RunError::HdrLog(e) => write!(f, "{e}"),
            RunError::DhatNotBuilt => f.write_str(DHAT_BUILD_HINT),
            RunError::CLevelNotAttached => f.write_str(C_LEVEL_NOT_ATTACHED),
            RunError::DhatFile { path, source } => {
                write!(
                    f,
                    "cannot write dhat profile '{}': {source}",
                    path.display()
                )
            }
            RunError::DhatNotWritten { path } => write!(
                f,
                "dhat did not write its profile to '{}' (its message above says why)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for RunError {}

impl From<SimError> for RunError {
    fn from(e: SimError) -> Self {
        RunError::Sim(e)
    }
}
