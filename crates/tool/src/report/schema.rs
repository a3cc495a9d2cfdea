//! The report's shape: plain serde structs whose field names are the JSON
//! keys `reports/SCHEMA.md` documents. Renaming a field changes the
//! schema.

use serde::{Deserialize, Serialize};

use crate::metrics::Xruns;
use allocgate_engine::sites::SiteSet;

use super::attach::AttachReport;
use super::blocking::BlockingCalls;
use super::environment::Environment;
use super::integrity::Integrity;

/// Version of the schema these structs describe. Adding keys keeps it;
/// removing, renaming or changing the meaning of one bumps it.
pub const SCHEMA_VERSION: u32 = 1;

/// A run's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The signal that stopped the run before its end (`SIGINT` or
    /// `SIGTERM`); null when it ran to its end. The figures of a stopped
    /// run cover what ran (`rates.seconds` is the time that ran). Absent
    /// from older reports: read as null.
    #[serde(default)]
    pub interrupted: Option<String>,
    /// What was run.
    pub config: ReportConfig,
    /// Where and with what it was built and run.
    pub environment: Environment,
    /// Totals per simulated second.
    pub rates: RatesReport,
    /// Every callback, warm-up and steady state together.
    pub totals: TotalsReport,
    /// How many callbacks made 0, 1, 2, … allocations.
    pub allocations_per_callback: ByKind<Vec<PerCallbackRow>>,
    /// Requested sizes and macOS malloc size classes.
    pub size_classes: SizeClassesReport,
    /// Allocation sites, filled by `allocgate run --trace-sites` (empty
    /// otherwise).
    pub sites: Vec<SiteReport>,
    /// Callback durations.
    pub latency: ByKind<KindLatency>,
    /// Callback durations in log-spaced buckets, for plots. Absent from
    /// older reports: read as empty.
    #[serde(default)]
    pub latency_histograms: ByKind<KindHistograms>,
    /// Callbacks and allocator calls over device time, in at most 256
    /// bins, for plots. Absent from older reports: read as empty.
    #[serde(default)]
    pub timeline: ByKind<Vec<TimelineBin>>,
    /// Callback duration over period.
    pub cpu_load: ByKind<LoadReport>,
    /// Callbacks that took longer than their period.
    pub deadline_misses: ByKind<u64>,
    /// Underruns, overruns and what they cost.
    pub xruns: Xruns,
    /// The callbacks marked as warm-up.
    pub warm_up: PhaseReport,
    /// The other callbacks.
    pub steady_state: PhaseReport,
    /// Whether the output matched what the input should have produced.
    pub integrity: Integrity,
    /// Paced runs: real-time priority and how well the run kept time;
    /// null in virtual time.
    #[serde(default)]
    pub pacing: Option<Pacing>,
    /// The harness's own conduct over the run.
    #[serde(default)]
    pub harness: HarnessReport,
    /// Real backends (JACK, CoreAudio): the server or devices and how the
    /// audio threads and the collector fared; null on the simulated
    /// clock.
    #[serde(default)]
    pub backend: Option<BackendReport>,
    /// `allocgate attach` runs: the program, how it ended, its capture
    /// and each callback slot; absent from other runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<AttachReport>,
}

/// A run on real audio threads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackendReport {
    /// `jack` or `coreaudio`.
    pub name: String,
    /// The JACK server, or the input device.
    pub input: String,
    /// The JACK server, or the output device.
    pub output: String,
    /// The server's or device's sample rate, in Hz.
    pub sample_rate: u32,
    /// Frames per period.
    pub period: u32,
    /// Whether the audio thread ran with real-time scheduling (null:
    /// unknown).
    pub realtime: Option<bool>,
    /// Xruns the backend itself reported (JACK's xrun callback).
    pub backend_xruns: u64,
    /// Cycles run before the measured window opened (ports being
    /// connected): silence, no engine callback.
    pub idle_cycles: u64,
    /// Measurements the audio threads could not queue (the collector fell
    /// behind); not in the figures.
    pub measurements_lost: u64,
    /// Played blocks the recorder could not queue; the integrity check
    /// stops at the first.
    pub blocks_lost: u64,
    /// Allocator calls on the audio threads outside the engine's
    /// callbacks: the harness's own work there. Zero, or the harness broke
    /// its promise; null when the stream could not be stopped cleanly.
    pub audio_thread_outside_callbacks: Option<AllocatorCalls>,
    /// Allocator calls on the collector's thread over the run (it may
    /// allocate; none of it shows in a callback's figures).
    pub collector_thread: AllocatorCalls,
    /// Why the run ended before its time (the server or a device went
    /// away); null when it ran to the end. The figures cover what was
    /// measured up to then.
    pub ended_early: Option<String>,
}

/// How a paced run kept time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Pacing {
    /// Whether the driver thread ran at `SCHED_FIFO` priority.
    pub realtime_granted: bool,
    /// What the system said, as a sentence.
    pub realtime: String,
    /// Callbacks paced.
    pub wakeups: u64,
    /// Callbacks that started more than a millisecond after their
    /// deadline.
    pub late_wakeups: u64,
    /// The latest start after a deadline.
    pub max_late_ns: u64,
}

/// The harness's own conduct over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HarnessReport {
    /// Wall time of the run itself (set-up and report excluded).
    pub wall_ns: u64,
    /// Simulated seconds per wall second (0 for real devices).
    pub speed: f64,
    /// Allocator calls on the driver thread while the run went on, outside
    /// the callbacks: the driver's own, plus scheduled control-side
    /// actions (preset switches build renderers). Zero for a run without
    /// scheduled actions.
    pub driver_outside_callbacks: AllocatorCalls,
}

/// Counts of allocator calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocatorCalls {
    /// `alloc` and `alloc_zeroed` calls.
    pub allocations: u64,
    /// `dealloc` calls.
    pub deallocations: u64,
    /// `realloc` calls.
    pub reallocations: u64,
}

impl From<crate::drive::backend::OutsideCalls> for AllocatorCalls {
    fn from(o: crate::drive::backend::OutsideCalls) -> AllocatorCalls {
        AllocatorCalls {
            allocations: o.allocations,
            deallocations: o.deallocations,
            reallocations: o.reallocations,
        }
    }
}

impl From<&allocgate::Counts> for AllocatorCalls {
    fn from(c: &allocgate::Counts) -> AllocatorCalls {
        AllocatorCalls {
            allocations: c.allocations,
            deallocations: c.deallocations,
            reallocations: c.reallocations,
        }
    }
}

/// What was run. The driver or CLI fills it in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportConfig {
    /// Engine variant name (`seed`, `prefix`, `fixed`).
    pub variant: String,
    /// Names of the switched-on allocation sites (see [`site_names`]).
    pub sites: Vec<String>,
    /// Sample rate, in Hz.
    pub sample_rate: u32,
    /// Frames per callback (the nominal count when it varies).
    pub frames: u32,
    /// Input channels.
    pub channels: u32,
    /// Requested run length, in simulated seconds.
    pub seconds: f64,
    /// Seed of every pseudo-random choice.
    pub seed: u64,
    /// What drove the callbacks (`sim`, `jack`, `coreaudio`).
    pub backend: String,
    /// `virtual` (as fast as possible) or `paced` (real time).
    pub mode: String,
    /// Whether the renderer convolved (false: passthrough).
    pub convolution: bool,
    /// The preset's name or file, if any.
    pub preset: Option<String>,
    /// Callbacks of each kind after a start or restart marked as warm-up.
    pub warm_up_callbacks: u64,
    /// The scenario run (`allocgate run --scenario`), by name; null for a
    /// run configured by flags. Absent from older reports: read as null.
    #[serde(default)]
    pub scenario: Option<String>,
    /// Whether allocation sites were traced (`--trace-sites`), which slows
    /// the callbacks. Absent from older reports: read as false.
    #[serde(default)]
    pub trace_sites: bool,
    /// Whether page faults and context switches were read around each
    /// callback (`--rusage`). Absent from older reports: read as false.
    #[serde(default)]
    pub rusage: bool,
    /// Whether the C library's calls were counted too (`--c-level`): C
    /// code's allocations in the allocator figures, blocking calls by
    /// name in `blocking_calls`. Absent from older reports: read as false.
    #[serde(default)]
    pub c_level: bool,
}

/// The names of a set of sites, in [`Site::ALL`](allocgate_engine::sites::Site::ALL)
/// order, for [`ReportConfig::sites`].
pub fn site_names(sites: SiteSet) -> Vec<String> {
    sites.iter().map(|s| s.name().to_owned()).collect()
}

/// One value per callback kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByKind<T> {
    /// Input callbacks.
    pub input: T,
    /// Output callbacks.
    pub output: T,
}

/// Runs shorter than this many seconds have their rates marked
/// [`extrapolated`](RatesReport::extrapolated).
pub const MEASURED_RATE_SECONDS: f64 = 1.0;

/// Totals per simulated second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RatesReport {
    /// The simulated duration the rates divide by, in seconds.
    pub seconds: f64,
    /// True when `seconds` is under [`MEASURED_RATE_SECONDS`]: each rate
    /// is a count over less than a second, scaled up to one, not a
    /// second's measurement (the counts are in `totals`). Absent from
    /// older reports: read as false ([`is_extrapolated`](Self::is_extrapolated)
    /// also looks at `seconds`).
    #[serde(default)]
    pub extrapolated: bool,
    /// Callbacks of both kinds per second.
    pub callbacks_per_second: f64,
    /// `alloc` and `alloc_zeroed` calls per second.
    pub allocations_per_second: f64,
    /// `dealloc` calls per second.
    pub deallocations_per_second: f64,
    /// `realloc` calls per second.
    pub reallocations_per_second: f64,
    /// Allocator calls of every kind per second.
    pub allocator_calls_per_second: f64,
    /// Bytes requested by allocations per second.
    pub bytes_per_second: f64,
    /// The same for input callbacks alone.
    pub input: KindRates,
    /// The same for output callbacks alone.
    pub output: KindRates,
}

impl RatesReport {
    /// True when the rates are scaled up from a run shorter than
    /// [`MEASURED_RATE_SECONDS`] (marked so, or read from an older report
    /// whose `seconds` says so).
    pub fn is_extrapolated(&self) -> bool {
        self.extrapolated || self.seconds < MEASURED_RATE_SECONDS
    }
}

/// One kind's totals per simulated second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct KindRates {
    /// Callbacks per second.
    pub callbacks_per_second: f64,
    /// `alloc` and `alloc_zeroed` calls per second.
    pub allocations_per_second: f64,
    /// `dealloc` calls per second.
    pub deallocations_per_second: f64,
    /// `realloc` calls per second.
    pub reallocations_per_second: f64,
    /// Allocator calls of every kind per second.
    pub allocator_calls_per_second: f64,
    /// Bytes requested by allocations per second.
    pub bytes_per_second: f64,
}

/// Counts over a set of callbacks of both kinds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotalsReport {
    /// Callbacks per kind.
    pub callbacks: ByKind<u64>,
    /// Callbacks that made at least one allocator call.
    pub callbacks_touching_allocator: u64,
    /// `alloc` and `alloc_zeroed` calls.
    pub allocations: u64,
    /// `dealloc` calls.
    pub deallocations: u64,
    /// `realloc` calls.
    pub reallocations: u64,
    /// Bytes requested by `alloc` and `alloc_zeroed`.
    pub bytes: u64,
    /// `bytes` plus the new sizes requested by `realloc`.
    pub bytes_requested: u64,
    /// Bytes released by `dealloc`.
    pub bytes_deallocated: u64,
    /// Blocking C library calls by function name, only the names called
    /// (`{"pthread_mutex_lock": 2}`); present only when the run counted
    /// them (`config.c_level`), so that `{}` means none was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking_calls: Option<BlockingCalls>,
    /// Callbacks that made at least one blocking call; present with
    /// `blocking_calls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callbacks_blocking: Option<u64>,
    /// The input callbacks alone.
    pub input: KindTotals,
    /// The output callbacks alone.
    pub output: KindTotals,
}

/// Counts over a set of callbacks of one kind: the report's form of
/// [`Totals`](crate::metrics::Totals).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindTotals {
    /// Callbacks.
    pub callbacks: u64,
    /// Callbacks that made at least one allocator call.
    pub callbacks_touching_allocator: u64,
    /// `alloc` and `alloc_zeroed` calls.
    pub allocations: u64,
    /// `dealloc` calls.
    pub deallocations: u64,
    /// `realloc` calls.
    pub reallocations: u64,
    /// Bytes requested by `alloc` and `alloc_zeroed`.
    pub bytes: u64,
    /// `bytes` plus the new sizes requested by `realloc`.
    pub bytes_requested: u64,
    /// Bytes released by `dealloc`.
    pub bytes_deallocated: u64,
    /// Largest single request.
    pub largest_request_bytes: u64,
    /// Frames asked for.
    pub frames: u64,
    /// Wall-clock time spent in the callbacks, in nanoseconds.
    pub wall_ns: u64,
    /// The callbacks' periods added up, in nanoseconds.
    pub period_ns: u64,
    /// Locks, page faults and context switches (absent from reports made
    /// before they were measured: all zero).
    #[serde(default)]
    pub hazards: HazardsReport,
    /// Blocking C library calls by function name, only the names called
    /// (`{"pthread_mutex_lock": 2}`); present only when the run counted
    /// them (`config.c_level`), so that `{}` means none was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking_calls: Option<BlockingCalls>,
    /// Callbacks that made at least one blocking call; present with
    /// `blocking_calls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callbacks_blocking: Option<u64>,
}

/// Hazards beyond the allocator over a set of callbacks of one kind: the
/// report's form of [`HazardTotals`](allocgate::hazard::HazardTotals).
/// Lock counts are always measured; the four usage counts only in
/// `--rusage` mode, in `callbacks_sampled` of the callbacks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HazardsReport {
    /// Callbacks whose page faults and context switches were read.
    pub callbacks_sampled: u64,
    /// Minor page faults.
    pub minor_faults: u64,
    /// Major page faults.
    pub major_faults: u64,
    /// Voluntary context switches (the thread waited).
    pub voluntary_switches: u64,
    /// Involuntary context switches (the thread was preempted).
    pub involuntary_switches: u64,
    /// Tracked locks taken.
    pub lock_acquisitions: u64,
    /// Of those, found held by another thread.
    pub lock_contentions: u64,
    /// Callbacks with a page fault.
    pub callbacks_faulting: u64,
    /// Callbacks with a voluntary context switch.
    pub callbacks_switching: u64,
    /// Callbacks that took a tracked lock.
    pub callbacks_locking: u64,
}

/// One bucket of the allocations-per-callback histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerCallbackRow {
    /// Allocations each callback in the bucket made (at least this many
    /// when `or_more`).
    pub allocations: u64,
    /// True for the overflow bucket.
    pub or_more: bool,
    /// Callbacks in the bucket.
    pub callbacks: u64,
}

/// Requested sizes and size classes, of both kinds and per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeClassesReport {
    /// Requests per power-of-two range, both kinds.
    pub requested: Vec<RequestedRow>,
    /// Requests per macOS malloc size class, both kinds.
    pub macos: Vec<MacosRow>,
    /// Input callbacks alone.
    pub input: KindSizeClasses,
    /// Output callbacks alone.
    pub output: KindSizeClasses,
}

/// Requested sizes and size classes of one callback kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindSizeClasses {
    /// Requests per power-of-two range.
    pub requested: Vec<RequestedRow>,
    /// Requests per macOS malloc size class.
    pub macos: Vec<MacosRow>,
}

/// Requests whose size fell in one power-of-two range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedRow {
    /// Upper bound of the range (a power of two); null for the last,
    /// open-ended range.
    pub requested_bytes: Option<u64>,
    /// Lower bound of the range.
    pub min_bytes: u64,
    /// Requests (allocations, and reallocations by new size).
    pub count: u64,
}

/// Requests that landed in one macOS malloc size class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MacosRow {
    /// Bytes the class hands out; null for `large` (every request above
    /// 32 KiB).
    pub class_bytes: Option<u64>,
    /// The malloc region.
    pub class: MacosRegion,
    /// Requests in the class.
    pub count: u64,
}

/// A macOS malloc region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MacosRegion {
    /// Tiny (or nano): 16-byte quantum, up to 1008 bytes.
    Tiny,
    /// Small: 512-byte quantum, up to 32 KiB.
    Small,
    /// Everything larger.
    Large,
}

/// One allocation site's figures: the allocator calls of one size made
/// under one function in one kind of callback (`allocgate run
/// --trace-sites`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteReport {
    /// The first function in user code on the allocation's stack.
    pub function: String,
    /// Bytes requested by each allocation (`realloc`: the new size;
    /// `dealloc`: the freed block's).
    pub size: u64,
    /// Allocations at the site over the run.
    pub count: u64,
    /// `count` per callback of the site's kind (0 outside callbacks).
    pub per_callback: f64,
    /// `input`, `output`, or `outside` (the driver thread between
    /// callbacks).
    #[serde(default)]
    pub kind: String,
    /// The engine site whose function this is
    /// ([`Site::function`](allocgate_engine::sites::Site::function)), if any.
    #[serde(default)]
    pub site: Option<String>,
    /// Bytes of the macOS malloc class `size` lands in; null for `large`.
    #[serde(default)]
    pub class_bytes: Option<u64>,
    /// The macOS malloc region of `size`.
    #[serde(default)]
    pub class: Option<MacosRegion>,
    /// `dealloc` calls of this size under this function.
    #[serde(default)]
    pub deallocations: u64,
    /// `realloc` calls to this size under this function.
    #[serde(default)]
    pub reallocations: u64,
    /// One example stack, symbolised, innermost first, trimmed to the
    /// allocator entry through a few frames past `function`.
    #[serde(default)]
    pub backtrace: Vec<String>,
}

/// Durations of one kind's callbacks, in nanoseconds, and the same for
/// those that touched the allocator and those that did not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct KindLatency {
    /// Every callback of the kind (its keys sit at this level in JSON).
    #[serde(flatten)]
    pub all: LatencyReport,
    /// Callbacks that made at least one allocator call.
    pub allocated: LatencyReport,
    /// Callbacks that made none.
    pub not_allocated: LatencyReport,
}

/// Durations of a set of callbacks, in nanoseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyReport {
    /// Callbacks measured.
    pub count: u64,
    /// Shortest (exact).
    pub min_ns: u64,
    /// Mean (exact).
    pub mean_ns: f64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Longest (exact).
    pub max_ns: u64,
}

/// One kind's callback durations in log-spaced buckets: each list holds
/// the non-empty buckets, shortest first, at most 64.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindHistograms {
    /// Every callback of the kind.
    #[serde(default)]
    pub all: Vec<LatencyBucketRow>,
    /// Callbacks that made at least one allocator call.
    #[serde(default)]
    pub allocated: Vec<LatencyBucketRow>,
    /// Callbacks that made none.
    #[serde(default)]
    pub not_allocated: Vec<LatencyBucketRow>,
}

/// Callbacks whose duration fell from `lower_ns` to `upper_ns`, both
/// included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencyBucketRow {
    /// Shortest duration in the bucket.
    pub lower_ns: u64,
    /// Longest duration in the bucket.
    pub upper_ns: u64,
    /// Callbacks in the bucket.
    pub count: u64,
}

/// The callbacks of one kind that started in one stretch of device time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineBin {
    /// Start of the stretch, in seconds of device time since the run
    /// started.
    pub start_s: f64,
    /// Its length, in seconds (the same for every bin of a report).
    pub width_s: f64,
    /// Callbacks whose first frame fell in it.
    pub callbacks: u64,
    /// Their `alloc` and `alloc_zeroed` calls.
    pub allocations: u64,
    /// Their `dealloc` calls.
    pub deallocations: u64,
    /// Their `realloc` calls.
    pub reallocations: u64,
}

/// Callback duration over period, for one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    /// Mean of the callbacks' ratios.
    pub mean: f64,
    /// Largest ratio.
    pub max: f64,
    /// Wall-clock time in the callbacks over the run's simulated
    /// duration.
    pub share: f64,
}

/// The figures of one phase of the run (warm-up or steady state).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseReport {
    /// Counts.
    pub totals: TotalsReport,
    /// How many callbacks made 0, 1, 2, … allocations.
    pub allocations_per_callback: ByKind<Vec<PerCallbackRow>>,
    /// Durations.
    pub latency: ByKind<KindLatency>,
    /// Duration over period; `share` still divides by the whole run.
    pub cpu_load: ByKind<LoadReport>,
    /// Callbacks that took longer than their period.
    pub deadline_misses: ByKind<u64>,
    /// Underruns, overruns and what they cost.
    pub xruns: Xruns,
}
