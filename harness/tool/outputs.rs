//! Every file allocgate writes, through the binary: an existing target
//! that is not a regular file (a device node, FIFO, socket, directory, a
//! symlink to a device) is refused and left as it was; a symlink to a
//! regular file is written through and stays a link; two outputs naming
//! one file are refused; an unwritable path fails before anything runs;
//! and when the final write fails anyway, the summary is printed first.

#![cfg(unix)]

use std::ffi::CString;
use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::rig;

fn repo(path: &str) -> String {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join(path)
        .display()
        .to_string()
}

/// Runs the binary with `args` in `cwd`.
fn allocgate(cwd: &Path, args: &[String]) -> (Output, Duration) {
    let start = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs");
    (o, start.elapsed())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One command, its arguments, and the output under test: its label in
/// messages and where it lands.
struct Case {
    command: &'static str,
    args: Vec<String>,
    label: &'static str,
    target: PathBuf,
}

/// `template` split at spaces, each `@NAME` made `dir/NAME` and each
/// `#PATH` the repository's file (paths may hold spaces; flags do not).
fn argv(dir: &Path, template: &str) -> Vec<String> {
    template
        .split_whitespace()
        .map(|w| {
            if let Some(name) = w.strip_prefix('@') {
                dir.join(name).display().to_string()
            } else if let Some(path) = w.strip_prefix('#') {
                repo(path)
            } else {
                w.to_owned()
            }
        })
        .collect()
}

const BEFORE: &str = "#reports/baselines/demo-prefix-fixed/before.json";
const AFTER: &str = "#reports/baselines/demo-prefix-fixed/after.json";
const SOFA: &str = "#data/MIT_KEMAR_normal_pinna.sofa";
/// A run that would take ten minutes of wall time.
const PACED: &str = "run --mode paced --seconds 600 --channels 2";

/// Every command that writes a file, long-running where it has a length
/// (a refusal must come before the run), with its output at a path under
/// `dir` (its parent made).
fn cases(dir: &Path) -> Vec<Case> {
    let table: [(&str, String, &str, &str); 12] = [
        (
            "run --out",
            format!("{PACED} --out @run.json"),
            "--out",
            "run.json",
        ),
        (
            "run --hdr-log",
            format!("{PACED} --out @ok.json --hdr-log @latency.hlog"),
            "--hdr-log",
            "latency.hlog",
        ),
        (
            "gate --junit",
            "gate --junit @gate.xml".into(),
            "--junit",
            "gate.xml",
        ),
        (
            "gate --update-baseline",
            "gate --baseline @baseline.json --update-baseline".into(),
            "--baseline",
            "baseline.json",
        ),
        (
            "sweep",
            "sweep --out @sweep".into(),
            "sweep.md",
            "sweep/sweep.md",
        ),
        ("soak", "soak --out @soak.json".into(), "--out", "soak.json"),
        (
            "baselines",
            "baselines --out @baselines".into(),
            "demo-prefix-fixed/before.json",
            "baselines/demo-prefix-fixed/before.json",
        ),
        (
            "hrir import-sofa",
            format!("hrir import-sofa --sofa {SOFA} --out @preset.wav"),
            "--out",
            "preset.wav",
        ),
        ("demo", String::new(), "table", "reports/latest/demo.md"),
        (
            "compare --md",
            format!("compare {BEFORE} {AFTER} --md @cmp.md"),
            "--md",
            "cmp.md",
        ),
        (
            "compare --json",
            format!("compare {BEFORE} {AFTER} --json @cmp.json"),
            "--json",
            "cmp.json",
        ),
        (
            "compare --html",
            format!("compare {BEFORE} {AFTER} --html @cmp.html"),
            "--html",
            "cmp.html",
        ),
    ];
    table
        .into_iter()
        .map(|(command, template, label, target)| {
            let target = dir.join(target);
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            Case {
                command,
                args: argv(dir, &template),
                label,
                target,
            }
        })
        .collect()
}

/// What stands at an output's path before the command runs.
#[derive(Debug, Clone, Copy)]
enum Special {
    CharDevice,
    Fifo,
    Socket,
    Directory,
    LinkToDevice,
}

impl Special {
    /// What the refusal calls it.
    fn called(self) -> &'static str {
        match self {
            Special::CharDevice => "a character device",
            Special::Fifo => "a FIFO",
            Special::Socket => "a socket",
            Special::Directory => "a directory",
            Special::LinkToDevice => "a symlink to a character device",
        }
    }

    /// Makes it at `path`; `false` when this system does not let the test
    /// make a device node.
    fn make(self, path: &Path) -> bool {
        let c = CString::new(path.as_os_str().as_bytes()).unwrap();
        match self {
            // A copy of /dev/null's node (1, 3), made here; never the
            // system's own.
            Special::CharDevice => {
                // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
                if unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) }
                    == 0
                {
                    return true;
                }
                // Only a refusal of the system counts as "not permitted";
                // any other failure is the test's own.
                let e = std::io::Error::last_os_error();
                assert_eq!(
                    e.raw_os_error(),
                    Some(libc::EPERM),
                    "mknod {}: {e}",
                    path.display()
                );
                false
            }
            Special::Fifo => {
                // SAFETY: as above.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
                true
            }
            Special::Socket => {
                drop(std::os::unix::net::UnixListener::bind(path).expect("a socket"));
                true
            }
            Special::Directory => {
                fs::create_dir(path).unwrap();
                fs::write(path.join("kept"), "kept").unwrap();
                true
            }
            Special::LinkToDevice => {
                // Named after the whole file name: two outputs of one
                // command may share a stem (`x.json`, `x.hlog`).
                let mut name = path.file_name().unwrap().to_owned();
                name.push(".node");
                let node = path.with_file_name(name);
                if !Special::CharDevice.make(&node) {
                    return false;
                }
                std::os::unix::fs::symlink(&node, path).unwrap();
                true
            }
        }
    }

    /// Whether `path` still holds what [`make`](Self::make) put there.
    fn still_there(self, path: &Path) -> bool {
        let t = fs::symlink_metadata(path).unwrap().file_type();
        match self {
            Special::CharDevice => t.is_char_device(),
            Special::Fifo => t.is_fifo(),
            Special::Socket => t.is_socket(),
            Special::Directory => {
                t.is_dir() && fs::read_to_string(path.join("kept")).unwrap() == "kept"
            }
            Special::LinkToDevice => {
                t.is_symlink() && fs::metadata(path).unwrap().file_type().is_char_device()
            }
        }
    }
}

/// Checks a refusal: exit 2, one `error:` line containing `want`, nothing
/// on standard output, well before any run could have finished.
fn assert_refused(what: &str, (o, took): &(Output, Duration), want: &str) {
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{what}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(want),
        "{what}: want {want:?}, got {stderr}"
    );
    assert_eq!(text(&o.stdout), "", "{what}: nothing ran");
    assert!(
        *took < Duration::from_secs(30),
        "{what}: took {took:?}, refused before the run?"
    );
}

#[test]
fn an_output_that_is_not_a_regular_file_is_refused_by_every_command_and_kept() {
    let mut skipped = false;
    for special in [
        Special::CharDevice,
        Special::Fifo,
        Special::Socket,
        Special::Directory,
        Special::LinkToDevice,
    ] {
        let dir = crate::rig::scratch("outputs", &format!("special-{special:?}"));
        for case in cases(&dir) {
            if !special.make(&case.target) {
                skipped = true;
                continue;
            }
            let what = format!("{} over {special:?}", case.command);
            let ran = allocgate(&dir, &case.args);
            let want = format!("cannot write {} '", case.label);
            assert_refused(&what, &ran, &want);
            let line = text(&ran.0.stderr);
            assert!(
                line.trim_end().ends_with(&format!(
                    "{}': it is {}; expected a regular file, a symlink to one, or a new path",
                    case.target.file_name().unwrap().to_string_lossy(),
                    special.called()
                )),
                "{what}: {line}"
            );
            assert!(special.still_there(&case.target), "{what}: replaced");
        }
        let _ = fs::remove_dir_all(&dir);
    }
    if skipped {
        let why = "mknod is not permitted here: the device-node cases were skipped";
        assert!(!rig::on_ci(), "{why}");
        eprintln!("{why}");
    }
}

/// The entries of `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_symlink_to_a_regular_file_is_written_through_and_stays_a_link() {
    let dir = crate::rig::scratch("outputs", "links");
    let short = "run --seconds 0.2 --channels 2 --out";
    let tiny_sweep = "--variants fixed --rates 48000 --frames 512 --channels 2 --seconds 0.2";
    // (command, its arguments, where the link is)
    let cases: [(&str, String, &str); 9] = [
        ("run --out", format!("{short} @run.json"), "run.json"),
        (
            "run --hdr-log",
            format!("{short} @ok.json --hdr-log @latency.hlog"),
            "latency.hlog",
        ),
        ("gate --junit", "gate --junit @gate.xml".into(), "gate.xml"),
        (
            "gate --update-baseline",
            "gate --baseline @baseline.json --update-baseline".into(),
            "baseline.json",
        ),
        (
            "sweep",
            format!("sweep --out @sweep {tiny_sweep}"),
            "sweep/sweep.json",
        ),
        (
            "soak",
            "soak --minutes 1 --out @soak.json".into(),
            "soak.json",
        ),
        (
            "compare --html",
            format!("compare {BEFORE} {AFTER} --html @cmp.html"),
            "cmp.html",
        ),
        (
            "hrir import-sofa",
            format!("hrir import-sofa --sofa {SOFA} --out @preset.wav"),
            "preset.wav",
        ),
        ("demo", String::new(), "reports/latest/demo.md"),
    ];
    for (what, template, link) in cases {
        let link = dir.join(link);
        let parent = link.parent().unwrap();
        fs::create_dir_all(parent).unwrap();
        let real = parent.join("real");
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink("real", &link).unwrap();
        let (o, _) = allocgate(&dir, &argv(&dir, &template));
        assert_eq!(o.status.code(), Some(0), "{what}: {}", text(&o.stderr));
        assert_eq!(fs::read_link(&link).unwrap(), Path::new("real"), "{what}");
        let written = fs::read(&real).unwrap();
        assert!(
            written.len() > 3 && written != b"old",
            "{what}: written through"
        );
        assert!(
            !entries(parent).iter().any(|e| e.ends_with(".tmp")),
            "{what}: {:?}",
            entries(parent)
        );
        fs::remove_file(&real).unwrap();
        fs::remove_file(&link).unwrap();
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn two_outputs_of_one_command_naming_one_file_are_refused() {
    let dir = crate::rig::scratch("outputs", "same");
    fs::write(dir.join("x"), "old").unwrap();
    std::os::unix::fs::symlink("x", dir.join("link")).unwrap();
    fs::create_dir(dir.join("sub")).unwrap();
    fs::create_dir(dir.join("sweep")).unwrap();
    fs::write(dir.join("sweep/sweep.json"), "old").unwrap();
    std::os::unix::fs::symlink("sweep.json", dir.join("sweep/sweep.md")).unwrap();
    let cases: [(String, &str); 8] = [
        (
            format!("{PACED} --out x --hdr-log x"),
            "--out and --hdr-log",
        ),
        (
            format!("{PACED} --out x --hdr-log ./x"),
            "--out and --hdr-log",
        ),
        (
            format!("{PACED} --out sub/../x --hdr-log x"),
            "--out and --hdr-log",
        ),
        (
            format!("{PACED} --out link --hdr-log x"),
            "--out and --hdr-log",
        ),
        (
            format!("compare {BEFORE} {AFTER} --md x --json link"),
            "--md and --json",
        ),
        (
            format!("compare {BEFORE} {AFTER} --json x --html ./x"),
            "--json and --html",
        ),
        (
            "gate --junit x --baseline link --update-baseline".into(),
            "--junit and --baseline",
        ),
        ("sweep --out sweep".into(), "sweep.md and sweep.json"),
    ];
    let x = fs::canonicalize(dir.join("x")).unwrap();
    let json = fs::canonicalize(dir.join("sweep/sweep.json")).unwrap();
    for (template, labels) in cases {
        let args = argv(&dir, &template);
        let ran = allocgate(&dir, &args);
        let file = if labels.starts_with("sweep") {
            &json
        } else {
            &x
        };
        let want = format!(
            "{labels} name the same file '{}'; give each its own",
            file.display()
        );
        assert_refused(&format!("{args:?}"), &ran, &want);
    }
    assert_eq!(fs::read(dir.join("x")).unwrap(), b"old");
    assert_eq!(fs::read(dir.join("sweep/sweep.json")).unwrap(), b"old");
    assert_eq!(entries(&dir), ["link", "sub", "sweep", "x"]);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn an_unwritable_output_fails_in_milliseconds_before_the_run() {
    let dir = crate::rig::scratch("outputs", "unwritable");
    // Root bypasses permission bits, so these are paths nobody can write:
    // beneath a regular file (its directory cannot be made), and in /proc
    // (which exists, and takes no new files).
    fs::write(dir.join("file"), "x").unwrap();
    let beneath = dir.join("file/deeper");
    let proc_dir = Path::new("/proc");
    for (place, want_prefix) in [
        (
            beneath.as_path(),
            format!("cannot create '{}", dir.join("file").display()),
        ),
        (proc_dir, " '/proc/".to_owned()),
    ] {
        let sub = crate::rig::scratch(
            "outputs",
            &format!("unwritable-cases-{}", place == proc_dir),
        );
        for case in cases(&sub) {
            // The same command, its output moved under `place`.
            let moved = place.join(case.target.strip_prefix(&sub).unwrap());
            let args: Vec<String> = case
                .args
                .iter()
                .map(|a| a.replace(&sub.display().to_string(), &place.display().to_string()))
                .collect();
            if case.command == "demo" {
                // The demo writes under its working directory: make that
                // a place where reports/ cannot be made.
                if place == proc_dir {
                    continue;
                }
                fs::remove_dir_all(sub.join("reports")).unwrap();
                fs::write(sub.join("reports"), "x").unwrap();
            }
            let what = format!("{} at {}", case.command, moved.display());
            let ran = allocgate(&sub, &args);
            let want = if case.command == "demo" {
                format!("cannot create '{}", Path::new("reports").display())
            } else {
                want_prefix.clone()
            };
            assert_refused(&what, &ran, &want);
        }
        let _ = fs::remove_dir_all(&sub);
    }
    let _ = fs::remove_dir_all(&dir);
}

/// Starts the binary with `args` in `cwd`, waits until `started` says the
/// work is under way (given the process id and its standard error so
/// far), calls `sabotage`, and waits for the end.
#[cfg(target_os = "linux")]
fn sabotaged(
    cwd: &Path,
    args: &[String],
    started: impl Fn(u32, &str) -> bool,
    sabotage: impl FnOnce(),
) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let pid = child.id();
    let stderr = Arc::new(Mutex::new(String::new()));
    let reader = {
        let stderr = Arc::clone(&stderr);
        let mut pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                stderr
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while !started(pid, &stderr.lock().unwrap()) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "{args:?} ended before it was sabotaged: {}",
            stderr.lock().unwrap()
        );
        assert!(Instant::now() < deadline, "{args:?} never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    sabotage();
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let stderr = stderr.lock().unwrap().clone().into_bytes();
    Output {
        status,
        stdout,
        stderr,
    }
}

/// Whether process `pid` has a thread running the simulation.
#[cfg(target_os = "linux")]
fn simulating(pid: u32) -> bool {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|t| {
        fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == "allocgate-sim")
    })
}

#[cfg(target_os = "linux")]
#[test]
fn when_the_final_write_fails_the_summary_is_printed_first() {
    let dir = crate::rig::scratch("outputs", "final");
    // Each output passes the check, then becomes a directory while the
    // work runs: the write at the end is refused.
    let gate_dir = dir.join("scenarios");
    fs::create_dir(&gate_dir).unwrap();
    let scenario = |name: &str, seconds: &str| {
        format!(
            "name = \"{name}\"\ndescription = \"d\"\nchannels = 2\nrate = 48000\n\
             frames = 512\nseconds = {seconds}\n"
        )
    };
    fs::write(gate_dir.join("a.toml"), scenario("a", "0.1")).unwrap();
    fs::write(gate_dir.join("b.toml"), scenario("b", "120")).unwrap();
    type Started = fn(u32, &str) -> bool;
    let sim: Started = |pid, _| simulating(pid);
    let first_scenario: Started = |_, stderr| stderr.contains("[1/2]");
    let gate = format!("gate --scenarios {} --junit gate.xml", gate_dir.display());
    let cases: [(&str, &str, &str, Started, &str); 5] = [
        (
            "run",
            "run --seconds 120 --channels 2 --out run.json",
            "run.json",
            sim,
            "  callbacks      input",
        ),
        (
            "run --hdr-log",
            "run --seconds 120 --channels 2 --out ok.json --hdr-log latency.hlog",
            "latency.hlog",
            sim,
            "  callbacks      input",
        ),
        (
            "soak",
            "soak --minutes 3 --out soak.json",
            "soak.json",
            sim,
            "\n  soak  ",
        ),
        (
            "sweep",
            "sweep --out sweep --variants fixed --rates 48000 --frames 512 --channels 2 \
             --seconds 120",
            "sweep/sweep.md",
            sim,
            "| fixed | 48000 | 512 | 2 |",
        ),
        ("gate --junit", &gate, "gate.xml", first_scenario, "| b | "),
    ];
    for (what, template, target, started, summary) in cases {
        let args = argv(&dir, template);
        let target = dir.join(target);
        let o = sabotaged(&dir, &args, started, || {
            fs::create_dir_all(&target).unwrap()
        });
        let stdout = text(&o.stdout);
        let stderr = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{what}: {stderr}");
        assert!(stdout.contains(summary), "{what}: the summary\n{stdout}");
        assert!(
            !stdout.contains("  report  "),
            "{what}: no report named as written\n{stdout}"
        );
        let last = stderr.lines().last().unwrap_or("");
        assert!(
            last.starts_with("error: cannot write")
                && last.ends_with(
                    "it is a directory; expected a regular file, a symlink to one, or a new path"
                ),
            "{what}: {stderr}"
        );
        let parent = target.parent().unwrap();
        assert!(
            !entries(parent).iter().any(|e| e.ends_with(".tmp")),
            "{what}: {:?}",
            entries(parent)
        );
    }
    let _ = fs::remove_dir_all(&dir);
}
