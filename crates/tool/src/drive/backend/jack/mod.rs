//! JACK (Linux, Cargo feature `jack`): the engine's callbacks in a JACK
//! client's process thread, fed by a second client playing the known
//! signal and heard by a third that records for the integrity check
//! (`stream`); and a server the harness can start itself ([`server`]).
//!
//! A session: [`connect`] opens the three clients on a named server
//! (whose rate and period the engine must be built for), then [`start`]
//! registers nothing new, activates them, connects the ports and opens
//! the measured window: from the first cycle after every connection is
//! made, for as many engine cycles as `frames` of device time take.
//!
//! The server is chosen with the `JACK_DEFAULT_SERVER` environment
//! variable, the only way libjack's `jack_client_open` takes a name
//! through the `jack` crate (it cannot pass the varargs). Client names
//! carry the process id, since two clients of one name on two servers
//! break each other.

pub mod server;
mod stream;

use std::sync::{Arc, Mutex};

use jack::{AsyncClient, AudioIn, AudioOut, Client, ClientOptions, Port, PortFlags, PortSpec};

use crate::drive::backend::{
    BackendError, Callbacks, DeviceInfo, ErrorKind, Host, Started, Stopped, Stream, StreamInfo,
};
use crate::drive::callback::Meter;
use crate::drive::queue;
use crate::drive::signal::Signal;

pub use server::JackServer;
use stream::{EngineHandler, Notifications, RecordHandler, Shared, SignalHandler, Window};

/// The variable libjack reads for the server's name.
pub const SERVER_VARIABLE: &str = "JACK_DEFAULT_SERVER";

/// Serialises setting [`SERVER_VARIABLE`] and opening clients, so two
/// sessions in one process never open a client on each other's server.
static OPENING: Mutex<()> = Mutex::new(());

fn jack_error(what: &str, server: &str, e: &jack::Error) -> BackendError {
    BackendError::new(
        ErrorKind::Unavailable,
        format!("{what} on jack server '{server}': {e}"),
    )
}

/// Opens a client named `name` on the JACK server `server` (without
/// starting one), for code of your own: the harness's sessions use it
/// too. Control side.
pub fn open_client(server: &str, name: &str) -> Result<Client, BackendError> {
    open(server, name)
}

fn open(server: &str, name: &str) -> Result<Client, BackendError> {
    jack::set_logger(jack::LoggerType::None);
    let _guard = OPENING.lock().unwrap_or_else(|p| p.into_inner());
    if std::env::var_os(SERVER_VARIABLE).as_deref() != Some(server.as_ref()) {
        // SAFETY: libjack reads this variable only inside
        // `jack_client_open`, which runs under the same lock, and
        // allocgate reads no variable while a session runs. The binary
        // sets it once, before its first client (and so before libjack's
        // threads) exists; a process that talks to several servers (the
        // tests) changes it only under this lock.
        unsafe { std::env::set_var(SERVER_VARIABLE, server) };
    }
    Client::new(name, ClientOptions::NO_START_SERVER)
        .map(|(client, _status)| client)
        .map_err(|e| match e {
            jack::Error::ClientError(status)
                if status.contains(jack::ClientStatus::SERVER_FAILED) =>
            {
                BackendError::new(
                    ErrorKind::Unavailable,
                    format!(
                        "no jack server named '{server}' is running (start one with \
                         jackd -n {server} -d dummy, or pass --spawn-jackd)"
                    ),
                )
            }
            e => jack_error(&format!("cannot open client '{name}'"), server, &e),
        })
}

/// What a session connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JackOptions {
    /// The server's name.
    pub server: String,
    /// Input channels C: the engine client's input ports.
    pub channels: usize,
    /// Ports to feed the engine's inputs from, one per channel; empty: the
    /// harness's own signal client (and the integrity check).
    pub input_ports: Vec<String>,
    /// Ports to play the engine's two outputs to as well (say
    /// `system:playback_1,system:playback_2`); the recorder hears them in
    /// any case.
    pub output_ports: Vec<String>,
}

/// Three clients open on a server, ports registered, not yet active.
#[derive(Debug)]
pub struct Connection {
    options: JackOptions,
    engine: Client,
    ins: Vec<Port<AudioIn>>,
    outs: [Port<AudioOut>; 2],
    signal: Option<(Client, Vec<Port<AudioOut>>)>,
    recorder: (Client, [Port<AudioIn>; 2]),
    sample_rate: u32,
    period: u32,
}

fn register<T: jack::PortSpec + Default>(
    client: &Client,
    name: &str,
    server: &str,
) -> Result<Port<T>, BackendError> {
    client
        .register_port(name, T::default())
        .map_err(|e| jack_error(&format!("cannot register port '{name}'"), server, &e))
}

/// Opens the engine, signal and recorder clients on `options.server` and
/// registers their ports. The engine must then be built for
/// [`Connection::sample_rate`]. Control side.
pub fn connect(options: &JackOptions) -> Result<Connection, BackendError> {
    let server = options.server.as_str();
    if !(1..=allocgate_engine::layout::MAX_CHANNELS).contains(&options.channels) {
        return Err(BackendError::new(
            ErrorKind::Format,
            format!("{} input channels; expected 1 to 16", options.channels),
        ));
    }
    if !options.input_ports.is_empty() && options.input_ports.len() != options.channels {
        return Err(BackendError::new(
            ErrorKind::DeviceNotFound,
            format!(
                "--input names {} for {}; expected one per channel",
                allocgate_engine::text::count(options.input_ports.len(), "port"),
                allocgate_engine::text::count(options.channels, "channel")
            ),
        ));
    }
    let prefix = format!("allocgate-{}", std::process::id());
    let engine = open(server, &format!("{prefix}-engine"))?;
    let ins = (1..=options.channels)
        .map(|c| register::<AudioIn>(&engine, &format!("in_{c}"), server))
        .collect::<Result<Vec<_>, _>>()?;
    let outs = [
        register::<AudioOut>(&engine, "out_left", server)?,
        register::<AudioOut>(&engine, "out_right", server)?,
    ];
    let signal = if options.input_ports.is_empty() {
        let client = open(server, &format!("{prefix}-signal"))?;
        let ports = (1..=options.channels)
            .map(|c| register::<AudioOut>(&client, &format!("out_{c}"), server))
            .collect::<Result<Vec<_>, _>>()?;
        Some((client, ports))
    } else {
        None
    };
    let recorder = open(server, &format!("{prefix}-recorder"))?;
    let heard = [
        register::<AudioIn>(&recorder, "in_left", server)?,
        register::<AudioIn>(&recorder, "in_right", server)?,
    ];
    let sample_rate = engine.sample_rate();
    let period = engine.buffer_size();
    Ok(Connection {
        options: options.clone(),
        engine,
        ins,
        outs,
        signal,
        recorder: (recorder, heard),
        sample_rate,
        period,
    })
}

impl Connection {
    /// The server's sample rate.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The server's period: frames per process cycle.
    pub fn period(&self) -> u32 {
        self.period
    }

    /// Whether the harness's signal feeds the engine (so the output can be
    /// checked).
    pub fn plays_signal(&self) -> bool {
        self.signal.is_some()
    }
}

/// Cycles the window waits after the last connection before it opens, so
/// every client has seen the new graph.
const SETTLE_CYCLES: u32 = 4;

/// Activates the clients, connects signal → engine → recorder (and the
/// extra ports asked for), and opens the measured window: `frames`
/// device frames, run as ceil(frames / period) engine cycles (a cycle the
/// server skips under load is not counted). `signal` is what the signal client plays. Control side.
pub fn start(
    connection: Connection,
    callbacks: Callbacks,
    signal: Signal,
    frames: u64,
) -> Result<Started, BackendError> {
    if callbacks.count {
        allocgate::check_installed()
            .map_err(|e| BackendError::new(ErrorKind::Backend, e.to_string()))?;
    }
    let Connection {
        options,
        engine,
        ins,
        outs,
        signal: signal_client,
        recorder,
        sample_rate,
        period,
    } = connection;
    let server = options.server.clone();
    let (measurements, measurements_out) = queue::measurements(queue::MEASUREMENTS);
    let block_frames = queue::BLOCK_SECONDS * sample_rate as usize;
    let (blocks, blocks_out) = queue::blocks(block_frames);
    let window = Arc::new(Window::default());
    let shared = Arc::new(Shared::default());

    let in_names = names(&ins, &server)?;
    let out_names = names(&outs, &server)?;
    let recorder_names = names(&recorder.1, &server)?;
    let signal_names = match &signal_client {
        Some((_, ports)) => names(ports, &server)?,
        None => options.input_ports.clone(),
    };

    let engine = engine
        .activate_async(
            Notifications(Arc::clone(&shared)),
            EngineHandler {
                ins,
                outs,
                input: callbacks.input,
                output: callbacks.output,
                meter: Meter {
                    allocations: callbacks.count,
                    rusage: callbacks.rusage,
                },
                rate: sample_rate,
                queue: measurements,
                window: Arc::clone(&window),
                shared: Arc::clone(&shared),
                index: [0, 0],
                outside: Default::default(),
            },
        )
        .map_err(|e| jack_error("cannot activate the engine client", &server, &e))?;
    let signal_client = match signal_client {
        Some((client, outs)) => Some(
            client
                .activate_async(
                    (),
                    SignalHandler {
                        outs,
                        signal,
                        window: Arc::clone(&window),
                        count: callbacks.count,
                        shared: Arc::clone(&shared),
                        outside: Default::default(),
                    },
                )
                .map_err(|e| jack_error("cannot activate the signal client", &server, &e))?,
        ),
        None => None,
    };
    let (recorder, heard) = recorder;
    let recorder = recorder
        .activate_async(
            (),
            RecordHandler {
                ins: heard,
                blocks,
                window: Arc::clone(&window),
                count: callbacks.count,
                shared: Arc::clone(&shared),
                outside: Default::default(),
                last: 0,
            },
        )
        .map_err(|e| jack_error("cannot activate the recorder client", &server, &e))?;

    let client = engine.as_client();
    let connect = |from: &str, to: &str| {
        client.connect_ports_by_name(from, to).map_err(|e| {
            BackendError::new(
                ErrorKind::DeviceNotFound,
                format!("cannot connect '{from}' to '{to}' on jack server '{server}': {e}"),
            )
        })
    };
    for (from, to) in signal_names.iter().zip(&in_names) {
        connect(from, to)?;
    }
    for (from, to) in out_names.iter().zip(&recorder_names) {
        connect(from, to)?;
    }
    for (from, to) in out_names.iter().zip(&options.output_ports) {
        connect(from, to)?;
    }
    let first = client
        .frame_time()
        .wrapping_add(SETTLE_CYCLES.saturating_mul(period));
    window.open(first, frames.div_ceil(u64::from(period.max(1))));

    Ok(Started {
        stream: Box::new(JackStream {
            server,
            sample_rate,
            period,
            engine: Some(engine),
            signal: signal_client,
            recorder: Some(recorder),
            shared,
            window,
        }),
        measurements: vec![measurements_out],
        blocks: Some(blocks_out),
    })
}

fn names<T>(ports: &[Port<T>], server: &str) -> Result<Vec<String>, BackendError> {
    ports
        .iter()
        .map(|p| {
            p.name()
                .map_err(|e| jack_error("cannot read a port's name", server, &e))
        })
        .collect()
}

type EngineClient = AsyncClient<Notifications, EngineHandler>;
type SignalClient = AsyncClient<(), SignalHandler>;
type RecorderClient = AsyncClient<(), RecordHandler>;

/// A running JACK session.
pub struct JackStream {
    server: String,
    sample_rate: u32,
    period: u32,
    engine: Option<EngineClient>,
    signal: Option<SignalClient>,
    recorder: Option<RecorderClient>,
    shared: Arc<Shared>,
    window: Arc<Window>,
}

impl std::fmt::Debug for JackStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JackStream")
            .field("server", &self.server)
            .field("sample_rate", &self.sample_rate)
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

impl Stream for JackStream {
    fn info(&self) -> StreamInfo {
        self.shared
            .info(&self.server, self.sample_rate, self.period)
    }

    fn failure(&self) -> Option<String> {
        self.shared.failure(&self.server)
    }

    fn ends_itself(&self) -> bool {
        true
    }

    fn finished(&self) -> bool {
        self.shared.finished()
    }

    fn end_early(&self) {
        self.window.end_now();
    }

    fn stop(mut self: Box<Self>) -> Result<Stopped, BackendError> {
        let gone = self.shared.failure(&self.server).is_some();
        // Deactivating after the server went away can only fail; the
        // clients are closed when dropped either way.
        if let Some(c) = self.signal.take()
            && !gone
        {
            let _ = c.deactivate();
        }
        if let Some(c) = self.recorder.take()
            && !gone
        {
            let _ = c.deactivate();
        }
        if let Some(c) = self.engine.take()
            && !gone
        {
            let _ = c.deactivate();
        }
        Ok(Stopped {
            info: self
                .shared
                .info(&self.server, self.sample_rate, self.period),
            outside_callbacks: self.shared.outside(),
            idle_cycles: self.shared.idle_cycles(),
        })
    }
}

/// The ports of a JACK server, grouped by client.
#[derive(Debug, Clone)]
pub struct JackHost {
    server: String,
}

impl JackHost {
    /// The host for the server named `server`.
    pub fn new(server: &str) -> JackHost {
        JackHost {
            server: server.to_owned(),
        }
    }
}

impl Host for JackHost {
    fn name(&self) -> &'static str {
        "jack"
    }

    /// One entry per client: its audio ports that can feed the engine
    /// (JACK output ports, "input channels" here) and those it can play
    /// to (JACK input ports). The id is the client's name; its ports are
    /// `id:port`.
    fn devices(&self) -> Result<Vec<DeviceInfo>, BackendError> {
        let client = open(
            &self.server,
            &format!("allocgate-{}-list", std::process::id()),
        )?;
        let rate = client.sample_rate();
        let mut devices: Vec<DeviceInfo> = Vec::new();
        for (flags, capture) in [(PortFlags::IS_OUTPUT, true), (PortFlags::IS_INPUT, false)] {
            for port in client.ports(None, Some(AudioIn::default().jack_port_type()), flags) {
                let Some((owner, _)) = port.split_once(':') else {
                    continue;
                };
                if owner == client.name() {
                    continue;
                }
                let i = match devices.iter().position(|d| d.id == owner) {
                    Some(i) => i,
                    None => {
                        devices.push(DeviceInfo {
                            id: owner.to_owned(),
                            name: owner.to_owned(),
                            input_channels: 0,
                            output_channels: 0,
                            sample_rates: vec![rate],
                        });
                        devices.len() - 1
                    }
                };
                if capture {
                    devices[i].input_channels += 1;
                } else {
                    devices[i].output_channels += 1;
                }
            }
        }
        Ok(devices)
    }
}
