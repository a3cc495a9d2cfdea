//! Any frame count from a block renderer: the `optimized` renderer's
//! fix for the reference's unrendered remainder. Input frames are
//! gathered into a [`BLOCK`]-frame buffer; each time it fills, the block
//! is rendered; output frames are served from the last rendered block.
//! Every frame is rendered whatever N is, and every frame comes out
//! exactly [`FIFO_LATENCY`] frames after it went in (silence before the
//! first block), so the latency is fixed, not N-dependent.

use crate::buffers::Planar;
use crate::convolver::BLOCK;

/// Frames between a sample entering a [`BlockFifo`] and its rendering
/// coming out: one block, 10.7 ms at 48 kHz.
pub const FIFO_LATENCY: usize = BLOCK;

/// A renderer of whole [`BLOCK`]-frame blocks of planar input into two
/// ears.
pub trait BlockRender {
    /// Renders one block of the first `channels` channels of `input`
    /// into the first `BLOCK` samples of `left` and `right`.
    fn render_block(
        &mut self,
        input: &Planar,
        channels: usize,
        left: &mut [f32],
        right: &mut [f32],
    );
}

/// A block renderer behind a one-block FIFO. See the
/// [module documentation](self).
#[derive(Debug)]
pub struct BlockFifo<R> {
    inner: R,
    channels: usize,
    /// The block being gathered: `fill` frames of each channel so far.
    gathering: Planar,
    fill: usize,
    /// The last rendered block, served frame by frame.
    left: Vec<f32>,
    right: Vec<f32>,
}

impl<R: BlockRender> BlockFifo<R> {
    /// A FIFO for up to `channels` input channels in front of `inner`,
    /// silent until its first block is rendered. Off the audio thread.
    pub fn new(inner: R, channels: usize) -> Self {
        BlockFifo {
            inner,
            channels,
            gathering: Planar::new(channels, BLOCK),
            fill: 0,
            left: vec![0.0; BLOCK],
            right: vec![0.0; BLOCK],
        }
    }

    /// The renderer behind the FIFO.
    pub fn inner(&self) -> &R {
        &self.inner
    }

    /// Heap blocks of its own (the gathering buffer and the two ears'
    /// blocks), not counting the inner renderer's.
    pub fn heap_blocks(&self) -> usize {
        usize::from(self.channels > 0) + 2
    }

    /// Feeds `frames` frames of the first `channels` channels of `input`
    /// (at most the FIFO's channel count) and writes `frames` frames of
    /// output into `left` and `right`, each [`FIFO_LATENCY`] frames behind
    /// its input. Renders a block each time one fills and returns how
    /// many it rendered: `(fill + frames) / BLOCK`, `fill` being the
    /// frames gathered before. Audio thread: allocates nothing unless the
    /// inner renderer does.
    pub fn render(
        &mut self,
        input: &Planar,
        channels: usize,
        frames: usize,
        left: &mut [f32],
        right: &mut [f32],
    ) -> usize {
        let channels = channels.min(self.channels);
        let mut done = 0;
        let mut blocks = 0;
        while done < frames {
            let take = (frames - done).min(BLOCK - self.fill);
            let span = self.fill..self.fill + take;
            for c in 0..channels {
                self.gathering.channel_mut(c)[span.clone()]
                    .copy_from_slice(&input.channel(c)[done..done + take]);
            }
            left[done..done + take].copy_from_slice(&self.left[span.clone()]);
            right[done..done + take].copy_from_slice(&self.right[span]);
            self.fill += take;
            done += take;
            if self.fill == BLOCK {
                self.inner
                    .render_block(&self.gathering, channels, &mut self.left, &mut self.right);
                self.fill = 0;
                blocks += 1;
            }
        }
        blocks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders each block as channel 0 on the left and channel 1 times
    /// two on the right: an identity with the FIFO's timing.
    struct Copy;

    impl BlockRender for Copy {
        fn render_block(&mut self, input: &Planar, _: usize, left: &mut [f32], right: &mut [f32]) {
            left.copy_from_slice(&input.channel(0)[..BLOCK]);
            for (r, x) in right.iter_mut().zip(input.channel(1)) {
                *r = 2.0 * x;
            }
        }
    }

    /// Streams `total` frames in callbacks of the sizes `sizes` cycles
    /// through; returns what came out.
    fn stream(sizes: &[usize], total: usize) -> (Vec<f32>, Vec<f32>) {
        let mut fifo = BlockFifo::new(Copy, 2);
        let max = *sizes.iter().max().unwrap();
        let mut input = Planar::new(2, max);
        let (mut l, mut r) = (vec![0.0; max], vec![0.0; max]);
        let (mut left, mut right) = (Vec::new(), Vec::new());
        let mut t = 0;
        for &n in sizes.iter().cycle() {
            if t >= total {
                break;
            }
            for i in 0..n {
                input.channel_mut(0)[i] = (t + i + 1) as f32;
                input.channel_mut(1)[i] = -((t + i + 1) as f32);
            }
            fifo.render(&input, 2, n, &mut l, &mut r);
            left.extend_from_slice(&l[..n]);
            right.extend_from_slice(&r[..n]);
            t += n;
        }
        (left, right)
    }

    #[test]
    fn every_frame_comes_out_one_block_later_whatever_the_frame_counts() {
        for sizes in [
            &[512][..],
            &[128],
            &[100],
            &[1],
            &[4096],
            &[511, 3, 700, 64, 2000],
        ] {
            let (left, right) = stream(sizes, 6000);
            for (t, (l, r)) in left.iter().zip(&right).enumerate() {
                let (want_l, want_r) = if t < FIFO_LATENCY {
                    (0.0, 0.0)
                } else {
                    let x = (t - FIFO_LATENCY + 1) as f32;
                    (x, -2.0 * x)
                };
                assert_eq!((*l, *r), (want_l, want_r), "frame {t}, sizes {sizes:?}");
            }
        }
    }

    #[test]
    fn a_callback_renders_each_block_that_fills() {
        struct Counting(usize);
        impl BlockRender for Counting {
            fn render_block(&mut self, _: &Planar, _: usize, _: &mut [f32], _: &mut [f32]) {
                self.0 += 1;
            }
        }
        let mut fifo = BlockFifo::new(Counting(0), 1);
        let input = Planar::new(1, 2048);
        let (mut l, mut r) = (vec![0.0; 2048], vec![0.0; 2048]);
        let mut fill = 0;
        for n in [100, 412, 1, 2048, 511, 1] {
            let before = fifo.inner().0;
            let blocks = fifo.render(&input, 1, n, &mut l, &mut r);
            assert_eq!(fifo.inner().0 - before, (fill + n) / BLOCK, "{n} frames");
            assert_eq!(
                blocks,
                (fill + n) / BLOCK,
                "{n} frames: what it says it did"
            );
            fill = (fill + n) % BLOCK;
        }
    }
}
