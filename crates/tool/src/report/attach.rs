//! The report's `attach` section: what `allocgate attach` ran, how the
//! program ended, what its capture held, and each callback slot's own
//! figures. Its keys are documented in `reports/SCHEMA.md`.

use serde::{Deserialize, Serialize};

use super::schema::{KindTotals, LatencyReport, SiteReport};

/// An unmodified program profiled with the preload library.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttachReport {
    /// The program as it was named on the command line.
    pub program: String,
    /// The file run (found on `PATH` when the name has no `/`).
    pub executable: String,
    /// Its arguments (lossily UTF-8).
    pub arguments: Vec<String>,
    /// Its process id.
    pub pid: u32,
    /// The preload library loaded into it.
    pub preload: String,
    /// How it ended.
    pub exit: ExitReport,
    /// From its start to its exit, in nanoseconds of wall time.
    pub ran_ns: u64,
    /// Callbacks of each slot counted as warm-up (`--warm-up`): indices
    /// below it.
    pub warm_up_callbacks: u64,
    /// Whether child processes were profiled too (`--children`).
    pub children: bool,
    /// What the preload library wrote.
    pub capture: CaptureReport,
    /// Why the figures cover less than the run, when they do: the
    /// program crashed, ignored `SIGTERM` and was killed, or its capture
    /// is cut or incomplete. Null for a whole run.
    pub partial: Option<String>,
    /// Every slot seen: one per callback registration (per client and
    /// role) in every process profiled, cycles and others.
    pub clients: Vec<ClientReport>,
}

/// How the program ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitReport {
    /// Its exit code, when it exited.
    pub code: Option<i32>,
    /// The signal that ended it (`SIGTERM`, `SIGSEGV`, …), when one did.
    pub signal: Option<String>,
    /// Why allocgate stopped it: `seconds` (`--seconds` ran out),
    /// `SIGINT` or `SIGTERM` (allocgate was interrupted); null when it
    /// exited by itself.
    pub stopped_by: Option<String>,
    /// It outlived `SIGTERM` by the grace period and was sent `SIGKILL`.
    pub killed: bool,
    /// Processes of its process group were still running after it
    /// ended and were stopped the same way.
    pub group_stopped: bool,
}

/// What the preload library's capture held.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureReport {
    /// The stream ended with the library's end frame, every record
    /// collected written, and was read to its end.
    pub complete: bool,
    /// Why it is not complete; null when it is.
    pub problem: Option<String>,
    /// Callback records read, every slot and process.
    pub records: u64,
    /// Records the audio threads' queues dropped (full queue): callbacks
    /// that ran unmeasured.
    pub dropped: u64,
    /// Frames of kinds this build does not know, skipped.
    pub skipped_frames: u64,
    /// Records each slot's queue held.
    pub queue_capacity: u32,
    /// Processes whose captures were read (the program, and its children
    /// with `--children`).
    pub processes: u32,
}

/// One slot: the callbacks of one registration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientReport {
    /// The process that registered it.
    pub pid: u32,
    /// Its number in that process's capture.
    pub slot: u16,
    /// `jack-process`, `jack-process-thread`, `marked`,
    /// `jack-buffer-size`, `jack-sample-rate`, `jack-xrun`, or `other-N`.
    pub role: String,
    /// True for audio cycles (`jack-process`, `jack-process-thread`,
    /// `marked`): only these are in the report's callback figures.
    pub cycle: bool,
    /// The JACK client's name, or the thread's for a marked callback;
    /// empty when unknown.
    pub name: String,
    /// Frames per second; 0 when unknown.
    pub sample_rate: u32,
    /// Frames per period; 0 when unknown.
    pub buffer_size: u32,
    /// The period each callback's duration is held to, in nanoseconds:
    /// the buffer size over the sample rate (else each callback's frames
    /// over the rate); null when the rate is unknown (such callbacks have
    /// no CPU load and each counts as a deadline miss).
    pub period_ns: Option<u64>,
    /// Callbacks recorded.
    pub callbacks: u64,
    /// Records its queue dropped: callbacks that ran unmeasured.
    pub dropped: u64,
    /// Every callback recorded.
    pub totals: KindTotals,
    /// The first `warm_up_callbacks` callbacks.
    pub warm_up: KindTotals,
    /// The others.
    pub steady_state: KindTotals,
    /// Index of the first steady-state callback that made an allocator
    /// call; null when none did.
    pub first_allocating_callback: Option<u64>,
    /// Index of the first steady-state callback that made a blocking
    /// call; null when none did.
    pub first_blocking_callback: Option<u64>,
    /// Blocking calls under names this build does not know (counted in
    /// no `blocking_calls` map; zero when both sides are one build).
    pub unknown_blocking_calls: u64,
    /// Durations of every callback recorded.
    pub latency: LatencyReport,
    /// Its allocation sites (with `--trace-sites`), over every callback,
    /// warm-up included.
    pub sites: Vec<SiteReport>,
}
