//! Any bytes as a SOFA file: `sofa::import_bytes` must return a set or an
//! error, never panic past its own guard (which catches panics of sofar's
//! HDF5 reader and silences them, libFuzzer's aborting hook included; a
//! panic anywhere else still aborts). An imported set must write as WAV.
//! 44.1 kHz is the sample file's own rate: no resampling per run.
#![no_main]

use std::path::Path;

use allocgate_engine::preset::sofa::{ImportOptions, import_bytes, write_hesuvi_wav};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let mut options = ImportOptions::default();
    options.sample_rate = 44_100;
    if let Ok(set) = import_bytes(bytes, Path::new("fuzz.sofa"), &options) {
        let mut out = std::io::Cursor::new(Vec::new());
        write_hesuvi_wav(&set, &mut out).expect("an imported set writes");
    }
});
