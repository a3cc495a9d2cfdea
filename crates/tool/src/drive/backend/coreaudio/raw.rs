//! CoreAudio's `AudioBufferList` layout, with room for a fixed number of
//! buffers: a `u32` count, then one [`AudioBuffer`] descriptor per
//! channel. The input unit renders into one of these, allocated before
//! the audio starts and pointed at the engine's own channel buffers on
//! each callback, so `AudioUnitRender` writes the samples where the
//! engine reads them.

use std::mem::{offset_of, size_of};

use allocgate_engine::buffers::{AudioBuffer, BYTES_PER_SAMPLE, BufferList};

/// Where the descriptors start in an `AudioBufferList` (after the count and
/// padding to the pointer alignment).
pub const DESCRIPTORS_AT: usize = offset_of!(RawBufferList<1>, buffers);

/// Bytes per descriptor (`sizeof(AudioBuffer)`).
pub const DESCRIPTOR_BYTES: usize = size_of::<AudioBuffer>();

/// An `AudioBufferList` with room for `N` buffers. `#[repr(C)]` with the
/// same fields as CoreAudio's, so a pointer to it is a valid
/// `AudioBufferList*` for up to `N` buffers.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RawBufferList<const N: usize> {
    /// `mNumberBuffers`.
    pub number_buffers: u32,
    /// `mBuffers`.
    pub buffers: [AudioBuffer; N],
}

impl<const N: usize> Default for RawBufferList<N> {
    fn default() -> Self {
        RawBufferList {
            number_buffers: 0,
            buffers: [AudioBuffer::EMPTY; N],
        }
    }
}

impl<const N: usize> RawBufferList<N> {
    /// Points the first `list.len()` descriptors at `list`'s channels, at
    /// their current byte sizes, and sets the count. Returns false (count
    /// left at 0) when `list` has more than `N` channels or a channel
    /// without data. Audio thread: never allocates.
    pub fn point_at(&mut self, list: &mut BufferList<'_>) -> bool {
        self.number_buffers = 0;
        if list.len() > N {
            return false;
        }
        for (i, slot) in self.buffers.iter_mut().enumerate().take(list.len()) {
            let Some(channel) = list.channel_mut(i) else {
                return false;
            };
            *slot = AudioBuffer {
                number_channels: 1,
                data_byte_size: (channel.len() * BYTES_PER_SAMPLE) as u32,
                data: channel.as_mut_ptr(),
            };
        }
        self.number_buffers = list.len() as u32;
        true
    }

    /// After a render into this list: true when it still holds one
    /// descriptor per channel of `list`, each pointing where
    /// [`point_at`](Self::point_at) put it and holding `frames` frames
    /// (a renderer that swapped in buffers of its own, or delivered
    /// another size, did not fill the engine's). Audio thread: never
    /// allocates.
    pub fn filled_in_place(&self, list: &mut BufferList<'_>, frames: u32) -> bool {
        let bytes = frames as usize * BYTES_PER_SAMPLE;
        self.number_buffers as usize == list.len()
            && (0..list.len()).all(|i| {
                let d = &self.buffers[i];
                list.channel_mut(i).is_some_and(|c| {
                    d.data == c.as_mut_ptr()
                        && d.number_channels == 1
                        && d.data_byte_size as usize == bytes
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use allocgate_engine::buffers::OwnedBufferList;

    #[test]
    fn the_layout_is_coreaudios_on_64_bit_targets() {
        // CoreAudio: UInt32 mNumberBuffers, then AudioBuffer { UInt32,
        // UInt32, void* } aligned to the pointer.
        if size_of::<usize>() == 8 {
            assert_eq!(DESCRIPTORS_AT, 8);
            assert_eq!(DESCRIPTOR_BYTES, 16);
            assert_eq!(size_of::<RawBufferList<2>>(), 8 + 2 * 16);
        }
        assert_eq!(offset_of!(AudioBuffer, number_channels), 0);
        assert_eq!(offset_of!(AudioBuffer, data_byte_size), 4);
        assert_eq!(offset_of!(AudioBuffer, data), 8);
    }

    #[test]
    fn a_raw_list_points_at_the_engines_channels_at_their_set_size() {
        let mut owned = OwnedBufferList::new(3, 64);
        let mut view = owned.view();
        assert!(view.set_frames(10));
        let mut raw = RawBufferList::<16>::default();
        assert!(raw.point_at(&mut view));
        assert_eq!(raw.number_buffers, 3);
        assert!(raw.buffers[..3].iter().all(|b| b.data_byte_size == 40));
        assert_eq!(
            raw.buffers[1].data,
            view.channel_mut(1).unwrap().as_mut_ptr()
        );
        assert!(raw.filled_in_place(&mut view, 10));
        assert!(!raw.filled_in_place(&mut view, 9), "another size");
        raw.buffers[2].data_byte_size = 20;
        assert!(!raw.filled_in_place(&mut view, 10), "a short buffer");
    }

    #[test]
    fn a_raw_list_refuses_more_channels_than_it_has_room_for() {
        let mut owned = OwnedBufferList::new(3, 8);
        let mut view = owned.view();
        let mut raw = RawBufferList::<2>::default();
        assert!(!raw.point_at(&mut view));
        assert_eq!(raw.number_buffers, 0);
    }

    #[test]
    fn a_swapped_buffer_is_not_filled_in_place() {
        let mut owned = OwnedBufferList::new(2, 8);
        let mut other = [0.0f32; 8];
        let mut view = owned.view();
        let mut raw = RawBufferList::<2>::default();
        assert!(raw.point_at(&mut view));
        raw.buffers[0].data = other.as_mut_ptr();
        assert!(!raw.filled_in_place(&mut view, 8));
    }
}
