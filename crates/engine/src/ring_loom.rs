//! Loom model checks of the ring: the real [`Ring`] code on loom's atomics
//! (`engine::sync`), one writer thread and one reader, every interleaving
//! loom's scheduler explores. Bytes are distinct and non-zero, so a stale
//! or torn byte (one the index hand-over did not order) shows as a wrong
//! value. Run with
//! `RUSTFLAGS="--cfg loom" cargo test --release --lib loom`.

use std::sync::atomic::{AtomicUsize as StdCounter, Ordering as StdOrdering};

use loom::thread;

use super::ring::{Ring, RingReader};

/// What the writer thread reports when it is done.
struct Written {
    accepted: Vec<u8>,
    offered: u64,
    dropped: u64,
    partial: u64,
}

/// Runs `body` under loom's default model and returns how many
/// executions (interleavings) it explored.
fn explore(body: fn()) -> usize {
    // A counter per call: the tests run in parallel, and a shared one
    // would mix their counts.
    let runs = std::sync::Arc::new(StdCounter::new(0));
    let counted = std::sync::Arc::clone(&runs);
    loom::model(move || {
        counted.fetch_add(1, StdOrdering::Relaxed);
        body();
    });
    runs.load(StdOrdering::Relaxed)
}

/// Reads once with a buffer of `len` bytes; checks that what was
/// available before cannot shrink (only this reader consumes) and that no
/// more arrives than the ring can hold.
fn read_some(r: &mut RingReader, len: usize, capacity: usize, into: &mut Vec<u8>) {
    let before = r.available();
    assert!(before < capacity, "available {before} of {capacity}");
    let mut buf = [0u8; 8];
    let n = r.read(&mut buf[..len]);
    assert!(n >= before.min(len), "read {n}, {before} were available");
    into.extend_from_slice(&buf[..n]);
}

/// One writer writing `chunks` as frames of `frame` bytes into a ring of
/// `capacity`, one reader reading `reads` times concurrently (buffers of
/// `read_len`), then draining once the writer is done.
fn hand_over(
    capacity: usize,
    frame: usize,
    chunks: &'static [&'static [u8]],
    reads: usize,
    read_len: usize,
) {
    let (mut w, mut r) = Ring::with_capacity(capacity);
    let writer = thread::spawn(move || {
        let mut accepted = Vec::new();
        let mut offered = 0;
        for chunk in chunks {
            let free = w.free();
            let n = w.write_frames(chunk, frame);
            assert!(n >= free.min(chunk.len()), "wrote {n}, {free} were free");
            accepted.extend_from_slice(&chunk[..n]);
            offered += chunk.len() as u64;
        }
        Written {
            accepted,
            offered,
            dropped: w.dropped_bytes(),
            partial: w.partial_frame_writes(),
        }
    });
    let mut seen = Vec::new();
    for _ in 0..reads {
        read_some(&mut r, read_len, capacity, &mut seen);
    }
    let done = writer.join().unwrap();
    read_some(&mut r, 8.min(capacity), capacity, &mut seen);
    assert_eq!(r.available(), 0);
    // Every byte read was written, in order, none stale, none twice, and
    // everything accepted arrived.
    assert_eq!(seen, done.accepted);
    assert_eq!(done.accepted.len() as u64 + done.dropped, done.offered);
    let cut = chunks
        .iter()
        .scan(done.accepted.len(), |left, c| {
            let n = c.len().min(*left);
            *left -= n;
            Some(n)
        })
        .filter(|n| n % frame != 0)
        .count() as u64;
    // A write that ended mid-frame is counted; every cut write is one of
    // them, since a write only shortens when the ring is full.
    assert!(
        done.partial <= cut + done.dropped,
        "partial {}",
        done.partial
    );
}

#[test]
fn loom_two_byte_frames_through_four_bytes() {
    // 3 usable bytes: the second frame can only be cut short or dropped
    // unless the reader has made room.
    static CHUNKS: [&[u8]; 3] = [&[1, 2], &[3, 4], &[5, 6]];
    let runs = explore(|| hand_over(4, 2, &CHUNKS, 2, 2));
    eprintln!("loom_two_byte_frames_through_four_bytes: {runs} executions");
}

#[test]
fn loom_single_bytes_wrap_around_three_bytes() {
    // 2 usable bytes, read one at a time: the indices cross the end.
    static CHUNKS: [&[u8]; 3] = [&[1], &[2, 3], &[4]];
    let runs = explore(|| hand_over(3, 1, &CHUNKS, 3, 1));
    eprintln!("loom_single_bytes_wrap_around_three_bytes: {runs} executions");
}
