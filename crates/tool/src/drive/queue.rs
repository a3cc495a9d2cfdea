//! Leaving the audio thread: wait-free single-producer/single-consumer
//! queues (`rtrb`), allocated before the audio starts, that carry each
//! callback's [`Measurement`] and, for the integrity check, the blocks of
//! audio the output played, to a collector thread.
//!
//! Pushing never allocates, locks or blocks: when a queue is full the
//! item is dropped and counted (the collector fell behind), and the
//! report says how many were lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rtrb::{Consumer, Producer, RingBuffer};

use crate::drive::callback::Measurement;

/// Measurements a queue holds by default: about 40 s of callback pairs at
/// 48 kHz / 512, and far more than a collector polling every few
/// milliseconds ever lets pile up.
pub const MEASUREMENTS: usize = 8192;

/// Seconds of played stereo audio a block queue holds by default.
pub const BLOCK_SECONDS: usize = 4;

/// Items a queue's producer had to drop because the queue was full.
#[derive(Debug, Clone, Default)]
struct Lost(Arc<AtomicU64>);

impl Lost {
    fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A queue of measurements, allocated now: the audio thread's end and the
/// collector's end.
pub fn measurements(capacity: usize) -> (MeasurementProducer, MeasurementConsumer) {
    let (producer, consumer) = RingBuffer::new(capacity.max(1));
    let lost = Lost::default();
    (
        MeasurementProducer {
            inner: producer,
            lost: lost.clone(),
        },
        MeasurementConsumer {
            inner: consumer,
            lost,
        },
    )
}

/// The audio thread's end of a measurement queue.
#[derive(Debug)]
pub struct MeasurementProducer {
    inner: Producer<Measurement>,
    lost: Lost,
}

impl MeasurementProducer {
    /// Queues `m`, or counts it lost when the queue is full. Audio
    /// thread: never allocates, locks or blocks.
    pub fn push(&mut self, m: Measurement) {
        if self.inner.push(m).is_err() {
            self.lost.add();
        }
    }
}

/// The collector's end of a measurement queue.
#[derive(Debug)]
pub struct MeasurementConsumer {
    inner: Consumer<Measurement>,
    lost: Lost,
}

impl MeasurementConsumer {
    /// The oldest measurement, left in the queue.
    pub fn peek(&self) -> Option<&Measurement> {
        self.inner.peek().ok()
    }

    /// The oldest measurement, taken out.
    pub fn pop(&mut self) -> Option<Measurement> {
        self.inner.pop().ok()
    }

    /// Measurements dropped because the queue was full.
    pub fn lost(&self) -> u64 {
        self.lost.get()
    }
}

/// Which output callback played a block, and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    /// The index of the output callback whose output the block holds;
    /// `None` when the recording cannot vouch for it (the callback's
    /// output changed while it was being copied).
    pub callback: Option<u64>,
    /// Frames in the block.
    pub frames: u32,
}

/// A queue of played stereo blocks with room for `frames` frames in all,
/// allocated now: the audio thread's end and the collector's end.
pub fn blocks(frames: usize) -> (BlockProducer, BlockConsumer) {
    let frames = frames.max(1);
    // A block is at least one frame, so there are never more headers than
    // frames.
    let (headers, header_out) = RingBuffer::new(frames);
    let (samples, sample_out) = RingBuffer::new(2 * frames);
    let lost = Lost::default();
    (
        BlockProducer {
            headers,
            samples,
            lost: lost.clone(),
        },
        BlockConsumer {
            headers: header_out,
            samples: sample_out,
            lost,
        },
    )
}

/// The audio thread's end of a block queue.
#[derive(Debug)]
pub struct BlockProducer {
    headers: Producer<BlockHeader>,
    samples: Producer<f32>,
    lost: Lost,
}

impl BlockProducer {
    /// Queues the block `left`/`right` (equal lengths) that output
    /// callback `callback` played, or counts it lost when there is no
    /// room for all of it. Audio thread: never allocates, locks or blocks.
    pub fn push(&mut self, callback: u64, left: &[f32], right: &[f32]) {
        self.push_checked(callback, left, right, || true);
    }

    /// [`push`](Self::push), with `intact` asked once the samples are
    /// copied: false queues the block as not vouched for (its header's
    /// `callback` is `None`), for a recorder that reads buffers another
    /// thread may be writing. Audio thread: never allocates, locks or
    /// blocks.
    pub fn push_checked(
        &mut self,
        callback: u64,
        left: &[f32],
        right: &[f32],
        intact: impl FnOnce() -> bool,
    ) {
        let frames = left.len().min(right.len());
        if self.headers.slots() == 0 || self.samples.slots() < 2 * frames {
            self.lost.add();
            return;
        }
        let Ok(chunk) = self.samples.write_chunk_uninit(2 * frames) else {
            self.lost.add();
            return;
        };
        // Left then right, each contiguous: the consumer reads them back
        // in the same order.
        let written = chunk.fill_from_iter(left[..frames].iter().chain(&right[..frames]).copied());
        debug_assert_eq!(written, 2 * frames);
        let header = BlockHeader {
            callback: intact().then_some(callback),
            frames: u32::try_from(frames).unwrap_or(u32::MAX),
        };
        if self.headers.push(header).is_err() {
            // Checked above; only this thread pushes.
            self.lost.add();
        }
    }
}

/// The collector's end of a block queue.
#[derive(Debug)]
pub struct BlockConsumer {
    headers: Consumer<BlockHeader>,
    samples: Consumer<f32>,
    lost: Lost,
}

impl BlockConsumer {
    /// The oldest block's header, left in the queue.
    pub fn peek(&self) -> Option<BlockHeader> {
        self.headers.peek().ok().copied()
    }

    /// Takes the oldest block out, copying its samples into `left` and
    /// `right` (each at least as long as the block; a block longer than
    /// them is cut). Returns its header, or `None` when no block is there.
    pub fn pop_into(&mut self, left: &mut [f32], right: &mut [f32]) -> Option<BlockHeader> {
        let header = self.headers.pop().ok()?;
        let n = header.frames as usize;
        for (i, x) in self.take(2 * n).enumerate() {
            if i < n {
                if let Some(l) = left.get_mut(i) {
                    *l = x;
                }
            } else if let Some(r) = right.get_mut(i - n) {
                *r = x;
            }
        }
        Some(header)
    }

    /// Takes the oldest block out without reading it.
    pub fn skip(&mut self) -> Option<BlockHeader> {
        let header = self.headers.pop().ok()?;
        self.take(2 * header.frames as usize).for_each(drop);
        Some(header)
    }

    fn take(&mut self, n: usize) -> impl Iterator<Item = f32> + '_ {
        let n = n.min(self.samples.slots());
        self.samples
            .read_chunk(n)
            .into_iter()
            .flat_map(|chunk| chunk.into_iter())
    }

    /// Blocks dropped because the queue was full.
    pub fn lost(&self) -> u64 {
        self.lost.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_come_out_as_they_went_in_and_a_full_queue_counts_its_losses() {
        let (mut tx, mut rx) = blocks(6);
        tx.push(10, &[1.0, 2.0], &[3.0, 4.0]);
        tx.push(12, &[5.0, 6.0, 7.0], &[8.0, 9.0, 10.0]);
        tx.push(15, &[0.0, 0.0], &[0.0, 0.0]);
        assert_eq!(rx.lost(), 1, "a third block does not fit in 6 frames");
        let (mut l, mut r) = ([0.0; 4], [0.0; 4]);
        assert_eq!(rx.peek().map(|h| h.callback), Some(Some(10)));
        let h = rx.pop_into(&mut l, &mut r).unwrap();
        assert_eq!((h.callback, h.frames), (Some(10), 2));
        assert_eq!((&l[..2], &r[..2]), (&[1.0, 2.0][..], &[3.0, 4.0][..]));
        let h = rx.skip().unwrap();
        assert_eq!((h.callback, h.frames), (Some(12), 3));
        assert!(rx.pop_into(&mut l, &mut r).is_none());
    }

    #[test]
    fn a_block_not_vouched_for_comes_out_without_its_callback() {
        let (mut tx, mut rx) = blocks(8);
        tx.push_checked(4, &[1.0], &[2.0], || false);
        tx.push_checked(5, &[3.0], &[4.0], || true);
        assert_eq!(rx.skip().map(|h| h.callback), Some(None));
        let (mut l, mut r) = ([0.0; 1], [0.0; 1]);
        assert_eq!(
            rx.pop_into(&mut l, &mut r).map(|h| h.callback),
            Some(Some(5))
        );
        assert_eq!((l, r), ([3.0], [4.0]));
    }
}
