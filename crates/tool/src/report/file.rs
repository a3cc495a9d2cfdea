//! Reports on disk: written atomically, read back with their schema
//! version checked.

use std::path::Path;

use crate::files::{InputKind, read_input, write_atomically};

use super::error::ReportError;
use super::schema::{Report, SCHEMA_VERSION};

/// Writes `report` to `path` as pretty-printed JSON, atomically
/// ([`write_atomically`]): a reader sees the old report or the new one,
/// never a part; on failure an existing report is left as it was.
pub fn write_json(path: impl AsRef<Path>, report: &Report) -> Result<(), ReportError> {
    let path = path.as_ref();
    let mut bytes =
        serde_json::to_vec_pretty(report).map_err(|source| ReportError::Serialize { source })?;
    bytes.push(b'\n');
    write_atomically(path, &bytes, |_| Ok(())).map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Reads the report at `path` (a regular file of at most
/// [`InputKind::Report`]'s cap), refusing one whose `schema_version` is
/// not [`SCHEMA_VERSION`] before looking at anything else in it.
pub fn read_json(path: impl AsRef<Path>) -> Result<Report, ReportError> {
    let path = path.as_ref();
    let bytes = read_input(path, InputKind::Report).map_err(|source| ReportError::Read {
        path: path.to_owned(),
        source,
    })?;
    let malformed = |source| ReportError::Malformed {
        path: path.to_owned(),
        source,
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(malformed)?;
    let version = value.get("schema_version");
    if version.and_then(serde_json::Value::as_u64) != Some(u64::from(SCHEMA_VERSION)) {
        return Err(ReportError::SchemaVersion {
            path: path.to_owned(),
            found: version.map(|v| v.to_string()),
            expected: SCHEMA_VERSION,
        });
    }
    // Parsed again from the bytes, not from `value`, so that errors carry
    // a line and column.
    serde_json::from_slice(&bytes).map_err(malformed)
}

#[cfg(test)]
mod tests;
