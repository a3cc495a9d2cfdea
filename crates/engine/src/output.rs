//! The output callback (docs/engine.md, "The audio path" and "Buffering
//! and xruns"): the buffering state machine, the ring read with underrun
//! handling, the renderer or passthrough, and the copy into the first two
//! output buffers.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::buffers::{BYTES_PER_SAMPLE, BufferList, Planar};
use crate::layout::MAX_CHANNELS;
use crate::publish::Subscriber;
use crate::renderer::copy_through;
use crate::ring::RingReader;
use crate::sites::hazards::{self, LockHog};
use crate::sites::temporaries::underrun_log;
use crate::sites::{Site, SiteSet};

/// Frames the ring must hold before playback starts (or restarts after an
/// underrun): the binauralizer's 512-frame threshold.
pub const BUFFERING_FRAMES: usize = 512;

/// What one output callback did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputReport {
    /// Frames the host asked for.
    pub frames: usize,
    /// True when the frame count exceeded the engine's limit or the output
    /// buffers' capacity; silence was written.
    pub rejected: bool,
    /// True when the callback was buffering and wrote silence.
    pub buffering: bool,
    /// True when the ring held fewer bytes than the callback needed.
    pub underrun: bool,
    /// Bytes read from the ring.
    pub read_bytes: usize,
    /// Whole 512-frame blocks the renderer processed.
    pub rendered_blocks: usize,
    /// Frames past the last whole block that the renderer left unrendered
    /// (the binauralizer's defect; zero in passthrough).
    pub frames_unrendered: usize,
    /// Renderer sets adopted at the start of this callback.
    pub adopted_sets: usize,
    /// Heap blocks freed on the audio thread by
    /// [`Site::DropOnAudioThread`].
    pub freed_blocks: usize,
}

/// The output callback's state, all allocated in [`OutputCallback::new`]
/// (except what the rare-path sites allocate on purpose).
#[derive(Debug)]
pub struct OutputCallback {
    channels: usize,
    max_frames: usize,
    buffering: bool,
    threshold_bytes: usize,
    ring: RingReader,
    interleaved: Vec<f32>,
    planar: Planar,
    left: Vec<f32>,
    right: Vec<f32>,
    convolution: Arc<AtomicBool>,
    renderers: Subscriber,
    sites: SiteSet,
    callbacks: u64,
    /// [`Site::FirstCallback`]: allocated on the first callback, kept.
    lazy: Option<Vec<f32>>,
    /// [`Site::GrowOnFrames`]: as long as the largest frame count so far.
    grown: Vec<f32>,
    /// [`Site::FreshPages`]: the page size.
    page_size: usize,
    /// [`Site::ContendedLock`]: the thread holding the lock (none if it
    /// could not be started: the site then takes no lock, which the gate's
    /// formula catches).
    hog: Option<LockHog>,
}

impl OutputCallback {
    /// State for `channels` input channels and up to `max_frames` frames
    /// per callback. Off the audio thread.
    pub fn new(
        channels: usize,
        max_frames: usize,
        ring: RingReader,
        renderers: Subscriber,
        convolution: Arc<AtomicBool>,
        sites: SiteSet,
    ) -> Self {
        OutputCallback {
            channels,
            max_frames,
            buffering: true,
            threshold_bytes: BUFFERING_FRAMES * channels * BYTES_PER_SAMPLE,
            ring,
            interleaved: vec![0.0; channels * max_frames],
            planar: Planar::new(channels.min(MAX_CHANNELS), max_frames),
            left: vec![0.0; max_frames],
            right: vec![0.0; max_frames],
            convolution,
            renderers,
            sites,
            callbacks: 0,
            lazy: None,
            grown: Vec::new(),
            page_size: hazards::page_size(),
            hog: if sites.contains(Site::ContendedLock) {
                LockHog::start().ok()
            } else {
                None
            },
        }
    }

    /// Whether the callback is waiting for the ring to fill.
    pub fn is_buffering(&self) -> bool {
        self.buffering
    }

    /// Bytes the ring must hold before playback starts: 512 × C × 4.
    pub fn threshold_bytes(&self) -> usize {
        self.threshold_bytes
    }

    /// Back to buffering (start, stop, restart).
    pub fn start_buffering(&mut self) {
        self.buffering = true;
    }

    /// The ring's reading half (for reset on start and stop).
    pub fn ring_mut(&mut self) -> &mut RingReader {
        &mut self.ring
    }

    /// The renderer sets' audio-side end.
    pub fn renderers(&self) -> &Subscriber {
        &self.renderers
    }

    /// Runs one callback of `frames` frames into `out`: writes buffers 0
    /// and 1 (only those), or silence into every buffer while buffering.
    ///
    /// Audio thread: never allocates, frees, locks or blocks unless an
    /// output site is on ([`Site::ScaleArray`], [`Site::RendererSnapshot`],
    /// [`Site::DebugPrint`], [`Site::FirstCallback`], [`Site::UnderrunLog`],
    /// [`Site::GrowOnFrames`], [`Site::DropOnAudioThread`], and the hazard
    /// sites [`Site::Sleep`], [`Site::FreshPages`], [`Site::ContendedLock`],
    /// which act first, in every output callback).
    pub fn process(&mut self, out: &mut BufferList<'_>, frames: usize) -> OutputReport {
        let mut report = OutputReport {
            frames,
            ..OutputReport::default()
        };
        if self.sites.contains(Site::Sleep) {
            hazards::sleep_briefly();
        }
        if self.sites.contains(Site::FreshPages) {
            black_box(hazards::touch_fresh_pages(self.page_size));
        }
        if let Some(hog) = &self.hog {
            black_box(hog.contend());
        }
        if self.callbacks == 0 && self.sites.contains(Site::FirstCallback) {
            self.allocate_lazily();
        }
        self.callbacks += 1;
        if frames > self.max_frames || frames > out.capacity_frames() {
            report.rejected = true;
            silence(out);
            return report;
        }
        if self.sites.contains(Site::GrowOnFrames) && frames > self.grown.len() {
            self.grow_to(frames);
        }
        let adoption = self
            .renderers
            .adopt(self.sites.contains(Site::DropOnAudioThread));
        report.adopted_sets = adoption.adopted;
        report.freed_blocks = adoption.freed_blocks;

        if self.buffering {
            if self.ring.available() >= self.threshold_bytes {
                self.buffering = false;
            } else {
                report.buffering = true;
                silence(out);
                return report;
            }
        }

        let c = self.channels;
        let wanted = frames * c * BYTES_PER_SAMPLE;
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut self.interleaved[..frames * c]);
        report.read_bytes = self.ring.read(bytes);
        if report.read_bytes < wanted {
            report.underrun = true;
            self.buffering = true;
            bytes[report.read_bytes..].fill(0);
            if self.sites.contains(Site::UnderrunLog) {
                log_underrun(wanted, report.read_bytes);
            }
        }

        if self.convolution.load(Ordering::Relaxed) {
            let mapped = c.min(MAX_CHANNELS);
            self.planar
                .deinterleave(&self.interleaved[..frames * c], c, frames);
            if self.sites.contains(Site::RendererSnapshot) {
                std::hint::black_box(self.renderers.snapshot());
            }
            match self.renderers.current_mut() {
                Some(set) => {
                    let rendered = set.render(
                        &self.planar,
                        mapped,
                        frames,
                        &mut self.left,
                        &mut self.right,
                        self.sites,
                    );
                    report.frames_unrendered = rendered.unrendered;
                    report.rendered_blocks = rendered.blocks;
                }
                None => copy_through(
                    &self.planar,
                    mapped,
                    frames,
                    &mut self.left,
                    &mut self.right,
                ),
            }
        } else {
            let right_channel = if c >= 2 { 1 } else { 0 };
            for (n, frame) in self.interleaved[..frames * c].chunks_exact(c).enumerate() {
                self.left[n] = frame[0];
                self.right[n] = frame[right_channel];
            }
        }

        for (i, source) in [&self.left, &self.right]
            .into_iter()
            .enumerate()
            .take(out.len())
        {
            if let Some(dst) = out.channel_mut(i) {
                let n = frames.min(dst.len());
                dst[..n].copy_from_slice(&source[..n]);
            }
        }
        report
    }
}

// The rare-path sites each allocate in a function of their own, never
// inlined, so a site trace names each one (`allocgate run --trace-sites`);
// `black_box` at the end keeps the last call from becoming a tail call,
// which would take the function's frame off the stack.
impl OutputCallback {
    /// [`Site::FirstCallback`]: the buffer made on the first callback.
    #[inline(never)]
    fn allocate_lazily(&mut self) {
        self.lazy = Some(Vec::with_capacity(self.max_frames));
        black_box(&mut self.lazy);
    }

    /// [`Site::GrowOnFrames`]: grown exactly to the new size, so the
    /// buffer reallocates whenever the frame count exceeds every earlier
    /// one, and only then.
    #[inline(never)]
    fn grow_to(&mut self, frames: usize) {
        self.grown.reserve_exact(frames - self.grown.len());
        self.grown.resize(frames, 0.0);
        black_box(&mut self.grown);
    }
}

/// [`Site::UnderrunLog`]: the underrun message.
#[inline(never)]
fn log_underrun(wanted_bytes: usize, read_bytes: usize) {
    underrun_log(wanted_bytes, read_bytes);
    black_box(());
}

/// Zeroes every output buffer at its current byte size.
fn silence(out: &mut BufferList<'_>) {
    for i in 0..out.len() {
        if let Some(b) = out.channel_mut(i) {
            b.fill(0.0);
        }
    }
}
