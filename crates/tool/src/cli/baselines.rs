//! `allocgate baselines`: before/after reports, one directory per case
//! (the demo's configuration and a small matrix), each with
//! `before.json`, `after.json` and their comparison as `comparison.md`,
//! `comparison.json` and `comparison.html`. By default they go to
//! `reports/latest/baselines/`; `--update-committed` rewrites the
//! committed ones in `reports/baselines/`, and a test checks that a fresh
//! run reproduces every committed allocation count exactly (timings
//! depend on the machine and are not compared).

use std::path::{Path, PathBuf};

use clap::Parser;

use crate::compare::{Options, compare, render_json, render_markdown};
use crate::drive::outcome::Progress;
use crate::files::Outputs;
use crate::report::write_json;

use super::compare::html_page;
use super::run_args::{RunArgs, UsageError};
use crate::run::{Run, RunConfig, RunError, execute};

/// Where the committed baselines live, from the repository root.
pub const BASELINES_DIR: &str = "reports/baselines";
/// Where `allocgate baselines` writes by default (not committed).
pub const LATEST_BASELINES_DIR: &str = "reports/latest/baselines";

/// The flags of `allocgate baselines`.
#[derive(Debug, Clone, clap::Args)]
pub struct BaselinesArgs {
    /// Where the case directories go [default: reports/latest/baselines].
    #[arg(long, value_name = "DIR", conflicts_with = "update_committed")]
    pub out: Option<PathBuf>,
    /// Rewrite the committed baselines in reports/baselines/ instead.
    #[arg(long)]
    pub update_committed: bool,
}

impl BaselinesArgs {
    /// The directory the flags name.
    pub fn dir(&self) -> PathBuf {
        match (&self.out, self.update_committed) {
            (Some(out), _) => out.clone(),
            (None, true) => PathBuf::from(BASELINES_DIR),
            (None, false) => PathBuf::from(LATEST_BASELINES_DIR),
        }
    }
}

/// The files a case writes into its directory.
pub const CASE_FILES: [&str; 5] = [
    "before.json",
    "after.json",
    "comparison.md",
    "comparison.json",
    "comparison.html",
];

/// One before/after pair: its directory name, what it shows, the two
/// variants and the `allocgate run` flags both runs share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    /// The directory under [`BASELINES_DIR`].
    pub name: &'static str,
    /// One line on what the pair shows.
    pub about: &'static str,
    /// The variant before the fix.
    pub before: &'static str,
    /// The variant after it.
    pub after: &'static str,
    /// The other `allocgate run` flags of both runs.
    pub flags: &'static [&'static str],
}

/// The cases: the demo's configuration, then the matrix.
pub const CASES: [Case; 4] = [
    Case {
        name: "demo-prefix-fixed",
        about: "the demo: 7.1 at 48 kHz / 512 on KEMAR for 10 s, the binauralizer's callbacks \
                before and after its fix",
        before: "prefix",
        after: "fixed",
        flags: &[],
    },
    Case {
        name: "seed-fixed-48k-512",
        about: "the input-callback pattern first suspected in the binauralizer (buffer list, \
                pointer array, channel buffers) against the fix, 7.1 at 48 kHz / 512, 2 s",
        before: "seed",
        after: "fixed",
        flags: &["--seconds", "2"],
    },
    Case {
        name: "prefix-fixed-192k-512",
        about: "12 000 48-byte allocations a second: the binauralizer's callbacks before their \
                fix at 192 kHz / 512, 7.1, 2 s",
        before: "prefix",
        after: "fixed",
        flags: &["--rate", "192000", "--seconds", "2"],
    },
    Case {
        name: "prefix-fixed-stereo-44k-1024",
        about: "stereo at 44.1 kHz / 1024 (two blocks per callback), 2 s",
        before: "prefix",
        after: "fixed",
        flags: &[
            "--channels",
            "2",
            "--rate",
            "44100",
            "--frames",
            "1024",
            "--seconds",
            "2",
        ],
    },
];

#[derive(Parser, Debug)]
struct Flags {
    #[command(flatten)]
    run: RunArgs,
}

/// The run `flags` describe, its report going to `out`.
pub fn case_config(flags: &[&str], out: &Path) -> Result<RunConfig, UsageError> {
    let out = out.to_string_lossy();
    let args = std::iter::once("allocgate")
        .chain(flags.iter().copied())
        .chain(["--out", &out]);
    let flags = Flags::try_parse_from(args).map_err(|e| UsageError::new(e.to_string()))?;
    flags.run.validate()
}

/// A case's two runs, made.
#[derive(Debug)]
pub struct CaseRuns {
    /// The case.
    pub case: Case,
    /// Its run before the fix.
    pub before: Run,
    /// Its run after.
    pub after: Run,
}

/// Why the baselines were not (all) written.
#[derive(Debug)]
pub enum BaselineError {
    /// A case's flags were refused (a bug in [`CASES`]).
    Usage(UsageError),
    /// A run failed.
    Run(RunError),
    /// A file could not be written.
    Write(UsageError),
}

impl std::fmt::Display for BaselineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BaselineError::Usage(e) | BaselineError::Write(e) => write!(f, "{e}"),
            BaselineError::Run(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for BaselineError {}

/// Runs `case`'s two configurations (writing nothing).
pub fn run_case(
    case: Case,
    dir: &Path,
    progress: &mut dyn FnMut(&str, &Progress),
) -> Result<CaseRuns, BaselineError> {
    let mut one = |which: &str, variant: &str| {
        let mut flags = vec!["--variant", variant];
        flags.extend_from_slice(case.flags);
        let config = case_config(&flags, &dir.join(format!("{which}.json")))
            .map_err(BaselineError::Usage)?;
        execute(&config, &mut |p| progress(which, p)).map_err(BaselineError::Run)
    };
    let before = one("before", case.before)?;
    let after = one("after", case.after)?;
    Ok(CaseRuns {
        case,
        before,
        after,
    })
}

/// Checks every case's files under `root` ([`CASE_FILES`]) before
/// anything runs, then runs every case and writes its files, each
/// atomically; returns the directories written.
pub fn write_baselines(
    root: &Path,
    progress: &mut dyn FnMut(&str, &str, &Progress),
) -> Result<Vec<PathBuf>, BaselineError> {
    let mut outputs = Outputs::new();
    for case in CASES {
        for name in CASE_FILES {
            outputs.add(
                format!("{}/{name}", case.name),
                root.join(case.name).join(name),
            );
        }
    }
    outputs
        .check()
        .map_err(|e| BaselineError::Write(UsageError::new(e.to_string())))?;
    let mut dirs = Vec::new();
    for case in CASES {
        let dir = root.join(case.name);
        let runs = run_case(case, &dir, &mut |which, p| progress(case.name, which, p))?;
        let comparison = compare(&runs.before.report, &runs.after.report, Options::default())
            .map_err(|e| BaselineError::Write(UsageError::new(e.to_string())))?;
        std::fs::create_dir_all(&dir).map_err(|e| {
            BaselineError::Write(UsageError::new(format!(
                "cannot create '{}': {e}",
                dir.display()
            )))
        })?;
        for (name, run) in [("before.json", &runs.before), ("after.json", &runs.after)] {
            write_json(dir.join(name), &run.report)
                .map_err(|e| BaselineError::Write(UsageError::new(e.to_string())))?;
        }
        let files = [
            (
                "comparison.md",
                format!("{}\n\n{}", case.about, render_markdown(&comparison)),
            ),
            ("comparison.json", render_json(&comparison)),
            (
                "comparison.html",
                html_page(&runs.before.report, &runs.after.report, &comparison),
            ),
        ];
        for (name, text) in files {
            super::compare::write(&dir.join(name), &text).map_err(BaselineError::Write)?;
        }
        dirs.push(dir);
    }
    Ok(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(flags: &[&str]) -> Result<PathBuf, clap::Error> {
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            args: BaselinesArgs,
        }
        Cli::try_parse_from(std::iter::once("x").chain(flags.iter().copied())).map(|c| c.args.dir())
    }

    #[test]
    fn the_committed_baselines_are_written_only_when_asked_for() {
        assert_eq!(dir(&[]).unwrap(), PathBuf::from(LATEST_BASELINES_DIR));
        assert_eq!(
            dir(&["--update-committed"]).unwrap(),
            PathBuf::from(BASELINES_DIR)
        );
        assert_eq!(
            dir(&["--out", "elsewhere"]).unwrap(),
            PathBuf::from("elsewhere")
        );
        assert!(dir(&["--update-committed", "--out", "elsewhere"]).is_err());
    }
}
