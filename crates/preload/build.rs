//! Exports the C-level layer's C functions from the shared library.
//!
//! rustc's version script for a `cdylib` exports the Rust items marked
//! `#[no_mangle]`, not the C functions of the interposition layer's
//! static library (`open`, `syscall`, the `printf` family and its
//! `_FORTIFY_SOURCE` variants): they would stay local to the library and
//! never interpose. A second version script, merged by the linker, makes
//! them global.

use std::path::PathBuf;

/// The C functions of `allocgate-interpose`'s `variadic.c`.
const C_FUNCTIONS: &[&str] = &[
    "open",
    "open64",
    "openat",
    "openat64",
    "mremap",
    "syscall",
    "printf",
    "fprintf",
    "vprintf",
    "vfprintf",
    "dprintf",
    "vdprintf",
    "__printf_chk",
    "__fprintf_chk",
    "__vprintf_chk",
    "__vfprintf_chk",
    "__dprintf_chk",
    "__vdprintf_chk",
];

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" || env != "gnu" {
        return;
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let map = out.join("exports.map");
    let mut text = String::from("{\n  global:\n");
    for f in C_FUNCTIONS {
        text.push_str(&format!("    {f};\n"));
    }
    text.push_str("};\n");
    std::fs::write(&map, text).expect("OUT_DIR is writable");
    println!(
        "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
        map.display()
    );
    println!("cargo:rerun-if-changed=build.rs");
}
