//! Where a report was made: the machine, and how allocgate was built.

use serde::{Deserialize, Serialize};

/// What a reader needs to know to compare two reports' latencies: the
/// machine and the build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    /// Operating system (`linux`, `macos`, …; Rust's `std::env::consts::OS`).
    pub os: String,
    /// CPU architecture (`x86_64`, `aarch64`, …).
    pub arch: String,
    /// CPU model, or `unknown`.
    pub cpu: String,
    /// Logical CPUs available to the process (0 when unknown).
    pub cpus: u32,
    /// `rustc --version` of the compiler that built allocgate, or
    /// `unknown`.
    pub rustc: String,
    /// `debug` or `release`: whether debug assertions were on.
    pub profile: String,
    /// Git commit allocgate was built from, or `unknown`.
    pub git_revision: String,
    /// allocgate's version.
    pub allocgate_version: String,
}

impl Environment {
    /// This process's environment. Reads `/proc/cpuinfo` on Linux; never
    /// fails (what cannot be found out is `unknown`).
    pub fn detect() -> Environment {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| cpu_model(&text));
        Environment {
            os: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
            cpu: cpu.unwrap_or_else(|| "unknown".to_owned()),
            cpus: std::thread::available_parallelism()
                .map_or(0, |n| u32::try_from(n.get()).unwrap_or(u32::MAX)),
            rustc: env!("ALLOCGATE_RUSTC_VERSION").to_owned(),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .to_owned(),
            git_revision: env!("ALLOCGATE_GIT_REVISION").to_owned(),
            allocgate_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// The first `model name` in the text of `/proc/cpuinfo` (x86 and most
/// other Linux ports).
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        let value = value.trim();
        (key.trim() == "model name" && !value.is_empty()).then(|| value.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_model_is_the_first_model_name_line() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n\nprocessor\t: 1\nmodel name\t: other\n";
        assert_eq!(
            cpu_model(text).as_deref(),
            Some("Intel(R) Xeon(R) CPU @ 2.20GHz")
        );
        assert_eq!(cpu_model("processor\t: 0\nBogoMIPS\t: 50.00\n"), None);
    }

    #[test]
    fn detection_fills_every_field() {
        let env = Environment::detect();
        assert_eq!(env.os, std::env::consts::OS);
        assert!(env.rustc.starts_with("rustc ") || env.rustc == "unknown");
        assert_eq!(env.allocgate_version, env!("CARGO_PKG_VERSION"));
        assert!(!env.git_revision.is_empty() && !env.cpu.is_empty());
    }
}
