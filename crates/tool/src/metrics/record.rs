//! One record per callback: what a driver (the simulated clock, JACK,
//! CoreAudio) learned about one invocation. Plain data, `Copy`, fixed
//! size, so drivers keep them in pre-sized storage or pass them through a
//! lock-free queue without allocating on the audio thread.

use allocgate::hazard::Hazards;
use allocgate::{BlockingCounts, Counts};
use allocgate_engine::sites::CallbackKind;

/// What one callback did and cost.
///
/// [`Record::new`] starts from a callback with nothing in it; the
/// `with_*` setters fill in the rest (struct update syntax sets the xrun
/// fields):
///
/// ```
/// use allocgate::Counts;
/// use allocgate_engine::sites::CallbackKind;
/// use allocgate_tool::metrics::Record;
///
/// let r = Record::new(CallbackKind::Output)
///     .with_index(3)
///     .with_frames(480, 10_000_000)
///     .with_wall_ns(12_000_000)
///     .with_counts(Counts { allocations: 2, ..Counts::new() });
/// let r = Record { underrun: true, ..r };
/// assert!(r.touched_allocator() && r.missed_deadline() && r.underrun);
/// assert_eq!((r.device_time, r.warm_up), (0, false));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// Input or output.
    pub kind: CallbackKind,
    /// Index among callbacks of this kind, from 0.
    pub index: u64,
    /// Device time of the callback's first frame, in frames of its device
    /// clock since the run started.
    pub device_time: u64,
    /// Frames asked for.
    pub frames: u32,
    /// The callback's period, frames / sample rate, in nanoseconds: its
    /// deadline.
    pub period_ns: u64,
    /// Wall-clock duration of the callback, in nanoseconds.
    pub wall_ns: u64,
    /// Allocator calls made during the callback (on its thread).
    pub counts: Counts,
    /// Blocking C library calls made during the callback, by name (a
    /// fixed array of counters, one per
    /// [`BlockingCall`](allocgate::BlockingCall)); all zero unless the C-level
    /// layer counted them (`--c-level`). Their total is
    /// [`Hazards::blocking_calls`].
    pub blocking: BlockingCounts,
    /// Locks, page faults and context switches during the callback (on
    /// its thread; usage only in `--rusage` mode).
    pub hazards: Hazards,
    /// Output: the ring ran short.
    pub underrun: bool,
    /// Output: the callback was buffering and wrote silence.
    pub buffering: bool,
    /// Input: bytes the ring had no room for.
    pub bytes_dropped: u32,
    /// Input: the ring write ended mid-frame.
    pub partial_frame: bool,
    /// Output: frames past the last whole block left unrendered.
    pub frames_unrendered: u32,
    /// Within the warm-up after a start or restart.
    pub warm_up: bool,
}

impl Record {
    /// A callback of `kind` with nothing in it: index 0 at device time 0,
    /// no frames, no period, no wall time, no allocator call, hazard or
    /// xrun, past warm-up.
    pub fn new(kind: CallbackKind) -> Record {
        Record {
            kind,
            index: 0,
            device_time: 0,
            frames: 0,
            period_ns: 0,
            wall_ns: 0,
            counts: Counts::new(),
            blocking: BlockingCounts::new(),
            hazards: Hazards::NONE,
            underrun: false,
            buffering: false,
            bytes_dropped: 0,
            partial_frame: false,
            frames_unrendered: 0,
            warm_up: false,
        }
    }

    /// With index `index` among callbacks of its kind.
    pub fn with_index(self, index: u64) -> Record {
        Record { index, ..self }
    }

    /// Starting at `device_time` frames of its device clock.
    pub fn with_device_time(self, device_time: u64) -> Record {
        Record {
            device_time,
            ..self
        }
    }

    /// Asking for `frames` frames within a period of `period_ns`.
    pub fn with_frames(self, frames: u32, period_ns: u64) -> Record {
        Record {
            frames,
            period_ns,
            ..self
        }
    }

    /// Taking `wall_ns` of wall time.
    pub fn with_wall_ns(self, wall_ns: u64) -> Record {
        Record { wall_ns, ..self }
    }

    /// Making these allocator calls.
    pub fn with_counts(self, counts: Counts) -> Record {
        Record { counts, ..self }
    }

    /// Making these blocking calls; sets
    /// [`Hazards::blocking_calls`] to their total.
    pub fn with_blocking(self, blocking: BlockingCounts) -> Record {
        Record {
            blocking,
            hazards: Hazards {
                blocking_calls: u32::try_from(blocking.total()).unwrap_or(u32::MAX),
                ..self.hazards
            },
            ..self
        }
    }

    /// Meeting these hazards.
    pub fn with_hazards(self, hazards: Hazards) -> Record {
        Record { hazards, ..self }
    }

    /// Within a warm-up or not.
    pub fn with_warm_up(self, warm_up: bool) -> Record {
        Record { warm_up, ..self }
    }

    /// True when the callback made any allocator call (allocation,
    /// deallocation or reallocation).
    pub fn touched_allocator(&self) -> bool {
        self.counts.calls() > 0
    }

    /// True when the callback overran its period.
    pub fn missed_deadline(&self) -> bool {
        self.wall_ns > self.period_ns
    }
}
