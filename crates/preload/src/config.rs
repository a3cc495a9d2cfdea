//! What `allocgate attach` asked for, read from the environment once,
//! when the library is loaded; and the library's own entry removed from
//! `LD_PRELOAD`, so that child processes run unprofiled unless asked.

use std::path::PathBuf;
use std::sync::OnceLock;

use allocgate_wire::env;

/// The settings of this process.
#[derive(Debug)]
pub(crate) struct Config {
    /// Where the stream goes.
    pub out: PathBuf,
    /// Record allocator call sites.
    pub sites: bool,
    /// Read page faults and context switches around each callback.
    pub rusage: bool,
    /// Child processes are profiled too.
    pub children: bool,
    /// Records per slot queue.
    pub queue: usize,
}

static CONFIG: OnceLock<Option<Config>> = OnceLock::new();

/// The settings, or `None` when the library was loaded without an output
/// path: it then wraps nothing and only forwards.
pub(crate) fn get() -> Option<&'static Config> {
    CONFIG.get().and_then(Option::as_ref)
}

fn flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| v == "1")
}

/// Reads the environment and adjusts it for child processes. Runs in the
/// library's load-time constructor, before the program's `main`.
pub(crate) fn load() -> Option<&'static Config> {
    CONFIG.get_or_init(read).as_ref()
}

fn read() -> Option<Config> {
    let out = PathBuf::from(std::env::var_os(env::OUT)?);
    let children = flag(env::CHILDREN);
    let pid = std::process::id();
    // A process that finds the parent variable set was started by a
    // profiled program (or replaced one with exec): its own file.
    let out = if std::env::var_os(env::PARENT).is_some() {
        let mut name = out.into_os_string();
        name.push(format!(".{pid}"));
        PathBuf::from(name)
    } else {
        out
    };
    // SAFETY: the load-time constructor runs before `main`, while the
    // dynamic loader runs constructors one at a time; no other code of
    // the program reads or writes the environment meanwhile.
    unsafe {
        std::env::set_var(env::PARENT, pid.to_string());
        if !children {
            match std::env::var("LD_PRELOAD")
                .ok()
                .map(|v| env::without_library(&v, env::LIBRARY))
            {
                Some(Some(rest)) => std::env::set_var("LD_PRELOAD", rest),
                Some(None) => std::env::remove_var("LD_PRELOAD"),
                None => {}
            }
        }
    }
    let queue = std::env::var(env::QUEUE)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(env::DEFAULT_QUEUE)
        .max(env::MIN_QUEUE);
    Some(Config {
        out,
        sites: flag(env::TRACE_SITES),
        rusage: flag(env::RUSAGE),
        children,
        queue,
    })
}
