//! What the preload library's tests and the tool's end-to-end attach
//! tests (harness/tool/attach_jack.rs, which includes this file) share:
//! the library cargo built, the C fixture clients compiled, and the rule
//! that a missing tool skips a test except on CI. Paths are found from the
//! including package's manifest directory, `crates/NAME`, two levels below
//! the workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

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

/// The workspace's top directory.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The preload library cargo built in this test's profile, newer than
/// every source file of the package, or why not.
///
/// `cargo test` builds the package's library (`cdylib` and `rlib`) into
/// `target/<profile>/deps/`, beside the test binaries, when it builds the
/// preload package's tests (a whole-workspace `cargo test` does); `cargo
/// build` copies it up to `target/<profile>/`. (With `cdylib` alone cargo
/// would not build it for its tests at all: only an `rlib` makes the
/// library a dependency of them.) The newer of the two is taken.
pub fn library() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("the test's path: {e}"))?;
    let deps = exe.parent().ok_or("the test binary has no directory")?;
    let name = allocgate_wire::env::LIBRARY;
    let mut candidates = vec![deps.join(name)];
    if let Some(profile) = deps.parent() {
        candidates.push(profile.join(name));
    }
    let built = candidates
        .iter()
        .filter_map(|p| Some((std::fs::metadata(p).and_then(|m| m.modified()).ok()?, p)))
        .max();
    let places = candidates
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" or ");
    let Some((built, lib)) = built else {
        return Err(format!(
            "{name} not found at {places}: build it with `cargo build -p allocgate-preload`"
        ));
    };
    let src = workspace().join("crates/preload/src");
    let entries = std::fs::read_dir(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    for entry in entries.flatten() {
        let changed = entry
            .metadata()
            .and_then(|m| m.modified())
            .map_err(|e| format!("{}: {e}", entry.path().display()))?;
        if changed > built {
            return Err(format!(
                "{} is newer than {}: a stale build; rebuild it with `cargo build -p \
                 allocgate-preload`",
                entry.path().display(),
                lib.display()
            ));
        }
    }
    Ok(lib.clone())
}

/// Compiles the C fixtures `sources` (in harness/preload/fixtures) into
/// `out` with `cc` and the preload's `include/` directory, linking JACK
/// when asked; `None` (skipped) without a compiler or JACK's headers.
pub fn compile(test: &str, sources: &[&str], out: &Path, jack: bool) -> Option<PathBuf> {
    if !require(on_path("cc"), test, "no C compiler (cc) on PATH") {
        return None;
    }
    let top = workspace();
    let fixtures = top.join("harness/preload/fixtures");
    let mut cmd = Command::new("cc");
    cmd.args(["-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pthread"])
        .arg("-I")
        .arg(top.join("crates/preload/include"));
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
