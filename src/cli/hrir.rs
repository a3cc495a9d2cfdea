//! `allocgate hrir import-sofa`: turns a SOFA file into a HeSuVi 14-channel
//! preset (by default, regenerates the embedded KEMAR one) and says which
//! measurement each speaker got.

use std::fmt::{self, Write as _};
use std::fs;
use std::io::{self, Cursor, Write as _};
use std::path::{Path, PathBuf};

use crate::engine::preset::sofa::{self, ImportOptions, ImportedSet, SofaError};
use crate::text::count;

/// The SOFA file read when none is given (relative to the repository root).
pub const DEFAULT_SOFA: &str = "data/MIT_KEMAR_normal_pinna.sofa";
/// The preset written when no output is given: the embedded default.
pub const DEFAULT_OUT: &str = "src/engine/preset/kemar_7_1_48k.wav";

/// What `hrir import-sofa` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportSofa {
    /// The SOFA file to read.
    pub sofa: PathBuf,
    /// The rate of the preset, in Hz.
    pub rate: u32,
    /// The WAV file to write (replaced atomically).
    pub out: PathBuf,
}

impl Default for ImportSofa {
    fn default() -> Self {
        ImportSofa {
            sofa: PathBuf::from(DEFAULT_SOFA),
            rate: sofa::DEFAULT_SAMPLE_RATE,
            out: PathBuf::from(DEFAULT_OUT),
        }
    }
}

/// What `hrir import-sofa` did.
#[derive(Clone, Debug)]
pub struct ImportReport {
    /// The file read.
    pub sofa: PathBuf,
    /// The file written.
    pub out: PathBuf,
    /// Its size in bytes.
    pub bytes: usize,
    /// The set written to it.
    pub set: ImportedSet,
}

/// Why `hrir import-sofa` failed. Either way, the output file is untouched.
#[derive(Debug)]
#[non_exhaustive]
pub enum HrirError {
    /// The SOFA file could not be read or converted.
    Sofa(SofaError),
    /// The output file could not be written.
    Write {
        /// The file being written (the temporary one, or the target).
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
}

impl fmt::Display for HrirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HrirError::Sofa(e) => e.fmt(f),
            HrirError::Write { path, source } => {
                write!(f, "cannot write '{}': {source}", path.display())
            }
        }
    }
}

impl std::error::Error for HrirError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HrirError::Sofa(e) => Some(e),
            HrirError::Write { source, .. } => Some(source),
        }
    }
}

impl From<SofaError> for HrirError {
    fn from(e: SofaError) -> Self {
        HrirError::Sofa(e)
    }
}

/// Imports `args.sofa` at `args.rate` and writes the HeSuVi WAV to
/// `args.out`: first to a temporary file beside it, then renamed over it, so
/// a failure at any point leaves the old file as it was.
pub fn import_sofa(args: &ImportSofa) -> Result<ImportReport, HrirError> {
    let set = sofa::import(
        &args.sofa,
        &ImportOptions {
            sample_rate: args.rate,
        },
    )?;
    let mut wav = Cursor::new(Vec::new());
    sofa::write_hesuvi_wav(&set, &mut wav)?;
    let wav = wav.into_inner();
    write_atomically(&args.out, &wav)?;
    Ok(ImportReport {
        sofa: args.sofa.clone(),
        out: args.out.clone(),
        bytes: wav.len(),
        set,
    })
}

/// Writes `bytes` to a fresh temporary file in `path`'s directory, syncs it
/// and renames it to `path`; removes the temporary file on failure.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), HrirError> {
    let write_error = |path: &Path, source| HrirError::Write {
        path: path.to_path_buf(),
        source,
    };
    let not_a_file = || {
        write_error(
            path,
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "it is a directory; expected a file path",
            ),
        )
    };
    let Some(name) = path.file_name() else {
        return Err(not_a_file());
    };
    if path.is_dir() {
        return Err(not_a_file());
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = dir.join(temp_name);

    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .map_err(|e| write_error(&temp, e))?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| write_error(&temp, e))
        .and_then(|()| {
            drop(file);
            fs::rename(&temp, path).map_err(|e| write_error(path, e))
        });
    if written.is_err() {
        // Best effort: the error being reported matters more than this one.
        let _ = fs::remove_file(&temp);
    }
    written
}

/// The report `hrir import-sofa` prints: what was written, then the
/// measurement each speaker used.
pub fn render_import(report: &ImportReport) -> String {
    let set = &report.set;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "wrote {}: {} (HeSuVi 7.1 order), {}, {} Hz, 32-bit float, {}",
        report.out.display(),
        count(set.channels.len(), "channel"),
        count(set.taps(), "tap"),
        set.sample_rate,
        count(report.bytes, "byte")
    );
    let _ = writeln!(
        out,
        "from {} ({}), nearest measurement per speaker, no interpolation:",
        report.sofa.display(),
        count(set.measurements, "measurement")
    );
    let _ = writeln!(
        out,
        "  speaker  wanted az  measurement  azimuth  elevation  distance  channels (L ear, R ear)"
    );
    for p in &set.positions {
        let (left, right) = p.speaker.hesuvi_channels();
        let _ = writeln!(
            out,
            "  {:<7}  {:>8.1}°  {:>11}  {:>6.1}°  {:>8.1}°  {:>6.2} m  {left}, {right}",
            p.speaker.label(),
            p.speaker.azimuth(),
            format!("#{}", p.index),
            tidy(p.azimuth),
            tidy(p.elevation),
            p.distance,
        );
    }
    out
}

/// Rounds to the 0.1° printed, without a "-0.0" for a hair below zero.
fn tidy(degrees: f32) -> f32 {
    (degrees * 10.0).round() / 10.0 + 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh, empty directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir =
                std::env::temp_dir().join(format!("allocgate-hrir-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).expect("temp dir");
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("lists")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_atomic_write_replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = TempDir::new("replace");
        let out = dir.0.join("preset.wav");
        fs::write(&out, b"old").expect("seed");
        write_atomically(&out, b"new contents").expect("writes");
        assert_eq!(fs::read(&out).expect("reads"), b"new contents");
        assert_eq!(entries(&dir.0), ["preset.wav"]);
    }

    #[test]
    fn a_failed_import_leaves_the_output_file_as_it_was() {
        let dir = TempDir::new("failed");
        let out = dir.0.join("preset.wav");
        fs::write(&out, b"old").expect("seed");
        let args = ImportSofa {
            sofa: dir.0.join("missing.sofa"),
            out: out.clone(),
            ..ImportSofa::default()
        };
        let err = import_sofa(&args).expect_err("missing sofa file");
        assert!(
            matches!(err, HrirError::Sofa(SofaError::Io { .. })),
            "{err:?}"
        );
        assert_eq!(fs::read(&out).expect("reads"), b"old");
        assert_eq!(entries(&dir.0), ["preset.wav"]);
    }

    #[test]
    fn writing_to_a_directory_is_refused_naming_it() {
        let dir = TempDir::new("directory");
        let err = write_atomically(&dir.0, b"x").expect_err("a directory");
        let message = err.to_string();
        assert!(message.contains("expected a file path"), "{message}");
        assert!(message.contains(&*dir.0.to_string_lossy()), "{message}");
        assert!(entries(&dir.0).is_empty());
    }

    #[test]
    fn writing_into_a_missing_directory_fails_without_a_panic() {
        let dir = TempDir::new("missing");
        let err = write_atomically(&dir.0.join("no/such/dir/x.wav"), b"x").expect_err("no dir");
        assert!(matches!(err, HrirError::Write { .. }), "{err:?}");
    }
}
