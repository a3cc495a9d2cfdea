//! The bad-input matrix through the binary: every malformed preset, scenario
//! or SOFA file ends in exit code 2 and one `error:` line naming the
//! problem, never a panic. Each case's file is written to a scratch
//! directory; the WAV files are built here byte by byte.

use std::path::Path;
use std::process::Command;

/// A plain (not extensible) 32-bit float WAV: `channels` × `frames` samples
/// of 0.25, `patch` applied to the samples, the data chunk's length field
/// `data_len` when given.
fn wav(
    channels: u16,
    rate: u32,
    frames: usize,
    patch: &[(usize, f32)],
    data_len: Option<u32>,
) -> Vec<u8> {
    let mut samples = vec![0.25f32; usize::from(channels) * frames];
    for &(i, v) in patch {
        samples[i] = v;
    }
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let block = u32::from(channels) * 4;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&3u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&rate.wrapping_mul(block).to_le_bytes());
    out.extend_from_slice(&(block as u16).to_le_bytes());
    out.extend_from_slice(&32u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.unwrap_or(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
}

/// Runs the binary and checks the refusal: exit 2, one `error:` line
/// containing `want`, no panic. Returns that line.
fn refused(args: &[&Path], flags: &[&str], want: &str) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_allocgate"));
    cmd.args(flags);
    for a in args {
        cmd.arg(a);
    }
    let o = cmd.output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let case = format!("{flags:?} {args:?}");
    assert_eq!(o.status.code(), Some(2), "{case}: {stderr}");
    assert!(!stderr.contains("panicked"), "{case}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{case}: {stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(want),
        "{case}: want {want:?}, got {stderr}"
    );
    stderr.trim_end().to_owned()
}

#[test]
fn bad_wav_presets_exit_2_with_one_line() {
    let dir = crate::rig::scratch("bad", "wav");
    let good = wav(14, 48_000, 4, &[], None);
    let header_only = &good[..44];
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated-header",
            good[..30].to_vec(),
            "is not a readable wav file",
        ),
        (
            "truncated-data",
            good[..44 + 14 * 4 * 2 + 6].to_vec(),
            "declares 4 frames but the data ends after 2",
        ),
        (
            "lying-length",
            wav(14, 48_000, 4, &[], Some(14 * 4 * 20_000)),
            "declares 20000 frames but the data ends after 4",
        ),
        (
            "nan",
            wav(14, 48_000, 4, &[(5, f32::NAN)], None),
            "non-finite sample (NaN) at channel 5, frame 0",
        ),
        (
            "inf",
            wav(14, 48_000, 4, &[(14, f32::INFINITY)], None),
            "non-finite sample (inf) at channel 0, frame 1",
        ),
        (
            "zero-frames",
            wav(14, 48_000, 0, &[], None),
            "has 0 frames; expected at least 1",
        ),
        (
            "zero-frames-lying",
            header_only.to_vec(),
            "declares 4 frames but the data ends after 0",
        ),
        ("rate-0", wav(14, 0, 4, &[], None), "sample rate of 0 hz"),
        ("rate-1", wav(14, 1, 4, &[], None), "sample rate of 1 hz"),
        (
            "rate-4ghz",
            wav(14, 4_000_000_000, 4, &[], None),
            "sample rate of 4000000000 hz",
        ),
        (
            "stereo",
            wav(2, 48_000, 4, &[], None),
            "has 2 channels; expected 7 or 14",
        ),
    ];
    let out = dir.join("run.json");
    for (name, bytes, want) in cases {
        let file = dir.join(format!("{name}.wav"));
        std::fs::write(&file, bytes).unwrap();
        let line = refused(
            &[&file, Path::new("--out"), &out],
            &["run", "--seconds", "0.1", "--preset"],
            want,
        );
        assert!(line.contains(&format!("{name}.wav")), "{line}");
    }
    // A device that never ends is refused without being read (and a
    // scenario naming it the same way).
    #[cfg(unix)]
    {
        let zero = Path::new("/dev/zero");
        let line = refused(
            &[zero, Path::new("--out"), &out],
            &["run", "--seconds", "0.1", "--preset"],
            "it is a character device; expected a regular file",
        );
        assert!(line.contains("/dev/zero"), "{line}");
        let file = dir.join("endless.toml");
        let text = "name = \"endless\"\ndescription = \"d\"\nchannels = 8\nrate = 48000\n\
                    frames = 512\nseconds = 1.0\npreset = \"/dev/zero\"\n";
        std::fs::write(&file, text).unwrap();
        refused(
            &[&file, Path::new("--out"), &out],
            &["run", "--scenario"],
            "it is a character device; expected a regular file",
        );
    }
    assert!(!out.exists(), "no report for a refused preset");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_scenarios_exit_2_with_one_line() {
    let dir = crate::rig::scratch("bad", "scenario");
    let base = "name = \"bad\"\ndescription = \"d\"\nchannels = 8\nrate = 48000\n\
                frames = 512\nseconds = 1.0\n";
    let cases = [
        (
            "unknown-key",
            format!("{base}colour = \"red\"\n"),
            "unknown field `colour`",
        ),
        (
            "negative-event-time",
            format!("{base}[[events]]\nat_ms = -5\naction = \"restart\"\n"),
            "key `at_ms`: invalid value: integer `-5`",
        ),
        (
            "negative-seconds",
            base.replace("seconds = 1.0", "seconds = -1.0"),
            "`seconds`: -1; expected more than 0",
        ),
        (
            "rate-0",
            base.replace("rate = 48000", "rate = 0"),
            "`rate`: 0 Hz; expected 8000 to 768000 Hz",
        ),
        (
            "rate-4ghz",
            base.replace("rate = 48000", "rate = 4000000000"),
            "`rate`: 4000000000 Hz",
        ),
    ];
    let out = dir.join("run.json");
    for (name, text, want) in cases {
        let file = dir.join(format!("{name}.toml"));
        std::fs::write(&file, text).unwrap();
        let line = refused(
            &[&file, Path::new("--out"), &out],
            &["run", "--scenario"],
            want,
        );
        assert!(line.contains(&format!("{name}.toml")), "{line}");
    }
    assert!(!out.exists(), "no report for a refused scenario");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_sofa_files_exit_2_with_one_line() {
    let dir = crate::rig::scratch("bad", "sofa");
    let real = std::fs::read(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .join("data/MIT_KEMAR_normal_pinna.sofa"),
    )
    .expect("the committed sofa file");
    let cases: [(&str, &[u8], &str); 4] = [
        ("text", b"name = \"not hdf5\"\n", "is not a sofa file"),
        ("empty", b"", "is not a sofa file"),
        ("truncated-4k", &real[..4096], "is not a sofa file"),
        (
            "truncated-half",
            &real[..real.len() / 2],
            "is not a sofa file",
        ),
    ];
    let out = dir.join("out.wav");
    for (name, bytes, want) in cases {
        let file = dir.join(format!("{name}.sofa"));
        std::fs::write(&file, bytes).unwrap();
        let line = refused(
            &[&file, Path::new("--out"), &out],
            &["hrir", "import-sofa", "--sofa"],
            want,
        );
        assert!(line.contains(&format!("{name}.sofa")), "{line}");
    }
    assert!(!out.exists(), "nothing written for a refused file");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the binary under a virtual-memory limit of 256 MiB (so an input
/// read whole could not fit), killing it if it has not ended within 20 s
/// (a read that blocks), and checks the refusal as [`refused`] does, and
/// that it came at once.
#[cfg(unix)]
fn refused_in_bounded_memory(args: &[String], want: &str) -> String {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    const LIMIT_KIB: u32 = 256 * 1024;
    let start = Instant::now();
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("ulimit -v {LIMIT_KIB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_allocgate"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?}: still running after 20 s (blocked on the input?)");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let took = start.elapsed();
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let case = format!("{args:?}");
    assert_eq!(o.status.code(), Some(2), "{case}: {stderr}");
    assert!(!stderr.contains("panicked"), "{case}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{case}: {stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(want),
        "{case}: want {want:?}, got {stderr}"
    );
    assert!(took < Duration::from_secs(10), "{case}: {took:?}");
    stderr.trim_end().to_owned()
}

/// Every input read from a user's path (preset, scenario, report,
/// baseline, SOFA file) that is not a regular file is refused before it
/// can block or fill memory (a FIFO with no writer, a device that never
/// ends, a directory), and a regular file past its kind's cap is refused
/// from its size: each at once, in bounded memory, with one line.
#[cfg(unix)]
#[test]
fn inputs_that_are_not_regular_files_or_too_large_are_refused_at_once() {
    use allocgate_tool::files::InputKind;

    let dir = crate::rig::scratch("bad", "inputs");
    let fifo = dir.join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let report = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("reports/baselines/demo-prefix-fixed/after.json")
        .display()
        .to_string();
    let out = dir.join("out").display().to_string();
    // Each command with INPUT where the input goes.
    let commands: [(InputKind, Vec<&str>); 6] = [
        (
            InputKind::Preset,
            vec![
                "run",
                "--seconds",
                "0.1",
                "--out",
                &out,
                "--preset",
                "INPUT",
            ],
        ),
        (
            InputKind::Scenario,
            vec!["run", "--out", &out, "--scenario", "INPUT"],
        ),
        (InputKind::Report, vec!["compare", "INPUT", &report]),
        (InputKind::Report, vec!["compare", &report, "INPUT"]),
        (
            InputKind::Baseline,
            vec!["gate", "--no-rusage", "--baseline", "INPUT"],
        ),
        (
            InputKind::Sofa,
            vec!["hrir", "import-sofa", "--out", &out, "--sofa", "INPUT"],
        ),
    ];
    let zero = "/dev/zero".to_owned();
    let sub = dir.display().to_string();
    let fifo = fifo.display().to_string();
    for (kind, command) in &commands {
        // One past the cap, sparse: nothing to read but its size.
        let large = dir.join(format!("large-{}", kind.name().replace(' ', "-")));
        let file = std::fs::File::create(&large).unwrap();
        file.set_len(kind.max_bytes() + 1).unwrap();
        let large = large.display().to_string();
        let too_large = format!(
            "it has {} bytes; a {} is at most {} MiB",
            kind.max_bytes() + 1,
            kind.name(),
            kind.max_bytes() >> 20
        );
        for (input, want) in [
            (&zero, "it is a character device; expected a regular file"),
            (&fifo, "it is a FIFO; expected a regular file"),
            (&sub, "it is a directory; expected a regular file"),
            (&large, too_large.as_str()),
        ] {
            let args: Vec<String> = command
                .iter()
                .map(|a| {
                    if *a == "INPUT" {
                        input.clone()
                    } else {
                        (*a).to_owned()
                    }
                })
                .collect();
            let line = refused_in_bounded_memory(&args, want);
            assert!(line.contains(input.as_str()), "{line}");
        }
    }
    // A scenario directory holding a FIFO named like a scenario.
    let scenarios = dir.join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    std::fs::rename(&fifo, scenarios.join("a.toml")).unwrap();
    let args = [
        "gate",
        "--no-rusage",
        "--scenarios",
        scenarios.to_str().unwrap(),
    ];
    refused_in_bounded_memory(
        &args.map(str::to_owned),
        "a.toml: cannot read: it is a FIFO; expected a regular file",
    );
    assert!(
        !Path::new(&out).exists(),
        "nothing written for a refused input"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
