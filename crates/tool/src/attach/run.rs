//! One attached run: outputs checked, the program found, the preload
//! library located, the program run in a fresh run directory and stopped,
//! its captures read and built into a report.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use allocgate_wire::env as wire_env;
use allocgate_wire::{Capture, ReadError};

use crate::baseline::{Baseline, SiteKey};
use crate::files::Outputs;
use crate::gate::Hold;
use crate::interrupt::Interrupt;
use crate::metrics::Aggregates;
use crate::report::{
    AttachReport, CaptureReport, Environment, ExitReport, Integrity, Report, ReportConfig,
    write_hdr_log, write_json,
};

use super::convert::build;
use super::{AttachConfig, AttachError, BACKEND};

/// A finished attached run.
#[derive(Debug)]
pub struct Attached {
    /// Its report.
    pub report: Report,
    /// What the report was made from (what `--hdr-log` exports).
    pub aggregates: Aggregates,
    /// The interrupt that stopped it, if one did.
    pub interrupted: Option<Interrupt>,
}

/// The files `c` writes: the report, the HdrHistogram log and the
/// baseline (`--update-baseline`) when asked for.
pub fn outputs(c: &AttachConfig) -> Outputs {
    let mut o = Outputs::new();
    o.add("--out", &c.out);
    if let Some(p) = &c.hdr_log {
        o.add("--hdr-log", p);
    }
    if let Hold::UpdateBaseline(p) = &c.hold {
        o.add("--baseline", p);
    }
    o
}

/// Writes the report and, when asked for, the HdrHistogram log and the
/// baseline, each atomically.
pub fn write_attached(c: &AttachConfig, run: &Attached) -> Result<(), AttachError> {
    write_json(&c.out, &run.report).map_err(AttachError::Report)?;
    if let Some(path) = &c.hdr_log {
        write_hdr_log(path, &run.aggregates).map_err(AttachError::HdrLog)?;
    }
    if let Hold::UpdateBaseline(path) = &c.hold
        && run.interrupted.is_none()
    {
        site_counts(&run.report)
            .write(path)
            .map_err(AttachError::Baseline)?;
    }
    Ok(())
}

/// The allocations of every cycle slot's sites, keyed by the slot's
/// client name (`slot N` when it has none), `output` and the function:
/// what a baseline holds for an attached program.
pub fn site_counts(report: &Report) -> Baseline {
    let clients = report.attach.iter().flat_map(|a| &a.clients);
    Baseline::from_counts(clients.filter(|c| c.cycle).flat_map(|c| {
        let scenario = if c.name.is_empty() {
            format!("slot {}", c.slot)
        } else {
            c.name.clone()
        };
        c.sites.iter().map(move |s| {
            (
                SiteKey {
                    scenario: scenario.clone(),
                    kind: "output".to_owned(),
                    function: s.function.clone(),
                },
                s.count,
            )
        })
    }))
}

/// A fresh directory for one run's captures, removed when dropped unless
/// kept.
struct RunDirectory {
    path: PathBuf,
    keep: bool,
}

impl RunDirectory {
    #[cfg(unix)]
    fn new() -> std::io::Result<RunDirectory> {
        use std::os::unix::fs::DirBuilderExt;

        let base = std::env::temp_dir();
        let mut n = 0u32;
        loop {
            let path = base.join(format!("allocgate-attach-{}-{n}", std::process::id()));
            match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(RunDirectory { path, keep: false }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for RunDirectory {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The name of the program's capture in the run directory; a child's is
/// this followed by `.` and its process id.
const CAPTURE: &str = "capture";

/// `flag` on or off, as the library reads it.
fn flag(on: bool) -> Option<OsString> {
    on.then(|| OsString::from("1"))
}

/// `LD_PRELOAD` with `library` first, before any value already set.
fn ld_preload(library: &Path) -> OsString {
    let mut value = OsString::from(library);
    if let Some(old) = std::env::var_os("LD_PRELOAD").filter(|v| !v.is_empty()) {
        value.push(":");
        value.push(old);
    }
    value
}

/// Checks every output of `c`, finds the program and the preload
/// library, runs the program until it exits, `c.seconds` pass or `c.stop`
/// is requested, and builds the report from what the library wrote.
/// Writes nothing: [`write_attached`] does. `tick` is called every few
/// milliseconds with the time the program has run.
pub fn attach_checked(
    c: &AttachConfig,
    tick: &mut dyn FnMut(Duration),
) -> Result<Attached, AttachError> {
    #[cfg(unix)]
    if super::SUPPORTED {
        return attach_unix(c, tick);
    }
    let _ = (c, tick);
    Err(AttachError::Unsupported)
}

#[cfg(unix)]
fn attach_unix(c: &AttachConfig, tick: &mut dyn FnMut(Duration)) -> Result<Attached, AttachError> {
    use super::program::{resolve, start, supervise};

    outputs(c).check().map_err(AttachError::Output)?;
    let executable = resolve(&c.program).map_err(AttachError::Program)?;
    let exe = std::env::current_exe().ok();
    let library = super::locate(std::env::var_os(super::PRELOAD_VAR), exe.as_deref())
        .map_err(AttachError::PreloadMissing)?;
    // The library is named by an absolute path: the program may change
    // directory, and the loader resolves a bare name on its own path.
    let library = std::fs::canonicalize(&library).unwrap_or(library);
    let mut dir = RunDirectory::new().map_err(AttachError::RunDirectory)?;
    let capture_path = dir.path.join(CAPTURE);
    let env = vec![
        ("LD_PRELOAD", Some(ld_preload(&library))),
        (wire_env::OUT, Some(capture_path.clone().into_os_string())),
        (wire_env::TRACE_SITES, flag(c.trace_sites)),
        (wire_env::RUSAGE, flag(c.rusage)),
        (wire_env::CHILDREN, flag(c.children)),
        (wire_env::PARENT, None),
    ];
    let started = start(&executable, &c.program, &c.arguments, &env).map_err(|source| {
        AttachError::Start {
            program: c.program_name(),
            source,
        }
    })?;
    let ended = supervise(started, c.seconds, c.stop.as_ref(), tick).map_err(AttachError::Wait)?;
    let interrupted = match ended.stopped_by {
        Some(super::program::StopReason::Interrupted(i)) => Some(i),
        _ => None,
    };
    let program = c.program_name();
    let main = match Capture::read_file(&capture_path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ReadError::Empty),
        Err(e) => {
            dir.keep = true;
            return Err(AttachError::Unreadable {
                path: capture_path,
                reason: e.to_string(),
            });
        }
        Ok(read) => read,
    };
    let main = match main {
        Ok(capture) => capture,
        Err(ReadError::Empty) => {
            return Err(AttachError::NotLoaded {
                program,
                ended: ended.describe(),
            });
        }
        Err(e) => {
            dir.keep = true;
            return Err(AttachError::Unreadable {
                path: capture_path,
                reason: e.to_string(),
            });
        }
    };
    let mut problems = Vec::new();
    let mut captures = vec![main];
    if c.children {
        for (path, read) in child_captures(&dir.path) {
            match read {
                Ok(capture) => captures.push(capture),
                Err(ReadError::Empty) => {}
                Err(e) => problems.push(format!(
                    "a child's capture '{}' could not be read: {e}",
                    path.display()
                )),
            }
        }
    }
    let built = build(&captures, c.warm_up);
    let seconds = ended.ran.as_secs_f64();
    let cycle_slots = built.clients.iter().filter(|k| k.cycle).count();
    if built.cycles == 0 {
        if let Some(why) = interrupted {
            return Err(AttachError::InterruptedEarly(why));
        }
        return Err(if cycle_slots == 0 {
            AttachError::NoCallback {
                program,
                seconds,
                ended: ended.describe(),
            }
        } else {
            AttachError::NeverRan {
                program,
                seconds,
                ended: ended.describe(),
                dropped: built.dropped,
            }
        });
    }
    let head = &captures[0];
    if matches!(c.hold, Hold::Baseline { .. } | Hold::UpdateBaseline(_)) && !head.header.sites {
        return Err(AttachError::NoSites);
    }

    // What the figures miss, and why.
    let mut partial = Vec::new();
    if ended.crashed() {
        partial.push(format!(
            "{program} was killed by {} after {seconds:.1} s (it crashed)",
            super::signal_name(ended.signal().unwrap_or(0))
        ));
    }
    if ended.killed {
        partial.push(format!(
            "{program} ignored SIGTERM for {} s and was killed with SIGKILL",
            super::GRACE.as_secs()
        ));
    }
    let stopped_by_term = ended.stopped_by.is_some() && ended.signal() == Some(libc::SIGTERM);
    for capture in &captures {
        if let Some(e) = &capture.problem {
            problems.push(format!("its capture is cut: {e}"));
        }
        match capture.end {
            Some(end) if !end.complete => problems.push(
                "the preload library stopped writing early (a write failed): records are missing"
                    .to_owned(),
            ),
            Some(_) => {}
            None if stopped_by_term || ended.crashed() || ended.killed => {}
            None => problems.push(
                "its capture has no end frame: the program ended without running its exit \
                 handlers, and its last records are missing"
                    .to_owned(),
            ),
        }
    }
    partial.extend(problems.iter().cloned());
    let complete = captures.iter().all(Capture::is_complete) && problems.is_empty();
    let problem = if complete {
        None
    } else if problems.is_empty() {
        Some(format!(
            "no end frame: {} before the library wrote its last records (the last few \
             milliseconds of callbacks may be missing)",
            ended.describe()
        ))
    } else {
        Some(problems.join("; "))
    };

    let first_cycle = built.clients.iter().find(|k| k.cycle);
    let config = ReportConfig {
        variant: Path::new(&c.program)
            .file_name()
            .map_or_else(|| program.clone(), |n| n.to_string_lossy().into_owned()),
        sites: Vec::new(),
        sample_rate: first_cycle.map_or(0, |k| k.sample_rate),
        frames: first_cycle.map_or(0, |k| k.buffer_size),
        channels: 0,
        seconds: c.seconds.unwrap_or(0.0),
        seed: 0,
        backend: BACKEND.to_owned(),
        mode: "real-time".to_owned(),
        convolution: false,
        preset: None,
        warm_up_callbacks: c.warm_up,
        scenario: None,
        trace_sites: head.header.sites,
        rusage: head.header.rusage,
        c_level: true,
    };
    let mut report = Report::from_aggregates(
        config,
        Environment::detect(),
        &built.aggregates,
        Integrity::not_checked("an attached program's output is its own: not checked"),
    );
    report.sites = built.sites;
    report.interrupted = interrupted.map(|i| i.name().to_owned());
    report.harness.wall_ns = u64::try_from(ended.ran.as_nanos()).unwrap_or(u64::MAX);
    report.attach = Some(AttachReport {
        program,
        executable: executable.display().to_string(),
        arguments: c
            .arguments
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        pid: ended.pid,
        preload: library.display().to_string(),
        exit: ExitReport {
            code: ended.status.code(),
            signal: ended.signal().map(super::signal_name),
            stopped_by: ended.stopped_by.map(|s| s.name().to_owned()),
            killed: ended.killed,
            group_stopped: ended.group_stopped,
        },
        ran_ns: report.harness.wall_ns,
        warm_up_callbacks: c.warm_up,
        children: c.children,
        capture: CaptureReport {
            complete,
            problem,
            records: built.records,
            dropped: built.dropped,
            skipped_frames: captures.iter().map(|k| k.skipped).sum(),
            queue_capacity: head.header.queue_capacity,
            processes: u32::try_from(captures.len()).unwrap_or(u32::MAX),
        },
        partial: (!partial.is_empty()).then(|| partial.join("; ")),
        clients: built.clients,
    });
    Ok(Attached {
        report,
        aggregates: built.aggregates,
        interrupted,
    })
}

/// The children's captures in `dir` (`capture.PID`), in name order.
fn child_captures(dir: &Path) -> Vec<(PathBuf, Result<Capture, ReadError>)> {
    let prefix = format!("{CAPTURE}.");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let read = Capture::read_file(&p).unwrap_or(Err(ReadError::Empty));
            (p, read)
        })
        .collect()
}
