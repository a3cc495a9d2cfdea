//! `allocgate run`'s flags, and their validation into a [`RunConfig`]:
//! every impossible configuration is refused here with a one-line reason,
//! before anything runs.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::drive::sim::{Drift, Mode};
use crate::scenario::Scenario;
use allocgate_engine::layout::{CONVOLVED_CHANNELS, Layout, MAX_CHANNELS};
use allocgate_engine::preset::Preset;
use allocgate_engine::setup::SAMPLE_RATES;
use allocgate_engine::sites::{Site, SiteSet};
use allocgate_engine::text::{count, number};
use allocgate_engine::variant::Variant;
use allocgate_engine::{EngineConfig, MAX_FRAMES};

use super::backend_args::BackendArgs;
use crate::run::{BackendChoice, DHAT_BUILD_HINT, RunConfig, TraceConfig};

/// The flags of `allocgate run`, as typed. Their names are a contract.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Engine variant: seed, prefix, fixed or optimized.
    #[arg(long, value_name = "V", default_value = "fixed")]
    pub variant: String,
    /// Allocation sites to switch on, on top of the variant's
    /// (comma-separated: abl, ptr-array, channel-buffers, scale-array,
    /// renderer-snapshot, debug-print, first-callback, underrun-log,
    /// grow-on-frames, drop-on-audio-thread; and the hazard sites, which
    /// allocate nothing: sleep, fresh-pages, contended-lock).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub sites: Vec<String>,
    /// Device sample rate, in Hz.
    #[arg(long, value_name = "HZ", default_value_t = 48_000)]
    pub rate: u32,
    /// Frames per callback (1 to 4096).
    #[arg(long, value_name = "N", default_value_t = 512)]
    pub frames: usize,
    /// Input channels: 2 (stereo), 6 (5.1), 8 (7.1) or 12 (7.1.4) with
    /// convolution, the layouts whose speakers a HeSuVi preset maps; any
    /// count from 1 to 16 with --no-convolution (channel 0 plays left,
    /// channel 1 right; a mono channel plays on both).
    #[arg(long, value_name = "C", default_value_t = 8)]
    pub channels: usize,
    /// Simulated seconds (at most 86400, a day; with a real backend, at
    /// most 3600).
    #[arg(long, value_name = "S", default_value_t = 10.0)]
    pub seconds: f64,
    /// Seed for every random choice (signals, varying frame counts).
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub seed: u64,
    /// virtual: as fast as possible; paced: in real time.
    #[arg(long, value_enum, default_value_t = Mode::Virtual)]
    pub mode: Mode,
    /// A HeSuVi WAV preset (7 or 14 channels); default: the embedded KEMAR set.
    #[arg(long, value_name = "FILE")]
    pub preset: Option<PathBuf>,
    /// Passthrough instead of convolution: input channels 0 and 1 go
    /// straight to the two outputs, and any channel count is accepted.
    #[arg(long)]
    pub no_convolution: bool,
    /// How much faster the output device's clock runs than the input's,
    /// in parts per million (negative: slower; at most ±100000). Any
    /// drift under- or overruns the ring sooner or later.
    #[arg(
        long,
        value_name = "PPM",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub drift_ppm: f64,
    /// Skip the integrity check of the output (faster; the verdict is
    /// then `not_checked`).
    #[arg(long)]
    pub no_integrity: bool,
    /// Where to write the JSON report.
    #[arg(long, value_name = "FILE", default_value = "reports/latest/run.json")]
    pub out: PathBuf,
    /// Also write the callback durations (nanoseconds) as an HdrHistogram
    /// interval log, for HdrHistogram's plotters and log processors: one
    /// interval spanning the run per tag (input, output, and
    /// input-allocated, input-clean, output-allocated, output-clean when
    /// not empty). Replaced atomically.
    #[arg(long, value_name = "FILE")]
    pub hdr_log: Option<PathBuf>,
    /// Write a DHAT heap profile of the whole process over the run, for
    /// dhat's viewer (dh_view.html). Needs a build with the dhat-heap
    /// feature: dhat takes a global lock on every allocation.
    #[arg(long, value_name = "FILE")]
    pub dhat: Option<PathBuf>,
    /// Trace where the callbacks' allocator calls come from: each call's
    /// stack is captured on the audio thread and named after the run, and
    /// the report's `sites` list (and a table in the summary) gives each
    /// site's function, size, macOS class and counts. Every allocator call
    /// in a callback then costs a stack walk: runs are slower, and their
    /// latencies are not representative.
    #[arg(long)]
    pub trace_sites: bool,
    /// Read each callback's page faults and context switches (two
    /// getrusage(RUSAGE_THREAD) calls around it, outside its timing;
    /// Linux only). Tracked locks are counted in every run.
    #[arg(long)]
    pub rusage: bool,
    /// Also count the C library's calls in each callback (Linux with
    /// glibc): allocations made through malloc and its family directly
    /// (C code, libjack), and blocking calls by name (pthread_mutex_lock,
    /// nanosleep, …). The report then carries them (`c_level: true`).
    #[arg(long)]
    pub c_level: bool,
    /// With --trace-sites: a function-name prefix that is not user code
    /// (a wrapper around the allocator, say), on top of the built-in list
    /// (std, core, alloc, the allocator, the engine's allocating idioms).
    /// Repeat for more.
    #[arg(long, value_name = "PREFIX")]
    pub trace_skip: Vec<String>,
    /// A scenario file (TOML, harness/scenarios/README.md): its devices,
    /// length, seed, convolution, preset and events replace --rate,
    /// --frames, --channels, --seconds, --seed, --preset,
    /// --no-convolution and --drift-ppm, which it refuses alongside.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = [
            "rate", "frames", "channels", "seconds", "seed", "preset",
            "no_convolution", "drift_ppm",
        ]
    )]
    pub scenario: Option<PathBuf>,
    /// Where the callbacks run, and the real backends' flags.
    #[command(flatten)]
    pub backend: BackendArgs,
}

/// Longest run accepted, in simulated seconds (one day).
pub const MAX_SECONDS: f64 = 86_400.0;

/// Why a run was refused (exit code 2).
#[derive(Debug)]
pub struct UsageError(String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

impl UsageError {
    /// A refusal for `reason`, one line.
    pub fn new(reason: impl Into<String>) -> UsageError {
        UsageError(reason.into().replace('\n', " "))
    }
}

/// Why `--c-level` is refused on this platform, if it is: the C-level
/// layer defines glibc's functions, so it exists on Linux with glibc only.
pub fn check_c_level() -> Result<(), UsageError> {
    if C_LEVEL_SUPPORTED {
        Ok(())
    } else {
        Err(UsageError(format!(
            "--c-level on {}; expected Linux with glibc, where the C-level layer is built",
            std::env::consts::OS
        )))
    }
}

/// Whether this build has the C-level layer (`--c-level`).
pub const C_LEVEL_SUPPORTED: bool = cfg!(all(target_os = "linux", target_env = "gnu"));

/// `--seconds`: more than 0 and at most [`MAX_SECONDS`], or a one-line
/// refusal.
pub(super) fn check_seconds(seconds: f64) -> Result<(), UsageError> {
    if seconds.is_finite() && seconds > 0.0 && seconds <= MAX_SECONDS {
        Ok(())
    } else {
        Err(UsageError(format!(
            "{} seconds; expected more than 0 and at most {MAX_SECONDS}",
            number(seconds)
        )))
    }
}

fn refuse(msg: String) -> Result<RunConfig, UsageError> {
    Err(UsageError(msg))
}

/// `--variant` and `--sites`: the variant and the sites switched on (its
/// own plus those named), or a one-line refusal.
pub fn variant_and_sites(
    variant: &str,
    names: &[String],
) -> Result<(Variant, SiteSet), UsageError> {
    let Some(variant) = Variant::from_name(variant) else {
        return Err(UsageError(format!(
            "unknown variant '{variant}'; expected seed, prefix, fixed or optimized"
        )));
    };
    let mut sites = variant.sites();
    for name in names.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match Site::from_name(name) {
            Some(site) if variant.unsupported().contains(site) => {
                return Err(UsageError(format!(
                    "site '{name}' is not in the {} variant: it lives in the reference \
                     renderer's per-convolver block step, which the spectral renderer does not have",
                    variant.name()
                )));
            }
            Some(site) => sites = sites.with(site),
            None => {
                let all: Vec<&str> = Site::ALL.iter().map(|s| s.name()).collect();
                return Err(UsageError(format!(
                    "unknown site '{name}'; expected one of {}",
                    all.join(", ")
                )));
            }
        }
    }
    Ok((variant, sites))
}

impl RunArgs {
    /// Checks every flag and loads the preset.
    pub fn validate(&self) -> Result<RunConfig, UsageError> {
        let (variant, sites) = variant_and_sites(&self.variant, &self.sites)?;
        if !self.trace_skip.is_empty() && !self.trace_sites {
            return refuse("--trace-skip needs --trace-sites".to_owned());
        }
        if self.dhat.is_some() && !cfg!(feature = "dhat-heap") {
            return refuse(DHAT_BUILD_HINT.to_owned());
        }
        if self.rusage {
            allocgate::hazard::check_usage().map_err(|e| UsageError::new(e.to_string()))?;
        }
        if self.c_level {
            check_c_level()?;
        }
        let backend = self.backend.validate(self)?;
        if let Some(path) = &self.scenario {
            let s = crate::scenario::load_file(path).map_err(|e| UsageError::new(e.to_string()))?;
            return Ok(self.with_scenario(variant, sites, s));
        }
        if !SAMPLE_RATES.contains(&self.rate) {
            return refuse(format!(
                "sample rate {} Hz; expected {} to {} Hz",
                self.rate,
                SAMPLE_RATES.start(),
                SAMPLE_RATES.end()
            ));
        }
        if !(1..=MAX_FRAMES).contains(&self.frames) {
            return refuse(format!(
                "{} frames per callback; expected 1 to {MAX_FRAMES}",
                self.frames
            ));
        }
        if !(1..=MAX_CHANNELS).contains(&self.channels) {
            return refuse(format!(
                "{}; expected 1 to {MAX_CHANNELS}",
                count(self.channels, "channel")
            ));
        }
        let mapped = Layout::for_channels(self.channels).has_mapped_speaker();
        if !mapped && !self.no_convolution {
            return refuse(format!(
                "--channels {}: convolution needs a layout whose speakers a HeSuVi preset maps, \
                 {CONVOLVED_CHANNELS} channels; --no-convolution plays any count from 1 to \
                 {MAX_CHANNELS} through",
                self.channels
            ));
        }
        check_seconds(self.seconds)?;
        let ppb = self.drift_ppm * 1000.0;
        let limit = Drift::LIMIT_PPB as f64;
        if !(ppb.is_finite() && ppb.abs() <= limit) {
            return refuse(format!(
                "drift of {} ppm; expected -{} to {} ppm",
                number(self.drift_ppm),
                limit / 1000.0,
                limit / 1000.0
            ));
        }
        let (preset, preset_name) = match &self.preset {
            None => {
                let p = Preset::kemar();
                let name = p.name().to_owned();
                (Arc::new(p), name)
            }
            Some(path) => (
                Arc::new(Preset::from_wav_file(path).map_err(|e| UsageError(e.to_string()))?),
                path.display().to_string(),
            ),
        };
        // A passthrough layout with no mapped speaker has nothing a preset
        // could render: none is activated.
        let (preset, preset_name) = if mapped {
            (Some(preset), Some(preset_name))
        } else {
            (None, None)
        };
        let engine = EngineConfig::new(self.channels, self.rate)
            .with_variant(variant, sites)
            .with_convolution(!self.no_convolution);
        Ok(RunConfig {
            variant,
            sites,
            engine,
            frames: self.frames,
            seconds: self.seconds,
            seed: self.seed,
            mode: self.mode,
            preset,
            preset_name,
            drift: Drift::ppb(ppb.round() as i64),
            integrity: !self.no_integrity,
            out: self.out.clone(),
            hdr_log: self.hdr_log.clone(),
            dhat: self.dhat.clone(),
            trace: self.trace(),
            rusage: self.rusage,
            c_level: self.c_level,
            scenario: None,
            backend,
            stop: None,
        })
    }

    fn trace(&self) -> Option<TraceConfig> {
        self.trace_sites.then(|| TraceConfig {
            skip: self.trace_skip.clone(),
        })
    }

    fn with_scenario(&self, variant: Variant, sites: SiteSet, s: Scenario) -> RunConfig {
        let c = &s.config;
        RunConfig {
            variant,
            sites,
            engine: EngineConfig {
                sites,
                renderer: variant.renderer(),
                ..c.engine.clone()
            },
            frames: c.devices.input.frames.max() as usize,
            seconds: c.duration.as_secs_f64(),
            seed: c.seed,
            mode: self.mode,
            preset: c.preset.clone(),
            preset_name: c.preset.is_some().then(|| s.preset_name.clone()),
            drift: c.devices.drift,
            integrity: !self.no_integrity,
            out: self.out.clone(),
            hdr_log: self.hdr_log.clone(),
            dhat: self.dhat.clone(),
            trace: self.trace(),
            rusage: self.rusage,
            c_level: self.c_level,
            scenario: Some(s),
            backend: BackendChoice::Sim,
            stop: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Wrapper {
        #[command(flatten)]
        run: RunArgs,
    }

    fn parse(args: &[&str]) -> RunArgs {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        Wrapper::try_parse_from(all).expect("flags parse").run
    }

    fn refused(args: &[&str]) -> String {
        parse(args)
            .validate()
            .expect_err("must be refused")
            .to_string()
    }

    #[test]
    fn the_defaults_are_fixed_7_1_at_48k_512_for_10_seconds_on_kemar() {
        let c = parse(&[]).validate().unwrap();
        assert_eq!(c.variant, Variant::Fixed);
        assert!(c.sites.is_empty());
        assert_eq!(
            (c.engine.channels, c.engine.sample_rate, c.frames),
            (8, 48_000, 512)
        );
        assert_eq!(c.seconds, 10.0);
        assert!(c.engine.convolution);
        assert_eq!(c.preset.as_ref().map(|p| p.channel_count()), Some(14));
    }

    #[test]
    fn passthrough_takes_any_channel_count_and_a_preset_only_where_it_maps_a_speaker() {
        for channels in 1..=MAX_CHANNELS {
            let c = parse(&["--no-convolution", "--channels", &channels.to_string()])
                .validate()
                .unwrap_or_else(|e| panic!("{channels} channels: {e}"));
            assert_eq!(c.engine.channels, channels);
            let mapped = [2, 6, 8, 12].contains(&channels);
            assert_eq!(c.preset.is_some(), mapped, "{channels} channels");
            assert_eq!(c.preset_name.is_some(), mapped, "{channels} channels");
        }
    }

    #[test]
    fn sites_add_to_the_variant() {
        let c = parse(&["--variant", "seed", "--sites", "scale-array,underrun-log"])
            .validate()
            .unwrap();
        assert_eq!(
            c.sites.to_string(),
            "abl,ptr-array,channel-buffers,scale-array,underrun-log"
        );
    }

    #[test]
    fn impossible_configurations_are_refused_with_the_value_and_the_range() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["--rate", "0"],
                "sample rate 0 Hz; expected 8000 to 768000 Hz",
            ),
            (
                &["--frames", "0"],
                "0 frames per callback; expected 1 to 4096",
            ),
            (
                &["--frames", "4097"],
                "4097 frames per callback; expected 1 to 4096",
            ),
            (&["--channels", "0"], "0 channels; expected 1 to 16"),
            (&["--channels", "17"], "17 channels; expected 1 to 16"),
            (&["--seconds", "0"], "0 seconds"),
            (&["--seconds", "NaN"], "NaN seconds"),
            (&["--variant", "best"], "unknown variant 'best'"),
            (
                &["--sites", "abl,nope"],
                "unknown site 'nope'; expected one of abl,",
            ),
            (&["--preset", "/nonexistent/x.wav"], "/nonexistent/x.wav"),
            (
                &["--drift-ppm", "200000"],
                "drift of 200000 ppm; expected -100000 to 100000 ppm",
            ),
            (&["--drift-ppm", "inf"], "drift of inf ppm"),
            (
                &["--seconds", "1e308"],
                "1e308 seconds; expected more than 0 and at most 86400",
            ),
            (&["--drift-ppm", "-1e300"], "drift of -1e300 ppm"),
            (
                &["--channels", "1"],
                "--channels 1: convolution needs a layout",
            ),
            (
                &["--channels", "3"],
                "--channels 3: convolution needs a layout whose speakers a HeSuVi preset maps, \
                 2 (stereo), 6 (5.1), 8 (7.1) or 12 (7.1.4) channels; --no-convolution plays any \
                 count from 1 to 16 through",
            ),
        ];
        for (args, want) in cases {
            let msg = refused(args);
            assert!(msg.contains(want), "{args:?}: {msg}");
            assert!(!msg.contains('\n'), "{args:?}: one line: {msg}");
        }
    }

    #[test]
    fn drift_is_read_in_ppm_to_the_nearest_ppb() {
        let c = parse(&["--drift-ppm", "-12.3456"]).validate().unwrap();
        assert_eq!(c.drift, Drift::ppb(-12_346));
        assert!(c.integrity);
        assert!(!parse(&["--no-integrity"]).validate().unwrap().integrity);
    }

    #[test]
    fn trace_sites_is_off_by_default_and_takes_skip_prefixes() {
        assert_eq!(parse(&[]).validate().unwrap().trace, None);
        let c = parse(&[
            "--trace-sites",
            "--trace-skip",
            "a::",
            "--trace-skip",
            "b::",
        ])
        .validate()
        .unwrap();
        assert_eq!(c.trace.unwrap().skip, ["a::", "b::"]);
        assert_eq!(
            refused(&["--trace-skip", "a::"]),
            "--trace-skip needs --trace-sites"
        );
    }

    #[test]
    fn a_scenario_replaces_the_device_flags_and_refuses_them_alongside() {
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../harness/scenarios/stereo.toml"
        );
        let c = parse(&["--scenario", file, "--sites", "underrun-log"])
            .validate()
            .unwrap();
        let s = c.scenario.as_ref().expect("the scenario");
        assert_eq!(s.name, "stereo");
        assert_eq!((c.engine.channels, c.seconds, c.seed), (2, 1.0, 12));
        assert_eq!(c.engine.sites.to_string(), "underrun-log");
        let sim = crate::run::sim_config(&c);
        assert_eq!(sim.engine.channels, 2);
        assert_eq!(sim.engine.sites, c.sites);
        assert_eq!(
            crate::run::report_config(&c).scenario.as_deref(),
            Some("stereo")
        );
        let mut all = vec!["run", "--scenario", file, "--rate", "96000"];
        assert!(Wrapper::try_parse_from(&all).is_err(), "--rate conflicts");
        all.truncate(3);
        all.push("--no-convolution");
        assert!(
            Wrapper::try_parse_from(&all).is_err(),
            "--no-convolution conflicts"
        );
        let msg = refused(&["--scenario", "/nonexistent/s.toml"]);
        assert!(msg.starts_with("/nonexistent/s.toml: cannot read"), "{msg}");
    }

    #[test]
    fn hdr_log_and_dhat_are_off_by_default_and_take_a_file() {
        let c = parse(&[]).validate().unwrap();
        assert_eq!((c.hdr_log, c.dhat), (None, None));
        let c = parse(&["--hdr-log", "r/latency.hlog"]).validate().unwrap();
        assert_eq!(c.hdr_log, Some(PathBuf::from("r/latency.hlog")));
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../harness/scenarios/stereo.toml"
        );
        let c = parse(&["--scenario", file, "--hdr-log", "s.hlog"])
            .validate()
            .unwrap();
        assert_eq!(
            c.hdr_log,
            Some(PathBuf::from("s.hlog")),
            "with a scenario too"
        );
    }

    #[cfg(not(feature = "dhat-heap"))]
    #[test]
    fn dhat_is_refused_without_the_dhat_heap_feature_saying_how_to_build_it() {
        let msg = refused(&["--dhat", "dhat-heap.json"]);
        assert_eq!(
            msg,
            "--dhat needs a build with the dhat-heap feature (cargo run --release --features \
             dhat-heap -- run --dhat FILE); dhat takes a global lock on every allocation, so it \
             is never in the default build"
        );
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../harness/scenarios/stereo.toml"
        );
        assert_eq!(refused(&["--scenario", file, "--dhat", "d.json"]), msg);
    }

    #[cfg(feature = "dhat-heap")]
    #[test]
    fn dhat_takes_a_file_with_the_dhat_heap_feature() {
        let c = parse(&["--dhat", "r/dhat.json"]).validate().unwrap();
        assert_eq!(c.dhat, Some(PathBuf::from("r/dhat.json")));
    }

    #[test]
    fn no_convolution_switches_to_passthrough() {
        assert!(
            !parse(&["--no-convolution"])
                .validate()
                .unwrap()
                .engine
                .convolution
        );
    }
}
