//! The messages of a stream, as plain data.

/// One frame of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The first frame: who wrote the stream and how.
    Header(Header),
    /// A registration (a slot) and what is known of its client.
    Client(Client),
    /// One measured invocation.
    Callback(Callback),
    /// Records a slot's queue dropped so far.
    Drops(Drops),
    /// Allocator calls recorded at one site since the last report of it.
    Site(Site),
    /// The program exited and the stream is complete.
    End(End),
}

/// Who wrote a stream, and the names its counters are indexed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Format version ([`VERSION`](crate::VERSION) when written by this
    /// crate).
    pub version: u16,
    /// Process id of the profiled program.
    pub pid: u32,
    /// Path of the program's executable (`/proc/self/exe`), or empty.
    pub program: String,
    /// The blocking calls the library counts, in the order of its
    /// counters: [`Callback::blocking`] refers to them by position, so a
    /// reader maps them by name, whatever order its own counters use.
    pub blocking_names: Vec<String>,
    /// Callback records each slot's queue holds.
    pub queue_capacity: u32,
    /// Call sites are recorded ([`Site`] frames follow).
    pub sites: bool,
    /// Page faults and context switches are read around every callback.
    pub rusage: bool,
    /// Child processes are profiled too (each into its own file).
    pub children: bool,
}

/// What a slot's invocations are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// A JACK process callback (`jack_set_process_callback`): one
    /// invocation per cycle.
    JackProcess,
    /// A JACK process thread (`jack_set_process_thread`): one invocation
    /// from `jack_cycle_wait` returning to `jack_cycle_signal`.
    JackProcessThread,
    /// Marked by hand with `allocgate_callback_begin()` and
    /// `allocgate_callback_end()`, one slot per thread.
    Manual,
    /// A JACK buffer-size callback: not a process cycle.
    JackBufferSize,
    /// A JACK sample-rate callback: not a process cycle.
    JackSampleRate,
    /// A JACK xrun callback: not a process cycle.
    JackXrun,
    /// A role this reader does not know (a later version's), by its code.
    Other(u8),
}

impl Role {
    /// True for roles whose invocations are audio cycles, the ones the
    /// per-callback figures and the gate are about; the others are kept
    /// apart.
    pub fn is_cycle(self) -> bool {
        matches!(
            self,
            Role::JackProcess | Role::JackProcessThread | Role::Manual
        )
    }

    /// The role's code in a frame.
    pub fn code(self) -> u8 {
        match self {
            Role::JackProcess => 0,
            Role::JackProcessThread => 1,
            Role::Manual => 2,
            Role::JackBufferSize => 3,
            Role::JackSampleRate => 4,
            Role::JackXrun => 5,
            Role::Other(code) => code,
        }
    }

    /// The role of a code.
    pub fn from_code(code: u8) -> Role {
        match code {
            0 => Role::JackProcess,
            1 => Role::JackProcessThread,
            2 => Role::Manual,
            3 => Role::JackBufferSize,
            4 => Role::JackSampleRate,
            5 => Role::JackXrun,
            other => Role::Other(other),
        }
    }

    /// A short lowercase name (`jack process callback`, …).
    pub fn describe(self) -> &'static str {
        match self {
            Role::JackProcess => "jack process callback",
            Role::JackProcessThread => "jack process thread",
            Role::Manual => "marked callback",
            Role::JackBufferSize => "jack buffer-size callback",
            Role::JackSampleRate => "jack sample-rate callback",
            Role::JackXrun => "jack xrun callback",
            Role::Other(_) => "unknown callback",
        }
    }
}

/// A slot: one registration of a callback, and what is known of its
/// client. Sent when the slot is made, and again when something changes
/// (the reader keeps the latest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The slot's number, from 0, unique in the stream.
    pub slot: u16,
    /// What its invocations are.
    pub role: Role,
    /// The JACK client's name, or the thread's name for a marked
    /// callback; empty when unknown.
    pub name: String,
    /// Frames per second, 0 when unknown.
    pub sample_rate: u32,
    /// Frames per period, 0 when unknown.
    pub buffer_size: u32,
}

/// Allocator calls, as `allocgate::Counts` has them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Counts {
    /// Allocations (`malloc`, `calloc`, … and Rust's `alloc`).
    pub allocations: u64,
    /// Of those, zeroed ones.
    pub zeroed: u64,
    /// Deallocations.
    pub deallocations: u64,
    /// Reallocations.
    pub reallocations: u64,
    /// Bytes requested by allocations.
    pub bytes_allocated: u64,
    /// Bytes released by deallocations.
    pub bytes_deallocated: u64,
    /// Sum of reallocations' old sizes.
    pub realloc_bytes_from: u64,
    /// Sum of reallocations' new sizes.
    pub realloc_bytes_to: u64,
    /// Growth of the reallocations that grew.
    pub realloc_bytes_grown: u64,
    /// Shrinkage of the reallocations that shrank.
    pub realloc_bytes_shrunk: u64,
    /// Largest single request.
    pub largest_request: u64,
}

impl Counts {
    /// Allocations, deallocations and reallocations together.
    pub fn calls(&self) -> u64 {
        self.allocations
            .saturating_add(self.deallocations)
            .saturating_add(self.reallocations)
    }

    pub(crate) fn fields(&self) -> [u64; 11] {
        [
            self.allocations,
            self.zeroed,
            self.deallocations,
            self.reallocations,
            self.bytes_allocated,
            self.bytes_deallocated,
            self.realloc_bytes_from,
            self.realloc_bytes_to,
            self.realloc_bytes_grown,
            self.realloc_bytes_shrunk,
            self.largest_request,
        ]
    }

    pub(crate) fn from_fields(f: [u64; 11]) -> Counts {
        Counts {
            allocations: f[0],
            zeroed: f[1],
            deallocations: f[2],
            reallocations: f[3],
            bytes_allocated: f[4],
            bytes_deallocated: f[5],
            realloc_bytes_from: f[6],
            realloc_bytes_to: f[7],
            realloc_bytes_grown: f[8],
            realloc_bytes_shrunk: f[9],
            largest_request: f[10],
        }
    }
}

/// The audio thread's page faults and context switches during one
/// invocation (`getrusage(RUSAGE_THREAD)` before and after).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Usage {
    /// Page faults served without I/O.
    pub minor_faults: u64,
    /// Page faults that needed I/O.
    pub major_faults: u64,
    /// Voluntary context switches (the thread waited).
    pub voluntary_switches: u64,
    /// Involuntary context switches (the thread was preempted).
    pub involuntary_switches: u64,
}

/// One measured invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// Its slot.
    pub slot: u16,
    /// Its number among its slot's invocations, from 0 (a dropped record
    /// leaves a gap).
    pub index: u64,
    /// Frames it was asked for (JACK's `nframes`), 0 when not known.
    pub frames: u32,
    /// When it started, in nanoseconds of `CLOCK_MONOTONIC`.
    pub start_ns: u64,
    /// How long it ran, in nanoseconds.
    pub duration_ns: u64,
    /// Allocator calls it made, on its thread.
    pub counts: Counts,
    /// Its requests (allocations, and reallocations by new size), as
    /// `(size, count)` pairs, sizes ascending: `count` requests of a size
    /// that lands in the same power-of-two range and the same macOS size
    /// class as each of the real ones. Replaying them gives the real
    /// requests' histograms exactly.
    pub sizes: Vec<(u64, u64)>,
    /// Blocking calls it made, as (position in
    /// [`Header::blocking_names`], count), only those made at least once.
    pub blocking: Vec<(u16, u64)>,
    /// Page faults and context switches, when read.
    pub usage: Option<Usage>,
}

/// Records a slot's full queue has dropped since the stream began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drops {
    /// The slot.
    pub slot: u16,
    /// Dropped so far (a running total: the last frame of a slot is the
    /// total).
    pub dropped: u64,
}

/// Allocator calls of one size at one site, recorded since the last
/// report of that site (a reader adds them up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The slot whose invocations made them.
    pub slot: u16,
    /// The first function outside the C library and allocgate.
    pub function: String,
    /// Bytes per call (reallocations: the new size; deallocations: the
    /// block's).
    pub size: u64,
    /// Allocations.
    pub allocations: u64,
    /// Deallocations.
    pub deallocations: u64,
    /// Reallocations.
    pub reallocations: u64,
    /// A few frames from the function outwards.
    pub backtrace: Vec<String>,
}

/// The last frame of a stream whose program exited normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct End {
    /// Every record collected was written; false when the library stopped
    /// writing early (a write failed), so records are missing.
    pub complete: bool,
}
