//! What the binary says matches what it does: the help's examples show
//! what they claim, counts of one are singular, numbers the user typed
//! come back short, the summary names the preset, and passthrough takes
//! any channel count the help says it takes.

use std::path::Path;
use std::process::Output;

use allocgate_engine::sites::Site;
use allocgate_engine::sites::expected::CallbackContext;
use allocgate_tool::report::{Report, Verdict, read_json};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs `args` with `--out DIR/run.json`, expecting exit 0; the summary
/// and the report.
fn run_ok(dir: &Path, args: &[&str]) -> (String, Report) {
    let out = dir.join("run.json");
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", out.to_str().unwrap()]);
    let o = crate::rig::allocgate(&all);
    let text = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{all:?}\n{text}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (text, read_json(&out).expect("the report"))
}

/// Runs `args`, expecting exit 2 with one line on standard error.
fn refused(args: &[&str]) -> String {
    let o = crate::rig::allocgate(args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
    err.trim_end().to_owned()
}

#[test]
fn the_run_helps_site_example_makes_the_allocations_it_names() {
    let help = stdout(&crate::rig::allocgate(&["run", "--help"]));
    let lines: Vec<&str> = help.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("--sites scale-array"))
        .expect("the help has a scale-array example");
    let example: Vec<&str> = lines[at]
        .split_whitespace()
        .skip_while(|w| *w != "run")
        .skip(1)
        .collect();
    let claimed: u64 = lines[at + 1]
        .split(": ")
        .nth(1)
        .and_then(|s| s.strip_suffix(" allocations per output callback"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("its claim: {}", lines[at + 1]));
    let flag = |name: &str| -> usize {
        let i = example.iter().position(|w| *w == name).unwrap();
        example[i + 1].parse().unwrap()
    };
    let frames = flag("--frames");
    // The default 7.1 device: 8 channels, every speaker rendered, in
    // whole 512-frame blocks.
    let cx = CallbackContext {
        renderers: 8,
        blocks: frames / 512,
        ..CallbackContext::output(8, frames)
    };
    let per_callback = Site::ScaleArray.expected(&cx).allocations;
    assert!(
        per_callback > 0,
        "the example's site fires at {frames} frames"
    );
    assert_eq!(claimed, per_callback, "the help's figure is the formula's");

    let dir = crate::rig::scratch("words", "help-example");
    let (_, r) = run_ok(&dir, &example);
    assert_eq!(
        r.totals.allocations,
        r.totals.callbacks.output * per_callback,
        "every output callback renders its blocks"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn passthrough_takes_any_channel_count_and_convolution_only_the_mapped_layouts() {
    let dir = crate::rig::scratch("words", "channels");
    for channels in ["1", "3", "16"] {
        let (summary, r) = run_ok(
            &dir,
            &[
                "--no-convolution",
                "--channels",
                channels,
                "--seconds",
                "0.5",
                "--drift-ppm",
                "5000",
            ],
        );
        assert!(summary.contains(", passthrough, "), "{summary}");
        assert_eq!(
            r.config.preset, None,
            "{channels}: no preset maps a speaker"
        );
        assert!(
            r.integrity.verdict == Verdict::Pass,
            "{channels}: {summary}"
        );
        assert!(
            r.xruns.underruns > 0,
            "{channels}: the check followed an underrun"
        );
    }
    let (_, r) = run_ok(
        &dir,
        &["--no-convolution", "--channels", "2", "--seconds", "0.2"],
    );
    assert!(r.config.preset.is_some(), "stereo keeps its preset");
    let line = refused(&["run", "--channels", "3", "--out", "unused.json"]);
    assert_eq!(
        line,
        "error: --channels 3: convolution needs a layout whose speakers a HeSuVi preset maps, \
         2 (stereo), 6 (5.1), 8 (7.1) or 12 (7.1.4) channels; --no-convolution plays any count \
         from 1 to 16 through"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_scenario_whose_layout_maps_no_speaker_runs_in_passthrough_only() {
    let dir = crate::rig::scratch("words", "scenario-channels");
    let mono = |name: &str, extra: &str| {
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(
            &path,
            format!(
                "name = \"{name}\"\ndescription = \"one channel\"\nchannels = 1\nrate = 48000\n\
                 frames = 512\nseconds = 0.5\n{extra}"
            ),
        )
        .unwrap();
        path
    };
    let passthrough = mono("mono", "convolution = false\n");
    let (_, r) = run_ok(&dir, &["--scenario", passthrough.to_str().unwrap()]);
    assert_eq!(r.config.preset, None);
    assert!(r.integrity.verdict == Verdict::Pass);
    for (name, extra) in [
        ("convolved", ""),
        (
            "toggled",
            "convolution = false\n[[events]]\nat_ms = 100\naction = \"convolution-on\"\n",
        ),
    ] {
        let file = mono(name, extra);
        let line = refused(&["run", "--scenario", file.to_str().unwrap()]);
        assert!(
            line.contains("`channels`: 1: convolution and preset switches need a layout"),
            "{line}"
        );
    }
    // The gate runs it too, and counts its one scenario in the singular.
    let gate_dir = dir.join("gate");
    std::fs::create_dir_all(&gate_dir).unwrap();
    std::fs::copy(&passthrough, gate_dir.join("mono.toml")).unwrap();
    let o = crate::rig::allocgate(&["gate", "--scenarios", gate_dir.to_str().unwrap()]);
    let table = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{table}");
    assert!(table.starts_with("allocgate gate: 1 scenario, "), "{table}");
    assert!(table.contains("in any callback of 1 scenario;"), "{table}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn counts_of_one_are_singular_and_the_summary_names_the_preset() {
    let dir = crate::rig::scratch("words", "singular");
    // first-callback: one buffer on the first output callback, kept.
    let (summary, r) = run_ok(
        &dir,
        &[
            "--sites",
            "first-callback",
            "--seconds",
            "0.5",
            "--no-integrity",
        ],
    );
    assert_eq!((r.totals.allocations, r.totals.deallocations), (1, 0));
    assert!(
        summary.contains(&format!(
            "  allocator      1 allocation in 0.5 s ({:.1}/s, extrapolated from a run shorter \
             than 1 s), 0 deallocations, 0 reallocations, {} bytes",
            r.rates.allocations_per_second, r.totals.bytes
        )),
        "{summary}"
    );
    let preset = dir.join("my preset.wav");
    std::fs::copy(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .join("crates/engine/src/preset/kemar_7_1_48k.wav"),
        &preset,
    )
    .unwrap();
    let (summary, r) = run_ok(
        &dir,
        &["--preset", preset.to_str().unwrap(), "--seconds", "0.2"],
    );
    let first = summary.lines().next().unwrap();
    assert!(
        first.contains(&format!("convolution with preset {}, ", preset.display())),
        "{first}"
    );
    assert_eq!(r.config.preset.as_deref(), preset.to_str());
    // Two simulated minutes: one preset switch.
    let soak = dir.join("soak.json");
    let o = crate::rig::allocgate(&["soak", "--minutes", "2", "--out", soak.to_str().unwrap()]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("  soak           1 preset switch, "),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn numbers_typed_out_of_range_come_back_short() {
    let line = refused(&["run", "--seconds", "1e308", "--out", "unused.json"]);
    assert!(
        line.starts_with("error: 1e308 seconds; expected "),
        "{line}"
    );
    let line = refused(&["run", "--drift-ppm", "1e300", "--out", "unused.json"]);
    assert!(
        line.starts_with("error: drift of 1e300 ppm; expected "),
        "{line}"
    );
    let line = refused(&["soak", "--drift-ppm", "-1e300", "--out", "unused.json"]);
    assert!(
        line.starts_with("error: --drift-ppm -1e300; expected "),
        "{line}"
    );
    let line = refused(&["sweep", "--seconds", "1e308"]);
    assert!(
        line.starts_with("error: --seconds 1e308; expected "),
        "{line}"
    );
}
