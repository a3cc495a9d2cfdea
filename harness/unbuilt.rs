//! The tool's feature-gated test suites a `cargo test` left out, said on
//! one line. libtest captures what a test prints, so the line comes from
//! a `harness = false` target, whose output `cargo test` always shows.
//! Keep in step with the `cfg` lines of `harness/tool/main.rs`.

/// The suites this build of the tests does not contain, with how to
/// build them.
fn unbuilt() -> Vec<&'static str> {
    let mut missing = Vec::new();
    if !cfg!(all(feature = "jack", target_os = "linux")) {
        missing.push("the JACK tests (harness/tool/jack.rs; --features jack, Linux)");
    }
    if !cfg!(feature = "dhat-heap") {
        missing.push("the run --dhat test (harness/tool/heap_profile.rs; --features dhat-heap)");
    }
    missing
}

/// Prints [`unbuilt`] on one line, if anything is missing.
fn main() {
    let missing = unbuilt();
    if !missing.is_empty() {
        println!(
            "note: feature-gated suites not built: {}",
            missing.join("; ")
        );
    }
}
