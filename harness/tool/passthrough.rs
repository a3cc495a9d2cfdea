//! Input callback → ring → output callback, without convolution.

use allocgate::measure;
use allocgate_engine::EngineConfig;
use allocgate_engine::buffers::{BufferList, OwnedBufferList};
use allocgate_engine::output::BUFFERING_FRAMES;
use allocgate_engine::ring::RING_BYTES;

use crate::rig::{Rig, descriptors, signal};

/// Runs input then output callbacks of `frames` frames until at least
/// `total` frames have been played after buffering, and checks that the
/// played stream is channel 0 (left) and channel 1, or 0 again for mono
/// (right), from the very first frame, sample for sample.
fn check_passthrough(channels: usize, frames: usize, ring_bytes: usize) {
    let config = EngineConfig::new(channels, 48_000)
        .with_convolution(false)
        .with_ring_bytes(ring_bytes);
    let mut rig = Rig::new(&config, 2);
    let right = if channels >= 2 { 1 } else { 0 };
    let mut played = 0u64;
    let mut silent_callbacks = 0;
    let total = (4 * BUFFERING_FRAMES).max(3 * frames) as u64;
    while played < total {
        let i = rig.input(frames);
        assert_eq!(
            i.report.dropped_bytes, 0,
            "C={channels} N={frames}: ring overflowed"
        );
        assert!(i.stats.is_allocation_free());
        let o = rig.output(frames);
        assert!(
            o.stats.is_allocation_free(),
            "C={channels} N={frames}: {}",
            o.stats
        );
        assert!(
            !o.report.underrun,
            "C={channels} N={frames}: underrun in lockstep"
        );
        if o.report.buffering {
            silent_callbacks += 1;
            assert_eq!(rig.out_channel(0, frames), vec![0.0; frames]);
            continue;
        }
        let (l, r) = (rig.out_channel(0, frames), rig.out_channel(1, frames));
        for n in 0..frames {
            let t = played + n as u64;
            assert_eq!(l[n], signal(0, t), "C={channels} N={frames} left frame {t}");
            assert_eq!(
                r[n],
                signal(right, t),
                "C={channels} N={frames} right frame {t}"
            );
        }
        played += frames as u64;
    }
    // Buffering lasts until 512 frames are in the ring: with one input
    // callback ahead, ceil(512 / N) − 1 silent output callbacks.
    assert_eq!(
        silent_callbacks,
        BUFFERING_FRAMES.div_ceil(frames) - 1,
        "C={channels} N={frames}"
    );
}

#[test]
fn passthrough_is_sample_exact_for_every_channel_and_frame_count() {
    for channels in [1, 2, 6, 8, 12, 16] {
        for frames in [1, 511, 512, 4096] {
            // The binauralizer's ring holds 65 535 bytes: a callback of
            // N × C × 4 bytes plus the 512-frame threshold must fit, or it
            // drops (shown in the next test). Where it cannot, run the same
            // code with a ring large enough, so exactness is still checked.
            let need = (frames.max(BUFFERING_FRAMES) + frames) * channels * 4;
            let ring = if need < RING_BYTES {
                RING_BYTES
            } else {
                need.next_power_of_two()
            };
            check_passthrough(channels, frames, ring);
        }
    }
}

#[test]
fn the_reference_ring_drops_a_4096_frame_callback_of_16_channels() {
    let mut rig = Rig::new(&EngineConfig::new(16, 48_000).with_convolution(false), 2);
    let i = rig.input(4096);
    // 4096 × 16 × 4 = 262 144 bytes offered, 65 535 fit.
    assert_eq!(i.report.written_bytes, RING_BYTES - 1);
    assert_eq!(i.report.dropped_bytes, 4096 * 16 * 4 - (RING_BYTES - 1));
    // 65 535 is not a multiple of the 64-byte frame: the write ends mid-frame.
    assert!(i.report.partial_frame);
    assert!(i.stats.is_allocation_free());
}

#[test]
fn only_the_first_two_output_buffers_are_written_and_buffering_silences_all() {
    let mut rig = Rig::new(&EngineConfig::new(8, 48_000).with_convolution(false), 4);
    let fill = |rig: &mut Rig| {
        let mut v = rig.out.view();
        for c in 0..4 {
            v.channel_mut(c).unwrap().fill(9.0);
        }
    };
    fill(&mut rig);
    let o = rig.output(256);
    assert!(o.report.buffering);
    for c in 0..4 {
        assert!(
            rig.out_channel(c, 256).iter().all(|&x| x == 0.0),
            "buffer {c}"
        );
    }
    rig.input(512);
    fill(&mut rig);
    let o = rig.output(256);
    assert!(!o.report.buffering);
    assert_eq!(rig.out_channel(0, 1)[0], signal(0, 0));
    assert_eq!(rig.out_channel(1, 1)[0], signal(1, 0));
    for c in 2..4 {
        assert!(
            rig.out_channel(c, 256).iter().all(|&x| x == 9.0),
            "buffer {c} was written"
        );
    }
}

#[test]
fn an_underrun_zeroes_the_missing_tail_and_buffers_again() {
    let mut rig = Rig::new(&EngineConfig::new(2, 48_000).with_convolution(false), 2);
    rig.input(512);
    let o = rig.output(400);
    assert!(!o.report.underrun);
    let o = rig.output(400);
    assert!(o.report.underrun);
    // 112 frames were left; the rest of the 400 is silence.
    assert_eq!(o.report.read_bytes, 112 * 2 * 4);
    let l = rig.out_channel(0, 400);
    assert_eq!(l[111], signal(0, 511));
    assert!(l[112..].iter().all(|&x| x == 0.0));
    assert!(rig.engine.output.is_buffering());
    assert!(o.stats.is_allocation_free());
    // Buffering again: silence until 512 frames are back.
    rig.input(256);
    assert!(rig.output(128).report.buffering);
    rig.input(256);
    assert!(!rig.output(128).report.buffering);
}

#[test]
fn a_partial_frame_write_misaligns_every_later_frame() {
    // A ring with room for 512.5 stereo frames (4 100 usable bytes).
    let config = EngineConfig::new(2, 48_000)
        .with_convolution(false)
        .with_ring_bytes(4_101);
    let mut rig = Rig::new(&config, 2);
    let i = rig.input(513);
    assert_eq!(i.report.written_bytes, 4_100);
    assert_eq!(i.report.dropped_bytes, 4);
    assert!(
        i.report.partial_frame,
        "frame 512's right sample was dropped"
    );
    let o = rig.output(512);
    assert!(!o.report.buffering && !o.report.underrun);
    assert_eq!(
        rig.out_channel(1, 512)[511],
        signal(1, 511),
        "whole frames play"
    );
    // Left of frame 512 is still in the ring; frames 513 and 514 follow it,
    // so every frame read from now on straddles two written frames.
    rig.input(2);
    let o = rig.output(2);
    assert!(!o.report.underrun);
    assert_eq!(rig.out_channel(0, 2), [signal(0, 512), signal(1, 513)]);
    assert_eq!(rig.out_channel(1, 2), [signal(0, 513), signal(0, 514)]);
    assert_eq!(rig.engine.input.ring_mut().partial_frame_writes(), 1);
}

#[test]
fn a_buffer_list_view_makes_no_allocation() {
    let mut storage = OwnedBufferList::new(8, 512);
    let m = measure(|| {
        let mut list = storage.view();
        list.set_frames(512);
        list.len()
    });
    assert_eq!(m.value, 8);
    assert!(m.stats.is_allocation_free(), "{}", m.stats);
    let mut a = vec![0.0f32; 64];
    let mut b = vec![0.0f32; 64];
    let mut d = descriptors();
    let m = measure(|| BufferList::over(&mut d, [&mut a[..], &mut b[..]]).map(|l| l.len()));
    assert_eq!(m.value, Some(2));
    assert!(m.stats.is_allocation_free(), "{}", m.stats);
}

#[test]
fn ring_writes_and_reads_make_no_allocator_calls() {
    use allocgate::assert_no_alloc;
    use allocgate_engine::ring::Ring;
    let (mut writer, mut reader) = Ring::reference();
    let block = vec![1u8; 512 * 8 * 4];
    let mut out = vec![0u8; 512 * 8 * 4];
    // Enough rounds to wrap the 64 KiB ring several times and to fill it.
    assert_no_alloc(|| {
        for round in 0..64 {
            writer.write_frames(&block, 8 * 4);
            if round % 3 != 0 {
                reader.read(&mut out);
            }
        }
    });
    assert!(writer.dropped_bytes() > 0);
}
