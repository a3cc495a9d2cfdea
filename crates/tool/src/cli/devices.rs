//! `allocgate devices`: the devices of a backend, as a table.

use std::fmt::Write as _;

use crate::drive::backend::{BackendError, DeviceInfo, ErrorKind};

use super::run_args::UsageError;

/// The flags of `allocgate devices`.
#[derive(Debug, Clone, clap::Args)]
pub struct DevicesArgs {
    /// jack (Linux, build with --features jack) or coreaudio (macOS).
    #[arg(long, value_name = "B", default_value = "jack")]
    pub backend: String,
    /// jack: the server to list (default: JACK's default server, or the
    /// one --spawn-jackd starts).
    #[arg(long, value_name = "NAME")]
    pub server: Option<String>,
    /// jack: start a dummy-driver server for the listing and stop it
    /// afterwards.
    #[arg(long)]
    pub spawn_jackd: bool,
}

/// What `allocgate devices` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The backend's name.
    pub backend: &'static str,
    /// Where: the JACK server, or the system.
    pub place: String,
    /// The devices.
    pub devices: Vec<DeviceInfo>,
}

impl DevicesArgs {
    /// Lists the devices the flags ask for.
    pub fn list(&self) -> Result<Listing, BackendError> {
        match self.backend.as_str() {
            "jack" => self.jack(),
            "coreaudio" => {
                if self.server.is_some() || self.spawn_jackd {
                    return Err(BackendError::new(
                        ErrorKind::Backend,
                        "--server and --spawn-jackd are for --backend jack",
                    ));
                }
                let host = crate::drive::backend::coreaudio::host()?;
                Ok(Listing {
                    backend: "coreaudio",
                    place: "this Mac".to_owned(),
                    devices: host.devices()?,
                })
            }
            other => Err(BackendError::new(
                ErrorKind::Backend,
                format!("unknown backend '{other}'; expected jack or coreaudio"),
            )),
        }
    }

    #[cfg(all(feature = "jack", target_os = "linux"))]
    fn jack(&self) -> Result<Listing, BackendError> {
        use crate::drive::backend::Host;
        use crate::drive::backend::jack::{JackHost, JackServer};

        let name = match (&self.server, self.spawn_jackd) {
            (Some(s), _) => s.clone(),
            (None, true) => format!("allocgate-{}", std::process::id()),
            (None, false) => std::env::var(crate::drive::backend::jack::SERVER_VARIABLE)
                .unwrap_or_else(|_| "default".to_owned()),
        };
        let _server = match self.spawn_jackd {
            true => Some(JackServer::spawn(&name, 48_000, 512)?),
            false => None,
        };
        Ok(Listing {
            backend: "jack",
            place: format!("jack server '{name}'"),
            devices: JackHost::new(&name).devices()?,
        })
    }

    #[cfg(not(all(feature = "jack", target_os = "linux")))]
    fn jack(&self) -> Result<Listing, BackendError> {
        Err(BackendError::new(
            ErrorKind::NotBuilt,
            format!(
                "the jack backend is not in this build; {}",
                crate::run::JACK_BUILD_HINT
            ),
        ))
    }
}

impl From<BackendError> for UsageError {
    fn from(e: BackendError) -> UsageError {
        UsageError::new(e.to_string())
    }
}

/// The listing as a markdown table.
pub fn render_devices(l: &Listing) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} devices on {} ({}):\n",
        l.backend,
        l.place,
        l.devices.len()
    );
    let _ = writeln!(s, "| id | name | inputs | outputs | rates (Hz) |");
    let _ = writeln!(s, "|---|---|---:|---:|---|");
    for d in &l.devices {
        let rates: Vec<String> = d.sample_rates.iter().map(u32::to_string).collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            d.id,
            d.name,
            d.input_channels,
            d.output_channels,
            rates.join(", ")
        );
    }
    if l.backend == "jack" {
        let _ = writeln!(
            s,
            "\ninputs: ports that can feed the engine (JACK output ports, CLIENT:PORT); outputs: \
             ports it can play to (JACK input ports). Pass them to allocgate run --backend jack \
             --input … --output …"
        );
    }
    s
}
