//! A model of the engine's ring that holds positions instead of bytes.
//!
//! The input callback writes the interleaved bytes of frames
//! `t..t + N` of the known signal; stream byte `q` of the signal is byte
//! `q % 4` of sample `q / 4`, i.e. of channel `(q / 4) % C` at frame
//! `(q / 4) / C`. Each write therefore lands in the ring as one span of
//! that stream, cut short when the ring is full (a dropped write, possibly
//! mid-frame or mid-sample). Consecutive writes without a drop are
//! contiguous and merge, so the model holds one span per discontinuity.
//!
//! Reading pops bytes from the front exactly as the ring does; the pieces
//! read say, for every byte the output callback received, which signal
//! byte it is. Nothing is searched and nothing resynchronises: the model
//! follows every underrun, drop and partial frame exactly.

use std::collections::VecDeque;

use crate::drive::signal::Signal;

/// A run of consecutive bytes of the signal's interleaved stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u64,
    len: u64,
}

/// The model cannot follow the ring any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lost {
    /// More discontinuities in the ring than the model has room for.
    TooManyCuts,
    /// The engine read more bytes than the model holds.
    Diverged,
}

/// The ring's contents as spans of the signal stream.
#[derive(Debug)]
pub(super) struct ShadowRing {
    spans: VecDeque<Span>,
    bytes: u64,
}

impl ShadowRing {
    /// Room for `spans` discontinuities, allocated now.
    pub(super) fn with_capacity(spans: usize) -> ShadowRing {
        ShadowRing {
            spans: VecDeque::with_capacity(spans),
            bytes: 0,
        }
    }

    /// Bytes held.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The input callback wrote `len` bytes of the stream from `start`.
    pub(super) fn write(&mut self, start: u64, len: u64) -> Result<(), Lost> {
        if len == 0 {
            return Ok(());
        }
        self.bytes += len;
        if let Some(tail) = self.spans.back_mut()
            && tail.start + tail.len == start
        {
            tail.len += len;
            return Ok(());
        }
        if self.spans.len() == self.spans.capacity() {
            return Err(Lost::TooManyCuts);
        }
        self.spans.push_back(Span { start, len });
        Ok(())
    }

    /// The output callback read `len` bytes: they leave the model and
    /// become `out` (replacing what it held).
    pub(super) fn read(&mut self, len: u64, out: &mut ReadStream) -> Result<(), Lost> {
        out.pieces.clear();
        out.len = len;
        out.cursor = 0;
        if len > self.bytes {
            return Err(Lost::Diverged);
        }
        self.bytes -= len;
        let mut offset = 0;
        while offset < len {
            let front = self.spans.front_mut().ok_or(Lost::Diverged)?;
            let take = front.len.min(len - offset);
            if out.pieces.len() == out.pieces.capacity() {
                return Err(Lost::TooManyCuts);
            }
            out.pieces.push(Piece {
                offset,
                start: front.start,
                len: take,
            });
            front.start += take;
            front.len -= take;
            if front.len == 0 {
                self.spans.pop_front();
            }
            offset += take;
        }
        Ok(())
    }

    /// The ring was reset: empty.
    pub(super) fn clear(&mut self) {
        self.spans.clear();
        self.bytes = 0;
    }
}

#[derive(Debug, Clone, Copy)]
struct Piece {
    /// Where the piece starts in the bytes read.
    offset: u64,
    /// Where it starts in the signal stream.
    start: u64,
    len: u64,
}

/// The bytes one output callback read, as pieces of the signal stream.
/// Bytes past the end read as zero, as the engine zeroes the tail of a
/// short read.
#[derive(Debug)]
pub(super) struct ReadStream {
    pieces: Vec<Piece>,
    len: u64,
    cursor: usize,
}

/// One float of the bytes read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Value {
    pub(super) value: f32,
    /// True when the float is a whole sample of the signal (or the zero
    /// tail), false when it was put together from pieces of samples.
    pub(super) whole: bool,
}

impl ReadStream {
    /// Room for `pieces` pieces, allocated now.
    pub(super) fn with_capacity(pieces: usize) -> ReadStream {
        ReadStream {
            pieces: Vec::with_capacity(pieces),
            len: 0,
            cursor: 0,
        }
    }

    fn locate(&mut self, offset: u64) -> Option<Piece> {
        if offset >= self.len {
            return None;
        }
        if self
            .pieces
            .get(self.cursor)
            .is_none_or(|p| p.offset > offset)
        {
            self.cursor = 0;
        }
        while let Some(p) = self.pieces.get(self.cursor) {
            if offset < p.offset + p.len {
                return Some(*p);
            }
            self.cursor += 1;
        }
        None
    }

    fn byte(&mut self, offset: u64, signal: &Signal, channels: usize) -> u8 {
        match self.locate(offset) {
            Some(p) => {
                let q = p.start + (offset - p.offset);
                let sample = q / 4;
                let c = channels as u64;
                let value = signal.sample((sample % c) as usize, sample / c);
                value.to_ne_bytes()[(q % 4) as usize]
            }
            None => 0,
        }
    }

    /// The float at byte `offset` of what was read, for a signal of
    /// `channels` channels.
    pub(super) fn float(&mut self, offset: u64, signal: &Signal, channels: usize) -> Value {
        if offset >= self.len {
            return Value {
                value: 0.0,
                whole: true,
            };
        }
        if let Some(p) = self.locate(offset) {
            let q = p.start + (offset - p.offset);
            if q.is_multiple_of(4) && offset + 4 <= p.offset + p.len {
                let sample = q / 4;
                let c = channels as u64;
                return Value {
                    value: signal.sample((sample % c) as usize, sample / c),
                    whole: true,
                };
            }
        }
        let bytes = [0, 1, 2, 3].map(|i| self.byte(offset + i, signal, channels));
        Value {
            value: f32::from_ne_bytes(bytes),
            whole: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: usize = 2;

    fn frame_bytes(frames: u64) -> u64 {
        frames * C as u64 * 4
    }

    #[test]
    fn contiguous_writes_merge_and_reads_follow_them_in_order() {
        let s = Signal::new(1);
        let mut ring = ShadowRing::with_capacity(4);
        let mut read = ReadStream::with_capacity(4);
        ring.write(0, frame_bytes(10)).unwrap();
        ring.write(frame_bytes(10), frame_bytes(10)).unwrap();
        assert_eq!(ring.spans.len(), 1);
        ring.read(frame_bytes(15), &mut read).unwrap();
        // Frame 12, channel 1 is float 12 × 2 + 1 of the bytes read.
        let v = read.float((12 * 2 + 1) * 4, &s, C);
        assert_eq!(v.value, s.sample(1, 12));
        assert!(v.whole);
        assert_eq!(ring.bytes(), frame_bytes(5));
    }

    #[test]
    fn a_write_cut_mid_sample_misaligns_what_follows() {
        let s = Signal::new(2);
        let mut ring = ShadowRing::with_capacity(4);
        let mut read = ReadStream::with_capacity(4);
        // Frames 0..4 cut after 5 bytes (sample 1 lost after its first
        // byte), then frames 4..8 whole.
        ring.write(0, 5).unwrap();
        ring.write(frame_bytes(4), frame_bytes(4)).unwrap();
        ring.read(5 + frame_bytes(4), &mut read).unwrap();
        let first = read.float(0, &s, C);
        assert_eq!(first.value, s.sample(0, 0));
        // Float 1 (bytes 4..8) is the first byte of sample 1 (channel 1
        // of frame 0), then the first three bytes of frame 4's channel 0.
        let mixed = read.float(4, &s, C);
        assert!(!mixed.whole);
        let mut want = [0u8; 4];
        want[0] = s.sample(1, 0).to_ne_bytes()[0];
        want[1..].copy_from_slice(&s.sample(0, 4).to_ne_bytes()[..3]);
        assert_eq!(mixed.value.to_bits(), f32::from_ne_bytes(want).to_bits());
        // Past the end: the zeroed tail.
        assert_eq!(read.float(5 + frame_bytes(4), &s, C).value, 0.0);
    }

    #[test]
    fn the_model_reports_when_it_runs_out_of_room_or_is_asked_for_too_much() {
        let mut ring = ShadowRing::with_capacity(1);
        let mut read = ReadStream::with_capacity(1);
        ring.write(0, 8).unwrap();
        assert_eq!(ring.write(100, 8), Err(Lost::TooManyCuts));
        let mut ring = ShadowRing::with_capacity(2);
        ring.write(0, 8).unwrap();
        assert_eq!(ring.read(9, &mut read), Err(Lost::Diverged));
        ring.clear();
        assert_eq!(ring.bytes(), 0);
    }
}
