//! Non-interleaved buffer lists, shaped like CoreAudio's `AudioBufferList`:
//! a count and one descriptor per channel (byte size and a pointer to
//! `f32` samples). The same callback code reads and writes them whether
//! the buffers come from the simulated clock, a JACK port or a CoreAudio
//! unit.
//!
//! [`BufferList`] is a borrowed view, the counterpart of Swift's
//! `UnsafeMutableAudioBufferListPointer`: making one never allocates (the
//! original's own analysis wrongly blamed that wrapper; the harness shows
//! it as zero). [`OwnedBufferList`] is storage allocated once, in a
//! constructor, for callbacks that render into their own list.

use std::marker::PhantomData;

/// Bytes in one sample: the engine is 32-bit float throughout.
pub const BYTES_PER_SAMPLE: usize = 4;

/// One channel's descriptor, laid out as CoreAudio's `AudioBuffer`
/// (16 bytes: channel count, byte size, data pointer).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AudioBuffer {
    /// Interleaved channels in this buffer; always 1 here (non-interleaved).
    pub number_channels: u32,
    /// Valid bytes at `data`.
    pub data_byte_size: u32,
    /// The samples.
    pub data: *mut f32,
}

impl AudioBuffer {
    /// A descriptor with no data, for pre-sizing descriptor arrays.
    pub const EMPTY: AudioBuffer = AudioBuffer {
        number_channels: 1,
        data_byte_size: 0,
        data: std::ptr::null_mut(),
    };
}

/// A mutable view of non-interleaved channel buffers.
///
/// Every descriptor points at memory that holds at least `capacity_bytes`
/// bytes and stays borrowed for `'a`, so the byte sizes can be changed
/// (up to that capacity) and the channels read and written safely.
#[derive(Debug)]
pub struct BufferList<'a> {
    buffers: &'a mut [AudioBuffer],
    capacity_bytes: u32,
    _data: PhantomData<&'a mut [f32]>,
}

impl<'a> BufferList<'a> {
    /// A view over `channels`, with its descriptors stored in `descriptors`
    /// (which must have room for every channel; extra slots are unused).
    /// All channels must have the same length. Never allocates.
    ///
    /// Returns `None` when there are more channels than descriptors, or the
    /// channels differ in length.
    pub fn over<I>(descriptors: &'a mut [AudioBuffer], channels: I) -> Option<Self>
    where
        I: IntoIterator<Item = &'a mut [f32]>,
    {
        let mut count = 0;
        let mut frames = None;
        for channel in channels {
            let slot = descriptors.get_mut(count)?;
            if *frames.get_or_insert(channel.len()) != channel.len() {
                return None;
            }
            let bytes = u32::try_from(channel.len() * BYTES_PER_SAMPLE).ok()?;
            *slot = AudioBuffer {
                number_channels: 1,
                data_byte_size: bytes,
                data: channel.as_mut_ptr(),
            };
            count += 1;
        }
        let capacity_bytes = u32::try_from(frames.unwrap_or(0) * BYTES_PER_SAMPLE).ok()?;
        Some(BufferList {
            buffers: &mut descriptors[..count],
            capacity_bytes,
            _data: PhantomData,
        })
    }

    /// A view over descriptors whose data someone else owns (a CoreAudio
    /// `AudioBufferList`, or a list built by a site that allocates its own).
    /// The capacity is taken as the smallest byte size present.
    ///
    /// # Safety
    ///
    /// For `'a`, every descriptor's `data` must be valid for reads and
    /// writes of `data_byte_size` bytes, aligned for `f32`, and not
    /// accessed through any other path.
    pub unsafe fn from_raw(buffers: &'a mut [AudioBuffer]) -> Self {
        let capacity_bytes = buffers.iter().map(|b| b.data_byte_size).min().unwrap_or(0);
        BufferList {
            buffers,
            capacity_bytes,
            _data: PhantomData,
        }
    }

    /// Number of buffers (`mNumberBuffers`).
    pub fn len(&self) -> usize {
        self.buffers.len()
    }

    /// True when the list has no buffers.
    pub fn is_empty(&self) -> bool {
        self.buffers.is_empty()
    }

    /// Frames the buffers can hold.
    pub fn capacity_frames(&self) -> usize {
        self.capacity_bytes as usize / BYTES_PER_SAMPLE
    }

    /// Sets every buffer's byte size to `frames × 4`, as the input callback
    /// does before pulling input. Returns false (and changes nothing) when
    /// that exceeds the capacity. Audio thread: never allocates.
    pub fn set_frames(&mut self, frames: usize) -> bool {
        let Some(bytes) = frames
            .checked_mul(BYTES_PER_SAMPLE)
            .and_then(|b| u32::try_from(b).ok())
            .filter(|&b| b <= self.capacity_bytes)
        else {
            return false;
        };
        for buffer in self.buffers.iter_mut() {
            buffer.data_byte_size = bytes;
        }
        true
    }

    /// The valid samples of channel `index`. Audio thread: never allocates.
    pub fn channel(&self, index: usize) -> Option<&[f32]> {
        let b = self.buffers.get(index)?;
        if b.data.is_null() {
            return None;
        }
        let len = (b.data_byte_size.min(self.capacity_bytes)) as usize / BYTES_PER_SAMPLE;
        // SAFETY: `over` and `from_raw` guarantee `data` is valid for
        // `capacity_bytes` for 'a and borrowed exclusively by this view;
        // `len` never exceeds that, and `&self` prevents a concurrent `&mut`.
        Some(unsafe { std::slice::from_raw_parts(b.data, len) })
    }

    /// The valid samples of channel `index`, writable. Audio thread: never
    /// allocates.
    pub fn channel_mut(&mut self, index: usize) -> Option<&mut [f32]> {
        let b = self.buffers.get(index)?;
        if b.data.is_null() {
            return None;
        }
        let len = (b.data_byte_size.min(self.capacity_bytes)) as usize / BYTES_PER_SAMPLE;
        // SAFETY: as in `channel`; `&mut self` makes this the only live
        // reference into the list's data, and distinct descriptors never
        // share memory (each constructor's contract).
        Some(unsafe { std::slice::from_raw_parts_mut(b.data, len) })
    }
}

/// Storage for a buffer list: `channels` buffers of `max_frames` samples
/// and their descriptors, allocated once here.
#[derive(Debug)]
pub struct OwnedBufferList {
    samples: Vec<f32>,
    descriptors: Vec<AudioBuffer>,
    channels: usize,
    max_frames: usize,
}

// SAFETY: the descriptors' pointers only ever point into `samples`, a
// heap buffer this value owns and that moves with it (`view` rewrites
// them from `samples` each time); no other value aliases that memory, so
// handing the whole list to another thread (an audio thread) is sound.
unsafe impl Send for OwnedBufferList {}

impl OwnedBufferList {
    /// Allocates `channels × max_frames` zeroed samples and the descriptors.
    pub fn new(channels: usize, max_frames: usize) -> Self {
        OwnedBufferList {
            samples: vec![0.0; channels * max_frames],
            descriptors: vec![AudioBuffer::EMPTY; channels],
            channels,
            max_frames,
        }
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// A view with every buffer at full capacity. Audio thread: never
    /// allocates.
    pub fn view(&mut self) -> BufferList<'_> {
        let frames = self.max_frames.max(1);
        let channels = self.samples.chunks_exact_mut(frames).take(self.channels);
        BufferList::over(&mut self.descriptors, channels)
            .expect("one descriptor per channel, all of max_frames samples")
    }

    /// Every channel's first `frames` samples, writable, outside any view
    /// (for callers that build their own descriptors).
    pub fn channels_mut(&mut self, frames: usize) -> impl Iterator<Item = &mut [f32]> {
        let frames = frames.min(self.max_frames);
        self.samples
            .chunks_exact_mut(self.max_frames.max(1))
            .take(self.channels)
            .map(move |c| &mut c[..frames])
    }

    /// Channel `index`'s first `frames` samples.
    pub fn channel(&self, index: usize, frames: usize) -> &[f32] {
        let start = index * self.max_frames;
        &self.samples[start..start + frames.min(self.max_frames)]
    }
}

/// Pre-allocated per-channel sample buffers (the binauralizer's
/// `inputChannelBufferPtrs`): `channels` buffers of `max_frames` samples in
/// one allocation, filled by de-interleaving on the audio thread.
#[derive(Debug, Clone)]
pub struct Planar {
    samples: Vec<f32>,
    max_frames: usize,
}

impl Planar {
    /// Allocates `channels × max_frames` zeroed samples.
    pub fn new(channels: usize, max_frames: usize) -> Self {
        Planar {
            samples: vec![0.0; channels * max_frames],
            max_frames,
        }
    }

    /// Channel `index`, all `max_frames` samples.
    ///
    /// # Panics
    ///
    /// If `index` is not a channel (a caller bug).
    pub fn channel(&self, index: usize) -> &[f32] {
        &self.samples[index * self.max_frames..(index + 1) * self.max_frames]
    }

    /// Channel `index`, writable.
    ///
    /// # Panics
    ///
    /// If `index` is not a channel (a caller bug).
    pub fn channel_mut(&mut self, index: usize) -> &mut [f32] {
        &mut self.samples[index * self.max_frames..(index + 1) * self.max_frames]
    }

    /// Copies the first `frames` frames of `channels`-channel interleaved
    /// samples into the first `channels` buffers. Audio thread: never
    /// allocates.
    pub fn deinterleave(&mut self, interleaved: &[f32], channels: usize, frames: usize) {
        for c in 0..channels {
            let dst = &mut self.samples[c * self.max_frames..c * self.max_frames + frames];
            for (d, frame) in dst.iter_mut().zip(interleaved.chunks_exact(channels)) {
                *d = frame[c];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_reads_and_writes_each_channel_at_the_set_size() {
        let mut a = [1.0f32; 8];
        let mut b = [2.0f32; 8];
        let mut descs = [AudioBuffer::EMPTY; 4];
        {
            let mut list = BufferList::over(&mut descs, [&mut a[..], &mut b[..]]).unwrap();
            assert_eq!(list.len(), 2);
            assert!(list.set_frames(3));
            assert_eq!(list.channel(1).unwrap(), &[2.0; 3]);
            list.channel_mut(0).unwrap().fill(5.0);
            assert!(list.channel(2).is_none());
            assert!(!list.set_frames(9), "past capacity is refused");
            assert_eq!(list.channel(0).unwrap().len(), 3);
        }
        assert_eq!(a, [5.0, 5.0, 5.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn a_view_refuses_more_channels_than_descriptors_or_ragged_channels() {
        let (mut a, mut b) = ([0.0f32; 4], [0.0f32; 4]);
        let mut one = [AudioBuffer::EMPTY; 1];
        assert!(BufferList::over(&mut one, [&mut a[..], &mut b[..]]).is_none());
        let (mut c, mut d) = ([0.0f32; 4], [0.0f32; 5]);
        let mut two = [AudioBuffer::EMPTY; 2];
        assert!(BufferList::over(&mut two, [&mut c[..], &mut d[..]]).is_none());
    }

    #[test]
    fn owned_storage_keeps_channels_apart() {
        let mut owned = OwnedBufferList::new(3, 16);
        {
            let mut view = owned.view();
            assert!(view.set_frames(4));
            for c in 0..3 {
                view.channel_mut(c).unwrap().fill(c as f32);
            }
        }
        assert_eq!(owned.channel(2, 4), &[2.0; 4]);
        assert_eq!(owned.channel(1, 5), &[1.0, 1.0, 1.0, 1.0, 0.0]);
    }
}
