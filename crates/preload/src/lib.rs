//! `liballocgate_preload.so`: loaded into an unmodified program with
//! `LD_PRELOAD` (Linux, glibc) by `allocgate attach`, it measures each of
//! the program's audio callbacks on its own and writes one record per
//! invocation to a file the tool reads (the `allocgate-wire` stream).
//!
//! # What it wraps
//!
//! - `jack_set_process_callback`: every registration, of any number of
//!   clients in the process, gets a slot; each JACK cycle of that client
//!   is one measured invocation;
//! - `jack_set_process_thread`: the program's thread function runs with
//!   its slot known; each `jack_cycle_wait` returning to the next
//!   `jack_cycle_signal` is one invocation;
//! - `jack_set_buffer_size_callback`, `jack_set_sample_rate_callback`,
//!   `jack_set_xrun_callback`: measured in slots of their own roles, never
//!   counted as cycles;
//! - `dlsym`, for those names only: a program that opens libjack itself
//!   and looks its functions up in the handle (the Rust `jack` crate does)
//!   gets the wrappers; every other lookup, `RTLD_NEXT` included, is the C
//!   library's, with its caller's semantics;
//! - `allocgate_callback_begin()` / `allocgate_callback_end()`: exported
//!   for programs on other audio APIs to mark a callback by hand
//!   (`include/allocgate.h`; without the library the calls do nothing);
//! - the C-level layer (`allocgate-interpose`): the `malloc` family and
//!   the blocking calls, counted in the invocation's scope, with its C
//!   functions exported by a second version script (see `build.rs`);
//! - glibc's `__libc_malloc` family and the internal aliases of the
//!   blocking calls (`__write`, `_IO_vfprintf`, …), counted when the
//!   program defines the public functions itself and forwards to them
//!   (see `libc_alloc` and `libc_aliases`).
//!
//! # Per invocation
//!
//! A measured scope (`allocgate::open_scope`) around the program's
//! function: allocator calls, bytes and size classes, blocking calls by
//! name; its duration on `CLOCK_MONOTONIC`; with `ALLOCGATE_ATTACH_RUSAGE`
//! page faults and context switches (`getrusage(RUSAGE_THREAD)` before and
//! after); with `ALLOCGATE_ATTACH_SITES` the stacks of its allocator calls
//! (raw return addresses, recorded into pre-allocated tables; process,
//! buffer-size, sample-rate and xrun callbacks only), named off the audio
//! thread after the first frame outside the C library and allocgate.
//!
//! # Rules
//!
//! - The audio thread never allocates, locks, blocks or writes because of
//!   the library: slots and their queues are made when the program
//!   registers a callback (off the audio thread; the first
//!   `allocgate_callback_begin()` of a thread makes that thread's, before
//!   its first invocation opens); a record leaves through the slot's
//!   lock-free single-producer queue, whose pages are touched when it is
//!   made; a full queue drops the record and counts it.
//! - A collecting thread, started at the first registration (not at load),
//!   empties the queues every 5 ms and writes the stream; an `atexit`
//!   handler writes the last records and the end frame. The header is
//!   written at load.
//! - Without `ALLOCGATE_ATTACH_OUT` the library wraps nothing: every
//!   wrapper forwards.
//! - Child processes: the library takes itself out of `LD_PRELOAD` at load
//!   unless `ALLOCGATE_ATTACH_CHILDREN=1`; then each child writes its own
//!   file, the output path followed by `.` and its process id.
//!
//! # Not covered
//!
//! `jack_thread_wait` (the older process-thread call), JACK's other
//! callbacks (port registration, graph order, …; they are not audio
//! cycles and run unmeasured), site stacks for process threads and marked
//! callbacks, nested marked callbacks (a `begin` while one is open is
//! ignored), programs that define `malloc` themselves without forwarding
//! to glibc's `__libc_*` entry points (their allocator calls bypass the
//! library), forks without `exec` (the child writes nothing), the
//! `_FORTIFY_SOURCE` variants the C-level layer leaves out
//! (`__snprintf_chk`, …; those of blocking calls, `__printf_chk`,
//! `__read_chk`, `__open_2`, …, are counted under the plain names), and
//! the `dlsym` interposition outside x86-64.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
mod collector;
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
mod config;
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
mod dl;
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
mod glibc;
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
mod jack;
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
mod libc_aliases;
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
mod libc_alloc;
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
mod manual;
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
mod measure;
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
mod slots;

/// The library's own allocations (the collector's) go through the
/// counting allocator, so that the scopes it opens are known to count.
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
#[global_allocator]
static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();

#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
allocgate_interpose::install!();

/// Reads the settings and opens the stream, when the library loads.
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
extern "C" fn load() {
    libc_alloc::resolve();
    libc_aliases::resolve();
    if let Some(config) = config::load() {
        collector::open(config);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
#[used]
#[unsafe(link_section = ".init_array")]
static LOAD: extern "C" fn() = load;
