//! Figures a run must not get wrong through the binary: what a scenario
//! costs in memory at its event cap, and the bad inputs at the caps
//! (exit 2, one `error:` line).

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};

use allocgate::measure;
use allocgate_engine::preset::Preset;
use allocgate_engine::publish::PENDING_SETS;
use allocgate_engine::{Engine, EngineConfig};
use allocgate_tool::drive::integrity::{Checker, ConvolutionReference};
use allocgate_tool::drive::signal::Signal;
use allocgate_tool::scenario::{MAX_EVENTS, MAX_PRESETS, synthetic_preset};

/// Runs the binary and checks the refusal: exit 2, one `error:` line
/// containing `want`, no panic. Returns that line.
fn refused(args: &[&str], want: &str) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(want),
        "{args:?}: want {want:?}, got {stderr}"
    );
    stderr.trim_end().to_owned()
}

/// The peak resident memory of the binary run with `args` (its own, read
/// from `wait4`'s usage of that child alone), in bytes, and its exit code.
#[cfg(target_os = "linux")]
fn peak_rss(args: &[&str], dir: &Path) -> (u64, Option<i32>) {
    #[expect(
        clippy::zombie_processes,
        reason = "reaped by wait4 below, which reads the child's own peak memory"
    )]
    let child = Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(dir.join("stdout.txt")).expect("a file"))
        .stderr(File::create(dir.join("stderr.txt")).expect("a file"))
        .spawn()
        .expect("the binary starts");
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value to be overwritten.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet reaped (the `Child` is never
    // waited on); both pointers are to locals that outlive the call.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    // ru_maxrss is in KiB on Linux.
    (u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024, code)
}

/// A scenario of 7.1 at 48 kHz / 512 for 10 s with `events` events
/// spread evenly (one per millisecond at the cap): every eighth a preset
/// switch (through KEMAR and `synthetic:1` on, `presets` distinct ones),
/// the others frame changes (to 512 or 1 024 frames), restarts and
/// convolution toggles. At the cap at most three switches fall within
/// the longest output period (1 024 frames, 21.3 ms), fewer than the
/// sets that may wait for the audio thread.
fn scenario(events: usize, presets: usize) -> String {
    let mut s = String::from(
        "name = \"cap\"\ndescription = \"every action kind, at the event cap\"\n\
         channels = 8\nrate = 48000\nframes = 512\nseconds = 10.0\n",
    );
    for i in 0..events {
        let body = match i % 8 {
            0 => match (i / 8) % presets {
                0 => "action = \"switch-preset\"\npreset = \"kemar\"\n".to_owned(),
                p => format!("action = \"switch-preset\"\npreset = \"synthetic:{p}\"\n"),
            },
            1 => "action = \"set-frames\"\ninput = [512, 1024]\noutput = 1024\n".to_owned(),
            2 => "action = \"restart\"\n".to_owned(),
            3 => "action = \"convolution-off\"\n".to_owned(),
            5 => "action = \"set-frames\"\ninput = 512\noutput = [1024, 512]\n".to_owned(),
            _ => "action = \"convolution-on\"\n".to_owned(),
        };
        s.push_str(&format!(
            "\n[[events]]\nat_ms = {}\n{body}",
            i * 10_000 / events.max(1)
        ));
    }
    s
}

/// Peak memory a scenario may take per event: the TOML parser's while
/// the file is read (most of it) and the schedule's copies during the
/// run. The design figure the README states.
const EVENT_BYTES: u64 = 3 * 1024;

/// A scenario at the event cap, naming the most distinct presets, runs
/// within a bound derived from its parts: the same run with no events,
/// plus [`EVENT_BYTES`] per event, plus each further preset's samples,
/// plus the renderer sets and check references that may be alive at once
/// beyond the one of the run without events (the sets waiting for the
/// audio thread, and one returned but not yet freed). Set and reference
/// sizes are measured here, in this process, with the counting allocator.
#[cfg(target_os = "linux")]
#[test]
fn a_scenario_at_the_event_cap_runs_within_its_memory_bound() {
    let dir = crate::rig::scratch("figures", "cap");
    let full = dir.join("cap.toml");
    let empty = dir.join("empty.toml");
    std::fs::write(&full, scenario(MAX_EVENTS, MAX_PRESETS)).unwrap();
    std::fs::write(&empty, scenario(0, MAX_PRESETS)).unwrap();
    let out = dir.join("run.json");
    let run = |file: &Path| {
        let args = [
            "run",
            "--scenario",
            file.to_str().unwrap(),
            "--variant",
            "fixed",
            "--out",
            out.to_str().unwrap(),
        ];
        let (peak, code) = peak_rss(&args, &dir);
        let stderr = std::fs::read_to_string(dir.join("stderr.txt")).unwrap_or_default();
        assert_eq!(code, Some(0), "{}: {stderr}", file.display());
        peak
    };
    let baseline = run(&empty);
    let peak = run(&full);

    // What one preset, one renderer set and one check reference take.
    let preset = measure(|| synthetic_preset(1));
    let preset_bytes = preset.stats.counts.bytes_allocated;
    let engine = EngineConfig::new(8, 48_000);
    let mut e = Engine::new(&engine).expect("the scenario's engine");
    let kemar = Preset::kemar();
    let set_bytes = measure(|| e.control.activate(&kemar).expect("kemar activates"))
        .stats
        .counts
        .bytes_allocated;
    let mut checker = Checker::new(
        ConvolutionReference::default(),
        engine.renderer,
        Signal::new(1),
        8,
        48_000,
        engine.ring_bytes,
        true,
    );
    let reference_bytes = measure(|| checker.publish(&kemar).expect("a reference"))
        .stats
        .counts
        .bytes_allocated;
    let sets_beyond = (PENDING_SETS + 1) as u64;
    let bound = baseline
        + MAX_EVENTS as u64 * EVENT_BYTES
        + (MAX_PRESETS as u64 - 1) * preset_bytes
        + sets_beyond * (set_bytes + reference_bytes);
    eprintln!(
        "peak {peak} bytes at {MAX_EVENTS} events; without events {baseline}; bound {bound} \
         (preset {preset_bytes}, set {set_bytes}, reference {reference_bytes} bytes)"
    );
    assert!(
        peak <= bound,
        "peak {peak} bytes > bound {bound}: {} bytes per event beyond the run without events",
        peak.saturating_sub(baseline) / MAX_EVENTS as u64
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn one_event_past_the_cap_or_one_preset_too_many_is_refused() {
    let dir = crate::rig::scratch("figures", "past-cap");
    let out = dir.join("run.json");
    let file = dir.join("past.toml");
    std::fs::write(&file, scenario(MAX_EVENTS + 1, MAX_PRESETS)).unwrap();
    let line = refused(
        &[
            "run",
            "--scenario",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &format!(
            "`events`: {} events; expected at most {MAX_EVENTS}",
            MAX_EVENTS + 1
        ),
    );
    assert!(line.contains("past.toml"), "{line}");
    let file = dir.join("presets.toml");
    std::fs::write(&file, scenario(8 * (MAX_PRESETS + 1), MAX_PRESETS + 1)).unwrap();
    refused(
        &[
            "run",
            "--scenario",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &format!(
            "'synthetic:{MAX_PRESETS}' would be preset number {}; expected at most \
             {MAX_PRESETS} distinct presets",
            MAX_PRESETS + 1
        ),
    );
    assert!(!out.exists(), "no report for a refused scenario");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The shortest run holding one callback of `frames` frames at `rate`,
/// as the refusal names it: `frames / rate` seconds in whole nanoseconds
/// rounded up, then in whole microseconds rounded up.
fn shortest(frames: u64, rate: u64) -> String {
    let ns = (frames * 1_000_000_000).div_ceil(rate);
    let us = ns.div_ceil(1000);
    let text = format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[test]
fn a_run_or_scenario_shorter_than_one_callback_of_each_device_is_refused() {
    let dir = crate::rig::scratch("figures", "short");
    let out = dir.join("run.json");
    let out_s = out.to_str().unwrap();
    // 512 frames at 48 kHz: 10 666 667 ns.
    let at_48k = shortest(512, 48_000);
    assert_eq!(at_48k, "0.010667");
    refused(
        &["run", "--seconds", "1e-10", "--out", out_s],
        &format!(
            "a run of 0 ns is shorter than one callback of each device; expected at least \
             {at_48k} s (512 frames of the input device at 48000 Hz)"
        ),
    );
    // 4 096 frames at 8 kHz: 0.512 s.
    refused(
        &[
            "run",
            "--rate",
            "8000",
            "--frames",
            "4096",
            "--seconds",
            "0.5",
            "--channels",
            "2",
            "--out",
            out_s,
        ],
        &format!(
            "a run of 0.5 s is shorter than one callback of each device; expected at least \
             {} s (4096 frames of the input device at 8000 Hz)",
            shortest(4096, 8000)
        ),
    );
    // The output's first callback is the longer: 2 048 frames at
    // 44 100 Hz, its cycle's first count.
    let file = dir.join("output-longer.toml");
    std::fs::write(
        &file,
        "name = \"short\"\ndescription = \"d\"\nchannels = 8\nrate = 48000\nframes = 512\n\
         output_rate = 44100\noutput_frames = [2048, 64]\nseconds = 0.02\n",
    )
    .unwrap();
    let line = refused(
        &["run", "--scenario", file.to_str().unwrap(), "--out", out_s],
        &format!(
            "`seconds`: a run of 0.02 s is shorter than one callback of each device; expected \
             at least {} s (2048 frames of the output device at 44100 Hz)",
            shortest(2048, 44_100)
        ),
    );
    assert!(line.contains("output-longer.toml"), "{line}");
    // The gate refuses such a scenario before running any.
    let gate_dir = dir.join("gate");
    std::fs::create_dir_all(&gate_dir).unwrap();
    std::fs::write(
        gate_dir.join("tiny.toml"),
        "name = \"tiny\"\ndescription = \"d\"\nchannels = 8\nrate = 48000\nframes = 512\n\
         seconds = 1e-300\n",
    )
    .unwrap();
    refused(
        &[
            "gate",
            "--scenarios",
            gate_dir.to_str().unwrap(),
            "--sites",
            "scale-array",
        ],
        &format!(
            "tiny.toml: `seconds`: a run of 0 ns is shorter than one callback of each device; expected at least {at_48k} s"
        ),
    );
    // A sweep checks every point before the first runs: the 4 096-frame
    // point at 8 kHz is too short for 0.1 s, and nothing is written.
    let sweep_out = dir.join("sweep");
    refused(
        &[
            "sweep",
            "--variants",
            "fixed",
            "--rates",
            "8000",
            "--frames",
            "128,4096",
            "--channels",
            "2",
            "--seconds",
            "0.1",
            "--out",
            sweep_out.to_str().unwrap(),
        ],
        &format!(
            "fixed 8000 Hz / 4096 / 2 ch: a run of 0.1 s is shorter than one callback of each \
             device; expected at least {} s",
            shortest(4096, 8000)
        ),
    );
    assert!(!sweep_out.join("sweep.json").exists());
    assert!(!out.exists(), "no report for a refused run");
    // The length the refusal names runs: one callback of each device
    // fits (and the next starts before the end).
    let o = Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .args(["run", "--seconds", &at_48k, "--out", out_s])
        .output()
        .expect("the binary runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = allocgate_tool::report::read_json(&out).expect("the report");
    assert!(r.totals.callbacks.input >= 1 && r.totals.callbacks.output >= 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rates_of_a_run_shorter_than_a_second_are_marked_extrapolated_beside_the_counts() {
    let dir = crate::rig::scratch("figures", "rates");
    let run = |seconds: &str| {
        let out = dir.join(format!("{seconds}.json"));
        let o = Command::new(env!("CARGO_BIN_EXE_allocgate"))
            .args(["run", "--variant", "prefix", "--seconds", seconds, "--out"])
            .arg(&out)
            .output()
            .expect("the binary runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with("allocator"))
            .expect("an allocator line")
            .to_owned();
        (
            allocgate_tool::report::read_json(&out).expect("the report"),
            line,
        )
    };
    let (short, line) = run("0.02");
    let r = &short.rates;
    assert!(r.extrapolated && r.is_extrapolated());
    assert_eq!(r.seconds, 0.02);
    let n = short.totals.allocations;
    assert!(n > 0, "prefix allocates");
    assert_eq!(r.allocations_per_second, n as f64 / 0.02);
    assert!(
        line.contains(&format!(
            "{n} allocations in 0.02 s ({:.1}/s, extrapolated from a run shorter than 1 s)",
            n as f64 / 0.02
        )),
        "{line}"
    );
    let (long, line) = run("1");
    assert!(!long.rates.extrapolated && !long.rates.is_extrapolated());
    let n = long.totals.allocations;
    assert!(
        line.contains(&format!("{n} allocations ({:.1}/s)", n as f64)),
        "{line}"
    );
    // compare labels the per-second row of a short run.
    let o = Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .arg("compare")
        .args([dir.join("0.02.json"), dir.join("0.02.json")])
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("| allocations per second (extrapolated from a run shorter than 1 s) |"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
