//! Programs nobody here wrote, unmodified: jackd2's `jack_simple_client`
//! and `jack_metro` under the library. What their callbacks do is
//! printed as found; the checks are what holds for any JACK client: one
//! process slot named after the client, consecutive cycles at the
//! server's period, nothing dropped, a stream ended cleanly (both exit on
//! SIGTERM through `exit`).

use allocgate_wire::Role;

use crate::rig::{Server, cycles, on_path, read, require, run_for, scratch};

const RATE: u32 = 48_000;
const PERIOD: u32 = 256;
const SECONDS: f64 = 1.5;

fn profile(test: &str, program: &str, args: &[&str], client: &str) {
    if !require(
        on_path(program),
        test,
        &format!("{program} is not on PATH (it comes with jackd2)"),
    ) {
        return;
    }
    let Some(server) = Server::start(test, RATE, PERIOD) else {
        return;
    };
    let dir = scratch(test);
    let stream = dir.join("stream");
    let _ = run_for(program, args, &server, &stream, SECONDS);
    let c = read(&stream);
    assert!(c.is_complete(), "{program}: {:?} {:?}", c.end, c.problem);
    let process: Vec<_> = c
        .clients
        .iter()
        .filter(|k| k.role == Role::JackProcess)
        .collect();
    assert_eq!(process.len(), 1, "{:?}", c.clients);
    assert_eq!(process[0].name, client);
    let calls: Vec<_> = c.callbacks_of(process[0].slot).collect();
    for (i, call) in calls.iter().enumerate() {
        assert_eq!((call.index, call.frames), (i as u64, PERIOD));
    }
    assert_eq!(c.dropped(process[0].slot), 0);
    // The program ran about SECONDS (less its start-up).
    let most = cycles(SECONDS, RATE, PERIOD);
    assert!(
        calls.len() as f64 > most * 0.4 && calls.len() as f64 <= most * 1.1,
        "{} cycles",
        calls.len()
    );
    let allocations: u64 = calls.iter().map(|k| k.counts.calls()).sum();
    let blocking: u64 = calls
        .iter()
        .flat_map(|k| c.blocking(k))
        .map(|(_, n)| n)
        .sum();
    let longest = calls.iter().map(|k| k.duration_ns).max().unwrap_or(0);
    eprintln!(
        "{program}: {} cycles, {allocations} allocator calls, {blocking} blocking calls, longest {longest} ns, other slots {:?}",
        calls.len(),
        c.clients
            .iter()
            .filter(|k| !k.role.is_cycle())
            .collect::<Vec<_>>()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn jack_simple_client_is_profiled_unmodified() {
    profile("simple", "jack_simple_client", &[], "jack_simple_client");
}

#[test]
fn jack_metro_is_profiled_unmodified() {
    profile("metro", "jack_metro", &["-b", "120"], "metro");
}
