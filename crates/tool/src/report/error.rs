//! Why a report could not be written or read.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a report could not be written or read. Messages name the file and
/// say what was expected.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReportError {
    /// The file could not be read.
    Read {
        /// The report's path.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// The file could not be written (the existing one, if any, is
    /// untouched).
    Write {
        /// The report's path.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// The report could not be turned into JSON.
    Serialize {
        /// What serde_json reported.
        source: serde_json::Error,
    },
    /// The file is not JSON, or not a report of this schema.
    Malformed {
        /// The report's path.
        path: PathBuf,
        /// What serde_json reported (with line and column).
        source: serde_json::Error,
    },
    /// The file's `schema_version` is missing or not the one this build
    /// reads.
    SchemaVersion {
        /// The report's path.
        path: PathBuf,
        /// The `schema_version` found, as JSON text (`None` if absent).
        found: Option<String>,
        /// The version this build reads.
        expected: u32,
    },
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Read { path, source } => {
                write!(f, "cannot read report '{}': {source}", path.display())
            }
            ReportError::Write { path, source } => {
                write!(f, "cannot write report '{}': {source}", path.display())
            }
            ReportError::Serialize { source } => {
                write!(f, "cannot turn the report into JSON: {source}")
            }
            ReportError::Malformed { path, source } => {
                write!(f, "'{}' is not a valid report: {source}", path.display())
            }
            ReportError::SchemaVersion {
                path,
                found: Some(found),
                expected,
            } => write!(
                f,
                "report '{}' has schema_version {found}; expected {expected}",
                path.display()
            ),
            ReportError::SchemaVersion {
                path,
                found: None,
                expected,
            } => write!(
                f,
                "report '{}' has no schema_version; expected {expected}",
                path.display()
            ),
        }
    }
}

impl Error for ReportError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ReportError::Read { source, .. } | ReportError::Write { source, .. } => Some(source),
            ReportError::Serialize { source } | ReportError::Malformed { source, .. } => {
                Some(source)
            }
            ReportError::SchemaVersion { .. } => None,
        }
    }
}
