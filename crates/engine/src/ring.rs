//! The byte ring between the input and the output callback.
//!
//! Same observable behaviour as the reference engine's circular buffer
//! (65 536 bytes, one byte always kept empty, writes that do not fit are cut
//! short and the rest dropped silently, so a write can end mid-frame), made
//! sound: a single writer and a single reader, each owning its index, hand
//! bytes over with release/acquire. [`Ring::with_capacity`] returns the two halves, so
//! ownership states the threading contract. After construction nothing here
//! allocates, locks or blocks.

use crate::sync::{Arc, AtomicUsize, ByteCells, Ordering};

/// The reference engine's ring size in bytes.
pub const RING_BYTES: usize = 65_536;

struct Shared {
    buf: ByteCells,
    /// Next byte the writer fills; only the writer stores it.
    write: AtomicUsize,
    /// Next byte the reader takes; only the reader stores it.
    read: AtomicUsize,
}

// SAFETY: the bytes are only reached through `RingWriter` (which writes the
// free region [write, read - 1)) and `RingReader` (which reads the filled
// region [read, write)); there is one of each, the regions never overlap,
// and a region changes hands only through a release store of the index
// that its new owner loads with acquire.
unsafe impl Sync for Shared {}

impl Shared {
    fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Bytes the writer may fill, one always kept empty.
    fn free(&self, write: usize, read: usize) -> usize {
        let cap = self.capacity();
        (read + cap - write - 1) % cap
    }

    /// Bytes written and not yet read.
    fn filled(&self, write: usize, read: usize) -> usize {
        let cap = self.capacity();
        (write + cap - read) % cap
    }
}

/// Constructs rings.
#[derive(Debug)]
pub struct Ring;

impl Ring {
    /// A ring of `capacity` bytes, of which `capacity - 1` are usable: the
    /// writing half for the input callback, the reading half for the output
    /// callback.
    ///
    /// # Panics
    ///
    /// If `capacity` is below 2 (a programming error: the engine's ring is
    /// a constant).
    pub fn with_capacity(capacity: usize) -> (RingWriter, RingReader) {
        assert!(
            capacity >= 2,
            "a ring needs at least 2 bytes, got {capacity}"
        );
        let shared = Arc::new(Shared {
            buf: ByteCells::new(capacity),
            write: AtomicUsize::new(0),
            read: AtomicUsize::new(0),
        });
        (
            RingWriter {
                shared: shared.clone(),
                dropped_bytes: 0,
                partial_frame_writes: 0,
            },
            RingReader { shared },
        )
    }

    /// The reference engine's ring: 65 536 bytes.
    pub fn reference() -> (RingWriter, RingReader) {
        Self::with_capacity(RING_BYTES)
    }

    /// Empties the ring: both indices back to 0, contents zeroed. Holding
    /// both halves mutably proves neither callback is running. Returns
    /// `false` (and does nothing) if the halves belong to different rings.
    pub fn reset(writer: &mut RingWriter, reader: &mut RingReader) -> bool {
        if !Arc::ptr_eq(&writer.shared, &reader.shared) {
            return false;
        }
        let s = &writer.shared;
        for at in 0..s.capacity() {
            // SAFETY: both halves are borrowed mutably, so no other access
            // to the bytes can run.
            unsafe { s.buf.copy_in(at, &[0]) };
        }
        s.write.store(0, Ordering::Release);
        s.read.store(0, Ordering::Release);
        true
    }
}

/// The writing half: the input callback's end.
pub struct RingWriter {
    shared: Arc<Shared>,
    dropped_bytes: u64,
    partial_frame_writes: u64,
}

impl RingWriter {
    /// Writes as much of `bytes` as fits and returns how much that was; the
    /// rest is dropped silently (and counted). Runs on the audio thread.
    pub fn write(&mut self, bytes: &[u8]) -> usize {
        let s = &*self.shared;
        let cap = s.capacity();
        let write = s.write.load(Ordering::Relaxed);
        let read = s.read.load(Ordering::Acquire);
        let n = bytes.len().min(s.free(write, read));
        let first = n.min(cap - write);
        // SAFETY: [write, write + n) modulo `cap` is free: the reader does
        // not touch it until the release store below, and this is the only
        // writer.
        unsafe {
            s.buf.copy_in(write, &bytes[..first]);
            s.buf.copy_in(0, &bytes[first..n]);
        }
        s.write.store((write + n) % cap, Ordering::Release);
        self.dropped_bytes += (bytes.len() - n) as u64;
        n
    }

    /// Writes whole frames of `frame_bytes` bytes, as [`write`](Self::write)
    /// does, and counts the write as partial when it ends inside a frame:
    /// everything read afterwards is then shifted by the missing bytes.
    /// Runs on the audio thread.
    pub fn write_frames(&mut self, bytes: &[u8], frame_bytes: usize) -> usize {
        let n = self.write(bytes);
        if frame_bytes > 0 && !n.is_multiple_of(frame_bytes) {
            self.partial_frame_writes += 1;
        }
        n
    }

    /// Bytes free for writing now.
    pub fn free(&self) -> usize {
        let s = &*self.shared;
        s.free(
            s.write.load(Ordering::Relaxed),
            s.read.load(Ordering::Acquire),
        )
    }

    /// Bytes dropped so far because the ring was full.
    pub fn dropped_bytes(&self) -> u64 {
        self.dropped_bytes
    }

    /// Writes so far that ended in the middle of a frame.
    pub fn partial_frame_writes(&self) -> u64 {
        self.partial_frame_writes
    }
}

impl std::fmt::Debug for RingWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingWriter")
            .field("free", &self.free())
            .field("dropped_bytes", &self.dropped_bytes)
            .field("partial_frame_writes", &self.partial_frame_writes)
            .finish()
    }
}

/// The reading half: the output callback's end.
pub struct RingReader {
    shared: Arc<Shared>,
}

impl RingReader {
    /// Reads up to `out.len()` bytes into the start of `out` and returns how
    /// many arrived. Runs on the audio thread.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        let s = &*self.shared;
        let cap = s.capacity();
        let read = s.read.load(Ordering::Relaxed);
        let write = s.write.load(Ordering::Acquire);
        let n = out.len().min(s.filled(write, read));
        let first = n.min(cap - read);
        // SAFETY: [read, read + n) modulo `cap` was filled by the writer
        // before its release store, which the acquire load above saw; the
        // writer does not touch it again until the release store below.
        unsafe {
            s.buf.copy_out(read, &mut out[..first]);
            s.buf.copy_out(0, &mut out[first..n]);
        }
        s.read.store((read + n) % cap, Ordering::Release);
        n
    }

    /// Bytes available for reading now. Runs on the audio thread.
    pub fn available(&self) -> usize {
        let s = &*self.shared;
        s.filled(
            s.write.load(Ordering::Acquire),
            s.read.load(Ordering::Relaxed),
        )
    }
}

impl std::fmt::Debug for RingReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingReader")
            .field("available", &self.available())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(range: std::ops::Range<u32>) -> Vec<u8> {
        range.map(|i| i as u8).collect()
    }

    #[test]
    fn one_byte_is_always_kept_empty() {
        let (mut w, r) = Ring::reference();
        assert_eq!(w.free(), RING_BYTES - 1);
        assert_eq!(w.write(&vec![7u8; RING_BYTES]), RING_BYTES - 1);
        assert_eq!(r.available(), RING_BYTES - 1);
        assert_eq!(w.free(), 0);
        assert_eq!(w.dropped_bytes(), 1);
    }

    #[test]
    fn a_full_ring_drops_the_whole_write_and_counts_it() {
        let (mut w, mut r) = Ring::with_capacity(16);
        assert_eq!(w.write(&bytes(0..15)), 15);
        assert_eq!(w.write(&bytes(100..110)), 0);
        assert_eq!(w.dropped_bytes(), 10);
        let mut out = [0u8; 15];
        assert_eq!(r.read(&mut out), 15);
        assert_eq!(out.to_vec(), bytes(0..15));
    }

    #[test]
    fn writes_and_reads_wrap_around_the_end() {
        let (mut w, mut r) = Ring::with_capacity(16);
        let mut out = [0u8; 16];
        assert_eq!(w.write(&bytes(0..12)), 12);
        assert_eq!(r.read(&mut out[..10]), 10);
        // Write index 12, read index 10: 13 free, 6 of them before the end.
        assert_eq!(w.write(&bytes(50..63)), 13);
        assert_eq!(r.available(), 15);
        assert_eq!(r.read(&mut out[..15]), 15);
        let expected: Vec<u8> = bytes(10..12).into_iter().chain(bytes(50..63)).collect();
        assert_eq!(out[..15].to_vec(), expected);
        assert_eq!(r.read(&mut out), 0);
    }

    #[test]
    fn a_partial_frame_write_shifts_every_later_frame_and_is_counted() {
        // Frames of 2 channels x 4 bytes; room for 1 frame and 3 bytes.
        let (mut w, mut r) = Ring::with_capacity(12);
        let frame = |l: u8, rr: u8| [l, l, l, l, rr, rr, rr, rr];
        let two_frames: Vec<u8> = frame(1, 2).into_iter().chain(frame(3, 4)).collect();
        assert_eq!(w.write_frames(&two_frames, 8), 11);
        assert_eq!(w.partial_frame_writes(), 1);
        assert_eq!(w.dropped_bytes(), 5);
        let mut out = [0u8; 8];
        assert_eq!(r.read(&mut out), 8);
        assert_eq!(out, frame(1, 2));
        // The next whole frame written lands behind 3 stray bytes: what is
        // read as channel 0 now starts with the tail of the cut frame.
        assert_eq!(w.write_frames(&frame(5, 6), 8), 8);
        assert_eq!(r.read(&mut out), 8);
        assert_eq!(out, [3, 3, 3, 5, 5, 5, 5, 6]);
        assert_eq!(w.partial_frame_writes(), 1);
    }

    #[test]
    fn reset_empties_the_ring_and_refuses_halves_of_different_rings() {
        let (mut w, mut r) = Ring::with_capacity(16);
        w.write(&bytes(0..9));
        assert!(Ring::reset(&mut w, &mut r));
        assert_eq!(r.available(), 0);
        assert_eq!(w.free(), 15);
        let (_, mut other) = Ring::with_capacity(16);
        assert!(!Ring::reset(&mut w, &mut other));
    }

    #[test]
    fn bytes_cross_threads_in_order_without_tearing() {
        // One writer and one reader on real threads: every byte read is the
        // next of a known sequence, whatever the interleaving.
        const TOTAL: usize = if cfg!(miri) { 2_000 } else { 2_000_000 };
        let (mut w, mut r) = Ring::with_capacity(257);
        let writer = std::thread::spawn(move || {
            let mut next = 0usize;
            let mut chunk = [0u8; 100];
            while next < TOTAL {
                let len = (next % 97 + 1).min(TOTAL - next);
                for (i, b) in chunk[..len].iter_mut().enumerate() {
                    *b = ((next + i) % 251) as u8;
                }
                next += w.write(&chunk[..len]);
            }
            w.dropped_bytes()
        });
        let mut seen = 0usize;
        let mut out = [0u8; 64];
        while seen < TOTAL {
            let n = r.read(&mut out[..(seen % 61) + 1]);
            for (i, b) in out[..n].iter().enumerate() {
                assert_eq!(*b as usize, (seen + i) % 251, "byte {}", seen + i);
            }
            seen += n;
        }
        assert!(
            writer.join().unwrap() > 0,
            "the writer never found the ring full"
        );
    }
}
