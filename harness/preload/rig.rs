//! Helpers: the library under test, dummy-driver JACK servers, compiling
//! the C fixtures, running a program under the library and reading what
//! it wrote.

use std::path::{Path, PathBuf};

pub use crate::shared::{compile, on_path, require};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use allocgate_wire::Capture;

/// The library under test (see [`crate::shared::library`]), which `cargo
/// test` builds before these tests.
pub fn library() -> PathBuf {
    crate::shared::library().unwrap_or_else(|e| panic!("{e}"))
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
