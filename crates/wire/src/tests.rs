use super::*;

fn header() -> Header {
    Header {
        version: VERSION,
        pid: 4242,
        program: "/usr/bin/jack_simple_client".into(),
        blocking_names: vec![
            "pthread_mutex_lock".into(),
            "nanosleep".into(),
            "printf".into(),
        ],
        queue_capacity: 4096,
        sites: true,
        rusage: false,
        children: true,
    }
}

fn callback(slot: u16, index: u64) -> Callback {
    Callback {
        slot,
        index,
        frames: 512,
        start_ns: 1_000_000 + index * 10_666_666,
        duration_ns: 12_345 + index,
        counts: Counts {
            allocations: index % 3,
            zeroed: 1,
            deallocations: 2,
            reallocations: 3,
            bytes_allocated: 4,
            bytes_deallocated: 5,
            realloc_bytes_from: 6,
            realloc_bytes_to: 7,
            realloc_bytes_grown: 8,
            realloc_bytes_shrunk: 9,
            largest_request: u64::MAX,
        },
        sizes: vec![(48, 2), (1 << 20, 1)],
        blocking: vec![(0, 1), (2, 7)],
        usage: (index % 2 == 1).then_some(Usage {
            minor_faults: 1,
            major_faults: 2,
            voluntary_switches: 3,
            involuntary_switches: 4,
        }),
    }
}

/// One of every message, header first, end last.
fn messages() -> Vec<Message> {
    vec![
        Message::Header(header()),
        Message::Client(Client {
            slot: 0,
            role: Role::JackProcess,
            name: "simple_client".into(),
            sample_rate: 48_000,
            buffer_size: 512,
        }),
        Message::Client(Client {
            slot: 1,
            role: Role::Other(77),
            name: "名前".into(),
            sample_rate: 0,
            buffer_size: 0,
        }),
        Message::Callback(callback(0, 0)),
        Message::Callback(callback(1, 0)),
        Message::Callback(callback(0, 1)),
        Message::Drops(Drops {
            slot: 1,
            dropped: 3,
        }),
        Message::Site(Site {
            slot: 0,
            function: "process".into(),
            size: 48,
            allocations: 2,
            deallocations: 0,
            reallocations: 0,
            backtrace: vec!["process".into(), "jack_client_thread".into()],
        }),
        Message::Site(Site {
            slot: 0,
            function: "process".into(),
            size: 48,
            allocations: 5,
            deallocations: 1,
            reallocations: 0,
            backtrace: vec!["later".into()],
        }),
        Message::Drops(Drops {
            slot: 1,
            dropped: 9,
        }),
        Message::End(End { complete: true }),
    ]
}

fn stream(messages: &[Message]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        encode(m, &mut out);
    }
    out
}

/// Byte offset at which each frame of `bytes` starts.
fn frame_starts(bytes: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        starts.push(at);
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += 4 + len;
    }
    starts
}

#[test]
fn every_message_reads_back_as_written() {
    let written = messages();
    let bytes = stream(&written);
    let read: Vec<Message> = Frames::new(&bytes).map(Result::unwrap).collect();
    assert_eq!(read, written);
}

#[test]
fn a_capture_gathers_clients_sites_and_drops_per_slot() {
    let c = Capture::read(&stream(&messages())).unwrap();
    assert_eq!(c.header, header());
    assert_eq!(c.clients.len(), 2);
    assert_eq!(c.client(1).unwrap().role, Role::Other(77));
    assert_eq!(
        c.callbacks_of(0).map(|c| c.index).collect::<Vec<_>>(),
        [0, 1]
    );
    assert_eq!(
        (c.dropped(0), c.dropped(1)),
        (0, 9),
        "the last running total"
    );
    assert_eq!(c.sites.len(), 1);
    let site = &c.sites[0];
    assert_eq!((site.allocations, site.deallocations), (2 + 5, 1));
    assert_eq!(site.bytes(), (2 + 5 + 1) * 48);
    assert_eq!(site.backtrace[0], "process", "the first backtrace is kept");
    let named: Vec<_> = c.blocking(&c.callbacks[0]).collect();
    assert_eq!(named, [("pthread_mutex_lock", 1), ("printf", 7)]);
    assert!(c.is_complete());
}

#[test]
fn roles_keep_their_codes_and_only_cycles_count_as_cycles() {
    for code in 0..=u8::MAX {
        assert_eq!(Role::from_code(code).code(), code);
    }
    assert!(Role::JackProcess.is_cycle() && Role::JackProcessThread.is_cycle());
    assert!(Role::Manual.is_cycle());
    assert!(!Role::JackBufferSize.is_cycle() && !Role::Other(9).is_cycle());
}

#[test]
fn a_stream_cut_anywhere_keeps_the_frames_before_the_cut_and_says_where() {
    let written = messages();
    let bytes = stream(&written);
    let starts = frame_starts(&bytes);
    for cut in 0..bytes.len() {
        let whole = starts.iter().filter(|&&s| s < cut).count();
        let result = Capture::read(&bytes[..cut]);
        if cut == 0 {
            assert_eq!(result, Err(ReadError::Empty));
            continue;
        }
        // The frame the cut falls in, or the one after the last whole one.
        let cut_frame = *starts.iter().rev().find(|&&s| s < cut).unwrap();
        let at_boundary = starts.contains(&cut);
        if whole == 1 && !at_boundary {
            assert_eq!(result, Err(ReadError::Truncated { offset: 0 }), "cut {cut}");
            continue;
        }
        let c = result.unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        let kept: Vec<Message> = Frames::new(&bytes[..cut])
            .take_while(Result::is_ok)
            .map(Result::unwrap)
            .collect();
        let complete_frames = if at_boundary { whole } else { whole - 1 };
        assert_eq!(kept, written[..complete_frames], "cut at {cut}");
        if at_boundary {
            assert_eq!(c.problem, None, "cut at {cut}");
        } else {
            assert_eq!(
                c.problem,
                Some(ReadError::Truncated {
                    offset: cut_frame as u64
                }),
                "cut at {cut}"
            );
        }
        assert!(c.end.is_none() && !c.is_complete());
    }
}

/// A small deterministic generator, so a failure replays.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn corrupted_and_random_bytes_never_panic_and_never_read_past_a_bad_frame() {
    let bytes = stream(&messages());
    // Every byte of the stream replaced by a few values.
    for at in 0..bytes.len() {
        for value in [0, 1, 0x7f, 0x80, 0xff, bytes[at] ^ 0x10] {
            let mut damaged = bytes.clone();
            damaged[at] = value;
            let frames: Vec<_> = Frames::new(&damaged).collect();
            let errors = frames.iter().filter(|f| f.is_err()).count();
            assert!(errors <= 1, "at most one error, and it is the last item");
            if errors == 1 {
                assert!(frames.last().unwrap().is_err());
            }
            let _ = Capture::read(&damaged);
        }
    }
    // Random streams, and random tails after a good header.
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let head = stream(&messages()[..1]);
    for round in 0..2_000 {
        let len = (rng.next() % 300) as usize;
        let mut junk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if round % 2 == 0 {
            junk.splice(0..0, head.iter().copied());
        }
        let _ = Frames::new(&junk).count();
        // A good header is always read; random bytes are never a stream.
        assert_eq!(
            Capture::read(&junk).is_ok(),
            round % 2 == 0,
            "round {round}"
        );
    }
}

#[test]
fn frames_of_unknown_kinds_are_skipped_and_counted() {
    let mut bytes = stream(&messages()[..2]);
    bytes.extend_from_slice(&3u32.to_le_bytes());
    bytes.extend_from_slice(&[200, 1, 2]);
    encode(&Message::Callback(callback(0, 0)), &mut bytes);
    let c = Capture::read(&bytes).unwrap();
    assert_eq!(
        (c.skipped, c.callbacks.len(), c.problem.clone()),
        (1, 1, None)
    );
}

#[test]
fn what_is_not_a_stream_is_named() {
    assert_eq!(
        Capture::read(b"hello world, not a stream").unwrap_err(),
        ReadError::NotAStream
    );
    let mut other = stream(&messages()[..1]);
    other[13] = 9; // the version's low byte
    assert_eq!(
        Capture::read(&other).unwrap_err(),
        ReadError::Version { found: 9 }
    );
    let mut body_first = Vec::new();
    encode(&Message::End(End { complete: true }), &mut body_first);
    assert_eq!(
        Capture::read(&body_first).unwrap_err(),
        ReadError::NotAStream
    );
    assert_eq!(
        ReadError::Truncated { offset: 12 }.to_string(),
        "the stream stops inside the frame at byte 12 (the program was stopped while writing it)"
    );
}

#[test]
fn a_resumed_reader_continues_from_the_bytes_consumed() {
    let bytes = stream(&messages());
    let starts = frame_starts(&bytes);
    // A file read while its third frame was half written.
    let partial = &bytes[..starts[3] + 5];
    let mut first = Frames::new(partial);
    assert_eq!(first.by_ref().filter(Result::is_ok).count(), 3);
    let consumed = first.consumed();
    assert_eq!(consumed, starts[3]);
    let rest: Vec<Message> = Frames::resume(&bytes[consumed..])
        .map(Result::unwrap)
        .collect();
    assert_eq!(rest, messages()[3..]);
}

#[test]
fn overlong_strings_and_lists_are_cut_to_fit_a_frame() {
    let mut h = header();
    h.program = "é".repeat(3000);
    h.blocking_names = vec!["x".repeat(5000); 1000];
    let mut bytes = Vec::new();
    encode(&Message::Header(h), &mut bytes);
    assert!(bytes.len() <= MAX_FRAME as usize + 4);
    let Message::Header(read) = Frames::new(&bytes).next().unwrap().unwrap() else {
        panic!("a header")
    };
    assert_eq!(read.program.len(), 1024);
    assert_eq!(read.blocking_names.len(), 256);
    assert!(read.blocking_names.iter().all(|n| n.len() == 1024));
}

#[test]
fn without_library_keeps_other_preloads_in_order() {
    use env::without_library;
    assert_eq!(
        without_library(
            "liba.so:/x/liballocgate_preload.so liballocgate_preload.so.bak",
            LIB
        ),
        Some("liba.so:liballocgate_preload.so.bak".into())
    );
    assert_eq!(without_library("  ", LIB), None);
}

const LIB: &str = env::LIBRARY;
