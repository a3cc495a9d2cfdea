//! The input callback (docs/engine.md, "The audio path"): pull N frames of C
//! channels into a buffer list, interleave them, write them to the ring.

use std::hint::black_box;

use crate::buffers::{AudioBuffer, BYTES_PER_SAMPLE, BufferList, OwnedBufferList};
use crate::layout::MAX_CHANNELS;
use crate::ring::RingWriter;
use crate::sites::temporaries::{CHANNEL_BUFFER_ALIGN, RawBlock, abl_bytes};
use crate::sites::{Site, SiteSet};

/// What one input callback did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputReport {
    /// Frames the host asked for.
    pub frames: usize,
    /// False when the callback returned early (engine stopped, frame count
    /// over the limit, or the pull failed).
    pub pulled: bool,
    /// Bytes written to the ring.
    pub written_bytes: usize,
    /// Bytes the ring had no room for (dropped silently, as the binauralizer
    /// drops them).
    pub dropped_bytes: usize,
    /// True when the ring write ended in the middle of a frame.
    pub partial_frame: bool,
}

/// The input callback's state, all allocated in [`InputCallback::new`].
#[derive(Debug)]
pub struct InputCallback {
    channels: usize,
    max_frames: usize,
    running: bool,
    list: OwnedBufferList,
    interleaved: Vec<f32>,
    ring: RingWriter,
    sites: SiteSet,
}

impl InputCallback {
    /// State for `channels` channels and up to `max_frames` frames per
    /// callback, writing to `ring`. Off the audio thread.
    pub fn new(channels: usize, max_frames: usize, ring: RingWriter, sites: SiteSet) -> Self {
        InputCallback {
            channels,
            max_frames,
            running: true,
            list: OwnedBufferList::new(channels, max_frames),
            interleaved: vec![0.0; channels * max_frames],
            ring,
            sites,
        }
    }

    /// Channels per frame.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Starts or stops the callback (stopped, it returns at once, as the
    /// original does without an input unit).
    pub fn set_running(&mut self, running: bool) {
        self.running = running;
    }

    /// The ring's writing half (for reset on start and stop).
    pub fn ring_mut(&mut self) -> &mut RingWriter {
        &mut self.ring
    }

    /// Runs one callback of `frames` frames. `pull` fills the buffer list
    /// it is given with the device's input (CoreAudio: `AudioUnitRender`;
    /// other backends copy from their buffers) and returns false on
    /// failure. Always "succeeds" towards the host, as the binauralizer's
    /// callback does.
    ///
    /// Audio thread: never allocates, locks or blocks unless the sites
    /// [`Site::Abl`], [`Site::PtrArray`] or [`Site::ChannelBuffers`] are on.
    pub fn process<F>(&mut self, frames: usize, pull: F) -> InputReport
    where
        F: FnOnce(&mut BufferList<'_>) -> bool,
    {
        let mut report = InputReport {
            frames,
            ..InputReport::default()
        };
        if !self.running || frames > self.max_frames || self.channels == 0 {
            return report;
        }
        let pulled = if self.sites.contains(Site::Abl)
            || self.sites.contains(Site::PtrArray)
            || self.sites.contains(Site::ChannelBuffers)
        {
            self.pull_into_fresh(frames, pull)
        } else {
            let mut list = self.list.view();
            list.set_frames(frames) && pull(&mut list) && {
                interleave(&list, self.channels, frames, &mut self.interleaved);
                true
            }
        };
        if !pulled {
            return report;
        }
        report.pulled = true;
        let frame_bytes = self.channels * BYTES_PER_SAMPLE;
        let bytes: &[u8] = bytemuck::cast_slice(&self.interleaved[..frames * self.channels]);
        let partial_before = self.ring.partial_frame_writes();
        report.written_bytes = self.ring.write_frames(bytes, frame_bytes);
        report.dropped_bytes = bytes.len() - report.written_bytes;
        report.partial_frame = self.ring.partial_frame_writes() != partial_before;
        report
    }

    /// The input-callback pattern first suspected in the binauralizer
    /// (the `seed` variant's): the buffer list, the pointer array and
    /// the channel buffers made fresh for this callback (whichever of the
    /// three sites are on) and freed at its end.
    #[inline(never)]
    fn pull_into_fresh<F>(&mut self, frames: usize, pull: F) -> bool
    where
        F: FnOnce(&mut BufferList<'_>) -> bool,
    {
        let c = self.channels;
        let bytes_per_channel = frames * BYTES_PER_SAMPLE;
        let mut fresh_list = if self.sites.contains(Site::Abl) {
            match fresh_buffer_list(c) {
                Some(block) => Some(block),
                None => return false,
            }
        } else {
            None
        };
        let mut fresh_channels: [Option<RawBlock>; MAX_CHANNELS] = Default::default();
        let mut samples = [const { None::<&mut [f32]> }; MAX_CHANNELS];
        if self.sites.contains(Site::ChannelBuffers) {
            fresh_channel_buffers(&mut fresh_channels[..c], bytes_per_channel);
            for (dst, block) in samples.iter_mut().zip(fresh_channels.iter_mut()) {
                *dst = block.as_mut().and_then(RawBlock::samples_mut);
            }
        } else {
            for (dst, channel) in samples.iter_mut().zip(self.list.channels_mut(frames)) {
                *dst = Some(channel);
            }
        }
        if samples.iter().take(c).any(Option::is_none) {
            return false;
        }
        let _pointers = if self.sites.contains(Site::PtrArray) {
            fresh_pointer_array(&mut samples[..c])
        } else {
            Vec::new()
        };
        let mut own_descriptors = [AudioBuffer::EMPTY; MAX_CHANNELS];
        let descriptors: &mut [AudioBuffer] = match fresh_list.as_mut() {
            Some(block) => match block.descriptors_mut(c) {
                Some(d) => d,
                None => return false,
            },
            None => &mut own_descriptors[..c],
        };
        let channels = samples
            .iter_mut()
            .take(c)
            .flatten()
            .map(|s| &mut s[..frames]);
        let Some(mut list) = BufferList::over(descriptors, channels) else {
            return false;
        };
        let ok = pull(&mut list);
        if ok {
            interleave(&list, c, frames, &mut self.interleaved);
        }
        ok
    }
}

// The three input sites each allocate in a function of their own, never
// inlined, so a site trace names each one (`allocgate run --trace-sites`).
// `black_box` on the way out keeps the call inside from becoming a tail
// call, which would take the function's frame off the stack.

/// [`Site::Abl`]: a fresh buffer list of `channels` descriptors (one
/// allocation, freed by the caller).
#[inline(never)]
fn fresh_buffer_list(channels: usize) -> Option<RawBlock> {
    black_box(RawBlock::new(
        abl_bytes(channels),
        align_of::<AudioBuffer>(),
    ))
}

/// [`Site::ChannelBuffers`]: a fresh 16-byte-aligned buffer of `bytes`
/// into each slot (one allocation each, freed by the caller).
#[inline(never)]
fn fresh_channel_buffers(slots: &mut [Option<RawBlock>], bytes: usize) {
    for slot in slots.iter_mut() {
        *slot = RawBlock::new(bytes, CHANNEL_BUFFER_ALIGN);
    }
    black_box(slots);
}

/// [`Site::PtrArray`]: the channels' pointers appended one at a time, as
/// in that pattern, so the array grows (and reallocates) the way a growable
/// array does. Freed by the caller.
#[inline(never)]
fn fresh_pointer_array(samples: &mut [Option<&mut [f32]>]) -> Vec<*mut f32> {
    let mut pointers = Vec::new();
    for s in samples.iter_mut().flatten() {
        pointers.push(s.as_mut_ptr());
    }
    black_box(pointers)
}

/// Sample `n` of channel `c` goes to `n × channels + c`. Audio thread.
fn interleave(list: &BufferList<'_>, channels: usize, frames: usize, out: &mut [f32]) {
    for c in 0..channels {
        let Some(src) = list.channel(c) else { continue };
        for (n, &x) in src.iter().take(frames).enumerate() {
            out[n * channels + c] = x;
        }
    }
}
