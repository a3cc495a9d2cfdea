//! The C fixture clients (fixtures/clients.c): every callback's counts
//! against the fixture's pattern at that callback's index.

use allocgate_wire::{Callback, Capture, Role};

use crate::rig::{Server, compile, cycles, read, run_under, scratch};

const RATE: u32 = 48_000;
const PERIOD: u32 = 512;
const SECONDS: f64 = 1.5;

/// The fixture built, a server, the fixture run in `mode`, its stream.
fn run(test: &str, mode: &str) -> Option<(Capture, String)> {
    run_with(test, mode, &[])
}

fn run_with(test: &str, mode: &str, env: &[(&str, &str)]) -> Option<(Capture, String)> {
    let dir = scratch(test);
    let exe = compile(test, &["clients.c"], &dir.join("clients"), true)?;
    let server = Server::start(test, RATE, PERIOD)?;
    let stream = dir.join("stream");
    let out = run_under(
        &exe,
        &[mode, &SECONDS.to_string()],
        Some(&server),
        &stream,
        env,
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{mode}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let capture = read(&stream);
    assert!(
        capture.is_complete(),
        "{mode}: a clean exit ends the stream: {:?}",
        capture.problem
    );
    let _ = std::fs::remove_dir_all(&dir);
    Some((capture, stdout))
}

/// The cycle slots of a capture with their callbacks, checked to be
/// numbered 0, 1, 2, … without a gap (nothing dropped) and about as many
/// as the run's length gives.
fn cycle_slot<'a>(c: &'a Capture, name: &str, role: Role) -> Vec<&'a Callback> {
    let client = c
        .clients
        .iter()
        .find(|k| k.name == name && k.role == role)
        .unwrap_or_else(|| panic!("no {role:?} slot for {name}: {:?}", c.clients));
    assert_eq!((client.sample_rate, client.buffer_size), (RATE, PERIOD));
    let calls: Vec<&Callback> = c.callbacks_of(client.slot).collect();
    assert_eq!(c.dropped(client.slot), 0);
    for (i, call) in calls.iter().enumerate() {
        assert_eq!(call.index, i as u64, "{name}: consecutive indexes");
        assert_eq!(call.frames, PERIOD);
    }
    let expected = cycles(SECONDS, RATE, PERIOD);
    assert!(
        calls.len() as f64 > expected * 0.7 && (calls.len() as f64) < expected * 1.3,
        "{name}: {} cycles in {SECONDS} s, about {expected:.0} expected",
        calls.len()
    );
    calls
}

/// Blocking calls of one callback by name.
fn blocking(c: &Capture, call: &Callback, name: &str) -> u64 {
    c.blocking(call)
        .filter(|(n, _)| *n == name)
        .map(|(_, k)| k)
        .sum()
}

fn total_blocking(c: &Capture, call: &Callback) -> u64 {
    c.blocking(call).map(|(_, k)| k).sum()
}

#[test]
fn each_cycle_of_a_patterned_client_is_counted_exactly_at_its_index() {
    let Some((c, stdout)) = run("pattern", "pattern") else {
        return;
    };
    let calls = cycle_slot(&c, "pattern", Role::JackProcess);
    for call in &calls {
        let i = call.index;
        let allocates = u64::from(i.is_multiple_of(3));
        let k = &call.counts;
        assert_eq!(k.allocations, 2 * allocates, "cycle {i}");
        assert_eq!(k.bytes_allocated, (48 + 1000) * allocates, "cycle {i}");
        assert_eq!(k.deallocations, 2 * allocates, "cycle {i}");
        assert_eq!(k.largest_request, 1000 * allocates, "cycle {i}");
        let sizes: Vec<(u64, u64)> = if allocates == 1 {
            // 48 bytes: macOS's 48-byte class; 1000: the 1008-byte class.
            vec![(48, 1), (1008, 1)]
        } else {
            vec![]
        };
        assert_eq!(call.sizes, sizes, "cycle {i}");
        assert_eq!(
            blocking(&c, call, "pthread_mutex_lock"),
            u64::from(i.is_multiple_of(5)),
            "cycle {i}"
        );
        assert_eq!(
            blocking(&c, call, "usleep"),
            u64::from(i.is_multiple_of(7)),
            "cycle {i}"
        );
        assert_eq!(
            blocking(&c, call, "printf"),
            u64::from(i.is_multiple_of(11)),
            "cycle {i}"
        );
        let named = u64::from(i.is_multiple_of(5))
            + u64::from(i.is_multiple_of(7))
            + u64::from(i.is_multiple_of(11));
        assert_eq!(total_blocking(&c, call), named, "cycle {i}: nothing else");
    }
    // Every printf reached the output.
    let printed = stdout.lines().filter(|l| l.starts_with("cycle ")).count();
    assert_eq!(
        printed,
        calls.iter().filter(|k| k.index.is_multiple_of(11)).count()
    );
    // The buffer-size callback is a slot of its own, never a cycle.
    let sizes: Vec<_> = c
        .clients
        .iter()
        .filter(|k| k.role == Role::JackBufferSize)
        .collect();
    assert_eq!(sizes.len(), 1, "{:?}", c.clients);
    assert!(!sizes[0].role.is_cycle());
    let size_calls: Vec<_> = c.callbacks_of(sizes[0].slot).collect();
    eprintln!("buffer-size callback invoked {} times", size_calls.len());
    for call in size_calls {
        assert_eq!(
            (call.counts.allocations, call.counts.bytes_allocated),
            (1, 128)
        );
    }
}

#[test]
fn two_clients_in_one_process_are_measured_apart() {
    let Some((c, _)) = run("two", "two") else {
        return;
    };
    let left = cycle_slot(&c, "left", Role::JackProcess);
    let right = cycle_slot(&c, "right", Role::JackProcess);
    for call in left {
        let a = u64::from(call.index.is_multiple_of(2));
        assert_eq!(
            (
                call.counts.allocations,
                call.counts.bytes_allocated,
                call.counts.deallocations
            ),
            (a, 64 * a, a),
            "left cycle {}",
            call.index
        );
        assert_eq!(call.counts.zeroed, 0);
    }
    for call in right {
        let a = u64::from(call.index % 4 == 1);
        assert_eq!(
            (
                call.counts.allocations,
                call.counts.zeroed,
                call.counts.bytes_allocated
            ),
            (a, a, 4 * 32 * a),
            "right cycle {}",
            call.index
        );
        assert_eq!(call.counts.deallocations, a);
    }
}

#[test]
fn a_process_thread_is_measured_from_cycle_wait_to_cycle_signal() {
    let Some((c, _)) = run("thread", "thread") else {
        return;
    };
    let calls = cycle_slot(&c, "thread", Role::JackProcessThread);
    for call in calls {
        let a = u64::from(call.index.is_multiple_of(4));
        assert_eq!(
            (
                call.counts.allocations,
                call.counts.bytes_allocated,
                call.counts.deallocations
            ),
            (a, 256 * a, a),
            "cycle {}",
            call.index
        );
        // jack_cycle_wait's own waiting is outside the measured span.
        assert_eq!(total_blocking(&c, call), 0, "cycle {}", call.index);
    }
}

/// The wrapper's own work on the audio thread (the trampoline, the scope,
/// the clock, the queue push) adds nothing: a clean client's cycles count
/// zero allocator and zero blocking calls, every one of them.
#[test]
fn a_clean_client_counts_zero_in_every_cycle() {
    let Some((c, _)) = run("clean", "clean") else {
        return;
    };
    let calls = cycle_slot(&c, "clean", Role::JackProcess);
    for call in calls {
        assert_eq!(call.counts, Default::default(), "cycle {}", call.index);
        assert!(
            call.sizes.is_empty() && call.blocking.is_empty(),
            "cycle {}",
            call.index
        );
        assert!(call.duration_ns > 0);
    }
}

/// A program killed mid-run (SIGKILL: no exit handlers) leaves a stream
/// that reads up to its last round, without an end frame, every record in
/// it still right.
#[test]
fn a_killed_program_leaves_a_readable_stream_without_an_end() {
    let test = "killed";
    let dir = scratch(test);
    let Some(exe) = compile(test, &["clients.c"], &dir.join("clients"), true) else {
        return;
    };
    let Some(server) = Server::start(test, RATE, PERIOD) else {
        return;
    };
    let stream = dir.join("stream");
    let mut child = std::process::Command::new(&exe)
        .args(["two", "30"])
        .env("LD_PRELOAD", crate::rig::library())
        .env(allocgate_wire::env::OUT, &stream)
        .env("JACK_DEFAULT_SERVER", &server.name)
        .env("JACK_NO_START_SERVER", "1")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the fixture starts");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let c = read(&stream);
    assert_eq!(c.end, None, "no exit handler ran");
    assert!(!c.is_complete());
    let left = c
        .clients
        .iter()
        .find(|k| k.name == "left")
        .expect("the left client");
    let calls: Vec<_> = c.callbacks_of(left.slot).collect();
    assert!(
        calls.len() > 20,
        "records of the first second are there: {}",
        calls.len()
    );
    for (i, call) in calls.iter().enumerate() {
        assert_eq!(call.index, i as u64);
        assert_eq!(
            call.counts.allocations,
            u64::from(call.index.is_multiple_of(2))
        );
    }
    drop(server);
    // A server stopped after one of its clients was killed leaves its
    // entry in JACK's registry of servers (/dev/shm/jack-shm-registry,
    // eight entries for the machine): a server started under the same
    // name reclaims it, and unregisters when stopped.
    drop(Server::start(test, RATE, PERIOD));
    let _ = std::fs::remove_dir_all(&dir);
}

/// With site tracing on, the allocations are named after the fixture's
/// C function, as many per size as the cycles that made them.
#[test]
fn traced_sites_name_the_c_function_with_its_counts() {
    let traced = [(allocgate_wire::env::TRACE_SITES, "1")];
    let Some((c, _)) = run_with("sites", "pattern", &traced) else {
        return;
    };
    assert!(c.header.sites, "{:?}", c.header);
    let calls = cycle_slot(&c, "pattern", Role::JackProcess);
    let slot = calls[0].slot;
    let allocating = calls.iter().filter(|k| k.index.is_multiple_of(3)).count() as u64;
    for size in [48, 1000] {
        let site = c
            .sites
            .iter()
            .find(|s| s.slot == slot && s.size == size && s.allocations > 0)
            .unwrap_or_else(|| panic!("no site of {size} bytes: {:?}", c.sites));
        assert_eq!(site.function, "pattern");
        assert_eq!(site.allocations, allocating, "{size} bytes");
    }
}

/// The fixture's `SIZES` (fixtures/clients.c).
const SIZES: [usize; 15] = [
    1, 16, 17, 32, 33, 500, 1008, 1009, 1024, 1025, 4096, 32768, 32769, 65536, 200_000,
];

#[test]
fn the_request_sizes_on_the_wire_rebuild_every_cycles_size_classes() {
    let Some((c, _)) = run("sizes", "sizes") else {
        return;
    };
    let calls = cycle_slot(&c, "sizes", Role::JackProcess);
    for call in &calls {
        let i = call.index;
        // From the fixture: the first i % 15 + 1 sizes, then reallocations
        // to 3000 and back to 16 bytes.
        let allocated = &SIZES[..(i % 15 + 1) as usize];
        let k = &call.counts;
        assert_eq!(k.allocations, allocated.len() as u64, "cycle {i}");
        assert_eq!(k.deallocations, allocated.len() as u64, "cycle {i}");
        assert_eq!(k.reallocations, 2, "cycle {i}");
        assert_eq!(
            k.bytes_allocated,
            allocated.iter().sum::<usize>() as u64,
            "cycle {i}"
        );
        let mut real = allocgate::Stats::new();
        for &size in allocated.iter().chain(&[3000, 16]) {
            real.add_requests(size, 1);
        }
        let mut replayed = allocgate::Stats::new();
        for &(size, n) in &call.sizes {
            replayed.add_requests(size as usize, n);
        }
        assert_eq!(replayed.requested(), real.requested(), "cycle {i}");
        assert_eq!(replayed.macos_classes(), real.macos_classes(), "cycle {i}");
        let pairs: u64 = call.sizes.iter().map(|&(_, n)| n).sum();
        assert_eq!(pairs, allocated.len() as u64 + 2, "cycle {i}");
    }
    // Every prefix of the list was seen, the whole list included.
    assert!(calls.iter().any(|call| call.index % 15 == 14));
}
