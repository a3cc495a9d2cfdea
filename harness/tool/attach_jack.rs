//! `allocgate attach` end to end: the real binary, the real preload
//! library and real JACK clients against dummy-driver servers the tests
//! start. The C fixture clients of the preload's tests
//! (harness/preload/fixtures/clients.c: every count derived from the
//! pattern at each callback's index), jackd2's `jack_simple_client` and
//! `jack_metro` as found, and two independent counters agreeing:
//! `allocgate attach -- allocgate run --backend jack …`, the preload's
//! count of the tool's own JACK clients against the run's own report.
//!
//! The library is the one cargo built (harness/preload/shared.rs):
//! missing or stale, the tests say to run `cargo build -p
//! allocgate-preload`, and fail on CI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use allocgate_engine::sites::expected::CallbackContext;
use allocgate_engine::variant::Variant;
use allocgate_tool::drive::backend::jack::JackServer;
use allocgate_tool::report::{ClientReport, KindTotals, Report, read_json};

use crate::jack::server_for;

#[path = "../preload/shared.rs"]
mod shared;

const RATE: u32 = 48_000;
const PERIOD: u32 = 512;
/// How long the fixture clients run before they exit by themselves.
const FIXTURE_SECONDS: f64 = 1.5;

/// The preload library, or `None` (skipped; failing on CI) with the
/// build command.
fn preload(test: &str) -> Option<PathBuf> {
    match shared::library() {
        Ok(lib) => Some(lib),
        Err(why) => {
            shared::require(false, test, &why);
            None
        }
    }
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("allocgate-attach-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `allocgate attach FLAGS… --out OUT -- PROGRAM…` with the library and
/// the server named in the program's environment.
fn attach(
    library: &Path,
    server: &JackServer,
    flags: &[&str],
    out: &Path,
    program: &[&str],
) -> Output {
    Command::new(env!("CARGO_BIN_EXE_allocgate"))
        .arg("attach")
        .args(flags)
        .arg("--out")
        .arg(out)
        .arg("--")
        .args(program)
        .env("ALLOCGATE_PRELOAD", library)
        .env("JACK_DEFAULT_SERVER", server.name())
        .env("JACK_NO_START_SERVER", "1")
        .stdin(Stdio::null())
        .output()
        .expect("allocgate runs")
}

/// The report's attach section's client `name` of `role`.
fn client<'a>(r: &'a Report, name: &str, role: &str) -> &'a ClientReport {
    let a = r.attach.as_ref().expect("an attach section");
    a.clients
        .iter()
        .find(|c| c.name == name && c.role == role)
        .unwrap_or_else(|| {
            let seen: Vec<_> = a.clients.iter().map(|c| (&c.name, &c.role)).collect();
            panic!("no {role} client {name}: {seen:?}")
        })
}

/// Indices below `n` that `pattern` selects.
fn count(n: u64, pattern: impl Fn(u64) -> bool) -> u64 {
    (0..n).filter(|&i| pattern(i)).count() as u64
}

/// Blocking calls of `name` in `t`.
fn blocking(t: &KindTotals, name: &str) -> u64 {
    t.blocking_calls
        .as_ref()
        .and_then(|b| b.get(name).copied())
        .unwrap_or(0)
}

/// About as many cycles as `seconds` of the fixture give (its start and
/// end take a little), nothing dropped.
fn check_cycles(c: &ClientReport, seconds: f64) {
    let expected = seconds * f64::from(RATE) / f64::from(PERIOD);
    let n = c.callbacks as f64;
    assert!(
        n > expected * 0.7 && n < expected * 1.3,
        "{}: {n} cycles in {seconds} s, about {expected:.0} expected",
        c.name
    );
    assert_eq!(c.dropped, 0, "{}", c.name);
    assert_eq!((c.sample_rate, c.buffer_size), (RATE, PERIOD), "{}", c.name);
    assert!(c.cycle, "{}", c.name);
}

/// The fixture clients built, a server, `allocgate attach FLAGS -- clients
/// MODE 1.5` run; its output and report.
fn fixture(test: &str, mode: &str, flags: &[&str]) -> Option<(Output, Report)> {
    let library = preload(test)?;
    let dir = scratch(test);
    let exe = shared::compile(test, &["clients.c"], &dir.join("clients"), true)?;
    let server = server_for(test, RATE, PERIOD)?;
    let out = dir.join("attach.json");
    let seconds = FIXTURE_SECONDS.to_string();
    let mut all = vec!["--seconds", "10"];
    all.extend_from_slice(flags);
    let o = attach(
        &library,
        &server,
        &all,
        &out,
        &[exe.to_str().expect("a UTF-8 path"), mode, &seconds],
    );
    let r = read_json(&out).unwrap_or_else(|e| {
        panic!(
            "{mode}: no report ({e}); exit {:?}: {}",
            o.status,
            text(&o.stderr)
        )
    });
    let a = r.attach.as_ref().expect("an attach section");
    assert_eq!(a.exit.code, Some(0), "{mode}: the fixture exits by itself");
    assert!(a.capture.complete, "{mode}: {:?}", a.capture.problem);
    assert_eq!(a.partial, None);
    let _ = std::fs::remove_dir_all(&dir);
    Some((o, r))
}

#[test]
fn attach_counts_each_cycle_of_a_patterned_fixture_and_its_gate_names_the_calls() {
    let Some((o, r)) = fixture("pattern", "pattern", &["--gate"]) else {
        return;
    };
    assert_eq!(o.status.code(), Some(1), "the gate fails");
    let c = client(&r, "pattern", "jack-process");
    check_cycles(c, FIXTURE_SECONDS);
    let n = c.callbacks;
    // index % 3 == 0: malloc(48) and malloc(1000), both freed.
    let allocating = count(n, |i| i % 3 == 0);
    let t = &c.totals;
    assert_eq!(t.callbacks, n);
    assert_eq!(t.callbacks_touching_allocator, allocating);
    assert_eq!(t.allocations, 2 * allocating);
    assert_eq!(t.deallocations, 2 * allocating);
    assert_eq!(t.reallocations, 0);
    assert_eq!(t.bytes_requested, (48 + 1000) * allocating);
    assert_eq!(t.largest_request_bytes, 1000);
    // index % 5: a lock; % 7: usleep; % 11: printf; nothing else.
    let locks = count(n, |i| i % 5 == 0);
    let sleeps = count(n, |i| i % 7 == 0);
    let prints = count(n, |i| i % 11 == 0);
    assert_eq!(blocking(t, "pthread_mutex_lock"), locks);
    assert_eq!(blocking(t, "usleep"), sleeps);
    assert_eq!(blocking(t, "printf"), prints);
    let names = t.blocking_calls.as_ref().map_or(0, |b| b.len());
    assert_eq!(names, 3, "{:?}", t.blocking_calls);
    assert_eq!(
        t.callbacks_blocking,
        Some(count(n, |i| i % 5 == 0 || i % 7 == 0 || i % 11 == 0))
    );
    assert_eq!(c.first_allocating_callback, Some(0));
    assert_eq!(c.first_blocking_callback, Some(0));
    // Per callback: two allocations in every third, none in the others;
    // the buffer-size callback is not among them.
    let rows: Vec<(u64, u64)> = r
        .allocations_per_callback
        .output
        .iter()
        .map(|b| (b.allocations, b.callbacks))
        .collect();
    assert_eq!(rows, [(0, n - allocating), (2, allocating)]);
    assert_eq!(r.totals.allocations, 2 * allocating);
    let sizes = client(&r, "pattern", "jack-buffer-size");
    assert!(!sizes.cycle);
    assert_eq!(
        (sizes.totals.allocations, sizes.totals.bytes_requested),
        (sizes.callbacks, 128 * sizes.callbacks),
        "128 bytes per buffer-size callback, outside the cycles"
    );
    // The gate's verdict names the client, the counts, the calls and the
    // first offending callback.
    let stderr = text(&o.stderr);
    for line in [
        format!(
            "'pattern' (pid {}, slot {}): {allocating} callbacks past the warm-up touched the \
             allocator ({} allocations, {} deallocations, 0 reallocations), the first at \
             callback 0",
            c.pid,
            c.slot,
            2 * allocating,
            2 * allocating
        ),
        format!(
            "blocking calls ({prints} x printf, {locks} x pthread_mutex_lock, {sleeps} x \
             usleep), the first at callback 0"
        ),
    ] {
        assert!(stderr.contains(&line), "{line}\nin: {stderr}");
    }
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        2,
        "{stderr}"
    );
}

#[test]
fn attach_reports_a_clean_fixture_clean_and_its_gate_passes() {
    let Some((o, r)) = fixture("clean", "clean", &["--gate"]) else {
        return;
    };
    assert!(
        o.status.success(),
        "the gate passes: {}\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    let c = client(&r, "clean", "jack-process");
    check_cycles(c, FIXTURE_SECONDS);
    let t = &c.totals;
    assert_eq!(t.callbacks, c.callbacks);
    assert_eq!(
        (
            t.callbacks_touching_allocator,
            t.allocations,
            t.deallocations,
            t.reallocations,
            t.callbacks_blocking
        ),
        (0, 0, 0, 0, Some(0))
    );
    let rows: Vec<(u64, u64)> = r
        .allocations_per_callback
        .output
        .iter()
        .map(|b| (b.allocations, b.callbacks))
        .collect();
    assert_eq!(rows, [(0, c.callbacks)]);
}

#[test]
fn attach_reports_two_clients_of_one_process_apart() {
    let Some((_, r)) = fixture("two", "two", &[]) else {
        return;
    };
    let left = client(&r, "left", "jack-process");
    let right = client(&r, "right", "jack-process");
    assert_eq!(left.pid, right.pid);
    assert_ne!(left.slot, right.slot);
    check_cycles(left, FIXTURE_SECONDS);
    check_cycles(right, FIXTURE_SECONDS);
    // left: malloc(64) on even cycles; right: calloc(4, 32) when i % 4 == 1.
    let l = count(left.callbacks, |i| i % 2 == 0);
    let rr = count(right.callbacks, |i| i % 4 == 1);
    assert_eq!(
        (
            left.totals.allocations,
            left.totals.deallocations,
            left.totals.bytes_requested
        ),
        (l, l, 64 * l)
    );
    assert_eq!(
        (
            right.totals.allocations,
            right.totals.deallocations,
            right.totals.bytes_requested
        ),
        (rr, rr, 128 * rr)
    );
    assert_eq!(left.first_allocating_callback, Some(0));
    assert_eq!(right.first_allocating_callback, Some(1));
    assert_eq!(r.totals.allocations, l + rr);
    assert_eq!(
        r.totals.callbacks.output,
        left.callbacks + right.callbacks,
        "each client's cycles are callbacks of the report"
    );
}

#[test]
fn attach_measures_a_process_thread_per_cycle() {
    let Some((_, r)) = fixture("thread", "thread", &[]) else {
        return;
    };
    let c = client(&r, "thread", "jack-process-thread");
    check_cycles(c, FIXTURE_SECONDS);
    // malloc(256) when i % 4 == 0; jack_cycle_wait's waiting is outside.
    let a = count(c.callbacks, |i| i % 4 == 0);
    let t = &c.totals;
    assert_eq!(
        (t.allocations, t.deallocations, t.bytes_requested),
        (a, a, 256 * a)
    );
    assert_eq!(t.callbacks_blocking, Some(0));
}

/// A program nobody here wrote, run until `allocgate attach --seconds 2`
/// stops it: one process client named `client`, its cycles about as many
/// as two seconds of periods (less its start-up), nothing dropped, the
/// report complete. What its callbacks do is printed as found.
fn real_client(test: &str, program: &[&str], client_name: &str) {
    let period = 256;
    if !shared::require(
        shared::on_path(program[0]),
        test,
        &format!("{} is not on PATH (it comes with jackd2)", program[0]),
    ) {
        return;
    }
    let Some(library) = preload(test) else {
        return;
    };
    let Some(server) = server_for(test, RATE, period) else {
        return;
    };
    let dir = scratch(test);
    let out = dir.join("attach.json");
    let o = attach(&library, &server, &["--seconds", "2"], &out, program);
    assert!(
        o.status.success(),
        "exit {:?}: {}\n{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    let r = read_json(&out).expect("the report");
    let a = r.attach.as_ref().expect("an attach section");
    assert!(a.capture.complete, "{:?}", a.capture.problem);
    assert_eq!(a.partial, None);
    assert_eq!(a.exit.stopped_by.as_deref(), Some("seconds"));
    let cycles: Vec<_> = a.clients.iter().filter(|c| c.cycle).collect();
    assert_eq!(cycles.len(), 1, "{:?}", a.clients);
    let c = client(&r, client_name, "jack-process");
    let most = 2.0 * f64::from(RATE) / f64::from(period);
    let n = c.callbacks as f64;
    assert!(n > most * 0.4 && n <= most * 1.1, "{n} cycles");
    assert_eq!((c.dropped, c.buffer_size), (0, period));
    assert_eq!(r.totals.callbacks.output, c.callbacks);
    let t = &c.totals;
    eprintln!(
        "{}: {} cycles, {} allocations, {} deallocations, {} reallocations, blocking {:?}, \
         p50 {} ns, max {} ns; other slots: {:?}",
        program[0],
        c.callbacks,
        t.allocations,
        t.deallocations,
        t.reallocations,
        t.blocking_calls,
        c.latency.p50_ns,
        c.latency.max_ns,
        a.clients
            .iter()
            .filter(|k| !k.cycle)
            .map(|k| (&k.role, k.callbacks, k.totals.allocations))
            .collect::<Vec<_>>()
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn attach_profiles_jack_simple_client_unmodified() {
    real_client("simple", &["jack_simple_client"], "jack_simple_client");
}

#[test]
fn attach_profiles_jack_metro_unmodified() {
    real_client("metro", &["jack_metro", "-b", "120"], "metro");
}

/// Channels of a 7.1 layout.
const CHANNELS: usize = 8;

/// `allocgate attach --seconds 3 [--gate] -- allocgate run --backend jack
/// --server NAME --variant VARIANT --channels 8 --seconds 2 --out RUN`:
/// the attach report and the run's own, run again (three times in all)
/// while JACK reports xruns (the load of parallel tests on two cores can
/// cost a cycle, and an unrendered cycle changes the formula's counts).
fn agreement(test: &str, variant: &str, flags: &[&str]) -> Option<(Output, Report, Report)> {
    let library = preload(test)?;
    let server = server_for(test, RATE, PERIOD)?;
    let dir = scratch(test);
    let (att, run) = (dir.join("attach.json"), dir.join("run.json"));
    let mut all = vec!["--seconds", "3"];
    all.extend_from_slice(flags);
    let channels = CHANNELS.to_string();
    let program = [
        env!("CARGO_BIN_EXE_allocgate"),
        "run",
        "--backend",
        "jack",
        "--server",
        server.name(),
        "--variant",
        variant,
        "--channels",
        &channels,
        "--seconds",
        "2",
        "--out",
        run.to_str().expect("a UTF-8 path"),
    ];
    for attempt in 1..=3 {
        let _ = std::fs::remove_file(&att);
        let _ = std::fs::remove_file(&run);
        let o = attach(&library, &server, &all, &att, &program);
        let own = read_json(&run).unwrap_or_else(|e| {
            panic!(
                "the run's report: {e}; {}\n{}",
                text(&o.stdout),
                text(&o.stderr)
            )
        });
        let xruns = own.backend.as_ref().map_or(0, |b| b.backend_xruns);
        if xruns > 0 && attempt < 3 {
            eprintln!("attempt {attempt}: jack reported {xruns} xruns under load; again");
            continue;
        }
        let attached = read_json(&att).expect("the attach report");
        let a = attached.attach.as_ref().expect("an attach section");
        assert_eq!(
            a.exit.code,
            Some(0),
            "the run succeeded: {}",
            text(&o.stderr)
        );
        assert!(a.capture.complete, "{:?}", a.capture.problem);
        let _ = std::fs::remove_dir_all(&dir);
        return Some((o, attached, own));
    }
    unreachable!("the third attempt returns")
}

/// The tool's three JACK clients in the attach report: its engine (input
/// and output callbacks in one JACK cycle), the signal source and the
/// recorder, each found by its name's ending.
fn tool_clients(r: &Report) -> [&ClientReport; 3] {
    let a = r.attach.as_ref().expect("an attach section");
    let cycles: Vec<_> = a.clients.iter().filter(|c| c.cycle).collect();
    assert_eq!(cycles.len(), 3, "{:?}", a.clients);
    ["-engine", "-signal", "-recorder"].map(|end| {
        let c = cycles
            .iter()
            .find(|c| c.name.ends_with(end) && c.role == "jack-process")
            .unwrap_or_else(|| panic!("no client named …{end}"));
        assert_eq!(c.dropped, 0, "{}", c.name);
        assert!(c.callbacks > 0, "{}", c.name);
        *c
    })
}

/// Allocations per callback as (allocations, callbacks) rows, the zero row
/// left out.
fn allocating_rows(rows: &[allocgate_tool::report::PerCallbackRow]) -> Vec<(u64, u64)> {
    rows.iter()
        .filter(|b| b.allocations > 0)
        .map(|b| (b.allocations, b.callbacks))
        .collect()
}

#[test]
fn attach_and_the_runs_own_counting_agree_on_every_jack_cycle_of_prefix() {
    let Some((_, attached, own)) = agreement("agree-prefix", "prefix", &[]) else {
        return;
    };
    // The run: every output callback renders (input and output share a
    // JACK cycle, so the ring holds a block each time); the engine's
    // formula per rendering output callback k at 7.1, 48 kHz / 512.
    let n = own.totals.output.callbacks;
    assert_eq!(own.totals.input.callbacks, n);
    let sites = Variant::Prefix.sites();
    let input = sites.expected(&CallbackContext::input(CHANNELS, PERIOD as usize));
    assert!(input.is_zero(), "prefix allocates only in output callbacks");
    let per = |k: u64| {
        let mut cx = CallbackContext::output(CHANNELS, PERIOD as usize);
        cx.renderers = CHANNELS;
        cx.blocks = 1;
        cx.steps_before = k;
        cx.rendering = true;
        sites.expected(&cx)
    };
    assert_eq!(
        per(n - 1).allocations,
        32,
        "2 scale arrays × 2 ears × 8 renderers"
    );
    let formula: u64 = (0..n).map(|k| per(k).allocations).sum();
    let mut rows: Vec<(u64, u64)> = Vec::new();
    for k in 0..n {
        let a = per(k).allocations;
        match rows.iter_mut().find(|(x, _)| *x == a) {
            Some(row) => row.1 += 1,
            None => rows.push((a, 1)),
        }
    }
    rows.sort_unstable();
    assert_eq!(own.totals.allocations, formula, "the run's own count");
    assert_eq!(own.totals.output.allocations, formula);
    assert_eq!(allocating_rows(&own.allocations_per_callback.output), rows);
    // The warm-up's share, as the run attributes it (debug-print's first
    // two block steps are in it).
    let warm = own.config.warm_up_callbacks;
    assert_eq!(
        own.warm_up.totals.allocations,
        (0..warm).map(|k| per(k).allocations).sum::<u64>()
    );

    // The preload's count of the same process: the engine's JACK cycles,
    // idle ones (before the run's window opened, after it closed) at 0.
    let [engine, signal, recorder] = tool_clients(&attached);
    let idle = own.backend.as_ref().expect("a backend section").idle_cycles;
    let t = &engine.totals;
    assert_eq!(
        (t.allocations, t.deallocations, t.reallocations),
        (
            own.totals.allocations,
            own.totals.deallocations,
            own.totals.reallocations
        )
    );
    assert_eq!(t.bytes_requested, own.totals.bytes_requested);
    assert_eq!(t.callbacks_touching_allocator, n);
    assert!(engine.callbacks >= idle + n, "{} cycles", engine.callbacks);
    assert_eq!(
        engine.first_allocating_callback,
        Some(idle),
        "the run's first callback is the engine's JACK cycle after the idle ones"
    );
    for other in [signal, recorder] {
        assert_eq!(other.totals.allocations, 0, "{}", other.name);
        assert_eq!(other.totals.callbacks_touching_allocator, 0);
    }
    // Per JACK cycle: the same rows as the run's own (the tool's other two
    // clients and the idle cycles in the zero row).
    assert_eq!(
        allocating_rows(&attached.allocations_per_callback.output),
        rows
    );
    eprintln!(
        "prefix: run {n} output callbacks, {formula} allocations; attach: engine {} cycles \
         ({idle} idle before), {} allocations, signal {} and recorder {} cycles at 0",
        engine.callbacks, t.allocations, signal.callbacks, recorder.callbacks
    );
}

#[test]
fn attach_finds_no_allocation_in_any_jack_cycle_of_fixed_and_its_gate_passes() {
    let Some((o, attached, own)) = agreement("agree-fixed", "fixed", &["--gate"]) else {
        return;
    };
    assert!(
        o.status.success(),
        "the gate passes: {}\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert_eq!(own.totals.allocations, 0);
    for c in tool_clients(&attached) {
        let t = &c.totals;
        assert_eq!(
            (
                t.allocations,
                t.deallocations,
                t.reallocations,
                t.callbacks_touching_allocator
            ),
            (0, 0, 0, 0),
            "{}",
            c.name
        );
        assert_eq!(t.callbacks, c.callbacks);
    }
    assert!(allocating_rows(&attached.allocations_per_callback.output).is_empty());
}
