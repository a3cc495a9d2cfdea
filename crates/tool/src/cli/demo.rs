//! The default command: `allocgate run` twice, the engine before its fix
//! (`prefix`) and after (`fixed`), with every other flag at its default
//! (7.1 at 48 kHz / 512 frames, 10 simulated seconds, the embedded KEMAR
//! preset, convolution, integrity checked). Both reports and a markdown
//! before/after table go to one directory (`reports/latest/` from the
//! binary).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Parser;

use crate::drive::outcome::Progress;
use crate::interrupt::Stop;
use crate::report::{MacosRegion, Report};
use allocgate_engine::variant::Variant;

use super::{RunArgs, UsageError};
use crate::files::{OutputError, Outputs, write_atomically};
use crate::run::{Run, RunConfig, RunError, execute, ran_nothing, write_run};

/// Where the binary writes the demo's reports.
pub const DEMO_DIR: &str = "reports/latest";

/// The demo's variants: before the fix, then after.
pub const DEMO_VARIANTS: [Variant; 2] = [Variant::Prefix, Variant::Fixed];

/// The markdown table's file name in the demo's directory.
pub const DEMO_TABLE: &str = "demo.md";

/// One variant's run.
#[derive(Debug)]
pub struct DemoRow {
    /// Its configuration.
    pub config: RunConfig,
    /// Its report and outcome.
    pub run: Run,
}

/// Why the demo stopped.
#[derive(Debug)]
pub enum DemoError {
    /// The defaults were refused (cannot happen unless they are broken).
    Usage(UsageError),
    /// An output was refused before the runs.
    Output(OutputError),
    /// A run failed.
    Run(RunError),
    /// The table could not be written.
    Table {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl std::fmt::Display for DemoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DemoError::Usage(e) => write!(f, "{e}"),
            DemoError::Output(e) => write!(f, "{e}"),
            DemoError::Run(e) => write!(f, "{e}"),
            DemoError::Table { path, source } => {
                write!(f, "cannot write '{}': {source}", path.display())
            }
        }
    }
}

impl std::error::Error for DemoError {}

#[derive(Parser, Debug)]
struct DemoArgs {
    #[command(flatten)]
    run: RunArgs,
}

/// The configuration of `variant`'s demo run: `allocgate run --variant V
/// --out DIR/V.json`, every other flag at its default.
pub fn demo_config(variant: Variant, dir: &Path) -> Result<RunConfig, DemoError> {
    let out = dir.join(format!("{}.json", variant.name()));
    let args = DemoArgs::try_parse_from([
        "allocgate".as_ref(),
        "--variant".as_ref(),
        variant.name().as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ])
    .map_err(|e| DemoError::Usage(UsageError::new(e.to_string())))?;
    args.run.validate().map_err(DemoError::Usage)
}

/// [`run_demo_checked`], then [`write_demo`].
pub fn run_demo(
    dir: &Path,
    progress: &mut dyn FnMut(Variant, &Progress),
) -> Result<Vec<DemoRow>, DemoError> {
    let rows = run_demo_checked(dir, None, progress)?;
    write_demo(dir, &rows)?;
    Ok(rows)
}

/// Checks the demo's files in `dir` (each report and the table), then
/// runs [`DEMO_VARIANTS`]; `progress` hears each run's progress with its
/// variant. Once `stop` is requested the variant under way ends at its
/// next callback boundary and is kept, marked interrupted (unless it had
/// run no callback yet: then it is left out), and no later one runs.
/// Writes nothing: [`write_demo`] does.
pub fn run_demo_checked(
    dir: &Path,
    stop: Option<&Stop>,
    progress: &mut dyn FnMut(Variant, &Progress),
) -> Result<Vec<DemoRow>, DemoError> {
    let configs = DEMO_VARIANTS
        .iter()
        .map(|&v| demo_config(v, dir))
        .collect::<Result<Vec<_>, _>>()?;
    let mut outputs = Outputs::new();
    for c in &configs {
        outputs.add(format!("report {}", c.variant.name()), &c.out);
    }
    outputs.add("table", dir.join(DEMO_TABLE));
    outputs.check().map_err(DemoError::Output)?;
    let mut rows = Vec::with_capacity(configs.len());
    for mut config in configs {
        if stop.and_then(Stop::requested).is_some() {
            break;
        }
        config.stop = stop.cloned();
        let variant = config.variant;
        let run = execute(&config, &mut |p| progress(variant, p)).map_err(DemoError::Run)?;
        if !ran_nothing(&run) {
            rows.push(DemoRow { config, run });
        }
    }
    Ok(rows)
}

/// Writes each row's report and the table to `dir`, each atomically; with
/// no row (interrupted before any callback) writes nothing, so the files
/// of an earlier demo stay as they were.
pub fn write_demo(dir: &Path, rows: &[DemoRow]) -> Result<(), DemoError> {
    if rows.is_empty() {
        return Ok(());
    }
    for row in rows {
        write_run(&row.config, &row.run).map_err(DemoError::Run)?;
    }
    let path = dir.join(DEMO_TABLE);
    write_atomically(&path, render_demo(rows).as_bytes(), |_| Ok(()))
        .map_err(|source| DemoError::Table { path, source })
}

/// The before/after table, in markdown, as printed and written.
pub fn render_demo(rows: &[DemoRow]) -> String {
    let mut s = String::new();
    let Some(first) = rows.first() else {
        return s;
    };
    let c = &first.config;
    let _ = writeln!(
        s,
        "allocgate demo: the reference engine before (prefix) and after (fixed) its fix, \
         {} ch at {} Hz / {} frames, {} s simulated, preset {}, convolution, integrity checked\n",
        c.engine.channels,
        c.engine.sample_rate,
        c.frames,
        c.seconds,
        c.preset_name.as_deref().unwrap_or("none")
    );
    let header: Vec<&str> = rows.iter().map(|r| r.config.variant.name()).collect();
    let _ = writeln!(s, "| | {} |", header.join(" | "));
    let _ = writeln!(s, "|---|{}", "---:|".repeat(rows.len()));
    let line = |s: &mut String, label: &str, cell: &dyn Fn(&Report) -> String| {
        let cells: Vec<String> = rows.iter().map(|r| cell(&r.run.report)).collect();
        let _ = writeln!(s, "| {label} | {} |", cells.join(" | "));
    };
    line(&mut s, "input / output callbacks", &|r| {
        format!(
            "{} / {}",
            r.totals.callbacks.input, r.totals.callbacks.output
        )
    });
    line(&mut s, "allocations", &|r| r.totals.allocations.to_string());
    line(&mut s, "allocations per second", &|r| {
        format!("{:.1}", r.rates.allocations_per_second)
    });
    line(&mut s, "allocations per input callback", &|r| {
        per(r.totals.input.allocations, r.totals.callbacks.input)
    });
    line(&mut s, "allocations per output callback", &|r| {
        per(r.totals.output.allocations, r.totals.callbacks.output)
    });
    line(&mut s, "in the 48-byte macOS class", &|r| {
        r.size_classes
            .macos
            .iter()
            .filter(|row| row.class_bytes == Some(48) && row.class == MacosRegion::Tiny)
            .map(|row| row.count)
            .sum::<u64>()
            .to_string()
    });
    line(&mut s, "deallocations / reallocations", &|r| {
        format!("{} / {}", r.totals.deallocations, r.totals.reallocations)
    });
    line(&mut s, "bytes allocated", &|r| r.totals.bytes.to_string());
    line(&mut s, "locks taken in callbacks", &|r| {
        (r.totals.input.hazards.lock_acquisitions + r.totals.output.hazards.lock_acquisitions)
            .to_string()
    });
    line(&mut s, "output latency p50 / p99 / max (µs)", &|r| {
        let l = &r.latency.output.all;
        format!(
            "{:.1} / {:.1} / {:.1}",
            l.p50_ns as f64 / 1e3,
            l.p99_ns as f64 / 1e3,
            l.max_ns as f64 / 1e3
        )
    });
    line(&mut s, "underruns / overruns", &|r| {
        format!("{} / {}", r.xruns.underruns, r.xruns.overruns)
    });
    line(&mut s, "integrity", &|r| {
        r.integrity.verdict.word().to_owned()
    });
    for r in rows {
        if let Some(why) = &r.run.report.interrupted {
            let _ = writeln!(
                s,
                "\n{}: interrupted by {why} after {:.3} of {} simulated seconds; its column \
                 covers what ran",
                r.config.variant.name(),
                r.run.report.rates.seconds,
                r.config.seconds
            );
        }
    }
    let _ = writeln!(
        s,
        "\nprefix: the binauralizer's callbacks before their fix: two 36-byte scale arrays per \
         convolution engine (one per speaker and ear) per block, in the 48-byte class, and \
         one debug line per engine on each of its first two blocks; reading its renderer-set \
         snapshot takes a lock in every callback that renders, and allocates nothing.\nfixed: \
         nothing allocated, freed or reallocated, and no lock taken, in any callback.\nReports: {}",
        rows.iter()
            .map(|r| r.config.out.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    s
}

fn per(n: u64, callbacks: u64) -> String {
    format!("{:.2}", n as f64 / callbacks.max(1) as f64)
}
