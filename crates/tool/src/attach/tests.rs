//! Synthetic captures through [`build`] and [`failures`]: every figure
//! expected from the pattern written, not from a run.

use allocgate_wire::{Callback, Capture, Client, Counts, Drops, Header, Message, Role, Site};

use super::*;
use crate::report::{ByKind, Report};

/// Frames per period and rate of the synthetic clients.
const FRAMES: u32 = 256;
const RATE: u32 = 48_000;
/// 256 / 48000 s, in whole nanoseconds (5 333 333.3 rounded).
const PERIOD_NS: u64 = 5_333_333;
const T0: u64 = 1_000_000_000;

fn header() -> Header {
    Header {
        version: allocgate_wire::VERSION,
        pid: 77,
        program: "/opt/synth".into(),
        blocking_names: vec![
            "pthread_mutex_lock".into(),
            "nanosleep".into(),
            "printf".into(),
            "a_call_this_build_does_not_know".into(),
        ],
        queue_capacity: 4096,
        sites: true,
        rusage: false,
        children: false,
    }
}

fn client(slot: u16, role: Role, name: &str, rate: u32) -> Message {
    Message::Client(Client {
        slot,
        role,
        name: name.into(),
        sample_rate: rate,
        buffer_size: if rate == 0 { 0 } else { FRAMES },
    })
}

fn callback(slot: u16, index: u64) -> Callback {
    Callback {
        slot,
        index,
        frames: FRAMES,
        start_ns: T0 + index * PERIOD_NS,
        duration_ns: 1_000 + index,
        counts: Counts::default(),
        sizes: Vec::new(),
        blocking: Vec::new(),
        usage: None,
    }
}

/// Slot 0, `synth`'s process callback: 100 invocations; every tenth from
/// index 3 allocates and frees two 48-byte blocks; every 25th from 0
/// calls printf once.
fn synth(index: u64) -> Callback {
    let mut c = callback(0, index);
    if index % 10 == 3 {
        c.counts = Counts {
            allocations: 2,
            deallocations: 2,
            bytes_allocated: 96,
            bytes_deallocated: 96,
            largest_request: 48,
            ..Counts::default()
        };
        c.sizes = vec![(48, 2)];
    }
    if index.is_multiple_of(25) {
        c.blocking = vec![(2, 1)];
    }
    c
}

/// Slot 2, `second`'s process thread: indices 0..40 but 7 (dropped);
/// nanosleep at 30, two calls under an unknown name at 31.
fn second(index: u64) -> Callback {
    let mut c = callback(2, index);
    match index {
        30 => c.blocking = vec![(1, 1)],
        31 => c.blocking = vec![(3, 2)],
        _ => {}
    }
    c
}

/// Warm-up callbacks of every slot.
const WARM_UP: u64 = 5;

fn capture() -> Capture {
    let mut m = vec![
        Message::Header(header()),
        client(0, Role::JackProcess, "synth", RATE),
        client(1, Role::JackBufferSize, "synth", RATE),
        client(2, Role::JackProcessThread, "second", RATE),
    ];
    m.extend((0..100).map(|i| Message::Callback(synth(i))));
    let mut resize = callback(1, 0);
    resize.counts.allocations = 5;
    m.push(Message::Callback(resize));
    m.extend(
        (0..40)
            .filter(|&i| i != 7)
            .map(|i| Message::Callback(second(i))),
    );
    m.push(Message::Drops(Drops {
        slot: 2,
        dropped: 1,
    }));
    m.push(Message::Site(Site {
        slot: 0,
        function: "synth_process".into(),
        size: 48,
        allocations: 20,
        deallocations: 20,
        reallocations: 0,
        backtrace: vec!["synth_process".into(), "jack_client_thread".into()],
    }));
    m.push(Message::End(allocgate_wire::End { complete: true }));
    let mut bytes = Vec::new();
    for message in &m {
        allocgate_wire::encode(message, &mut bytes);
    }
    Capture::read(&bytes).expect("a stream")
}

/// The report an attached run of [`capture`] makes, its `attach` section
/// from the built clients.
fn report(built: Built) -> Report {
    let mut r = Report::from_aggregates(
        crate::report::ReportConfig {
            variant: "synth".into(),
            sites: Vec::new(),
            sample_rate: RATE,
            frames: FRAMES,
            channels: 0,
            seconds: 0.0,
            seed: 0,
            backend: BACKEND.into(),
            mode: "real-time".into(),
            convolution: false,
            preset: None,
            warm_up_callbacks: WARM_UP,
            scenario: None,
            trace_sites: true,
            rusage: false,
            c_level: true,
        },
        crate::report::Environment::detect(),
        &built.aggregates,
        crate::report::Integrity::not_checked("test"),
    );
    r.sites = built.sites;
    r.attach = Some(crate::report::AttachReport {
        clients: built.clients,
        ..Default::default()
    });
    r
}

#[test]
fn cycles_become_output_records_and_other_roles_stay_apart() {
    let built = build(&[capture()], WARM_UP);
    // 100 + 39 recorded cycles; the buffer-size callback is no cycle.
    assert_eq!((built.cycles, built.records, built.dropped), (139, 140, 1));
    let all = &built.aggregates.all;
    assert_eq!(all.output.totals.callbacks, 139);
    assert_eq!(all.input.totals.callbacks, 0);
    // Every tenth of 100 from index 3: 10 callbacks, 2 each; the
    // buffer-size callback's 5 are not among them.
    let t = all.output.totals;
    assert_eq!((t.touched_allocator, t.counts.allocations), (10, 20));
    assert_eq!(
        (t.counts.deallocations, t.counts.bytes_allocated),
        (20, 960)
    );
    // printf at 0, 25, 50, 75; nanosleep at 30 in the other slot.
    assert_eq!(t.blocking.get(allocgate::BlockingCall::Printf), 4);
    assert_eq!(t.blocking.get(allocgate::BlockingCall::NanoSleep), 1);
    assert_eq!(t.hazards.callbacks_blocking, 5);
    // Warm-up: indices 0..5 of both cycle slots; index 3 allocates and 0
    // printed.
    let w = built.aggregates.warm_up.output.totals;
    assert_eq!(
        (
            w.callbacks,
            w.touched_allocator,
            w.hazards.callbacks_blocking
        ),
        (10, 1, 1)
    );
    // The 20 requests of 48 bytes, replayed: macOS's 48-byte class.
    let sizes = built.aggregates.sizes_total();
    assert_eq!(sizes.macos_classes().count_like(48), 20);
    assert_eq!(sizes.requested().total(), 20);
    // The period from the buffer size: 139 periods of device time.
    assert_eq!(t.period_ns, 139 * PERIOD_NS);
    assert_eq!(t.frames, 139 * u64::from(FRAMES));
    // From the first start to the last end: index 99's.
    assert_eq!(
        built.aggregates.duration.as_nanos(),
        u128::from(99 * PERIOD_NS + 1_000 + 99)
    );
    let timeline: u64 = built
        .aggregates
        .timeline
        .bins()
        .iter()
        .map(|b| b.output.callbacks)
        .sum();
    assert_eq!(timeline, 139);
}

#[test]
fn every_slot_has_its_own_figures_and_first_offences() {
    let built = build(&[capture()], WARM_UP);
    let roles: Vec<(&str, bool, u64)> = built
        .clients
        .iter()
        .map(|c| (c.role.as_str(), c.cycle, c.callbacks))
        .collect();
    assert_eq!(
        roles,
        [
            ("jack-process", true, 100),
            ("jack-buffer-size", false, 1),
            ("jack-process-thread", true, 39),
        ]
    );
    let synth = &built.clients[0];
    assert_eq!((synth.pid, synth.name.as_str()), (77, "synth"));
    assert_eq!(synth.period_ns, Some(PERIOD_NS));
    assert_eq!(synth.steady_state.callbacks_touching_allocator, 9);
    assert_eq!(synth.first_allocating_callback, Some(13));
    assert_eq!(synth.first_blocking_callback, Some(25));
    assert_eq!(synth.steady_state.callbacks_blocking, Some(3));
    assert_eq!(
        synth.totals.blocking_calls.as_ref().unwrap().get("printf"),
        Some(&4)
    );
    assert_eq!((synth.latency.min_ns, synth.latency.max_ns), (1_000, 1_099));
    assert_eq!(synth.sites.len(), 1);
    assert_eq!(synth.sites[0].per_callback, 20.0 / 100.0);
    let resize = &built.clients[1];
    assert_eq!(resize.totals.allocations, 5);
    let second = &built.clients[2];
    assert_eq!((second.dropped, second.unknown_blocking_calls), (1, 2));
    assert_eq!(second.first_blocking_callback, Some(30));
    assert_eq!(second.first_allocating_callback, None);
    // The run's sites: the cycles', per cycle callback of every slot.
    assert_eq!(built.sites.len(), 1);
    let s = &built.sites[0];
    assert_eq!(
        (s.count, s.kind.as_str(), s.class_bytes),
        (20, "output", Some(48))
    );
    assert_eq!(s.per_callback, 20.0 / 139.0);
}

#[test]
fn the_gate_fails_steady_allocations_blocking_and_drops_and_a_baseline_takes_the_allocations() {
    let r = report(build(&[capture()], WARM_UP));
    let why: Vec<String> = failures(&r, false)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        why,
        [
            "jack-process 'synth' (pid 77, slot 0): 9 callbacks past the warm-up touched the \
             allocator (18 allocations, 18 deallocations, 0 reallocations), the first at callback 13",
            "jack-process 'synth' (pid 77, slot 0): 3 callbacks past the warm-up made blocking \
             calls (3 x printf), the first at callback 25",
            "jack-process-thread 'second' (pid 77, slot 2): 1 callback past the warm-up made \
             blocking calls (1 x nanosleep, 2 under names this build does not know), the first \
             at callback 30",
            "jack-process-thread 'second' (pid 77, slot 2): 1 record dropped (a full queue), so \
             as many callbacks ran unchecked",
        ]
    );
    assert_eq!(
        failures(&r, true).len(),
        3,
        "a baseline judges the allocations"
    );
    let counts = site_counts(&r);
    let key = crate::baseline::SiteKey {
        scenario: "synth".into(),
        kind: "output".into(),
        function: "synth_process".into(),
    };
    assert_eq!(counts.counts().get(&key), Some(&20));
    assert_eq!(counts.counts().len(), 1);
    // The warm-up covering everything: only the drop is left.
    let r = report(build(&[capture()], 100));
    assert_eq!(failures(&r, false).len(), 1);
}

#[test]
fn a_client_of_unknown_rate_has_no_period_and_its_callbacks_no_load() {
    let mut bytes = Vec::new();
    for m in [
        Message::Header(header()),
        client(0, Role::Manual, "", 0),
        Message::Callback(Callback {
            frames: 0,
            ..callback(0, 0)
        }),
    ] {
        allocgate_wire::encode(&m, &mut bytes);
    }
    let built = build(&[Capture::read(&bytes).unwrap()], 0);
    let c = &built.clients[0];
    assert_eq!(
        (c.role.as_str(), c.cycle, c.period_ns),
        ("marked", true, None)
    );
    let t = built.aggregates.all.output.totals;
    assert_eq!((t.callbacks, t.period_ns, t.frames), (1, 0, 0));
    assert_eq!(built.aggregates.all.output.load.mean(), 0.0);
}

#[test]
fn two_processes_are_aligned_on_one_clock_and_reported_apart() {
    let main = capture();
    let mut child = capture();
    child.header.pid = 78;
    let built = build(&[main, child], WARM_UP);
    assert_eq!(built.cycles, 2 * 139);
    assert_eq!(built.clients.len(), 6);
    assert_eq!(built.clients[3].pid, 78);
    assert_eq!(
        built.sites[0].count, 40,
        "sites of one function and size add up"
    );
    let r = report(built);
    assert_eq!(
        r.totals.callbacks,
        ByKind {
            input: 0,
            output: 278
        }
    );
    assert_eq!(site_counts(&r).counts().values().sum::<u64>(), 40);
}
