//! `allocgate attach` through the real binary, with real processes: every
//! way it refuses to report (one line, exit 2), and the reports it makes
//! of a program stopped, crashed, killed, interrupted or exiting by
//! itself. The preload library itself is stood in for by a tiny C library
//! compiled here, which at load copies a stream this test encoded
//! (`allocgate_wire::encode`) to the file the tool names, or writes
//! nothing; so every figure is known from the stream's pattern. Needs
//! `cc` (skipped without it, failing under CI).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use allocgate_engine::scratch::TestDir;
use allocgate_tool::report::{Report, read_json};
use allocgate_wire::{Callback, Client, Counts, End, Header, Message, Role};

use crate::rig::on_ci;

/// A stand-in for the preload library: at load, copies the file named by
/// `ALLOCGATE_TEST_STREAM` (if set) to `ALLOCGATE_ATTACH_OUT`, then unsets
/// the first so that the program's children copy nothing.
const STAND_IN: &str = r#"
#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void stand_in(void) {
    const char *from = getenv("ALLOCGATE_TEST_STREAM");
    const char *to = getenv("ALLOCGATE_ATTACH_OUT");
    if (!from || !to) return;
    FILE *in = fopen(from, "rb");
    if (!in) return;
    FILE *out = fopen(to, "wb");
    if (out) {
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
        fclose(out);
    }
    fclose(in);
    unsetenv("ALLOCGATE_TEST_STREAM");
}
"#;

/// The stand-in, compiled into `dir`; `None` (said on standard error)
/// without a C compiler outside CI.
fn stand_in(dir: &Path) -> Option<PathBuf> {
    let source = dir.join("stand_in.c");
    let library = dir.join("libstand_in.so");
    std::fs::write(&source, STAND_IN).unwrap();
    let compiled = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&library)
        .arg(&source)
        .output();
    match compiled {
        Ok(o) if o.status.success() => Some(library),
        Ok(o) => panic!("cc failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !on_ci() => {
            eprintln!("skipped: no C compiler (`cc`) to build the stand-in preload library");
            None
        }
        Err(e) => panic!("cannot run the C compiler `cc`: {e}"),
    }
}

/// Frames per period and rate of the stream's client.
const FRAMES: u32 = 512;
const RATE: u32 = 48_000;
/// Callbacks in the stream.
const CALLBACKS: u64 = 30;

/// A stream of one JACK process client, `fixture`, with [`CALLBACKS`]
/// callbacks: every third from index 0 allocates one 64-byte block, index
/// 20 calls printf once; `end` adds the end frame a normal exit writes;
/// `clients: false` leaves only the header.
fn stream(clients: bool, end: bool) -> Vec<u8> {
    let mut m = vec![Message::Header(Header {
        version: allocgate_wire::VERSION,
        pid: 1,
        program: "fixture".into(),
        blocking_names: vec!["printf".into()],
        queue_capacity: 4096,
        sites: false,
        rusage: false,
        children: false,
    })];
    if clients {
        m.push(Message::Client(Client {
            slot: 0,
            role: Role::JackProcess,
            name: "fixture".into(),
            sample_rate: RATE,
            buffer_size: FRAMES,
        }));
        m.extend((0..CALLBACKS).map(|i| {
            Message::Callback(Callback {
                slot: 0,
                index: i,
                frames: FRAMES,
                start_ns: 5_000_000_000 + i * 10_666_667,
                duration_ns: 2_000 + i,
                counts: if i.is_multiple_of(3) {
                    Counts {
                        allocations: 1,
                        bytes_allocated: 64,
                        largest_request: 64,
                        ..Counts::default()
                    }
                } else {
                    Counts::default()
                },
                sizes: if i.is_multiple_of(3) {
                    vec![(64, 1)]
                } else {
                    Vec::new()
                },
                blocking: if i == 20 { vec![(0, 1)] } else { Vec::new() },
                usage: None,
            })
        }));
    }
    if end {
        m.push(Message::End(End { complete: true }));
    }
    let mut bytes = Vec::new();
    for message in &m {
        allocgate_wire::encode(message, &mut bytes);
    }
    bytes
}

/// Allocations the stream's callbacks from `from` on make: every third
/// index from 0.
fn allocations_from(from: u64) -> u64 {
    (from..CALLBACKS).filter(|i| i.is_multiple_of(3)).count() as u64
}

/// `allocgate attach ARGS` in `dir`, with `preload` as the library and
/// `stream` (if any) for the stand-in to copy.
fn attach(dir: &Path, preload: &Path, stream: Option<&[u8]>, args: &[&str]) -> Output {
    command(dir, preload, stream, args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn command(dir: &Path, preload: &Path, stream: Option<&[u8]>, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_allocgate"));
    c.arg("attach").args(args).current_dir(dir);
    c.env("ALLOCGATE_PRELOAD", preload);
    c.env_remove("LD_PRELOAD");
    match stream {
        Some(bytes) => {
            let path = dir.join("stream.bin");
            std::fs::write(&path, bytes).unwrap();
            c.env("ALLOCGATE_TEST_STREAM", path);
        }
        None => {
            c.env_remove("ALLOCGATE_TEST_STREAM");
        }
    }
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts exit 2 with exactly one `error:` line holding every `want`.
fn refused(o: &Output, want: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 1, "one error line: {err}");
    for w in want {
        assert!(lines[0].contains(w), "'{w}' not in: {}", lines[0]);
    }
}

fn report(path: &Path) -> Report {
    read_json(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Process ids of every process in process group `group`.
fn group_members(group: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // After the command's closing parenthesis: state, ppid, pgrp.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(group) {
            pids.push(pid);
        }
    }
    pids
}

#[test]
fn a_program_that_does_not_exist_or_is_not_executable_is_refused_on_one_line() {
    let dir = TestDir::new("attach-program");
    let missing = Path::new("/nonexistent/preload.so");
    let o = attach(
        dir.path(),
        missing,
        None,
        &["--", "/nonexistent/allocgate-program"],
    );
    refused(
        &o,
        &["program '/nonexistent/allocgate-program' does not exist"],
    );
    let o = attach(
        dir.path(),
        missing,
        None,
        &["--", "allocgate-no-such-program"],
    );
    refused(&o, &["'allocgate-no-such-program' not found on PATH"]);
    let plain = dir.path().join("plain.txt");
    std::fs::write(&plain, "not a program\n").unwrap();
    let o = attach(dir.path(), missing, None, &["--", plain.to_str().unwrap()]);
    refused(&o, &["plain.txt' is not executable (mode 644)"]);
    assert!(
        !dir.path().join("reports/latest/attach.json").exists(),
        "no report written"
    );
}

#[test]
fn a_missing_preload_library_names_where_it_was_looked_for_and_how_to_build_it() {
    let dir = TestDir::new("attach-no-preload");
    let o = attach(
        dir.path(),
        Path::new("/nonexistent/liballocgate_preload.so"),
        None,
        &["--", "true"],
    );
    refused(
        &o,
        &[
            "'/nonexistent/liballocgate_preload.so'",
            "cargo build --release -p allocgate-preload",
        ],
    );
}

#[test]
fn a_preload_library_that_writes_nothing_did_not_load() {
    let dir = TestDir::new("attach-not-loaded");
    let Some(preload) = stand_in(dir.path()) else {
        return;
    };
    let o = attach(dir.path(), &preload, None, &["--", "/bin/false"]);
    refused(
        &o,
        &[
            "the preload library did not load into '/bin/false'",
            "it exited with code 1",
        ],
    );
}

#[test]
fn a_program_that_registers_no_process_callback_is_refused_after_its_seconds() {
    let dir = TestDir::new("attach-no-callback");
    let Some(preload) = stand_in(dir.path()) else {
        return;
    };
    let head = stream(false, false);
    let o = attach(
        dir.path(),
        &preload,
        Some(&head),
        &["--seconds", "0.5", "--", "sleep", "60"],
    );
    refused(
        &o,
        &[
            "sleep registered no JACK process callback in 0.",
            "it was stopped by SIGTERM",
        ],
    );
    // Exiting at once, with its end frame: the same, with its exit code.
    let o = attach(
        dir.path(),
        &preload,
        Some(&stream(false, true)),
        &["--", "true"],
    );
    refused(
        &o,
        &[
            "true registered no JACK process callback in 0.",
            "it exited with code 0",
        ],
    );
    assert!(
        !dir.path().join("reports/latest/attach.json").exists(),
        "no report of zero callbacks"
    );
}

#[test]
fn a_program_that_ignores_sigterm_is_killed_after_the_grace_and_its_report_is_partial() {
    let dir = TestDir::new("attach-ignores-term");
    let Some(preload) = stand_in(dir.path()) else {
        return;
    };
    let began = Instant::now();
    let o = attach(
        dir.path(),
        &preload,
        Some(&stream(true, false)),
        &[
            "--seconds",
            "1",
            "--out",
            "r.json",
            "--",
            "sh",
            "-c",
            "trap '' TERM; sleep 60",
        ],
    );
    let took = began.elapsed();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("partial report (sh ignored SIGTERM for 2 s and was killed with SIGKILL"),
        "{err}"
    );
    assert!(
        took >= Duration::from_secs(3),
        "1 s, then the 2 s grace: {took:?}"
    );
    let r = report(&dir.path().join("r.json"));
    let a = r.attach.as_ref().expect("the attach section");
    assert!(a.exit.killed && a.exit.signal.as_deref() == Some("SIGKILL"));
    assert_eq!(a.exit.stopped_by.as_deref(), Some("seconds"));
    assert!(a.partial.as_deref().unwrap().contains("ignored SIGTERM"));
    assert!(!a.capture.complete);
    assert!(
        group_members(a.pid).is_empty(),
        "nothing of the group is left: {:?}",
        group_members(a.pid)
    );
    // The figures are the stream's, whatever the ending.
    assert_eq!(r.totals.callbacks.output, CALLBACKS);
    assert_eq!(r.totals.allocations, allocations_from(0));
    assert_eq!(r.config.backend, "attach");
    assert!(r.config.c_level);
}

#[test]
fn a_program_that_crashes_mid_run_gives_a_partial_report() {
    let dir = TestDir::new("attach-crash");
    let Some(preload) = stand_in(dir.path()) else {
        return;
    };
    let o = attach(
        dir.path(),
        &preload,
        Some(&stream(true, false)),
        &["--out", "r.json", "--", "sh", "-c", "kill -SEGV $$"],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("was killed by SIGSEGV"), "{err}");
    let r = report(&dir.path().join("r.json"));
    let a = r.attach.unwrap();
    assert_eq!(
        (a.exit.signal.as_deref(), a.exit.stopped_by),
        (Some("SIGSEGV"), None)
    );
    assert!(a.partial.unwrap().contains("(it crashed)"));
}

#[test]
fn a_whole_run_reports_every_callback_and_the_gate_judges_past_the_warm_up() {
    let dir = TestDir::new("attach-whole");
    let Some(preload) = stand_in(dir.path()) else {
        return;
    };
    let whole = stream(true, true);
    // No --gate: the report, exit 0, whatever the callbacks did.
    let o = attach(
        dir.path(),
        &preload,
        Some(&whole),
        &[
            "--out",
            "a.json",
            "--hdr-log",
            "a.hlog",
            "--",
            "true",
            "an argument",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(summary.contains("jack-process 'fixture'"), "{summary}");
    let r = report(&dir.path().join("a.json"));
    let a = r.attach.as_ref().unwrap();
    assert_eq!((a.exit.code, a.partial.as_ref()), (Some(0), None));
    assert!(a.capture.complete && a.capture.problem.is_none());
    assert_eq!(a.arguments, ["an argument"]);
    assert_eq!(a.clients.len(), 1);
    assert_eq!(a.clients[0].callbacks, CALLBACKS);
    assert_eq!(r.totals.allocations, allocations_from(0));
    assert_eq!(
        r.totals.blocking_calls.as_ref().unwrap().get("printf"),
        Some(&1)
    );
    assert_eq!((r.config.sample_rate, r.config.frames), (RATE, FRAMES));
    assert!(std::fs::metadata(dir.path().join("a.hlog")).unwrap().len() > 0);

    // --gate: allocations from index 0 on, printf at 20.
    let o = attach(
        dir.path(),
        &preload,
        Some(&whole),
        &["--gate", "--out", "b.json", "--", "true"],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "{} callbacks past the warm-up touched the allocator",
            allocations_from(0)
        )),
        "{err}"
    );
    assert!(
        err.contains("made blocking calls (1 x printf), the first at callback 20"),
        "{err}"
    );
    // Past a warm-up of 21 only allocations are left (21, 24, 27).
    let o = attach(
        dir.path(),
        &preload,
        Some(&whole),
        &["--gate", "--warm-up", "21", "--out", "c.json", "--", "true"],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("printf"), "{err}");
    let r = report(&dir.path().join("c.json"));
    assert_eq!(r.steady_state.totals.allocations, allocations_from(21));
    assert_eq!(
        r.warm_up.totals.allocations,
        allocations_from(0) - allocations_from(21)
    );
    // Past them all: clean.
    let warm = CALLBACKS.to_string();
    let o = attach(
        dir.path(),
        &preload,
        Some(&whole),
        &[
            "--gate",
            "--warm-up",
            &warm,
            "--out",
            "d.json",
            "--",
            "true",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // Two attach reports compare, as JSON, markdown and HTML.
    let o = Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .args(["compare", "a.json", "b.json", "--html", "cmp.html"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("allocations per output callback"));
    assert!(
        std::fs::read_to_string(dir.path().join("cmp.html"))
            .unwrap()
            .contains("<svg")
    );
}

#[test]
fn an_interrupt_stops_the_program_and_keeps_the_report_of_what_ran() {
    use std::os::unix::process::CommandExt;

    let dir = TestDir::new("attach-interrupt");
    let Some(preload) = stand_in(dir.path()) else {
        return;
    };
    let mut child = command(
        dir.path(),
        &preload,
        Some(&stream(true, false)),
        &["--out", "r.json", "--", "sleep", "60"],
    )
    .process_group(0)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let pid = child.id();
    // Wait for the program: a process whose parent is allocgate.
    let began = Instant::now();
    let program = loop {
        let found = std::fs::read_dir("/proc").unwrap().flatten().find_map(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let rest = stat.rsplit_once(')')?.1.to_owned();
            let ppid: u32 = rest.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == pid).then(|| e.file_name().to_string_lossy().parse::<u32>().ok())?
        });
        if let Some(p) = found {
            break p;
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "the program never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // Let the stand-in copy its stream, then Ctrl-C, as a terminal sends
    // it: to allocgate's process group (the program has its own).
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: kill(2) to the group the child leads (not yet reaped).
    assert_eq!(unsafe { libc::kill(-(pid as i32), libc::SIGINT) }, 0);
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    let r = report(&dir.path().join("r.json"));
    assert_eq!(r.interrupted.as_deref(), Some("SIGINT"));
    let a = r.attach.as_ref().unwrap();
    assert_eq!(a.pid, program);
    assert_eq!(a.exit.stopped_by.as_deref(), Some("SIGINT"));
    assert_eq!(a.exit.signal.as_deref(), Some("SIGTERM"));
    assert!(a.partial.is_none(), "stopped as asked: {:?}", a.partial);
    assert_eq!(r.totals.callbacks.output, CALLBACKS);
    assert!(
        group_members(program).is_empty(),
        "nothing of the program's group is left"
    );
}
