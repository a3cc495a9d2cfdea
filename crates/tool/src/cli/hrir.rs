//! `allocgate hrir import-sofa`: turns a SOFA file into a HeSuVi 14-channel
//! preset (by default, regenerates the embedded KEMAR one) and says which
//! measurement each speaker got.

use std::fmt::{self, Write as _};
use std::io::{self, Cursor};
use std::path::PathBuf;

use super::UsageError;
use crate::files::{OutputError, Outputs, write_atomically};
use allocgate_engine::preset::sofa::{self, ImportOptions, ImportedSet, SofaError};
use allocgate_engine::text::count;

/// The SOFA file read when none is given (relative to the repository root).
pub const DEFAULT_SOFA: &str = "data/MIT_KEMAR_normal_pinna.sofa";
/// The preset written when no output is given (not committed).
pub const DEFAULT_OUT: &str = "reports/latest/import-sofa.wav";
/// The embedded preset's source file, rewritten by `--update-committed`.
pub const EMBEDDED_PRESET: &str = "crates/engine/src/preset/kemar_7_1_48k.wav";

/// The flags of `allocgate hrir import-sofa`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportSofaArgs {
    /// The SOFA (AES69) file to read.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_SOFA)]
    pub sofa: PathBuf,
    /// The sample rate of the preset, in Hz (8000 to 384000).
    #[arg(long, value_name = "HZ", default_value_t = sofa::DEFAULT_SAMPLE_RATE)]
    pub rate: u32,
    /// The WAV file to write, replaced atomically [default:
    /// reports/latest/import-sofa.wav].
    #[arg(long, value_name = "FILE", conflicts_with = "update_committed")]
    pub out: Option<PathBuf>,
    /// Write over the embedded preset's committed source instead
    /// (crates/engine/src/preset/kemar_7_1_48k.wav, at 48000 Hz only), to be
    /// rebuilt into the binary.
    #[arg(long)]
    pub update_committed: bool,
}

impl ImportSofaArgs {
    /// What the flags ask for; `--update-committed` at another rate than
    /// the embedded preset's is refused.
    pub fn validate(&self) -> Result<ImportSofa, UsageError> {
        let out = match (&self.out, self.update_committed) {
            (Some(out), _) => out.clone(),
            (None, false) => PathBuf::from(DEFAULT_OUT),
            (None, true) if self.rate == sofa::DEFAULT_SAMPLE_RATE => {
                PathBuf::from(EMBEDDED_PRESET)
            }
            (None, true) => {
                return Err(UsageError::new(format!(
                    "--update-committed writes the embedded {} Hz preset; --rate {} would \
                     change its rate (write it elsewhere with --out)",
                    sofa::DEFAULT_SAMPLE_RATE,
                    self.rate
                )));
            }
        };
        Ok(ImportSofa {
            sofa: self.sofa.clone(),
            rate: self.rate,
            out,
        })
    }
}

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
    /// The output was refused before the SOFA file was read.
    Output(OutputError),
    /// The SOFA file could not be read or converted.
    Sofa(SofaError),
    /// The output file could not be written.
    Write {
        /// The file being written.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
}

impl fmt::Display for HrirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HrirError::Output(e) => e.fmt(f),
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
            HrirError::Output(e) => Some(e),
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

/// Checks `args.out`, imports `args.sofa` at `args.rate` and writes the
/// HeSuVi WAV to `args.out` atomically, so a failure at any point leaves
/// the old file as it was.
pub fn import_sofa(args: &ImportSofa) -> Result<ImportReport, HrirError> {
    let mut outputs = Outputs::new();
    outputs.add("--out", &args.out);
    outputs.check().map_err(HrirError::Output)?;
    let set = sofa::import(
        &args.sofa,
        &ImportOptions {
            sample_rate: args.rate,
        },
    )?;
    let mut wav = Cursor::new(Vec::new());
    sofa::write_hesuvi_wav(&set, &mut wav)?;
    let wav = wav.into_inner();
    write_atomically(&args.out, &wav, |_| Ok(())).map_err(|source| HrirError::Write {
        path: args.out.clone(),
        source,
    })?;
    Ok(ImportReport {
        sofa: args.sofa.clone(),
        out: args.out.clone(),
        bytes: wav.len(),
        set,
    })
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
    use std::fs;
    use std::path::Path;

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
    fn an_output_that_is_a_directory_is_refused_before_the_sofa_file_is_read() {
        let dir = TempDir::new("directory");
        let args = ImportSofa {
            sofa: dir.0.join("missing.sofa"),
            out: dir.0.clone(),
            ..ImportSofa::default()
        };
        let err = import_sofa(&args).expect_err("a directory");
        assert!(matches!(err, HrirError::Output(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "cannot write --out '{}': it is a directory; expected a regular file, a symlink \
                 to one, or a new path",
                dir.0.display()
            )
        );
        assert!(entries(&dir.0).is_empty());
    }

    fn flags(args: &[&str]) -> Result<ImportSofa, UsageError> {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: ImportSofaArgs,
        }
        let cli =
            <Cli as clap::Parser>::try_parse_from(std::iter::once("x").chain(args.iter().copied()))
                .map_err(|e| UsageError::new(e.to_string()))?;
        cli.args.validate()
    }

    #[test]
    fn the_default_output_is_untracked_and_the_embedded_preset_needs_a_flag() {
        assert_eq!(flags(&[]).unwrap().out, PathBuf::from(DEFAULT_OUT));
        assert_eq!(
            flags(&["--update-committed"]).unwrap().out,
            PathBuf::from(EMBEDDED_PRESET)
        );
        assert_eq!(
            flags(&["--out", "x.wav"]).unwrap().out,
            PathBuf::from("x.wav")
        );
        let e = flags(&["--update-committed", "--rate", "44100"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--update-committed writes the embedded 48000 Hz preset; --rate 44100 would change \
             its rate (write it elsewhere with --out)"
        );
        assert!(flags(&["--update-committed", "--out", "x.wav"]).is_err());
    }
}
