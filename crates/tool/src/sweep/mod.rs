//! `allocgate sweep`: every combination of variant, sample rate, frames
//! per callback and channel layout run on the simulated clock, each run's
//! measured allocator calls set beside what the site formulas predict
//! ([`predict`](mod@predict)), with the dominant macOS size class; written as markdown,
//! CSV and JSON.
//!
//! A row matches when the measured callbacks and the measured allocations,
//! deallocations and reallocations of each callback kind equal the
//! prediction exactly; the sweep therefore doubles as a check of the
//! formulas.
//!
//! A sweep stopped through its [`Stop`] keeps the rows that finished (the
//! run under way is dropped) and is marked interrupted in every file.

pub mod predict;

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::drive::outcome::Progress;
use crate::drive::sim::{Drift, Mode};
use crate::files::{OutputError, Outputs};
use crate::interrupt::Stop;
use crate::report::{AllocatorCalls, ByKind, MacosRegion, Report};
use crate::run::{BackendChoice, RunConfig, RunError, execute, sim_config};
use allocgate::size_class::MacosClass;
use allocgate_engine::EngineConfig;
use allocgate_engine::preset::Preset;
use allocgate_engine::sites::SCALE_ARRAY_BYTES;
use allocgate_engine::sites::expected::Expected;
use allocgate_engine::variant::Variant;

use predict::{Point, Prediction, predict, renderers};

/// The markdown table's file name in the output directory.
pub const SWEEP_MD: &str = "sweep.md";
/// The CSV file's name.
pub const SWEEP_CSV: &str = "sweep.csv";
/// The JSON file's name.
pub const SWEEP_JSON: &str = "sweep.json";
/// The `format` key of `sweep.json`.
pub const SWEEP_FORMAT: &str = "allocgate-sweep/1";

/// What to sweep: the cross product of the four lists, in list order
/// (variants outermost, channels innermost).
#[derive(Debug, Clone)]
pub struct SweepSpec {
    /// Engine variants.
    pub variants: Vec<Variant>,
    /// Sample rates, in Hz (both devices).
    pub rates: Vec<u32>,
    /// Frames per callback (both devices).
    pub frames: Vec<usize>,
    /// Input channel counts (each a layout the preset maps).
    pub channels: Vec<usize>,
    /// Simulated seconds per run.
    pub seconds: f64,
    /// Seed of the input signal.
    pub seed: u64,
    /// The preset every run uses.
    pub preset: Preset,
    /// Its name in the outputs.
    pub preset_name: String,
    /// Ends the sweep early, keeping the finished rows, once requested.
    pub stop: Option<Stop>,
}

impl SweepSpec {
    /// The runs, in order.
    pub fn points(&self) -> Vec<(Variant, u32, usize, usize)> {
        let mut all = Vec::new();
        for &v in &self.variants {
            for &r in &self.rates {
                for &n in &self.frames {
                    for &c in &self.channels {
                        all.push((v, r, n, c));
                    }
                }
            }
        }
        all
    }

    /// The run configuration of one point: convolution on, no drift,
    /// virtual time, integrity not checked (the sweep is about allocator
    /// calls; `allocgate run` checks the output).
    pub fn run_config(
        &self,
        variant: Variant,
        rate: u32,
        frames: usize,
        channels: usize,
    ) -> RunConfig {
        let sites = variant.sites();
        RunConfig {
            variant,
            sites,
            engine: EngineConfig::new(channels, rate)
                .with_variant(variant, sites)
                .with_convolution(true),
            frames,
            seconds: self.seconds,
            seed: self.seed,
            mode: Mode::Virtual,
            preset: Some(std::sync::Arc::new(self.preset.clone())),
            preset_name: Some(self.preset_name.clone()),
            drift: Drift::NONE,
            integrity: false,
            trace: None,
            rusage: false,
            c_level: false,
            scenario: None,
            out: PathBuf::new(),
            hdr_log: None,
            dhat: None,
            backend: BackendChoice::Sim,
            stop: self.stop.clone(),
        }
    }
}

/// A size class and its share of a run's requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassShare {
    /// Bytes the class hands out; null for `large`.
    pub class_bytes: Option<u64>,
    /// `tiny`, `small` or `large`.
    pub class: MacosRegion,
    /// Requests in the class (allocations, and reallocations by new size).
    pub count: u64,
    /// `count` over every request of the run.
    pub share: f64,
}

impl fmt::Display for ClassShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let region = match self.class {
            MacosRegion::Tiny => "tiny",
            MacosRegion::Small => "small",
            MacosRegion::Large => "large",
        };
        match self.class_bytes {
            Some(b) => write!(f, "{b} B {region}"),
            None => f.write_str(region),
        }
    }
}

/// One run of the sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    /// Variant name.
    pub variant: String,
    /// Sample rate, in Hz.
    pub rate: u32,
    /// Frames per callback.
    pub frames: u32,
    /// Input channels.
    pub channels: u32,
    /// Renderers the preset gives the layout.
    pub renderers: u32,
    /// Simulated seconds (what the per-second figures divide by).
    pub seconds: f64,
    /// Callbacks of each kind, measured.
    pub callbacks: ByKind<u64>,
    /// Callbacks of each kind, predicted.
    pub predicted_callbacks: u64,
    /// Allocator calls measured, per kind.
    pub measured: ByKind<AllocatorCalls>,
    /// Allocator calls predicted, per kind.
    pub predicted: ByKind<AllocatorCalls>,
    /// Measured allocations per second, per kind and in total.
    pub measured_per_second: PerSecond,
    /// Predicted allocations per second, per kind and in total.
    pub predicted_per_second: PerSecond,
    /// The steady-state figure of the site formulas: one callback pair
    /// long after start-up times `rate / frames`, allocations a second.
    pub steady_per_second: f64,
    /// Requests in the 48-byte macOS class (the scale arrays' 36 bytes),
    /// per second, measured.
    pub class_48_per_second: f64,
    /// The class with the most requests; null when there were none.
    pub dominant_class: Option<ClassShare>,
    /// Measured callbacks and calls equal the prediction exactly.
    pub matches: bool,
}

/// Allocations per second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PerSecond {
    /// Input callbacks.
    pub input: f64,
    /// Output callbacks.
    pub output: f64,
    /// Both.
    pub total: f64,
}

/// The sweep's JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    /// [`SWEEP_FORMAT`].
    pub format: String,
    /// Simulated seconds per run.
    pub seconds: f64,
    /// Seed of the input signal.
    pub seed: u64,
    /// The preset.
    pub preset: String,
    /// One row per run that finished.
    pub rows: Vec<SweepRow>,
    /// Runs the sweep was asked for (`rows` has fewer when it was
    /// interrupted). Absent from older files: read as 0.
    #[serde(default)]
    pub runs_planned: usize,
    /// The signal that stopped the sweep (`SIGINT`, `SIGTERM`); null when
    /// every run finished.
    #[serde(default)]
    pub interrupted: Option<String>,
}

impl SweepReport {
    /// `interrupted by SIGINT after 31 of 144 runs`, when it was.
    pub fn interruption(&self) -> Option<String> {
        self.interrupted.as_ref().map(|why| {
            format!(
                "interrupted by {why} after {} of {} runs",
                self.rows.len(),
                self.runs_planned
            )
        })
    }
}

/// Why the sweep stopped.
#[derive(Debug)]
pub enum SweepError {
    /// A run failed.
    Run {
        /// Which run.
        point: String,
        /// Why.
        source: RunError,
    },
    /// An output was refused before the runs.
    Output(OutputError),
    /// A file could not be written.
    Write {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl fmt::Display for SweepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepError::Run { point, source } => write!(f, "{point}: {source}"),
            SweepError::Output(e) => write!(f, "{e}"),
            SweepError::Write { path, source } => {
                write!(f, "cannot write '{}': {source}", path.display())
            }
        }
    }
}

impl std::error::Error for SweepError {}

fn calls(e: Expected) -> AllocatorCalls {
    AllocatorCalls {
        allocations: e.allocations,
        deallocations: e.deallocations,
        reallocations: e.reallocations,
    }
}

fn measured_calls(t: &crate::report::KindTotals) -> AllocatorCalls {
    AllocatorCalls {
        allocations: t.allocations,
        deallocations: t.deallocations,
        reallocations: t.reallocations,
    }
}

/// The class with the most requests in `r`, and its share.
fn dominant(r: &Report) -> Option<ClassShare> {
    let rows = &r.size_classes.macos;
    let total: u64 = rows.iter().map(|row| row.count).sum();
    let top = rows
        .iter()
        .filter(|row| row.count > 0)
        // Ties go to the smaller class (rows come smallest first).
        .fold(None::<&crate::report::MacosRow>, |best, row| match best {
            Some(b) if b.count >= row.count => Some(b),
            _ => Some(row),
        })?;
    Some(ClassShare {
        class_bytes: top.class_bytes,
        class: top.class,
        count: top.count,
        share: top.count as f64 / total as f64,
    })
}

/// The row for one run: its report beside the prediction.
pub fn row(
    config: &RunConfig,
    report: &Report,
    prediction: &Prediction,
    renderers: usize,
) -> SweepRow {
    let seconds = config.seconds;
    let t = &report.totals;
    let measured = ByKind {
        input: measured_calls(&t.input),
        output: measured_calls(&t.output),
    };
    let predicted = ByKind {
        input: calls(prediction.input),
        output: calls(prediction.output),
    };
    let per_second = |c: &ByKind<AllocatorCalls>| PerSecond {
        input: c.input.allocations as f64 / seconds,
        output: c.output.allocations as f64 / seconds,
        total: (c.input.allocations + c.output.allocations) as f64 / seconds,
    };
    let class_48 = MacosClass::of(SCALE_ARRAY_BYTES);
    let in_48: u64 = report
        .size_classes
        .macos
        .iter()
        .filter(|row| {
            row.class == MacosRegion::Tiny && row.class_bytes == Some(class_48.bytes() as u64)
        })
        .map(|row| row.count)
        .sum();
    let callbacks = t.callbacks;
    let matches = measured == predicted
        && callbacks.input == prediction.callbacks
        && callbacks.output == prediction.callbacks;
    SweepRow {
        variant: config.variant.name().to_owned(),
        rate: config.engine.sample_rate,
        frames: u32::try_from(config.frames).unwrap_or(u32::MAX),
        channels: u32::try_from(config.engine.channels).unwrap_or(u32::MAX),
        renderers: u32::try_from(renderers).unwrap_or(u32::MAX),
        seconds,
        callbacks,
        predicted_callbacks: prediction.callbacks,
        measured_per_second: per_second(&measured),
        predicted_per_second: per_second(&predicted),
        measured,
        predicted,
        steady_per_second: prediction
            .steady_allocations_per_second(config.engine.sample_rate, config.frames),
        class_48_per_second: in_48 as f64 / seconds,
        dominant_class: dominant(report),
        matches,
    }
}

fn point_label(variant: Variant, rate: u32, frames: usize, channels: usize) -> String {
    format!("{} {rate} Hz / {frames} / {channels} ch", variant.name())
}

/// Runs every point of `spec`, calling `progress` with the run's number
/// (from 1), the number of runs, a label and the run's progress. Once
/// `spec.stop` is requested, the run under way ends, is dropped, and the
/// report holds the rows before it.
pub fn run_sweep(
    spec: &SweepSpec,
    progress: &mut dyn FnMut(usize, usize, &str, &Progress),
) -> Result<SweepReport, SweepError> {
    let points = spec.points();
    // Every point is checked before the first runs, so a point the
    // simulation refuses (too short for its frames) stops the sweep at
    // once rather than after the rows before it.
    for &(variant, rate, frames, channels) in &points {
        let config = spec.run_config(variant, rate, frames, channels);
        sim_config(&config)
            .validate()
            .map_err(|e| SweepError::Run {
                point: point_label(variant, rate, frames, channels),
                source: RunError::Sim(e),
            })?;
    }
    let mut rows = Vec::with_capacity(points.len());
    let mut interrupted = None;
    for (i, &(variant, rate, frames, channels)) in points.iter().enumerate() {
        if let Some(why) = spec.stop.as_ref().and_then(Stop::requested) {
            interrupted = Some(why);
            break;
        }
        let label = point_label(variant, rate, frames, channels);
        let config = spec.run_config(variant, rate, frames, channels);
        let r = renderers(channels, spec.preset.channel_count());
        let prediction = predict(&Point {
            sites: config.sites,
            rate,
            frames,
            channels,
            renderers: r,
            duration: Duration::from_secs_f64(config.seconds),
            ring_bytes: config.engine.ring_bytes,
        });
        let run = execute(&config, &mut |p| progress(i + 1, points.len(), &label, p)).map_err(
            |source| SweepError::Run {
                point: label.clone(),
                source,
            },
        )?;
        if let Some(why) = run.outcome.interrupted {
            interrupted = Some(why);
            break;
        }
        rows.push(row(&config, &run.report, &prediction, r));
    }
    Ok(SweepReport {
        format: SWEEP_FORMAT.to_owned(),
        seconds: spec.seconds,
        seed: spec.seed,
        preset: spec.preset_name.clone(),
        rows,
        runs_planned: points.len(),
        interrupted: interrupted.map(|i| i.name().to_owned()),
    })
}

/// The rows whose measurement differs from the prediction.
pub fn mismatches(report: &SweepReport) -> Vec<Mismatch<'_>> {
    report
        .rows
        .iter()
        .filter(|r| !r.matches)
        .map(|row| Mismatch { row })
        .collect()
}

/// A row whose measurement differs from its prediction: the sweep's
/// failure, printed as one line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mismatch<'a> {
    /// The row.
    pub row: &'a SweepRow,
}

impl fmt::Display for Mismatch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.row;
        write!(
            f,
            "measured differs from predicted: {} {} Hz / {} frames / {} ch: measured {:?} \
             (callbacks {}/{}), predicted {:?} (callbacks {})",
            r.variant,
            r.rate,
            r.frames,
            r.channels,
            r.measured,
            r.callbacks.input,
            r.callbacks.output,
            r.predicted,
            r.predicted_callbacks
        )
    }
}

fn class_cell(r: &SweepRow) -> (String, String) {
    match &r.dominant_class {
        Some(c) => (c.to_string(), format!("{:.1} %", c.share * 100.0)),
        None => ("none".to_owned(), "".to_owned()),
    }
}

/// The markdown table (a title line, then the table).
pub fn render_markdown(report: &SweepReport) -> String {
    let mut s = String::new();
    if let Some(why) = report.interruption() {
        let _ = writeln!(
            s,
            "allocgate sweep {why}: the table holds the finished runs\n"
        );
    }
    let _ = writeln!(
        s,
        "allocgate sweep: {} of {} s simulated, preset {}, convolution, allocations per second measured (meas) and predicted by the site formulas (pred)\n",
        allocgate_engine::text::count(report.rows.len(), "run"),
        report.seconds,
        report.preset
    );
    s.push_str(
        "| variant | rate | frames | ch | in meas/s | in pred/s | out meas/s | out pred/s | total meas/s | total pred/s | steady/s | 48 B class/s | dominant class | share | match |\n",
    );
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|\n");
    for r in &report.rows {
        let (class, share) = class_cell(r);
        let m = &r.measured_per_second;
        let p = &r.predicted_per_second;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {} |",
            r.variant,
            r.rate,
            r.frames,
            r.channels,
            m.input,
            p.input,
            m.output,
            p.output,
            m.total,
            p.total,
            r.steady_per_second,
            r.class_48_per_second,
            class,
            share,
            if r.matches { "yes" } else { "NO" }
        );
    }
    s
}

/// The CSV file: a header and one line per run, totals as counts. An
/// interrupted sweep's file starts with a `#` comment line saying so.
pub fn render_csv(report: &SweepReport) -> String {
    let mut s = report
        .interruption()
        .map(|why| format!("# {why}\n"))
        .unwrap_or_default();
    s.push_str(
        "variant,rate,frames,channels,renderers,seconds,input_callbacks,output_callbacks,predicted_callbacks,\
         input_allocations,input_allocations_predicted,output_allocations,output_allocations_predicted,\
         input_deallocations,input_deallocations_predicted,output_deallocations,output_deallocations_predicted,\
         input_reallocations,input_reallocations_predicted,output_reallocations,output_reallocations_predicted,\
         input_per_second,input_per_second_predicted,output_per_second,output_per_second_predicted,\
         total_per_second,total_per_second_predicted,steady_per_second,class_48_per_second,\
         dominant_class_bytes,dominant_class,dominant_share,match\n",
    );
    for r in &report.rows {
        let (m, p) = (&r.measured, &r.predicted);
        let (ms, ps) = (&r.measured_per_second, &r.predicted_per_second);
        let (bytes, class, share) = match &r.dominant_class {
            Some(c) => (
                c.class_bytes.map(|b| b.to_string()).unwrap_or_default(),
                c.to_string(),
                format!("{:.6}", c.share),
            ),
            None => (String::new(), "none".to_owned(), String::new()),
        };
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{},{},{},{}",
            r.variant,
            r.rate,
            r.frames,
            r.channels,
            r.renderers,
            r.seconds,
            r.callbacks.input,
            r.callbacks.output,
            r.predicted_callbacks,
            m.input.allocations,
            p.input.allocations,
            m.output.allocations,
            p.output.allocations,
            m.input.deallocations,
            p.input.deallocations,
            m.output.deallocations,
            p.output.deallocations,
            m.input.reallocations,
            p.input.reallocations,
            m.output.reallocations,
            p.output.reallocations,
            ms.input,
            ps.input,
            ms.output,
            ps.output,
            ms.total,
            ps.total,
            r.steady_per_second,
            r.class_48_per_second,
            bytes,
            class,
            share,
            if r.matches { "yes" } else { "no" }
        );
    }
    s
}

/// Writes `sweep.md`, `sweep.csv` and `sweep.json` into `dir` (made by
/// [`check_outputs`]), each atomically: an existing file is replaced
/// whole or left as it was. An interrupted sweep with no finished row
/// writes nothing.
pub fn write_outputs(dir: &Path, report: &SweepReport) -> Result<(), SweepError> {
    if report.rows.is_empty() && report.interrupted.is_some() {
        return Ok(());
    }
    let fail = |path: &Path| {
        let path = path.to_owned();
        move |source| SweepError::Write { path, source }
    };
    let mut json = serde_json::to_vec_pretty(report)
        .map_err(|e| std::io::Error::other(e.to_string()))
        .map_err(fail(&dir.join(SWEEP_JSON)))?;
    json.push(b'\n');
    for (name, bytes) in [
        (SWEEP_MD, render_markdown(report).into_bytes()),
        (SWEEP_CSV, render_csv(report).into_bytes()),
        (SWEEP_JSON, json),
    ] {
        let path = dir.join(name);
        crate::files::write_atomically(&path, &bytes, |_| Ok(())).map_err(fail(&path))?;
    }
    Ok(())
}

/// Checks the three files of `dir` (made if missing) before the runs
/// rather than after them.
pub fn check_outputs(dir: &Path) -> Result<(), SweepError> {
    let mut o = Outputs::new();
    for name in [SWEEP_MD, SWEEP_CSV, SWEEP_JSON] {
        o.add(name, dir.join(name));
    }
    o.check().map_err(SweepError::Output)
}

/// [`check_outputs`], then [`run_sweep`]; writes nothing.
pub fn run_checked(
    spec: &SweepSpec,
    dir: &Path,
    progress: &mut dyn FnMut(usize, usize, &str, &Progress),
) -> Result<SweepReport, SweepError> {
    check_outputs(dir)?;
    run_sweep(spec, progress)
}

/// [`run_checked`], then [`write_outputs`]: an interrupted sweep writes
/// its finished rows, or nothing when none finished (the files already
/// there are then left as they were).
pub fn run_and_write(
    spec: &SweepSpec,
    dir: &Path,
    progress: &mut dyn FnMut(usize, usize, &str, &Progress),
) -> Result<SweepReport, SweepError> {
    let report = run_checked(spec, dir, progress)?;
    write_outputs(dir, &report)?;
    Ok(report)
}
