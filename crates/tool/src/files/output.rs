//! Output files: checked before a command runs, written atomically.
//!
//! The policy, for every file allocgate writes:
//! - a new path, or an existing regular file, is written (replaced whole);
//! - an existing symlink whose target is a regular file is written
//!   through: the new file is renamed over the link's resolved target and
//!   the link stays a link;
//! - anything else (a device, FIFO, socket, directory, a symlink to one
//!   of those or to nothing) is refused, never replaced;
//! - two outputs of one command that resolve to the same file are
//!   refused.

use allocgate_engine::read::kind;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What an output may be, said after a refusal.
const EXPECTED: &str = "expected a regular file, a symlink to one, or a new path";

/// The files one command writes, each with a label (its flag, or what it
/// is) that names it in errors.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    files: Vec<(String, PathBuf)>,
}

/// Why an output was refused before the command ran. One line each.
#[derive(Debug)]
#[non_exhaustive]
pub enum OutputError {
    /// The output's directory could not be made.
    Directory {
        /// The directory.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The file cannot be written: it is not a regular file, or a
    /// temporary file beside it could not be created.
    Write {
        /// The output's label.
        label: String,
        /// The path as given.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Two outputs name the same file.
    Same {
        /// The first output's label.
        first: String,
        /// The second's.
        second: String,
        /// The file both resolve to.
        path: PathBuf,
    },
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputError::Directory { path, source } => {
                write!(f, "cannot create '{}': {source}", path.display())
            }
            OutputError::Write {
                label,
                path,
                source,
            } => write!(f, "cannot write {label} '{}': {source}", path.display()),
            OutputError::Same {
                first,
                second,
                path,
            } => write!(
                f,
                "{first} and {second} name the same file '{}'; give each its own",
                path.display()
            ),
        }
    }
}

impl std::error::Error for OutputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OutputError::Directory { source, .. } | OutputError::Write { source, .. } => {
                Some(source)
            }
            OutputError::Same { .. } => None,
        }
    }
}

impl Outputs {
    /// No outputs yet.
    pub fn new() -> Outputs {
        Outputs::default()
    }

    /// Adds `path`, named `label` in errors.
    pub fn add(&mut self, label: impl Into<String>, path: impl Into<PathBuf>) -> &mut Outputs {
        self.files.push((label.into(), path.into()));
        self
    }

    /// Checks every output, in order, before anything runs: makes its
    /// directory, refuses a target that is not a regular file (or a
    /// symlink to one), creates and removes a temporary file beside the
    /// file that will be replaced, and refuses an output that resolves to
    /// the same file as an earlier one. Writes nothing else.
    pub fn check(&self) -> Result<(), OutputError> {
        let mut seen: Vec<(&str, PathBuf)> = Vec::with_capacity(self.files.len());
        for (label, path) in &self.files {
            let write_error = |source| OutputError::Write {
                label: label.clone(),
                path: path.clone(),
                source,
            };
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                fs::create_dir_all(dir).map_err(|source| OutputError::Directory {
                    path: dir.to_owned(),
                    source,
                })?;
            }
            let target = target(path).map_err(write_error)?;
            probe(&target).map_err(write_error)?;
            let identity = identity(&target).map_err(write_error)?;
            if let Some((first, _)) = seen.iter().find(|(_, id)| *id == identity) {
                return Err(OutputError::Same {
                    first: (*first).to_owned(),
                    second: label.clone(),
                    path: identity,
                });
            }
            seen.push((label, identity));
        }
        Ok(())
    }
}

/// The file a write to `path` replaces: `path` itself when it does not
/// exist or is a regular file, the resolved target of a symlink to a
/// regular file; anything else is refused (`InvalidInput`).
fn target(path: &Path) -> io::Result<PathBuf> {
    if path.file_name().is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path names no file",
        ));
    }
    let meta = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(path.to_owned()),
        other => other?,
    };
    if meta.file_type().is_file() {
        return Ok(path.to_owned());
    }
    if !meta.file_type().is_symlink() {
        return Err(refusal(format!("it is {}", kind(&meta.file_type()))));
    }
    match fs::metadata(path) {
        Ok(t) if t.is_file() => fs::canonicalize(path),
        Ok(t) => Err(refusal(format!(
            "it is a symlink to {}",
            kind(&t.file_type())
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(refusal("it is a symlink to nothing".to_owned()))
        }
        Err(e) => Err(e),
    }
}

fn refusal(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{what}; {EXPECTED}"))
}

/// The file `target` names, as an absolute path without symlinks: what
/// two outputs are compared by.
fn identity(target: &Path) -> io::Result<PathBuf> {
    if target.exists() {
        return fs::canonicalize(target);
    }
    let name = target.file_name().unwrap_or_default();
    Ok(fs::canonicalize(dir_of(target))?.join(name))
}

/// The directory `target` is in.
fn dir_of(target: &Path) -> &Path {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Distinguishes temporary files of concurrent writes within a process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh temporary file's path beside `target`, hidden, named after it.
fn temp_beside(target: &Path) -> PathBuf {
    let name = target.file_name().unwrap_or_default();
    dir_of(target).join(format!(
        ".{}.{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Creates and removes a temporary file beside `target`: what the write
/// will need, tried now.
fn probe(target: &Path) -> io::Result<()> {
    let temp = temp_beside(target);
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .map(drop)?;
    fs::remove_file(&temp)
}

/// Writes `bytes` over `path` atomically, by the policy in this module's
/// doc: to a temporary file beside the file replaced, synced, then (after
/// `before_rename`, a seam for tests to fail in) renamed over it, and the
/// directory synced. A reader sees the old file or the new one, never a
/// part; on any failure the temporary file is removed and the old file
/// is left as it was. Holds an [`ExitHold`](crate::interrupt::ExitHold)
/// while it writes.
pub fn write_atomically(
    path: &Path,
    bytes: &[u8],
    before_rename: impl FnOnce(&Path) -> io::Result<()>,
) -> io::Result<()> {
    // An exit forced by a second interrupt waits for this write rather
    // than leave its temporary file behind.
    let _hold = crate::interrupt::ExitHold::new();
    let target = target(path)?;
    let temp = temp_beside(&target);
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
        // Looked at again just before the rename, which would replace
        // whatever is there by then.
        .and_then(|()| still_replaceable(&target))
        .and_then(|()| fs::rename(&temp, &target));
    if let Err(e) = written {
        // The temporary file is ours; if removing it fails too, the write's
        // error is the one worth reporting.
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    sync_dir(dir_of(&target));
    Ok(())
}

/// Whether `target` is still missing or a regular file.
fn still_replaceable(target: &Path) -> io::Result<()> {
    match fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.file_type().is_file() => Ok(()),
        Ok(m) => Err(refusal(format!("it is {}", kind(&m.file_type())))),
    }
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
mod tests;
