//! Putting an engine together: the configuration, the two callbacks with
//! the ring between them, and the control side that activates presets and
//! switches convolution, off the audio thread.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::convolver::{EarFilters, FftPlans};
use crate::input::InputCallback;
use crate::layout::{Layout, MAX_CHANNELS};
use crate::output::OutputCallback;
use crate::preset::Preset;
use crate::publish::{self, Publisher};
use crate::renderer::{ActivateError, RenderMode, RendererSet};
use crate::ring::{RING_BYTES, Ring};
use crate::sites::SiteSet;
use crate::variant::Variant;

/// Most frames a callback may ask for.
pub const MAX_FRAMES: usize = 4096;
/// Lowest and highest device rates accepted.
pub const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 8_000..=768_000;

/// What an engine is built for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// Input channels C (1 to 16).
    pub channels: usize,
    /// Device sample rate fs, in Hz.
    pub sample_rate: u32,
    /// Switched-on allocation sites.
    pub sites: SiteSet,
    /// How renderer sets convolve (the `optimized` variant's
    /// [`RenderMode::Spectral`], or the reference's).
    pub renderer: RenderMode,
    /// Convolution on at start (otherwise passthrough).
    pub convolution: bool,
    /// Ring capacity in bytes: [`RING_BYTES`] as in the binauralizer; larger
    /// only to show what the binauralizer's ring loses at large N × C.
    pub ring_bytes: usize,
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// Channels outside 1..=16.
    Channels(usize),
    /// Sample rate outside [`SAMPLE_RATES`].
    SampleRate(u32),
    /// A ring too small to hold a byte (one is always kept empty), or over 1 GiB.
    RingBytes(usize),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Channels(n) => {
                write!(f, "{n} input channels; expected 1 to {MAX_CHANNELS}")
            }
            ConfigError::SampleRate(r) => write!(
                f,
                "sample rate {r} Hz; expected {} to {} Hz",
                SAMPLE_RATES.start(),
                SAMPLE_RATES.end()
            ),
            ConfigError::RingBytes(n) => write!(f, "ring of {n} bytes; expected 2 to 1 GiB"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl EngineConfig {
    /// A configuration with no sites and convolution on.
    pub fn new(channels: usize, sample_rate: u32) -> Self {
        EngineConfig {
            channels,
            sample_rate,
            sites: SiteSet::EMPTY,
            renderer: RenderMode::PerSpeaker,
            convolution: true,
            ring_bytes: RING_BYTES,
        }
    }

    /// The same with `sites` switched on.
    pub fn with_sites(mut self, sites: SiteSet) -> Self {
        self.sites = sites;
        self
    }

    /// The same with renderer sets built for `mode`.
    pub fn with_renderer(mut self, mode: RenderMode) -> Self {
        self.renderer = mode;
        self
    }

    /// The same with `variant`'s sites plus `extra`, and its renderer.
    pub fn with_variant(self, variant: Variant, extra: SiteSet) -> Self {
        self.with_sites(variant.sites().union(extra))
            .with_renderer(variant.renderer())
    }

    /// The same with convolution on or off.
    pub fn with_convolution(mut self, on: bool) -> Self {
        self.convolution = on;
        self
    }

    /// The same with a ring of `bytes`.
    pub fn with_ring_bytes(mut self, bytes: usize) -> Self {
        self.ring_bytes = bytes;
        self
    }

    /// Checks the channel count, rate and ring size.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_CHANNELS).contains(&self.channels) {
            return Err(ConfigError::Channels(self.channels));
        }
        if !SAMPLE_RATES.contains(&self.sample_rate) {
            return Err(ConfigError::SampleRate(self.sample_rate));
        }
        if !(2..=1 << 30).contains(&self.ring_bytes) {
            return Err(ConfigError::RingBytes(self.ring_bytes));
        }
        Ok(())
    }
}

/// An engine: the input callback, the output callback, and the control
/// side. The callbacks go to their audio threads; the control stays.
#[derive(Debug)]
pub struct Engine {
    /// Runs on the input device's audio thread.
    pub input: InputCallback,
    /// Runs on the output device's audio thread.
    pub output: OutputCallback,
    /// Runs on any other thread.
    pub control: Control,
}

impl Engine {
    /// Allocates everything both callbacks need, with the reference ring
    /// (65 536 bytes) between them and no renderer set yet.
    pub fn new(config: &EngineConfig) -> Result<Engine, ConfigError> {
        config.validate()?;
        let (writer, reader) = Ring::with_capacity(config.ring_bytes);
        let (publisher, subscriber) = publish::channel();
        let convolution = Arc::new(AtomicBool::new(config.convolution));
        Ok(Engine {
            input: InputCallback::new(config.channels, MAX_FRAMES, writer, config.sites),
            output: OutputCallback::new(
                config.channels,
                MAX_FRAMES,
                reader,
                subscriber,
                Arc::clone(&convolution),
                config.sites,
            ),
            control: Control {
                publisher,
                plans: FftPlans::new(),
                layout: Layout::for_channels(config.channels),
                sample_rate: config.sample_rate,
                renderer: config.renderer,
                convolution,
            },
        })
    }

    /// Stops and starts both sides as the binauralizer does on a device
    /// change: the ring emptied and zeroed, the output buffering again.
    /// Call with both callbacks off their audio threads (or paused).
    pub fn restart(input: &mut InputCallback, output: &mut OutputCallback) {
        Ring::reset(input.ring_mut(), output.ring_mut());
        output.start_buffering();
    }
}

/// The control side: builds and publishes renderer sets, frees retired
/// ones, switches convolution. Never on an audio thread.
#[derive(Debug)]
pub struct Control {
    publisher: Publisher,
    plans: FftPlans,
    layout: Layout,
    sample_rate: u32,
    renderer: RenderMode,
    convolution: Arc<AtomicBool>,
}

/// What activating a preset built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activated {
    /// Renderers built (one per mapped speaker).
    pub renderers: usize,
    /// Partitions of the longest filter after resampling.
    pub partitions: usize,
    /// Heap blocks of the published set
    /// ([`RendererSet::heap_blocks`]): what freeing it costs.
    pub heap_blocks: usize,
}

impl Control {
    /// Builds renderers for `preset` (resampled to the device rate) and
    /// publishes them; the output callback adopts them at its next start.
    /// The set it replaces comes back here to be freed.
    pub fn activate(&mut self, preset: &Preset) -> Result<Activated, ActivateError> {
        let set = RendererSet::build(
            preset,
            &self.layout,
            self.sample_rate,
            self.renderer,
            &self.plans,
        )?;
        self.publish(set)
    }

    /// Builds renderers from explicit (left, right) impulse responses at
    /// the device rate, speaker `i` fed by input channel `i`, and
    /// publishes them as [`activate`](Self::activate) does: a synthetic
    /// preset of any speaker count, past what HeSuVi maps cover (scaling
    /// runs). Off the audio thread.
    pub fn activate_filters(
        &mut self,
        name: &str,
        filters: &[EarFilters],
    ) -> Result<Activated, ActivateError> {
        let set = RendererSet::from_filters(name, filters, self.renderer, &self.plans)?;
        self.publish(set)
    }

    fn publish(&mut self, set: RendererSet) -> Result<Activated, ActivateError> {
        let activated = Activated {
            renderers: set.speakers().len(),
            partitions: set.partitions(),
            heap_blocks: set.heap_blocks(),
        };
        self.publisher
            .publish(Some(Box::new(set)))
            .map_err(|_| ActivateError::QueueFull {
                waiting: publish::PENDING_SETS,
            })?;
        Ok(activated)
    }

    /// Publishes "no renderer set": the renderer copies channels 0 and 1.
    pub fn deactivate(&mut self) -> Result<(), ActivateError> {
        self.publisher
            .publish(None)
            .map_err(|_| ActivateError::QueueFull {
                waiting: publish::PENDING_SETS,
            })
    }

    /// Frees the renderer sets the audio thread has returned.
    pub fn collect_retired(&mut self) -> usize {
        self.publisher.collect_retired()
    }

    /// Switches convolution on or off (off: passthrough of channels 0/1).
    pub fn set_convolution(&self, on: bool) {
        self.convolution.store(on, Ordering::Relaxed);
    }

    /// The device layout presets are built for.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
}
