//! `allocgate attach`'s flags, and their validation into an
//! [`AttachConfig`].

use std::ffi::OsString;
use std::path::PathBuf;

use super::UsageError;
use super::gate::hold;
use super::run_args::check_seconds;
use crate::attach::{AttachConfig, DEFAULT_OUT, SUPPORTED};
use crate::gate::Hold;

/// The flags of `allocgate attach`, as typed.
#[derive(Debug, Clone, clap::Args)]
pub struct AttachArgs {
    /// Stop the program after S seconds (SIGTERM to its process group,
    /// SIGKILL 2 s later if it is still running; at most 86400); without
    /// it, the run lasts until the program exits.
    #[arg(long, value_name = "S")]
    pub seconds: Option<f64>,
    /// Where to write the JSON report.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_OUT)]
    pub out: PathBuf,
    /// Judge the callbacks: exit 1 if any audio-cycle callback past its
    /// client's warm-up made an allocator call or a blocking call, or if
    /// records were dropped (callbacks that ran unchecked).
    #[arg(long)]
    pub gate: bool,
    /// The first N callbacks of each client are warm-up: reported apart
    /// (`warm_up`, `steady_state`) and not judged by --gate.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub warm_up: u64,
    /// Hold the allocations to a per-site baseline instead of zero (as
    /// `allocgate gate --baseline`): a new site or a higher count fails, a
    /// lower one passes and asks for an update. Traces sites and judges
    /// the run as --gate does.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: write this run's per-site counts to FILE (replaced
    /// atomically) instead of comparing.
    #[arg(long, requires = "baseline")]
    pub update_baseline: bool,
    /// Record where the callbacks' allocator calls come from: return
    /// addresses captured on the audio thread without allocating, named
    /// after the run (C, C++ and Rust frames alike) by the first function
    /// outside the C library and allocgate; the report's `sites` and the
    /// summary list them.
    #[arg(long)]
    pub trace_sites: bool,
    /// Read each callback's page faults and context switches (two
    /// getrusage(RUSAGE_THREAD) calls around it, outside its timing).
    #[arg(long)]
    pub rusage: bool,
    /// Also write the callback durations (nanoseconds) as an HdrHistogram
    /// interval log (as `allocgate run --hdr-log`). Replaced atomically.
    #[arg(long, value_name = "FILE")]
    pub hdr_log: Option<PathBuf>,
    /// Profile the program's child processes too (each writes its own
    /// capture; their clients are reported beside the program's).
    /// Without it, children run without the preload library.
    #[arg(long)]
    pub children: bool,
    /// The program and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "PROGRAM [ARGS]")]
    pub command: Vec<OsString>,
}

impl AttachArgs {
    /// Checks every flag (and reads the baseline).
    pub fn validate(&self) -> Result<AttachConfig, UsageError> {
        if !SUPPORTED {
            return Err(UsageError::new(format!(
                "attach on {}; expected Linux with glibc, where the preload library works \
                 through LD_PRELOAD",
                std::env::consts::OS
            )));
        }
        let Some((program, arguments)) = self.command.split_first() else {
            return Err(UsageError::new(
                "no program to run; expected -- PROGRAM [ARGS]",
            ));
        };
        if let Some(s) = self.seconds {
            check_seconds(s)?;
        }
        if self.rusage {
            allocgate::hazard::check_usage().map_err(|e| UsageError::new(e.to_string()))?;
        }
        let hold = hold(self.baseline.as_ref(), self.update_baseline)?;
        let held = !matches!(hold, Hold::Zero);
        Ok(AttachConfig {
            program: program.clone(),
            arguments: arguments.to_vec(),
            seconds: self.seconds,
            out: self.out.clone(),
            hdr_log: self.hdr_log.clone(),
            gate: self.gate || held,
            warm_up: self.warm_up,
            hold,
            trace_sites: self.trace_sites || held,
            rusage: self.rusage,
            children: self.children,
            stop: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Wrapper {
        #[command(flatten)]
        attach: AttachArgs,
    }

    fn parse(args: &[&str]) -> Result<AttachArgs, clap::Error> {
        let mut all = vec!["attach"];
        all.extend_from_slice(args);
        Wrapper::try_parse_from(all).map(|w| w.attach)
    }

    #[test]
    fn the_program_follows_the_double_dash_with_its_own_flags() {
        let a = parse(&["--seconds", "2", "--", "prog", "--seconds", "x"]).unwrap();
        if !SUPPORTED {
            return;
        }
        let c = a.validate().unwrap();
        assert_eq!(c.program, "prog");
        assert_eq!(c.arguments, ["--seconds", "x"]);
        assert_eq!(
            (c.seconds, c.warm_up, c.gate, c.trace_sites),
            (Some(2.0), 0, false, false)
        );
        assert_eq!(c.out, PathBuf::from(DEFAULT_OUT));
        assert!(parse(&["--seconds", "2"]).is_err(), "a program is required");
        assert!(parse(&["prog"]).is_err(), "the program follows --");
    }

    #[test]
    fn seconds_are_refused_as_run_refuses_them_and_a_baseline_gates_and_traces() {
        if !SUPPORTED {
            return;
        }
        for bad in ["0", "NaN", "inf", "1e9"] {
            let e = parse(&["--seconds", bad, "--", "p"])
                .unwrap()
                .validate()
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("seconds; expected more than 0 and at most 86400"),
                "{e}"
            );
        }
        let c = parse(&["--baseline", "b.json", "--update-baseline", "--", "p"])
            .unwrap()
            .validate()
            .unwrap();
        assert!(c.gate && c.trace_sites);
        assert!(matches!(c.hold, Hold::UpdateBaseline(_)));
        let e = parse(&["--baseline", "/nonexistent/b.json", "--", "p"])
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/b.json"), "{e}");
    }
}
