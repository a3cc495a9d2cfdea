//! `allocgate run --dhat` in a build with the `dhat-heap` feature: the
//! binary, whose global allocator is then stacked on dhat's, writes a
//! profile dhat's viewer opens. Built only with the feature: `cargo test
//! -p allocgate-tool --features dhat-heap --test tool heap_profile`, which CI (`.ci/run`)
//! runs after its main test command.

use std::process::Command;

#[test]
fn run_with_dhat_writes_a_dhat_profile_beside_the_report() {
    let dir = std::env::temp_dir().join(format!("allocgate-dhat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let profile = dir.join("nested/dhat-heap.json");
    let out = dir.join("run.json");
    let o = Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .args(["run", "--seconds", "0.2", "--out"])
        .arg(&out)
        .arg("--dhat")
        .arg(&profile)
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("dhat profile   {}", profile.display())),
        "{stdout}"
    );
    assert!(
        stderr.contains("dhat: Total:"),
        "dhat's own summary: {stderr}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&profile).expect("the profile, its directory made"))
            .expect("the profile is JSON");
    assert!(json["dhatFileVersion"].is_u64(), "dhatFileVersion");
    assert_eq!(json["mode"], "rust-heap");
    assert!(
        !json["pps"].as_array().expect("pps").is_empty(),
        "the run allocated, so the profile has program points"
    );
    // The fixed engine still allocates nothing in its callbacks under dhat.
    let report = allocgate_tool::report::read_json(&out).expect("the report");
    assert_eq!(report.totals.callbacks_touching_allocator, 0);
    let _ = std::fs::remove_dir_all(&dir);
}
