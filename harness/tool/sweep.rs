//! `allocgate sweep`: a small sweep through the library, each row's
//! measured calls equal to the prediction and to figures worked out here
//! from the site formulas by hand; the three files hold those rows; a
//! wrong prediction is caught; bad lists exit 2 with one line.

use std::path::PathBuf;
use std::process::Command;

use allocgate_engine::variant::Variant;
use allocgate_tool::cli::SweepArgs;
use allocgate_tool::sweep::predict::{Point, predict};
use allocgate_tool::sweep::{
    SWEEP_CSV, SWEEP_JSON, SWEEP_MD, SweepReport, mismatches, row, run_and_write,
};
use clap::Parser;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("allocgate-sweep-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    sweep: SweepArgs,
}

fn args(flags: &[&str]) -> SweepArgs {
    let mut all = vec!["allocgate"];
    all.extend_from_slice(flags);
    Args::try_parse_from(all).expect("flags parse").sweep
}

/// Allocations by hand: per input callback, seed makes a buffer list, a
/// pointer array and C channel buffers; per output callback that renders,
/// prefix makes two scale arrays per engine (two ears per renderer) per
/// whole 512-frame block, plus one debug line per engine on each of its
/// first two blocks. 0.25 s at 48 kHz is 12 000 frames: ceil(12 000 / N)
/// callbacks a side, and with N ≥ 512 every output callback renders.
fn by_hand(variant: &str, frames: u64, channels: u64) -> (u64, u64) {
    let callbacks = 12_000u64.div_ceil(frames);
    let renderers = channels; // stereo → 2, 7.1 → 8 with the KEMAR map
    let blocks = frames / 512;
    match variant {
        "seed" => (callbacks * (2 + channels), 0),
        "prefix" => {
            let engines = 2 * renderers;
            let steps = callbacks * blocks;
            (0, 2 * engines * steps + engines * steps.min(2))
        }
        _ => (0, 0),
    }
}

#[test]
fn a_small_sweep_measures_what_the_formulas_predict_and_writes_every_row() {
    let dir = scratch("small");
    let config = args(&[
        "--variants",
        "seed,prefix,fixed",
        "--rates",
        "48000",
        "--frames",
        "256,1024",
        "--channels",
        "2,8",
        "--seconds",
        "0.25",
        "--out",
        dir.to_str().unwrap(),
    ])
    .validate()
    .expect("valid flags");
    let mut calls = 0;
    let report = run_and_write(&config.spec, &config.out, &mut |i, n, _, _| {
        assert!(i >= 1 && i <= n && n == 12);
        calls += 1;
    })
    .expect("the sweep runs");
    assert!(calls >= 12);
    assert_eq!(report.rows.len(), 3 * 2 * 2);
    for r in &report.rows {
        let what = format!("{} {} / {} ch", r.variant, r.frames, r.channels);
        assert!(r.matches, "{what}: {r:?}");
        assert!(mismatches(&report).is_empty());
        let n = 12_000u64.div_ceil(u64::from(r.frames));
        assert_eq!((r.callbacks.input, r.callbacks.output), (n, n), "{what}");
        let (input, output) = by_hand(&r.variant, r.frames.into(), r.channels.into());
        assert_eq!(r.measured.input.allocations, input, "{what}");
        assert_eq!(r.measured.output.allocations, output, "{what}");
        // Everything allocated in a callback is freed in it.
        assert_eq!(r.measured.input.deallocations, input, "{what}");
        assert_eq!(r.measured.output.deallocations, output, "{what}");
        assert_eq!(r.measured_per_second.total, (input + output) as f64 / 0.25);
        // Seed's pointer array grows past four pointers at 8 channels.
        let reallocs = if r.variant == "seed" && r.channels == 8 {
            n
        } else {
            0
        };
        assert_eq!(r.measured.input.reallocations, reallocs, "{what}");
        // Under 512 frames nothing is rendered: no scale arrays at all.
        if r.variant == "prefix" && r.frames == 1024 {
            let c = r.dominant_class.as_ref().expect("prefix allocates");
            assert_eq!(c.class_bytes, Some(48), "{what}");
            // Steady: 2 arrays × 2 ears × R renderers × 2 blocks, 46.875
            // callbacks a second.
            let steady = (2 * 2 * u64::from(r.channels) * 2) as f64 * 48_000.0 / 1024.0;
            assert_eq!(r.steady_per_second, steady, "{what}");
            assert_eq!(
                r.class_48_per_second,
                (8 * u64::from(r.channels) * n) as f64 / 0.25
            );
        }
        if r.variant == "fixed" {
            assert!(r.dominant_class.is_none());
        }
    }
    // The files hold the same rows.
    let md = std::fs::read_to_string(dir.join(SWEEP_MD)).unwrap();
    assert_eq!(md.lines().filter(|l| l.starts_with("| ")).count(), 1 + 12);
    assert!(md.contains("| prefix | 48000 | 1024 | 8 |"), "{md}");
    assert_eq!(md.matches("| yes |").count(), 12);
    let csv = std::fs::read_to_string(dir.join(SWEEP_CSV)).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 13);
    let columns = lines[0].split(',').count();
    assert!(lines.iter().all(|l| l.split(',').count() == columns));
    let prefix = lines
        .iter()
        .find(|l| l.starts_with("prefix,48000,1024,8,8,"))
        .expect("the prefix row");
    assert!(prefix.ends_with(",yes"), "{prefix}");
    let json: SweepReport =
        serde_json::from_slice(&std::fs::read(dir.join(SWEEP_JSON)).unwrap()).unwrap();
    assert_eq!(json, report);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_prediction_off_by_one_is_a_mismatch() {
    let config = args(&[
        "--variants",
        "prefix",
        "--rates",
        "48000",
        "--frames",
        "512",
        "--channels",
        "2",
        "--seconds",
        "0.1",
    ])
    .validate()
    .unwrap();
    let spec = &config.spec;
    let run_config = spec.run_config(Variant::Prefix, 48_000, 512, 2);
    let run = allocgate_tool::run::execute(&run_config, &mut |_| {}).unwrap();
    let point = Point {
        sites: run_config.sites,
        rate: 48_000,
        frames: 512,
        channels: 2,
        renderers: 2,
        duration: std::time::Duration::from_secs_f64(0.1),
        ring_bytes: run_config.engine.ring_bytes,
    };
    let good = predict(&point);
    assert!(row(&run_config, &run.report, &good, 2).matches);
    let mut bad = good;
    bad.output.allocations += 1;
    assert!(!row(&run_config, &run.report, &bad, 2).matches);
    let mut bad = good;
    bad.callbacks -= 1;
    assert!(!row(&run_config, &run.report, &bad, 2).matches);
    // One renderer too few in the model is caught too.
    let wrong = predict(&Point {
        renderers: 1,
        ..point
    });
    assert!(!row(&run_config, &run.report, &wrong, 2).matches);
}

#[test]
fn bad_lists_exit_2_with_one_line_and_write_nothing() {
    let dir = scratch("bad");
    for flags in [
        &["--rates", "48000,fast"][..],
        &["--channels", "16"],
        &["--frames", "0"],
        &["--variants", "best"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_allocgate"))
            .arg("sweep")
            .args(flags)
            .args(["--out", dir.to_str().unwrap()])
            .output()
            .expect("the binary runs");
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{flags:?}: {err}");
        assert!(err.starts_with("error: --"), "{flags:?}: {err}");
        assert!(out.stdout.is_empty());
        assert!(!dir.exists(), "{flags:?}");
    }
}

#[test]
fn the_binary_prints_the_table_writes_the_files_and_exits_0() {
    let dir = scratch("binary");
    let out = Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .args([
            "sweep",
            "--variants",
            "seed,fixed",
            "--rates",
            "48000",
            "--frames",
            "512",
            "--channels",
            "2",
            "--seconds",
            "0.1",
            "--out",
            dir.to_str().unwrap(),
        ])
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    // 4 800 frames: ceil(4 800 / 512) = 10 input callbacks of 2 + 2
    // allocations, 400 a second.
    assert!(
        stdout.contains("| seed | 48000 | 512 | 2 | 400.0 | 400.0 | 0.0 | 0.0 | 400.0 | 400.0 |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| fixed | 48000 | 512 | 2 | 0.0 | 0.0 |"),
        "{stdout}"
    );
    let md = std::fs::read_to_string(dir.join(SWEEP_MD)).unwrap();
    assert!(stdout.starts_with(&md), "the printed table is the file");
    let _ = std::fs::remove_dir_all(&dir);
}
