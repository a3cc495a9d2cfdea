//! What a run is asked to do: a validated [`RunConfig`], the backend its
//! callbacks run on, and how to build the features some runs need.

use std::path::PathBuf;
use std::sync::Arc;

use crate::drive::sim::{Drift, Mode};
use crate::interrupt::Stop;
use crate::scenario::Scenario;
use allocgate_engine::EngineConfig;
use allocgate_engine::preset::Preset;
use allocgate_engine::sites::SiteSet;
use allocgate_engine::variant::Variant;

/// Why `--dhat` is refused by a build without the `dhat-heap` feature.
pub const DHAT_BUILD_HINT: &str = "--dhat needs a build with the dhat-heap feature \
    (cargo run --release --features dhat-heap -- run --dhat FILE); dhat takes a global lock \
    on every allocation, so it is never in the default build";

/// Why a run or gate asked to count the C library's calls cannot: the
/// program running it has not attached the C-level layer.
pub const C_LEVEL_NOT_ATTACHED: &str = "--c-level: the C-level layer is not attached in this \
    program; expected one that links allocgate-interpose (link!()) and calls its attach() \
    first, as the allocgate binary does";

/// True when `c_level` asks for the C-level layer and the program has not
/// attached it.
pub fn c_level_missing(c_level: bool) -> bool {
    c_level && !allocgate::c_level::is_attached()
}

/// A validated run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The variant named.
    pub variant: Variant,
    /// The variant's sites plus the ones named.
    pub sites: SiteSet,
    /// The engine's configuration.
    pub engine: EngineConfig,
    /// Frames per callback.
    pub frames: usize,
    /// Simulated seconds.
    pub seconds: f64,
    /// Seed.
    pub seed: u64,
    /// Clock mode.
    pub mode: Mode,
    /// The preset activated before the run, loaded and validated; none
    /// for a passthrough run whose layout has no speaker a preset maps.
    pub preset: Option<Arc<Preset>>,
    /// The preset's name for the summary and the report: its file, or the
    /// embedded set's name; none without a preset.
    pub preset_name: Option<String>,
    /// The output clock's drift.
    pub drift: Drift,
    /// Whether to check the output's integrity.
    pub integrity: bool,
    /// Where the report goes.
    pub out: PathBuf,
    /// Where the HdrHistogram interval log goes, if anywhere.
    pub hdr_log: Option<PathBuf>,
    /// Where the DHAT heap profile goes, if anywhere (builds with the
    /// `dhat-heap` feature only).
    pub dhat: Option<PathBuf>,
    /// The scenario run, when `--scenario` was given: it defines the run
    /// (the fields above are filled from it for display).
    pub scenario: Option<Scenario>,
    /// Site tracing: off, or on with these extra skip prefixes.
    pub trace: Option<TraceConfig>,
    /// Read page faults and context switches around each callback.
    pub rusage: bool,
    /// Count the C library's calls too (`--c-level`): the program has
    /// attached the C-level layer ([`allocgate::c_level::attach`]) before
    /// the run.
    pub c_level: bool,
    /// Where the callbacks run.
    pub backend: BackendChoice,
    /// Ends the run early, its partial report marked, once requested (the
    /// binary's signal watcher holds it; none: the run always ends).
    pub stop: Option<Stop>,
}

/// What `--trace-sites` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceConfig {
    /// Function-name prefixes skipped on top of
    /// [`DEFAULT_SKIP`](allocgate::trace::DEFAULT_SKIP) and the engine's
    /// [`ENGINE_IDIOMS`](crate::report::ENGINE_IDIOMS).
    pub skip: Vec<String>,
}

/// Where a validated run's callbacks run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendChoice {
    /// The simulated clock.
    Sim,
    /// A JACK server.
    Jack {
        /// The server's name.
        server: String,
        /// Start it (dummy driver) for the run.
        spawn: bool,
        /// Ports feeding the engine's inputs; empty: the harness's signal.
        input: Vec<String>,
        /// Extra ports the outputs go to.
        output: Vec<String>,
    },
    /// CoreAudio devices (macOS).
    CoreAudio {
        /// The input device (default: the system's default input).
        input: Option<String>,
        /// The output device (default: the system's default output).
        output: Option<String>,
    },
}

impl BackendChoice {
    /// The report's name for it: `sim`, `jack`, `coreaudio`.
    pub fn name(&self) -> &'static str {
        match self {
            BackendChoice::Sim => "sim",
            BackendChoice::Jack { .. } => "jack",
            BackendChoice::CoreAudio { .. } => "coreaudio",
        }
    }

    /// True for a real backend.
    pub fn is_real(&self) -> bool {
        !matches!(self, BackendChoice::Sim)
    }
}

/// How to build with JACK, for refusals.
pub const JACK_BUILD_HINT: &str = "build with the jack feature (cargo run --release --features \
    jack -- …), which needs apt-get install -y --no-install-recommends jackd2 libjack-jackd2-dev \
    pkg-config";
