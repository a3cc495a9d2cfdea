//! Captures what reports state about the build and cargo does not provide:
//! the compiler's version (`ALLOCGATE_RUSTC_VERSION`) and the git revision
//! of the sources (`ALLOCGATE_GIT_REVISION`), each "unknown" when it cannot
//! be found out (no git, or sources outside a git checkout of this
//! workspace). This is the tool's build script: the library a user adds
//! has none.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = output(Command::new(rustc).arg("--version"));
    println!(
        "cargo:rustc-env=ALLOCGATE_RUSTC_VERSION={}",
        version.as_deref().unwrap_or("unknown")
    );

    // The workspace's top: this crate lives in crates/tool/.
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let revision = git_revision(&manifest_dir.join("../.."));
    println!(
        "cargo:rustc-env=ALLOCGATE_GIT_REVISION={}",
        revision.as_deref().unwrap_or("unknown")
    );
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC");
}

/// HEAD's commit, when the workspace's directory is the top of a git work
/// tree (not, say, a packaged crate unpacked inside some other repository).
/// Asks cargo to re-run this script when HEAD moves.
fn git_revision(dir: &Path) -> Option<String> {
    let git = |args: &[&str]| output(Command::new("git").arg("-C").arg(dir).args(args));
    let top = git(&["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    // HEAD (per work tree), the branches and the packed refs (shared by
    // all work trees) are what a commit or a checkout changes. Only paths
    // that exist are named: cargo re-runs the script on every build for a
    // missing one.
    let git_dir = git(&["rev-parse", "--path-format=absolute", "--git-dir"])?;
    let common_dir = git(&["rev-parse", "--path-format=absolute", "--git-common-dir"])?;
    let watched = [
        Path::new(&git_dir).join("HEAD"),
        Path::new(&common_dir).join("refs").join("heads"),
        Path::new(&common_dir).join("packed-refs"),
    ];
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    git(&["rev-parse", "HEAD"])
}

/// The command's trimmed standard output, if it ran, succeeded and printed
/// something.
fn output(command: &mut Command) -> Option<String> {
    let out = command.output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}
