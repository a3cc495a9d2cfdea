//! Your own JACK client, measured by allocgate: a plain process callback
//! (a sine generator here) wrapped in a [`Probe`], which measures every
//! invocation on JACK's process thread and adds the figures into a
//! [`Totals`] sink allocated before the client starts. Neither the probe
//! nor the sink allocates, locks or blocks on the audio thread.
//!
//! ```sh
//! jackd -d dummy &                                  # any running server
//! cargo run --release --features jack --example jack_probe -- 5
//! ```
//!
//! prints how many process cycles ran and how many touched the allocator,
//! and exits 1 if any did. `harness/tool/jack.rs` runs the same code
//! against a server it starts, with and without a deliberate allocation.

use std::time::Duration;

use allocgate::{Probe, Totals};
use jack::{AudioOut, Client, Control, Port, ProcessHandler, ProcessScope};

// The counting allocator, as in any binary you gate. (The test that
// includes this file as a module has its own.)
#[cfg(not(test))]
#[global_allocator]
static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();

/// A sine oscillator: all its state is set up before the audio starts.
#[derive(Debug)]
pub struct Sine {
    phase: f32,
    step: f32,
}

impl Sine {
    /// A sine of `hz` at `rate`.
    pub fn new(hz: f32, rate: f32) -> Sine {
        Sine {
            phase: 0.0,
            step: hz / rate * std::f32::consts::TAU,
        }
    }

    /// Fills `out` with the next samples. Audio thread.
    pub fn render(&mut self, out: &mut [f32]) {
        for x in out {
            *x = 0.2 * self.phase.sin();
            self.phase = (self.phase + self.step) % std::f32::consts::TAU;
        }
    }
}

/// The process handler: the callback, wrapped by the probe.
pub struct Handler {
    port: Port<AudioOut>,
    sine: Sine,
    probe: Probe<Totals>,
    /// For the test: allocate once per cycle, as a careless callback
    /// might (`format!` of a log line).
    careless: bool,
}

impl ProcessHandler for Handler {
    fn process(&mut self, _: &Client, ps: &ProcessScope) -> Control {
        let out = self.port.as_mut_slice(ps);
        let (sine, careless) = (&mut self.sine, self.careless);
        self.probe.run(|| {
            sine.render(out);
            if careless {
                std::hint::black_box(format!("rendered {} frames", out.len()));
            }
        });
        Control::Continue
    }
}

/// Runs `client` with the sine callback for `seconds`, and returns what
/// the probe counted over every process cycle.
pub fn run(
    client: Client,
    seconds: f64,
    careless: bool,
) -> Result<Totals, Box<dyn std::error::Error>> {
    let port = client.register_port("out", AudioOut::default())?;
    let sine = Sine::new(440.0, client.sample_rate() as f32);
    // Off the audio thread: checks that the counting allocator is the
    // global allocator (and fails rather than count nothing).
    let probe = Probe::new(Totals::default())?;
    let active = client.activate_async(
        (),
        Handler {
            port,
            sine,
            probe,
            careless,
        },
    )?;
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let (_client, (), handler) = active.deactivate()?;
    Ok(handler.probe.into_sink())
}

#[cfg(not(test))]
fn main() -> std::process::ExitCode {
    let seconds = std::env::args()
        .nth(1)
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(3.0);
    let totals = Client::new("allocgate-jack-probe", jack::ClientOptions::NO_START_SERVER)
        .map_err(|e| format!("cannot reach a jack server ({e}); start one with jackd -d dummy"))
        .and_then(|(client, _)| run(client, seconds, false).map_err(|e| e.to_string()));
    match totals {
        Ok(t) => {
            println!(
                "{} process cycles, {} touched the allocator ({} allocations)",
                t.calls, t.calls_with_allocator_calls, t.total.counts.allocations
            );
            if t.calls_with_allocator_calls == 0 {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
