//! The environment variables `allocgate attach` sets for the program it
//! starts, which the preload library reads once, when it is loaded.
//!
//! Flags are on when set to `1` and off otherwise (unset included).

/// Path of the file the preload library writes its stream to. Unset: the
/// library wraps nothing and writes nothing (it only forwards calls).
pub const OUT: &str = "ALLOCGATE_ATTACH_OUT";

/// `1`: record the call sites of allocator calls made in callbacks (raw
/// return addresses on the audio thread, names looked up off it).
pub const TRACE_SITES: &str = "ALLOCGATE_ATTACH_SITES";

/// `1`: read the audio thread's page faults and context switches around
/// every callback (`getrusage(RUSAGE_THREAD)`, two system calls each).
pub const RUSAGE: &str = "ALLOCGATE_ATTACH_RUSAGE";

/// `1`: keep the preload library in `LD_PRELOAD` for the program's child
/// processes, which then write their own streams (to the output path
/// followed by `.` and their process id). Otherwise the library removes
/// itself from `LD_PRELOAD` when it loads.
pub const CHILDREN: &str = "ALLOCGATE_ATTACH_CHILDREN";

/// Set by the preload library, in its own process's environment, to the
/// process id of the program it profiles, so that a child process that
/// inherits it (with [`CHILDREN`] on) knows it is a child and writes to
/// its own file. Not for the tool to set.
pub const PARENT: &str = "ALLOCGATE_ATTACH_PARENT";

/// Callback records each slot's queue holds (a decimal number, at least
/// 16; default [`DEFAULT_QUEUE`]). A full queue drops records and counts
/// them.
pub const QUEUE: &str = "ALLOCGATE_ATTACH_QUEUE";

/// Records a slot's queue holds unless [`QUEUE`] says otherwise: over a
/// second of callbacks at 48 kHz and 64 frames (750 a second), against a
/// collector that empties it every 5 ms. The preload library's queues
/// take about 3 KiB a record.
pub const DEFAULT_QUEUE: usize = 1024;

/// Smallest queue [`QUEUE`] may ask for.
pub const MIN_QUEUE: usize = 16;

/// The value of `LD_PRELOAD` with every entry naming `library` (by its
/// file name, whatever the directory) removed; entries are separated by
/// spaces or colons, as the dynamic loader reads them. `None` when
/// nothing is left.
///
/// ```
/// use allocgate_wire::env::without_library;
/// let rest = without_library("/a/libx.so /b/liballocgate_preload.so:liby.so", "liballocgate_preload.so");
/// assert_eq!(rest.as_deref(), Some("/a/libx.so:liby.so"));
/// assert_eq!(without_library("liballocgate_preload.so", "liballocgate_preload.so"), None);
/// ```
pub fn without_library(ld_preload: &str, library: &str) -> Option<String> {
    let kept: Vec<&str> = ld_preload
        .split([' ', ':'])
        .filter(|e| !e.is_empty())
        .filter(|e| e.rsplit('/').next() != Some(library))
        .collect();
    (!kept.is_empty()).then(|| kept.join(":"))
}

/// The file name of the preload library.
pub const LIBRARY: &str = "liballocgate_preload.so";
