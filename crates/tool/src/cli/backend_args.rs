//! `allocgate run`'s backend flags (`--backend`, `--server`,
//! `--spawn-jackd`, `--input`, `--output`) and their validation into a
//! [`BackendChoice`].

use super::run_args::{RunArgs, UsageError};
use crate::run::{BackendChoice, JACK_BUILD_HINT};

/// Longest run on a real backend, in seconds (JACK's frame counter is
/// read as a signed difference; an hour keeps far from its wrap).
pub const MAX_REAL_SECONDS: f64 = 3_600.0;

/// The backend flags, as typed.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BackendArgs {
    /// Where the callbacks run: sim (the simulated clock), jack (a JACK
    /// server; build with --features jack) or coreaudio (macOS).
    #[arg(long, value_name = "B", default_value = "sim")]
    pub backend: String,
    /// jack: the server's name (the server must be running, unless
    /// --spawn-jackd starts it under this name).
    #[arg(long, value_name = "NAME")]
    pub server: Option<String>,
    /// jack: start `jackd -n NAME -d dummy -r RATE -p FRAMES` for the run
    /// (NAME from --server, or allocgate-PID) and stop it afterwards.
    #[arg(long)]
    pub spawn_jackd: bool,
    /// jack: ports to feed the engine's inputs from, one per channel
    /// (default: the harness's own signal, which the integrity check
    /// needs); coreaudio: the input device, by name or UID.
    #[arg(long, value_name = "PORTS|DEVICE", value_delimiter = ',')]
    pub input: Vec<String>,
    /// jack: ports to play the engine's two outputs to as well (say
    /// system:playback_1,system:playback_2); coreaudio: the output
    /// device, by name or UID.
    #[arg(long, value_name = "PORTS|DEVICE", value_delimiter = ',')]
    pub output: Vec<String>,
}

fn refuse<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError::new(msg))
}

/// A device flag that takes one value.
fn one(flag: &str, values: &[String]) -> Result<Option<String>, UsageError> {
    match values {
        [] => Ok(None),
        [v] => Ok(Some(v.clone())),
        _ => refuse(format!(
            "{flag} takes one device with --backend coreaudio; got {}",
            values.len()
        )),
    }
}

impl BackendArgs {
    /// Checks the backend flags against each other and against the rest
    /// of `run`'s.
    pub fn validate(&self, run: &RunArgs) -> Result<BackendChoice, UsageError> {
        let real_only = self.server.is_some()
            || self.spawn_jackd
            || !self.input.is_empty()
            || !self.output.is_empty();
        let choice = match self.backend.as_str() {
            "sim" => {
                if real_only {
                    return refuse(
                        "--server, --spawn-jackd, --input and --output need --backend jack or \
                         coreaudio",
                    );
                }
                return Ok(BackendChoice::Sim);
            }
            "jack" => {
                if !cfg!(all(feature = "jack", target_os = "linux")) {
                    return refuse(format!(
                        "the jack backend is not in this build; {JACK_BUILD_HINT}"
                    ));
                }
                let server = match (&self.server, self.spawn_jackd) {
                    (Some(s), _) => s.clone(),
                    (None, true) => format!("allocgate-{}", std::process::id()),
                    (None, false) => {
                        return refuse(
                            "--backend jack needs --server NAME (a running server) or \
                             --spawn-jackd (start one)",
                        );
                    }
                };
                if server.is_empty() || server.contains(['/', ' ']) {
                    return refuse(format!(
                        "jack server name '{server}'; expected a name without spaces or '/'"
                    ));
                }
                if !self.input.is_empty() && self.input.len() != run.channels {
                    return refuse(format!(
                        "--input names {} for {}; expected one per channel",
                        allocgate_engine::text::count(self.input.len(), "port"),
                        allocgate_engine::text::count(run.channels, "channel")
                    ));
                }
                if self.output.len() > 2 {
                    return refuse(format!(
                        "--output names {}; the engine has 2 outputs",
                        allocgate_engine::text::count(self.output.len(), "port")
                    ));
                }
                BackendChoice::Jack {
                    server,
                    spawn: self.spawn_jackd,
                    input: self.input.clone(),
                    output: self.output.clone(),
                }
            }
            "coreaudio" => {
                if !cfg!(target_os = "macos") {
                    return refuse("the coreaudio backend runs only on macOS");
                }
                if self.server.is_some() || self.spawn_jackd {
                    return refuse("--server and --spawn-jackd are for --backend jack");
                }
                BackendChoice::CoreAudio {
                    input: one("--input", &self.input)?,
                    output: one("--output", &self.output)?,
                }
            }
            other => {
                return refuse(format!(
                    "unknown backend '{other}'; expected sim, jack or coreaudio"
                ));
            }
        };
        let name = choice.name();
        if run.scenario.is_some() {
            return refuse(format!(
                "--scenario runs on the simulated clock, not --backend {name}"
            ));
        }
        if run.mode != crate::drive::sim::Mode::Virtual {
            return refuse(format!(
                "--mode is for the simulated clock; --backend {name} runs in real time"
            ));
        }
        if run.drift_ppm != 0.0 {
            return refuse(format!(
                "--drift-ppm is for the simulated clock; --backend {name} has the devices' own"
            ));
        }
        if run.trace_sites {
            return refuse(format!(
                "--trace-sites runs on the simulated clock only, not --backend {name}"
            ));
        }
        if run.seconds > MAX_REAL_SECONDS {
            return refuse(format!(
                "{} seconds on --backend {name}; expected at most {MAX_REAL_SECONDS}",
                allocgate_engine::text::number(run.seconds)
            ));
        }
        Ok(choice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Wrapper {
        #[command(flatten)]
        run: RunArgs,
    }

    fn choice(args: &[&str]) -> Result<BackendChoice, String> {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        let run = Wrapper::try_parse_from(all).expect("flags parse").run;
        run.backend.validate(&run).map_err(|e| e.to_string())
    }

    #[test]
    fn the_simulated_clock_is_the_default_and_refuses_the_real_backends_flags() {
        assert_eq!(choice(&[]), Ok(BackendChoice::Sim));
        for flags in [
            &["--server", "x"][..],
            &["--spawn-jackd"],
            &["--input", "a"],
            &["--output", "b"],
        ] {
            let e = choice(flags).unwrap_err();
            assert!(
                e.contains("need --backend jack or coreaudio"),
                "{flags:?}: {e}"
            );
        }
    }

    #[test]
    fn an_unknown_backend_is_named() {
        assert_eq!(
            choice(&["--backend", "alsa"]).unwrap_err(),
            "unknown backend 'alsa'; expected sim, jack or coreaudio"
        );
    }

    #[cfg(not(all(feature = "jack", target_os = "linux")))]
    #[test]
    fn without_the_feature_jack_is_refused_with_how_to_build_it() {
        let e = choice(&["--backend", "jack", "--spawn-jackd"]).unwrap_err();
        assert!(
            e.starts_with("the jack backend is not in this build"),
            "{e}"
        );
        assert!(e.contains("--features jack"), "{e}");
        assert!(e.contains("libjack-jackd2-dev"), "{e}");
    }

    #[cfg(all(feature = "jack", target_os = "linux"))]
    #[test]
    fn jack_needs_a_server_or_spawns_one_and_checks_its_port_lists() {
        let e = choice(&["--backend", "jack"]).unwrap_err();
        assert!(e.contains("needs --server NAME"), "{e}");
        assert_eq!(
            choice(&["--backend", "jack", "--server", "s1"]),
            Ok(BackendChoice::Jack {
                server: "s1".to_owned(),
                spawn: false,
                input: vec![],
                output: vec![],
            })
        );
        match choice(&["--backend", "jack", "--spawn-jackd"]) {
            Ok(BackendChoice::Jack { server, spawn, .. }) => {
                assert!(spawn);
                assert_eq!(server, format!("allocgate-{}", std::process::id()));
            }
            other => panic!("{other:?}"),
        }
        let e = choice(&["--backend", "jack", "--server", "s", "--input", "a:1,a:2"]).unwrap_err();
        assert_eq!(
            e,
            "--input names 2 ports for 8 channels; expected one per channel"
        );
        let e = choice(&["--backend", "jack", "--server", "s", "--output", "a,b,c"]).unwrap_err();
        assert_eq!(e, "--output names 3 ports; the engine has 2 outputs");
        let e = choice(&["--backend", "jack", "--server", "two words"]).unwrap_err();
        assert!(e.contains("without spaces"), "{e}");
    }

    #[cfg(all(feature = "jack", target_os = "linux"))]
    #[test]
    fn simulated_clock_flags_are_refused_on_a_real_backend() {
        let jack = ["--backend", "jack", "--server", "s"];
        let cases: [(&[&str], &str); 5] = [
            (
                &["--drift-ppm", "5"],
                "--drift-ppm is for the simulated clock",
            ),
            (&["--mode", "paced"], "--mode is for the simulated clock"),
            (
                &["--trace-sites"],
                "--trace-sites runs on the simulated clock only",
            ),
            (
                &["--scenario", "harness/scenarios/stereo.toml"],
                "--scenario runs on the simulated clock",
            ),
            (&["--seconds", "3601"], "3601 seconds on --backend jack"),
        ];
        for (extra, expected) in cases {
            let mut flags = jack.to_vec();
            flags.extend_from_slice(extra);
            let e = choice(&flags).unwrap_err();
            assert!(e.starts_with(expected), "{extra:?}: {e}");
        }
    }

    #[cfg(not(target_os = "macos"))]
    #[test]
    fn coreaudio_is_refused_off_macos() {
        assert_eq!(
            choice(&["--backend", "coreaudio"]).unwrap_err(),
            "the coreaudio backend runs only on macOS"
        );
    }
}
