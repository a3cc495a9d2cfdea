//! Compiles `src/variadic.c`: the C library's variadic functions (`open`,
//! `syscall`, the `printf` family, …), which stable Rust cannot define.
//! Linux with glibc only, as the rest of the crate.

fn main() {
    println!("cargo:rerun-if-changed=src/variadic.c");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        cc::Build::new()
            .file("src/variadic.c")
            .warnings(true)
            .extra_warnings(true)
            // Unwind tables for thread cancellation, which unwinds through
            // these functions when a thread is cancelled inside one.
            .flag("-fexceptions")
            .compile("allocgate_interpose_variadic");
    }
}
