//! Where the preload library is: `$ALLOCGATE_PRELOAD` when set, else
//! beside the running `allocgate` (`target/release/` after `cargo build
//! --release`), else in `../lib/allocgate/` from it (an installed
//! layout: `bin/allocgate`, `lib/allocgate/liballocgate_preload.so`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use allocgate_wire::env::LIBRARY;

/// The variable that names the preload library explicitly.
pub const PRELOAD_VAR: &str = "ALLOCGATE_PRELOAD";

/// How to build the library.
pub const BUILD_HINT: &str = "cargo build --release -p allocgate-preload";

/// The library, or every place it was looked for.
pub fn locate(
    explicit: Option<OsString>,
    executable: Option<&Path>,
) -> Result<PathBuf, Vec<PathBuf>> {
    let candidates = candidates(explicit, executable);
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or(candidates)
}

/// The places looked at, in order: only `explicit` when it is set (and
/// not empty).
fn candidates(explicit: Option<OsString>, executable: Option<&Path>) -> Vec<PathBuf> {
    if let Some(path) = explicit.filter(|p| !p.is_empty()) {
        return vec![PathBuf::from(path)];
    }
    let Some(dir) = executable.and_then(Path::parent) else {
        return Vec::new();
    };
    vec![
        dir.join(LIBRARY),
        dir.join("..").join("lib").join("allocgate").join(LIBRARY),
    ]
}

/// The one-line refusal when the library was not found.
pub fn missing(looked: &[PathBuf]) -> String {
    let places: Vec<String> = looked
        .iter()
        .map(|p| format!("'{}'", p.display()))
        .collect();
    let places = if places.is_empty() {
        "nowhere (the running executable's path is unknown)".to_owned()
    } else {
        places.join(", ")
    };
    format!(
        "the preload library {LIBRARY} was not found (looked at {places}); build it with \
         `{BUILD_HINT}`, or name it with {PRELOAD_VAR}=PATH"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use allocgate_engine::scratch::TestDir;

    #[test]
    fn the_variable_wins_then_beside_the_executable_then_its_lib_directory() {
        let dir = TestDir::new("attach-preload");
        let bin = dir.path().join("bin");
        let lib = dir.path().join("lib").join("allocgate");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&lib).unwrap();
        let exe = bin.join("allocgate");
        let looked = locate(None, Some(&exe)).unwrap_err();
        assert_eq!(
            looked,
            [
                bin.join(LIBRARY),
                bin.join("../lib/allocgate").join(LIBRARY)
            ]
        );
        let message = missing(&looked);
        assert!(
            message.contains(BUILD_HINT) && !message.contains('\n'),
            "{message}"
        );
        std::fs::write(lib.join(LIBRARY), b"").unwrap();
        assert_eq!(
            locate(None, Some(&exe)).unwrap(),
            bin.join("../lib/allocgate").join(LIBRARY)
        );
        std::fs::write(bin.join(LIBRARY), b"").unwrap();
        assert_eq!(locate(None, Some(&exe)).unwrap(), bin.join(LIBRARY));
        let named = dir.path().join("elsewhere.so");
        assert_eq!(
            locate(Some(named.clone().into()), Some(&exe)).unwrap_err(),
            std::slice::from_ref(&named),
            "a variable naming a missing file is not passed over"
        );
        std::fs::write(&named, b"").unwrap();
        assert_eq!(
            locate(Some(named.clone().into()), Some(&exe)).unwrap(),
            named
        );
        assert_eq!(
            locate(Some(OsString::new()), Some(&exe)).unwrap(),
            bin.join(LIBRARY),
            "an empty variable is unset"
        );
    }
}
