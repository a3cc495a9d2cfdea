//! The allocating idioms of the switchable sites, each the closest Rust
//! counterpart of what the binauralizer's Swift source does, so a site's
//! requests have the binauralizer's count, size and alignment. The
//! callbacks call these only when the site is on; with every site off
//! nothing here runs.

use std::alloc::{Layout, alloc, dealloc};
use std::fmt::Write as _;
use std::hint::black_box;
use std::ptr::NonNull;

use crate::buffers::{AudioBuffer, BYTES_PER_SAMPLE};

/// Bytes of CoreAudio's `AudioBufferList` header before its first
/// descriptor (`mNumberBuffers` and padding to the descriptor's alignment).
pub const ABL_HEADER_BYTES: usize = 8;

/// Bytes requested for a fresh buffer list of `channels` descriptors: the
/// binauralizer's input-callback pattern (the `seed` variant) computes
/// `MemoryLayout<AudioBufferList>.size` (header plus one descriptor, 24)
/// plus `channels − 1` more descriptors of 16 bytes.
pub const fn abl_bytes(channels: usize) -> usize {
    ABL_HEADER_BYTES + channels * size_of::<AudioBuffer>()
}

/// Alignment the `seed` pattern asks for its fresh channel buffers
/// (`alignment: 16`).
pub const CHANNEL_BUFFER_ALIGN: usize = 16;

/// A block of raw memory from the global allocator, freed on drop: the
/// counterpart of Swift's `UnsafeMutableRawPointer.allocate` with a
/// `defer { deallocate() }`. Zero-filled, so it can be viewed as samples
/// or descriptors (both valid as all-zero bytes).
#[derive(Debug)]
pub(crate) struct RawBlock {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl RawBlock {
    /// One allocation of `size` bytes aligned to `align`; `None` when the
    /// layout is invalid, zero-sized, or the allocator fails.
    pub(crate) fn new(size: usize, align: usize) -> Option<RawBlock> {
        let layout = Layout::from_size_align(size, align).ok()?;
        if layout.size() == 0 {
            return None;
        }
        // SAFETY: the layout has a non-zero size (checked above).
        let ptr = NonNull::new(unsafe { alloc(layout) })?;
        // SAFETY: `ptr` is valid for `layout.size()` bytes, just allocated.
        unsafe { ptr.as_ptr().write_bytes(0, layout.size()) };
        Some(RawBlock { ptr, layout })
    }

    /// The block as `len` values of `T` starting `offset` bytes in, or
    /// `None` when they do not fit or are misaligned. `T` must be a type
    /// for which all-zero bytes are a valid value (only `f32` and
    /// [`AudioBuffer`] are used).
    fn slice_mut<T: ZeroValid>(&mut self, offset: usize, len: usize) -> Option<&mut [T]> {
        let end = len.checked_mul(size_of::<T>())?.checked_add(offset)?;
        if end > self.layout.size()
            || !(self.ptr.as_ptr() as usize + offset).is_multiple_of(align_of::<T>())
        {
            return None;
        }
        // SAFETY: bounds and alignment checked above; the bytes were zeroed
        // in `new` (or written since as `T`), and all-zero bytes are a valid
        // `T` (`ZeroValid`); `&mut self` gives exclusive access for the
        // returned lifetime.
        Some(unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(offset).cast(), len) })
    }

    /// The block as samples.
    pub(crate) fn samples_mut(&mut self) -> Option<&mut [f32]> {
        let len = self.layout.size() / BYTES_PER_SAMPLE;
        self.slice_mut(0, len)
    }

    /// The block as a buffer list's descriptors (after the header).
    pub(crate) fn descriptors_mut(&mut self, channels: usize) -> Option<&mut [AudioBuffer]> {
        self.slice_mut(ABL_HEADER_BYTES, channels)
    }
}

impl Drop for RawBlock {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `alloc(self.layout)` and is freed once.
        unsafe { dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// Types whose all-zero bit pattern is a valid value.
trait ZeroValid {}
impl ZeroValid for f32 {}
// A null data pointer and zero sizes: the `EMPTY` descriptor's shape.
impl ZeroValid for AudioBuffer {}

/// A Swift one-element `[Float]`: a 32-byte object header (isa, reference
/// count, count, capacity) and the element, 36 bytes in all.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct SwiftFloatArray {
    header: [u32; 8],
    /// The one element.
    pub(crate) element: f32,
}

/// Bytes requested for one scale array: 36, which macOS malloc serves
/// from its 48-byte tiny class.
pub const SCALE_ARRAY_BYTES: usize = size_of::<SwiftFloatArray>();

/// `[scale]` as Swift builds it for a `vDSP_vsmul` argument: one heap
/// allocation of [`SCALE_ARRAY_BYTES`], freed when dropped.
#[inline(never)]
pub(crate) fn scale_array(scale: f32) -> Box<SwiftFloatArray> {
    // black_box keeps the optimiser from removing the allocation pair,
    // which LLVM may do for a box whose address never escapes.
    black_box(Box::new(SwiftFloatArray {
        header: [0; 8],
        element: scale,
    }))
}

/// Capacity of a formatted log line: larger than any line below, so
/// formatting one is exactly one allocation and no reallocation.
pub const LOG_LINE_CAPACITY: usize = 128;

/// Block steps of each convolution engine, from its first, on which
/// [`Site::DebugPrint`](super::Site::DebugPrint) formats its line.
pub const DEBUG_PRINT_STEPS: u64 = 2;

/// Formats a debug line as the convolution engine's first two block steps
/// print it (one allocation, one deallocation). The line goes to
/// [`std::io::sink`], not the terminal: what the site costs is the
/// formatting, and test output stays readable.
#[inline(never)]
pub(crate) fn debug_print(partitions: usize) {
    let mut line = String::with_capacity(LOG_LINE_CAPACITY);
    let _ = write!(
        line,
        "[convolution] processed partitioned block; partitions: {partitions}"
    );
    emit(line);
}

/// Formats the underrun message (one allocation, one deallocation).
#[inline(never)]
pub(crate) fn underrun_log(wanted_bytes: usize, read_bytes: usize) {
    let mut line = String::with_capacity(LOG_LINE_CAPACITY);
    let _ = write!(
        line,
        "[output] underrun: wanted {wanted_bytes} bytes, read {read_bytes}; buffering again"
    );
    emit(line);
}

fn emit(line: String) {
    use std::io::Write as _;
    let _ = std::io::sink().write_all(black_box(line).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scale_array_is_a_36_byte_request() {
        assert_eq!(SCALE_ARRAY_BYTES, 36);
        assert_eq!(scale_array(0.5).element, 0.5);
    }

    #[test]
    fn a_buffer_list_for_eight_channels_is_136_bytes() {
        // 24 for the header with its first descriptor, 7 × 16 more.
        assert_eq!(abl_bytes(8), 24 + 7 * 16);
        assert_eq!(size_of::<AudioBuffer>(), 16);
    }

    #[test]
    fn raw_blocks_refuse_bad_views_and_zero_sizes() {
        assert!(RawBlock::new(0, 16).is_none());
        assert!(RawBlock::new(16, 3).is_none());
        let mut b = RawBlock::new(abl_bytes(2), 8).unwrap();
        assert_eq!(b.descriptors_mut(2).unwrap().len(), 2);
        assert!(b.descriptors_mut(3).is_none());
        let mut s = RawBlock::new(64, CHANNEL_BUFFER_ALIGN).unwrap();
        assert_eq!(s.samples_mut().unwrap(), &[0.0; 16]);
    }

    #[test]
    fn log_lines_fit_their_capacity() {
        let longest = format!(
            "[output] underrun: wanted {} bytes, read {}; buffering again",
            usize::MAX,
            usize::MAX
        );
        assert!(longest.len() <= LOG_LINE_CAPACITY);
    }
}
