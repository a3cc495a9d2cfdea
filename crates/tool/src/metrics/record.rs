//! One record per callback: what a driver (the simulated clock, JACK,
//! CoreAudio) learned about one invocation. Plain data, `Copy`, fixed
//! size, so drivers keep them in pre-sized storage or pass them through a
//! lock-free queue without allocating on the audio thread.

use allocgate::Counts;
use allocgate::hazard::Hazards;
use allocgate_engine::sites::CallbackKind;

/// What one callback did and cost.
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
