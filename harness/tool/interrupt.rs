//! Interrupts through the real binary: SIGINT or SIGTERM to a running
//! `run`, `sweep`, `soak`, `gate` and the demo, sent to its process group
//! as a terminal's Ctrl-C is. Each must stop at a callback boundary,
//! write what ran marked interrupted, exit 128 plus the signal's number,
//! and leave no temporary file; a second signal exits at once. Linux:
//! the tests find the binary's threads and children in `/proc`.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use allocgate_tool::report::{Report, read_json};

/// Long enough for a loaded machine; a hang fails the test instead.
const PATIENCE: Duration = Duration::from_secs(120);

/// The binary, running in a process group of its own.
struct Running {
    child: Child,
    stderr: Receiver<String>,
}

impl Running {
    fn start(args: &[&str], dir: &Path, stdout: Stdio) -> Running {
        use std::os::unix::process::CommandExt;

        let mut child = Command::new(env!("CARGO_BIN_EXE_allocgate"))
            .args(args)
            .current_dir(dir)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let (tx, stderr) = channel();
        let pipe = child.stderr.take().expect("stderr is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Running { child, stderr }
    }

    fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("a pid")
    }

    /// Sends `signal` to the binary's process group.
    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) with a valid signal, to the process group the
        // child leads (it was started with process_group(0) and has not
        // been reaped: `finish` reaps it).
        let rc = unsafe { libc::kill(-self.pid(), signal) };
        assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
    }

    /// Waits until the driver thread of a simulated run has appeared
    /// `threads` times (each run starts its own), polling fast.
    fn wait_for_runs(&mut self, threads: usize) {
        let mut seen = std::collections::BTreeSet::new();
        let begun = Instant::now();
        while seen.len() < threads {
            assert!(
                self.child.try_wait().expect("try_wait").is_none(),
                "the binary exited before its run {threads} started"
            );
            assert!(begun.elapsed() < PATIENCE, "no run started");
            let tasks = format!("/proc/{}/task", self.pid());
            for task in std::fs::read_dir(tasks).into_iter().flatten().flatten() {
                let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
                if comm.trim() == "allocgate-sim" {
                    seen.insert(task.file_name());
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Waits for a standard-error line containing `text`.
    fn wait_for_line(&self, text: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(e) => panic!("no line with '{text}' on standard error: {e}"),
            }
        }
    }

    /// Waits for the exit, at most `within`: its status, standard output
    /// and the rest of standard error.
    fn finish(mut self, within: Duration) -> (ExitStatus, String, String) {
        let begun = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break s;
            }
            if begun.elapsed() > within {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the binary did not exit within {within:?} of the signal");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut out = String::new();
        if let Some(mut o) = self.child.stdout.take() {
            let _ = o.read_to_string(&mut out);
        }
        std::thread::sleep(Duration::from_millis(50));
        let err: Vec<String> = self.stderr.try_iter().collect();
        (status, out, err.join("\n"))
    }
}

/// No `.NAME.PID-N.tmp` file of an atomic write is left in `dir`.
fn assert_no_temp_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("the directory").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            !(name.starts_with('.') && name.ends_with(".tmp")),
            "a temporary file was left behind: {}",
            entry.path().display()
        );
    }
}

fn report(path: &Path) -> Report {
    read_json(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Asserts a stopped run's report covers what ran: fewer callbacks than
/// the whole run's ceil(seconds · rate / frames) a side, and as many input
/// callbacks as started before the time the rates divide by (the input's
/// callback at that instant may have run).
fn assert_partial(r: &Report, signal: &str, rate: u32, frames: u32) {
    assert_eq!(r.interrupted.as_deref(), Some(signal));
    let whole = (r.config.seconds * f64::from(rate) / f64::from(frames)).ceil() as u64;
    let input = r.totals.callbacks.input;
    assert!(
        input > 0 && input < whole,
        "{input} input callbacks of {whole}"
    );
    assert!(r.rates.seconds > 0.0 && r.rates.seconds < r.config.seconds);
    // A whole number of periods up to rounding in the report's seconds.
    let before = (r.rates.seconds * f64::from(rate) / f64::from(frames) + 1e-6).floor() as u64;
    assert!(
        (before..=before + 1).contains(&input),
        "{input} input callbacks in {} s",
        r.rates.seconds
    );
}

/// A long virtual run at 48 kHz / 512 frames, its report at `dir/run.json`
/// over an older file.
fn long_run(dir: &Path, stdout: Stdio) -> (Running, PathBuf) {
    let out = dir.join("run.json");
    std::fs::write(&out, "the previous report\n").expect("an older file");
    let args = [
        "run",
        "--seconds",
        "86400",
        "--rate",
        "48000",
        "--frames",
        "512",
        "--out",
        "run.json",
    ];
    let mut running = Running::start(&args, dir, stdout);
    running.wait_for_runs(1);
    // Some callbacks in.
    std::thread::sleep(Duration::from_millis(200));
    (running, out)
}

#[test]
fn sigint_stops_a_run_and_writes_its_partial_report_marked() {
    let dir = crate::rig::scratch("interrupt", "run-int");
    let (running, out) = long_run(&dir, Stdio::piped());
    running.signal(libc::SIGINT);
    let (status, stdout, stderr) = running.finish(PATIENCE);
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted (SIGINT)"), "{stderr}");
    assert!(
        stdout.contains("interrupted    by SIGINT after"),
        "the summary says so: {stdout}"
    );
    assert_partial(&report(&out), "SIGINT", 48_000, 512);
    assert_no_temp_files(&dir);
}

#[test]
fn sigterm_exits_143_with_the_report_marked() {
    let dir = crate::rig::scratch("interrupt", "run-term");
    let (running, out) = long_run(&dir, Stdio::null());
    running.signal(libc::SIGTERM);
    let (status, _, stderr) = running.finish(PATIENCE);
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert_partial(&report(&out), "SIGTERM", 48_000, 512);
    assert_no_temp_files(&dir);
}

#[test]
fn a_second_sigint_exits_at_once_while_the_first_is_still_being_handled() {
    // Standard output is a full pipe nobody reads: once the report is
    // written, printing the summary blocks, so the first interrupt cannot
    // finish; the second must end the process anyway.
    let (reader, writer) = std::io::pipe().expect("a pipe");
    let fd = std::os::fd::AsRawFd::as_raw_fd(&writer);
    // SAFETY: fcntl on a pipe descriptor this test owns.
    let capacity = unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) };
    let capacity = usize::try_from(capacity).expect("the pipe's capacity");
    std::io::Write::write_all(&mut &writer, &vec![b'.'; capacity]).expect("fill the pipe");
    let dir = crate::rig::scratch("interrupt", "run-twice");
    let (running, out) = long_run(&dir, Stdio::from(writer));
    running.signal(libc::SIGINT);
    let begun = Instant::now();
    while read_json(&out).is_err() {
        assert!(
            begun.elapsed() < PATIENCE,
            "the partial report was not written"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Stuck printing the summary now.
    std::thread::sleep(Duration::from_millis(200));
    running.signal(libc::SIGINT);
    let (status, _, stderr) = running.finish(Duration::from_secs(5));
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted again (SIGINT)"), "{stderr}");
    assert_partial(&report(&out), "SIGINT", 48_000, 512);
    assert_no_temp_files(&dir);
    drop(reader);
}

#[test]
fn an_interrupted_sweep_keeps_its_finished_rows_marked() {
    let dir = crate::rig::scratch("interrupt", "sweep");
    // 1 variant × 4 rates × 4 sizes × 3 layouts = 48 runs.
    let args = [
        "sweep",
        "--variants",
        "fixed",
        "--seconds",
        "2",
        "--out",
        "sweep",
    ];
    let total = 48;
    let mut running = Running::start(&args, &dir, Stdio::piped());
    // The second run's driver thread: the first run has finished.
    running.wait_for_runs(2);
    running.signal(libc::SIGINT);
    let (status, stdout, stderr) = running.finish(PATIENCE);
    assert_eq!(status.code(), Some(130), "{stderr}");
    let out = dir.join("sweep");
    let csv = std::fs::read_to_string(out.join("sweep.csv")).expect("sweep.csv");
    let mut lines = csv.lines();
    let first = lines.next().expect("a first line");
    let rows = lines.count() - 1; // the header
    assert!(rows >= 1 && rows < total, "{rows} of {total} rows");
    assert_eq!(
        first,
        format!("# interrupted by SIGINT after {rows} of {total} runs")
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).expect("sweep.json"))
            .expect("JSON");
    assert_eq!(json["interrupted"], "SIGINT");
    assert_eq!(json["runs_planned"], total);
    assert_eq!(json["rows"].as_array().map(Vec::len), Some(rows));
    let md = std::fs::read_to_string(out.join("sweep.md")).expect("sweep.md");
    assert!(md.starts_with(&format!(
        "allocgate sweep interrupted by SIGINT after {rows} of {total} runs"
    )));
    assert!(stdout.contains("interrupted by SIGINT"), "{stdout}");
    assert_no_temp_files(&out);
}

#[test]
fn an_interrupted_soak_writes_its_partial_report() {
    let dir = crate::rig::scratch("interrupt", "soak");
    let mut running = Running::start(&["soak", "--out", "soak.json"], &dir, Stdio::piped());
    running.wait_for_runs(1);
    std::thread::sleep(Duration::from_millis(300));
    running.signal(libc::SIGINT);
    let (status, stdout, stderr) = running.finish(PATIENCE);
    assert_eq!(status.code(), Some(130), "{stderr}");
    let r = report(&dir.join("soak.json"));
    assert_eq!(r.interrupted.as_deref(), Some("SIGINT"));
    assert!(r.totals.callbacks.input > 0 && r.rates.seconds > 0.0);
    assert!(r.rates.seconds < 3600.0, "{} s of 3600", r.rates.seconds);
    assert!(
        stdout.contains("soak "),
        "the soak's lines still print: {stdout}"
    );
    assert_no_temp_files(&dir);
}

#[test]
fn an_interrupted_gate_shows_what_finished_and_gives_no_verdict() {
    let dir = crate::rig::scratch("interrupt", "gate");
    let scenarios = dir.join("scenarios");
    std::fs::create_dir_all(&scenarios).expect("a directory");
    for (name, seconds) in [("a-short", 2), ("b-long", 3600), ("c-after", 2)] {
        std::fs::write(
            scenarios.join(format!("{name}.toml")),
            format!(
                "name = \"{name}\"\ndescription = \"d\"\nchannels = 8\nrate = 48000\n\
                 frames = 512\nseconds = {seconds}\nseed = 1\nconvolution = true\n\
                 preset = \"kemar\"\n"
            ),
        )
        .expect("a scenario");
    }
    let running = Running::start(
        &[
            "gate",
            "--scenarios",
            "scenarios",
            "--junit",
            "gate.xml",
            "--no-rusage",
        ],
        &dir,
        Stdio::piped(),
    );
    running.wait_for_line("[1/3] a-short pass");
    std::thread::sleep(Duration::from_millis(100));
    running.signal(libc::SIGINT);
    let (status, stdout, stderr) = running.finish(PATIENCE);
    assert_eq!(status.code(), Some(130), "{stderr}");
    // 2 s at 48 kHz in 512-frame callbacks, each side.
    let n = (2 * 48_000_u64).div_ceil(512);
    assert!(
        stdout.contains(&format!("| a-short | {n} / {n} |")),
        "{stdout}"
    );
    assert!(!stdout.contains("| b-long |"), "{stdout}");
    assert!(
        stdout.contains("gate interrupted by SIGINT: no verdict; 0 of 1 finished scenarios failed; not run: b-long, c-after"),
        "{stdout}"
    );
    assert!(!stdout.contains("gate passed"), "{stdout}");
    let xml = std::fs::read_to_string(dir.join("gate.xml")).expect("the JUnit file");
    assert!(
        xml.contains(r#"tests="3" failures="0" errors="1" skipped="1""#),
        "{xml}"
    );
    assert!(xml.contains(r#"name="b-long" time="0.000">"#), "{xml}");
    assert!(
        xml.contains(r#"<error message="interrupted by SIGINT before it finished""#),
        "{xml}"
    );
    assert_no_temp_files(&dir);
}

#[test]
fn an_interrupted_demo_keeps_the_variants_that_ran() {
    let dir = crate::rig::scratch("interrupt", "demo");
    let mut running = Running::start(&[], &dir, Stdio::piped());
    running.wait_for_runs(1);
    // Some callbacks in (a run stopped before its first writes nothing).
    std::thread::sleep(Duration::from_millis(150));
    running.signal(libc::SIGINT);
    let (status, stdout, stderr) = running.finish(PATIENCE);
    assert_eq!(status.code(), Some(130), "{stderr}");
    let latest = dir.join("reports/latest");
    // prefix runs first, then fixed: the one under way is marked, one
    // before it is whole, none after it ran.
    let prefix = report(&latest.join("prefix.json"));
    let fixed = latest.join("fixed.json");
    let table = std::fs::read_to_string(latest.join("demo.md")).expect("demo.md");
    let marked = match (prefix.interrupted.is_some(), fixed.exists()) {
        (true, false) => Some((prefix, "prefix")),
        (false, true) => Some((report(&fixed), "fixed")),
        (false, false) => None,
        (true, true) => panic!("fixed ran after prefix was interrupted"),
    };
    match marked {
        Some((r, name)) => {
            assert_eq!(r.interrupted.as_deref(), Some("SIGINT"));
            assert!(r.totals.callbacks.output > 0);
            assert!(
                table.contains(&format!("{name}: interrupted by SIGINT after")),
                "{table}"
            );
        }
        // Between the runs, or before fixed's first callback: prefix
        // alone, whole.
        None => assert!(table.contains("| | prefix |\n"), "{table}"),
    }
    assert_eq!(table, stdout);
    assert_no_temp_files(&latest);
}

/// The jackd processes whose parent is `pid`.
#[cfg(all(feature = "jack", target_os = "linux"))]
fn jackd_children(pid: i32) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid …
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let ppid = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<i32>().ok());
        if &stat[open + 1..close] == "jackd" && ppid == Some(pid) {
            found.push(child);
        }
    }
    found
}

#[cfg(all(feature = "jack", target_os = "linux"))]
#[test]
fn an_interrupted_jack_run_stops_the_server_it_started() {
    use allocgate_tool::drive::backend::jack::server;

    if !(server::on_path("jackd") && server::on_path("jack_lsp")) {
        assert!(
            !crate::rig::on_ci(),
            "jackd and jack_lsp are not on PATH, and CI=true: CI must install jackd2"
        );
        eprintln!(
            "skipped an_interrupted_jack_run_stops_the_server_it_started: jackd is not installed"
        );
        return;
    }
    let dir = crate::rig::scratch("interrupt", "jack");
    let mut running = Running::start(
        &[
            "run",
            "--backend",
            "jack",
            "--spawn-jackd",
            "--seconds",
            "60",
            "--out",
            "jack.json",
        ],
        &dir,
        Stdio::piped(),
    );
    let begun = Instant::now();
    let jackd = loop {
        if let [one] = jackd_children(running.pid())[..] {
            break one;
        }
        assert!(
            running.child.try_wait().expect("try_wait").is_none(),
            "the binary exited before its server started"
        );
        assert!(begun.elapsed() < PATIENCE, "no jackd started");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Well into the measured window (the server answers in about 0.2 s).
    std::thread::sleep(Duration::from_secs(2));
    running.signal(libc::SIGINT);
    let (status, _, stderr) = running.finish(PATIENCE);
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        !Path::new(&format!("/proc/{jackd}")).exists(),
        "jackd {jackd} was left running"
    );
    let r = report(&dir.join("jack.json"));
    assert_eq!(r.interrupted.as_deref(), Some("SIGINT"));
    let b = r.backend.as_ref().expect("a backend section");
    assert_eq!(
        b.ended_early, None,
        "an interrupt is not the server going away"
    );
    assert!(r.totals.callbacks.output > 0 && r.rates.seconds < 60.0);
    assert_eq!(
        r.integrity.verdict,
        allocgate_tool::report::Verdict::Pass,
        "the stream ended at a cycle boundary: {:?}",
        r.integrity.reason
    );
    assert_no_temp_files(&dir);
}
