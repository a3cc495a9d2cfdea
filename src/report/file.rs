//! Reports on disk: written atomically, read back with their schema
//! version checked.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::ReportError;
use super::schema::{Report, SCHEMA_VERSION};

/// Writes `report` to `path` as pretty-printed JSON, atomically: the bytes
/// go to a temporary file in the same directory, which is flushed to disk
/// and then renamed over `path`. A reader sees the old report or the new
/// one, never a part; on failure the temporary file is removed and an
/// existing report is left as it was.
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

/// Reads the report at `path`, refusing one whose `schema_version` is not
/// [`SCHEMA_VERSION`] before looking at anything else in it.
pub fn read_json(path: impl AsRef<Path>) -> Result<Report, ReportError> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|source| ReportError::Read {
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

/// Distinguishes temporary files of concurrent writes within a process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to a temporary file next to `path`, syncs it, calls
/// `before_rename` (a seam for tests to fail in), renames it to `path` and
/// syncs the directory. Removes the temporary file on any failure.
pub(crate) fn write_atomically(
    path: &Path,
    bytes: &[u8],
    before_rename: impl FnOnce(&Path) -> io::Result<()>,
) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let temp: PathBuf = dir.join(format!(
        ".{}.{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            before_rename(&temp)
        })
        .and_then(|()| fs::rename(&temp, path));
    if let Err(e) = written {
        // The temporary file is ours; if removing it fails too, the write's
        // error is the one worth reporting.
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    sync_dir(dir);
    Ok(())
}

/// Makes the rename durable where the platform allows; best effort, as
/// some file systems refuse to sync a directory and the rename has
/// already happened.
fn sync_dir(dir: &Path) {
    if cfg!(unix) {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
