//! Any text as a scenario file: `scenario::parse` must return a scenario or
//! a one-line error, never panic. Relative preset paths resolve under a
//! directory that does not exist, so the target reads no real files.
#![no_main]

use std::path::Path;

use allocgate_tool::scenario::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Err(e) = parse(text, "fuzz.toml", Path::new("/nonexistent/allocgate-fuzz")) {
        assert!(!e.to_string().contains('\n'), "a multi-line error: {e}");
    }
});
