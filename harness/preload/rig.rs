//! Helpers: the library under test, dummy-driver JACK servers, compiling
//! the C fixtures, running a program under the library and reading what
//! it wrote.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use allocgate_wire::Capture;

/// True on CI, where a missing tool fails the test instead of skipping it.
pub fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips (prints why and returns false) or, on CI, fails.
pub fn require(ok: bool, test: &str, what: &str) -> bool {
    if !ok {
        assert!(!on_ci(), "{test}: {what}, and CI=true");
        eprintln!("skipped {test}: {what}");
    }
    ok
}

/// True when `program` is on PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// The library this package built for these tests: `cargo test` builds
/// the package's library (`cdylib` and `rlib`) into `deps/`, next to the
/// test binary, and copies it up to `target/<profile>/` only for `cargo
/// build`. (With `cdylib` alone it would not be built for the tests at
/// all: only an `rlib` makes the library a dependency of its tests.)
/// Checked to be newer than every source file of the package.
pub fn library() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let lib = exe.with_file_name(allocgate_wire::env::LIBRARY);
    let built = std::fs::metadata(&lib)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| {
            panic!(
                "{} not found ({e}): cargo builds it before the tests",
                lib.display()
            )
        });
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(&src)
        .expect("the package's sources")
        .flatten()
    {
        let changed = entry
            .metadata()
            .and_then(|m| m.modified())
            .expect("a source's mtime");
        assert!(
            changed <= built,
            "{} is newer than {}: a stale build",
            entry.path().display(),
            lib.display()
        );
    }
    lib
}

/// A scratch directory of its own for one test.
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("allocgate-preload-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// A dummy-driver `jackd` of its own name, stopped (SIGTERM, waited for)
/// on drop.
pub struct Server {
    pub name: String,
    child: Child,
}

impl Server {
    /// Starts one for `test`, or `None` when jackd2 is not installed (and
    /// this is not CI).
    pub fn start(test: &str, rate: u32, period: u32) -> Option<Server> {
        if !require(
            on_path("jackd") && on_path("jack_lsp"),
            test,
            "jackd and jack_lsp are not on PATH (apt-get install jackd2)",
        ) {
            return None;
        }
        let name = format!("agp{}-{test}", std::process::id());
        let child = Command::new("jackd")
            .args([
                "-n",
                &name,
                "-d",
                "dummy",
                "-r",
                &rate.to_string(),
                "-p",
                &period.to_string(),
            ])
            .env("JACK_NO_AUDIO_RESERVATION", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("jackd starts");
        let server = Server { name, child };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ready = Command::new("jack_lsp")
                .args(["-s", &server.name])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return Some(server);
            }
            assert!(
                Instant::now() < deadline,
                "jackd {} did not answer in 10 s",
                server.name
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child, not yet reaped.
        unsafe { libc_kill(self.child.id() as i32, 15) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && self.child.try_wait().ok().flatten().is_none() {
            std::thread::sleep(Duration::from_millis(50));
        }
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // A killed server, or a client killed while connected, leaves
        // files named after the server in /dev/shm.
        if let Ok(entries) = std::fs::read_dir("/dev/shm") {
            for e in entries.flatten() {
                if e.file_name()
                    .to_string_lossy()
                    .contains(&format!("_{}_", self.name))
                {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// Compiles C `sources` into `out` with `cc`, linking JACK when asked;
/// `None` (skipped) without a compiler or JACK's headers.
pub fn compile(test: &str, sources: &[&str], out: &Path, jack: bool) -> Option<PathBuf> {
    if !require(on_path("cc"), test, "no C compiler (cc) on PATH") {
        return None;
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures = here.join("../../harness/preload/fixtures");
    let mut cmd = Command::new("cc");
    cmd.args(["-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pthread"])
        .arg("-I")
        .arg(here.join("include"));
    for s in sources {
        cmd.arg(fixtures.join(s));
    }
    cmd.arg("-o").arg(out);
    if jack {
        cmd.arg("-ljack");
    }
    let o = cmd.output().expect("cc runs");
    if !o.status.success() {
        let stderr = String::from_utf8_lossy(&o.stderr);
        let missing_jack = jack && stderr.contains("jack/jack.h");
        if missing_jack
            && !require(
                false,
                test,
                "JACK's headers are missing (apt-get install libjack-jackd2-dev)",
            )
        {
            return None;
        }
        panic!("cc failed:\n{stderr}");
    }
    Some(out.to_path_buf())
}

/// Runs `program ARGS` under the library, against `server` if any, with
/// the stream written to `stream` and `env` added; returns its output.
pub fn run_under(
    program: &Path,
    args: &[&str],
    server: Option<&Server>,
    stream: &Path,
    env: &[(&str, &str)],
) -> Output {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env("LD_PRELOAD", library())
        .env(allocgate_wire::env::OUT, stream)
        .stdin(Stdio::null());
    if let Some(s) = server {
        cmd.env("JACK_DEFAULT_SERVER", &s.name)
            .env("JACK_NO_START_SERVER", "1");
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the program runs")
}

/// Like [`run_under`], for a program that runs until stopped: SIGTERM
/// after `seconds`.
pub fn run_for(
    program: &str,
    args: &[&str],
    server: &Server,
    stream: &Path,
    seconds: f64,
) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .env("LD_PRELOAD", library())
        .env(allocgate_wire::env::OUT, stream)
        .env("JACK_DEFAULT_SERVER", &server.name)
        .env("JACK_NO_START_SERVER", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the program starts");
    std::thread::sleep(Duration::from_secs_f64(seconds));
    // SAFETY: kill(2) on our own child, not yet reaped.
    unsafe { libc_kill(child.id() as i32, 15) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && child.try_wait().ok().flatten().is_none() {
        std::thread::sleep(Duration::from_millis(50));
    }
    if child.try_wait().ok().flatten().is_none() {
        let _ = child.kill();
    }
    child.wait_with_output().expect("the program's output")
}

/// The stream at `path`, read whole.
pub fn read(path: &Path) -> Capture {
    match Capture::read_file(path) {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => panic!("{}: {e}", path.display()),
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    }
}

/// Cycles of `period` frames at `rate` in `seconds`.
pub fn cycles(seconds: f64, rate: u32, period: u32) -> f64 {
    seconds * f64::from(rate) / f64::from(period)
}
