//! The engine on real audio threads: JACK servers on the dummy driver,
//! started by the tests themselves (each its own name, so tests run in
//! parallel), the binary run against them, and a user's own JACK client
//! (examples/jack_probe.rs) gated in-process.
//!
//! Without `jackd` on PATH these tests say so and pass, except with
//! `CI=true`, where they fail: CI installs JACK (.ci/run).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use allocgate_engine::sites::expected::CallbackContext;
use allocgate_engine::sites::{Site, SiteSet};
use allocgate_engine::variant::Variant;
use allocgate_tool::drive::backend::jack::{JackServer, open_client, server};
use allocgate_tool::report::{AllocatorCalls, Report, Verdict, read_json};

#[path = "../../examples/jack_probe.rs"]
mod jack_probe;

/// A JACK server of its own for one test, or `None` (the test then skips)
/// when JACK is not installed and this is not CI.
pub(crate) fn server_for(test: &str, rate: u32, period: u32) -> Option<JackServer> {
    if !(server::on_path("jackd") && server::on_path("jack_lsp")) {
        assert!(
            !crate::rig::on_ci(),
            "jackd and jack_lsp are not on PATH, and CI=true: CI must install jackd2 \
             (.ci/run does)"
        );
        eprintln!("skipped {test}: jackd is not installed (apt-get install jackd2)");
        return None;
    }
    let name = format!("agt{}-{test}", std::process::id());
    Some(JackServer::spawn(&name, rate, period).expect("the dummy-driver server starts"))
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("allocgate-jack-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

fn allocgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

/// `allocgate run --backend jack --server NAME FLAGS… --out OUT`.
fn run_on(server: &JackServer, flags: &[&str], out: &std::path::Path) -> Output {
    let mut args = vec!["run", "--backend", "jack", "--server", server.name()];
    args.extend_from_slice(flags);
    args.extend(["--out", out.to_str().expect("a UTF-8 path")]);
    allocgate(&args)
}

/// [`run_on`], run again (up to three times in all) while JACK reports
/// xruns: an xrun from the machine's load (parallel tests on two cores)
/// can cost a cycle, which changes the callback count and leaves output
/// callbacks unheard. An attempt with xruns is run again whatever its
/// result; the first attempt without xruns, or the last, must succeed and
/// its report and output are returned.
pub(crate) fn run_clean(
    server: &JackServer,
    flags: &[&str],
    out: &std::path::Path,
) -> (Report, Output) {
    for attempt in 1..=3 {
        // No report of an earlier attempt may stand in for this one's.
        let _ = std::fs::remove_file(out);
        let o = run_on(server, flags, out);
        let report = read_json(out);
        let xruns = report
            .as_ref()
            .ok()
            .and_then(|r| r.backend.as_ref())
            .map_or(0, |b| b.backend_xruns);
        if xruns > 0 && attempt < 3 {
            eprintln!(
                "attempt {attempt}: jack reported {xruns} xruns under load (exit {:?}); \
                 running again",
                o.status
            );
            continue;
        }
        assert!(
            o.status.success(),
            "attempt {attempt}, exit {:?}: {}",
            o.status,
            text(&o.stderr)
        );
        return (report.expect("the report reads back"), o);
    }
    unreachable!("the third attempt returns")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `ceil(seconds × rate / period)`: JACK runs whole periods, and the run
/// is rounded up to one.
fn cycles(seconds: f64, rate: u32, period: u32) -> u64 {
    ((seconds * f64::from(rate)).ceil() as u64).div_ceil(u64::from(period))
}

const ZERO: AllocatorCalls = AllocatorCalls {
    allocations: 0,
    deallocations: 0,
    reallocations: 0,
};

/// True when the tests run as root (jackd2 then grants `SCHED_FIFO`).
fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn fixed_on_jack_allocates_nothing_in_any_callback_and_plays_the_signal_through_the_server() {
    let Some(server) = server_for("fixed", 48_000, 512) else {
        return;
    };
    let dir = scratch("fixed");
    let out = dir.join("fixed.json");
    let seconds = 4.0;
    let (r, o) = run_clean(
        &server,
        &[
            "--variant",
            "fixed",
            "--channels",
            "8",
            "--seconds",
            "4",
            "--rusage",
        ],
        &out,
    );
    let n = cycles(seconds, 48_000, 512);
    assert_eq!(n, 375);
    // Usage read around every callback on the process thread, and no
    // tracked lock taken there. Faults and switches on a real-time thread
    // are the machine's as much as the engine's: reported, not asserted.
    for (kind, h) in [
        ("input", &r.totals.input.hazards),
        ("output", &r.totals.output.hazards),
    ] {
        assert_eq!(h.callbacks_sampled, n, "{kind}");
        assert_eq!(h.lock_acquisitions, 0, "{kind}");
        eprintln!(
            "JACK {kind}: {} minor / {} major faults, {} voluntary / {} involuntary switches in {n} callbacks",
            h.minor_faults, h.major_faults, h.voluntary_switches, h.involuntary_switches
        );
    }
    assert_eq!(r.totals.callbacks.input, n);
    assert_eq!(r.totals.callbacks.output, n);
    assert_eq!(
        r.totals.callbacks_touching_allocator, 0,
        "no callback touched it"
    );
    assert_eq!(
        (
            r.totals.allocations,
            r.totals.deallocations,
            r.totals.reallocations
        ),
        (0, 0, 0)
    );
    // The signal went signal client → engine → recorder through the
    // server, and every played frame was what the engine should have
    // rendered from it (KEMAR, 512-frame periods: nothing left
    // unrendered).
    assert_eq!(
        r.integrity.verdict,
        Verdict::Pass,
        "{:?}",
        r.integrity.reason
    );
    assert_eq!(r.integrity.frames_checked, n * 512);
    let b = r.backend.as_ref().expect("a backend section");
    assert_eq!(
        (b.name.as_str(), b.sample_rate, b.period),
        ("jack", 48_000, 512)
    );
    assert_eq!(b.input, server.name());
    assert_eq!(b.ended_early, None);
    assert_eq!((b.measurements_lost, b.blocks_lost), (0, 0));
    // The harness on the process thread, outside the callbacks: nothing.
    assert_eq!(b.audio_thread_outside_callbacks, Some(ZERO));
    // The collector thread allocated (the report, the progress), and none
    // of it shows in a callback: the figures are per thread.
    assert!(
        b.collector_thread.allocations > 0,
        "{:?}",
        b.collector_thread
    );
    if root() {
        assert_eq!(b.realtime, Some(true), "jackd2 as root runs SCHED_FIFO");
    }
    assert_eq!(r.config.backend, "jack");
    let stdout = text(&o.stdout);
    assert!(stdout.contains("0 touched the allocator"), "{stdout}");
}

#[test]
fn seed_on_jack_is_caught_with_its_exact_count_in_every_input_callback() {
    let Some(server) = server_for("seed", 48_000, 512) else {
        return;
    };
    let dir = scratch("seed");
    let out = dir.join("seed.json");
    let (r, _) = run_clean(
        &server,
        &[
            "--variant",
            "seed",
            "--channels",
            "8",
            "--seconds",
            "2",
            "--no-integrity",
        ],
        &out,
    );
    let n = cycles(2.0, 48_000, 512);
    assert_eq!(r.totals.callbacks.input, n);
    // Per input callback of C = 8 channels: the buffer list (1), the
    // pointer array (1, grown once from 4 to 8 pointers: 1 reallocation)
    // and C channel buffers, each freed before the callback returns:
    // 2 + C allocations and deallocations. The site formulas agree.
    let c = 8u64;
    let per = Variant::Seed
        .sites()
        .expected(&CallbackContext::input(8, 512));
    assert_eq!(
        (per.allocations, per.deallocations, per.reallocations),
        (2 + c, 2 + c, 1)
    );
    let i = &r.totals.input;
    assert_eq!(i.callbacks_touching_allocator, n, "every input callback");
    assert_eq!(
        (i.allocations, i.deallocations, i.reallocations),
        (
            n * per.allocations,
            n * per.deallocations,
            n * per.reallocations
        )
    );
    let rows = &r.allocations_per_callback.input;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].allocations, rows[0].callbacks), (2 + c, n));
    let o_ = &r.totals.output;
    assert_eq!(
        (o_.allocations, o_.deallocations, o_.reallocations),
        (0, 0, 0)
    );
    let b = r.backend.as_ref().expect("a backend section");
    assert_eq!(b.audio_thread_outside_callbacks, Some(ZERO));
}

/// A best-effort check on a real server: `fixed` with a foreign client
/// burning 95 % of every period (`jack_cpu`, shipped with jackd2) on the
/// same dummy server, whose xruns run the three clients out of step.
/// Each run must pass integrity with the xruns reported beside the
/// verdict and every output callback either compared or counted unheard.
/// It must not pass vacuously: it fails when the hog caused no xrun in
/// any of three runs. The mechanism itself is checked deterministically,
/// fed an xrun as this backend reports it, by the collector test
/// `a_server_xrun_is_followed_and_only_a_real_mismatch_fails`.
#[test]
fn fixed_with_a_cpu_hog_on_the_server_passes_integrity_with_the_xruns_reported() {
    let Some(server) = server_for("hog", 48_000, 512) else {
        return;
    };
    if !server::on_path("jack_cpu") {
        assert!(
            !crate::rig::on_ci(),
            "jack_cpu is not on PATH, and CI=true: jackd2 ships it"
        );
        eprintln!("skipped the cpu-hog test: jack_cpu is not installed (it comes with jackd2)");
        return;
    }
    let mut hog = Command::new("jack_cpu")
        .args(["-c", "95"])
        .env("JACK_DEFAULT_SERVER", server.name())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("jack_cpu starts");
    let joined = Instant::now();
    while !text(
        &Command::new("jack_lsp")
            .args(["-s", server.name()])
            .output()
            .expect("jack_lsp runs")
            .stdout,
    )
    .contains("jack-cpu")
    {
        assert!(
            joined.elapsed() < Duration::from_secs(10),
            "jack_cpu never joined the server"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let dir = scratch("hog");
    let out = dir.join("hog.json");
    let n = cycles(4.0, 48_000, 512);
    let mut xruns_seen = 0;
    for attempt in 1..=3 {
        let _ = std::fs::remove_file(&out);
        let o = run_on(&server, &["--variant", "fixed", "--seconds", "4"], &out);
        assert!(
            o.status.success(),
            "attempt {attempt}, exit {:?}: {}",
            o.status,
            text(&o.stderr)
        );
        let r: Report = read_json(&out).expect("the report reads back");
        let b = r.backend.as_ref().expect("a backend section");
        let i = &r.integrity;
        assert_eq!(i.verdict, Verdict::Pass, "{:?}", i.reason);
        assert_eq!(r.totals.callbacks.output, n);
        assert_eq!(
            i.frames_checked,
            (n - i.unheard) * 512,
            "every output callback compared or counted unheard"
        );
        let stdout = text(&o.stdout);
        assert!(
            stdout.contains(&format!(
                "; {} server xruns, {} output callbacks not heard intact",
                b.backend_xruns, i.unheard
            )),
            "{stdout}"
        );
        eprintln!(
            "attempt {attempt}: {} server xruns, {} output callbacks unheard",
            b.backend_xruns, i.unheard
        );
        xruns_seen += b.backend_xruns;
        if xruns_seen > 0 {
            break;
        }
    }
    let _ = hog.kill();
    let _ = hog.wait();
    assert!(
        xruns_seen > 0,
        "jack_cpu -c 95 caused no server xrun in 3 runs: this test showed nothing"
    );
}

#[test]
fn one_site_alone_on_jack_is_caught_with_its_formula() {
    // scale-array: two 36-byte arrays per ear engine per block, R = 2
    // stereo renderers, one block per 512-frame callback, from the first
    // callback that renders.
    let Some(server) = server_for("scale", 48_000, 512) else {
        return;
    };
    let dir = scratch("scale");
    let out = dir.join("scale.json");
    let (r, _) = run_clean(
        &server,
        &[
            "--sites",
            "scale-array",
            "--channels",
            "2",
            "--seconds",
            "1",
        ],
        &out,
    );
    let n = cycles(1.0, 48_000, 512);
    let mut cx = CallbackContext::output(2, 512);
    cx.renderers = 2;
    cx.blocks = 1;
    let per = SiteSet::EMPTY.with(Site::ScaleArray).expected(&cx);
    assert_eq!(
        per.allocations,
        2 * 2 * 2,
        "2 arrays × 2 ears × 2 renderers"
    );
    // With input and output in one process cycle, the ring holds 512
    // frames at every output callback: each one renders, none buffers.
    let t = &r.totals.output;
    assert_eq!(t.callbacks, n);
    assert_eq!(t.allocations, n * per.allocations);
    assert_eq!(t.deallocations, n * per.deallocations);
    assert_eq!(r.totals.input.allocations, 0);
    assert_eq!(
        r.integrity.verdict,
        Verdict::Pass,
        "{:?}",
        r.integrity.reason
    );
}

#[test]
fn a_server_killed_mid_run_ends_it_with_a_clear_error_and_the_partial_report_written() {
    let Some(server) = server_for("killed", 48_000, 512) else {
        return;
    };
    let dir = scratch("killed");
    let out = dir.join("killed.json");
    let name = server.name().to_owned();
    let child = Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .args(["run", "--backend", "jack", "--server", &name])
        .args(["--seconds", "60", "--out", out.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    std::thread::sleep(Duration::from_secs(2));
    let pid = libc::pid_t::try_from(server.pid().expect("running")).unwrap();
    // SAFETY: kill(2) on our own jackd child, which has not been reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let started = Instant::now();
    let o = child.wait_with_output().expect("the binary ends");
    let noticed = started.elapsed();
    drop(server);
    clear_dead_server(&name);
    assert!(
        noticed < Duration::from_secs(20),
        "the run noticed the server's death in {noticed:?}"
    );
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains(&format!("jack server '{name}' went away")),
        "the error names the server: {stderr}"
    );
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1
    );
    let r: Report = read_json(&out).expect("the partial report is written");
    let b = r.backend.as_ref().expect("a backend section");
    let why = b.ended_early.as_deref().expect("it says it ended early");
    assert!(why.contains(&name), "{why}");
    let full = cycles(60.0, 48_000, 512);
    let played = r.totals.callbacks.output;
    assert!(
        played > 0 && played < full,
        "{played} of {full} callbacks measured"
    );
    assert_eq!(r.totals.allocations, 0, "what was measured is in it");
    assert!(text(&o.stdout).contains("ended early"));
}

/// After a SIGKILL: a server started under the dead one's name clears its
/// entry in JACK's shared-memory registry (which has room for 8 servers,
/// and frees a dead server's slot only when one of the same name
/// registers) and its files in /dev/shm; stopped with SIGTERM, it leaves
/// nothing behind.
fn clear_dead_server(name: &str) {
    match JackServer::spawn(name, 48_000, 512) {
        Ok(server) => drop(server),
        Err(e) => eprintln!("could not clear the killed server '{name}': {e}"),
    }
    // Its clients' semaphores are named after it and stay too.
    if let Ok(entries) = std::fs::read_dir("/dev/shm") {
        for e in entries.flatten() {
            if e.file_name()
                .to_string_lossy()
                .contains(&format!("_{name}_"))
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

#[test]
fn devices_lists_the_servers_clients_with_their_ports() {
    let Some(server) = server_for("devices", 48_000, 256) else {
        return;
    };
    let o = allocgate(&["devices", "--backend", "jack", "--server", server.name()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    // The dummy driver's defaults: two capture and two playback ports.
    assert!(
        stdout.contains("| system | system | 2 | 2 | 48000 |"),
        "{stdout}"
    );
}

#[test]
fn a_server_that_is_not_running_is_named_in_a_one_line_error() {
    if server_for("absent-check", 48_000, 512).is_none() {
        return;
    }
    let name = format!("agt{}-nobody", std::process::id());
    let o = allocgate(&[
        "run",
        "--backend",
        "jack",
        "--server",
        &name,
        "--seconds",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = text(&o.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("no jack server named '{name}'")),
        "{stderr}"
    );
}

#[test]
fn a_users_jack_client_wrapped_in_a_probe_is_gated_on_every_process_cycle() {
    let Some(server) = server_for("probe", 48_000, 512) else {
        return;
    };
    let client = |role: &str| {
        open_client(server.name(), &format!("agt{}-{role}", std::process::id()))
            .expect("a client opens")
    };
    let clean = jack_probe::run(client("clean"), 1.0, false).expect("the client runs");
    // Roughly 94 cycles a second at 48 kHz / 512.
    assert!(clean.calls > 50, "{} cycles", clean.calls);
    assert_eq!(clean.calls_with_allocator_calls, 0);
    assert!(clean.total.counts.is_zero());
    // The careless callback formats one line per cycle: one allocation
    // and one free each, caught in every cycle.
    let careless = jack_probe::run(client("careless"), 1.0, true).expect("the client runs");
    assert!(careless.calls > 50, "{} cycles", careless.calls);
    assert_eq!(careless.calls_with_allocator_calls, careless.calls);
    assert_eq!(careless.total.counts.allocations, careless.calls);
    assert_eq!(careless.total.counts.deallocations, careless.calls);
}

#[test]
fn ports_of_the_server_can_feed_the_engine_and_hear_it_with_nothing_left_to_check() {
    let Some(server) = server_for("ports", 48_000, 512) else {
        return;
    };
    let dir = scratch("ports");
    let out = dir.join("ports.json");
    let (r, _) = run_clean(
        &server,
        &[
            "--channels",
            "2",
            "--input",
            "system:capture_1,system:capture_2",
            "--output",
            "system:playback_1,system:playback_2",
            "--seconds",
            "5",
        ],
        &out,
    );
    assert_eq!(r.totals.callbacks.output, cycles(5.0, 48_000, 512));
    assert_eq!(r.totals.callbacks_touching_allocator, 0);
    // The dummy driver's capture ports carry no known signal.
    assert_eq!(r.integrity.verdict, Verdict::NotChecked);
    let b = r.backend.as_ref().expect("a backend section");
    // Five seconds is more than the played-block queue holds (four): the
    // collector discards blocks it has nothing to check against, rather
    // than let the queue fill and report losses.
    assert_eq!((b.measurements_lost, b.blocks_lost), (0, 0));
    let o = run_on(&server, &["--input", "nowhere:1"], &out);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--input names 1 port for 8 channels;"));
}
