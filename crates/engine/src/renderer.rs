//! The HRIR renderer (docs/engine.md, "The audio path"): one renderer per
//! mapped input speaker, each a left-ear and a right-ear [`Convolver`],
//! mixing every speaker into two ears, one whole 512-frame block at a time.
//!
//! Frames past the last whole block are not rendered, exactly as in the
//! binauralizer: with N < 512 nothing is rendered and the stereo buffers
//! keep stale samples. [`RendererSet::render`] returns how many frames it left
//! unrendered, so the harness reports the defect instead of hiding it.
//!
//! A set is built for one [`RenderMode`]: the reference's per-speaker
//! convolvers, or the `optimized` variant's [`SpectralMixer`] behind a
//! [`BlockFifo`] (every frame rendered, [`FIFO_LATENCY`] frames late).

use std::fmt;

use crate::block_fifo::{BlockFifo, FIFO_LATENCY};
use crate::buffers::Planar;
use crate::convolver::{BLOCK, Convolver, ConvolverError, EarFilters, FftPlans};
use crate::layout::{HesuviMap, Layout, Speaker};
use crate::preset::{Preset, PresetError};
use crate::sites::SiteSet;
use crate::spectral::SpectralMixer;

/// One virtual speaker: its two ears' convolution engines.
#[derive(Debug)]
pub struct Renderer {
    speaker: Speaker,
    left: Convolver,
    right: Convolver,
}

impl Renderer {
    /// The speaker this renderer places.
    pub fn speaker(&self) -> Speaker {
        self.speaker
    }

    /// The left ear's engine.
    pub fn left(&self) -> &Convolver {
        &self.left
    }

    /// The right ear's engine.
    pub fn right(&self) -> &Convolver {
        &self.right
    }
}

/// Why a preset could not be turned into renderers.
#[derive(Debug)]
#[non_exhaustive]
pub enum ActivateError {
    /// Reading an impulse response failed (index out of range, resampling).
    Preset(PresetError),
    /// A convolution engine could not be built.
    Convolver(ConvolverError),
    /// The audio thread has not taken the sets published before; is the
    /// output callback running?
    QueueFull {
        /// The sets waiting: as many as the hand-over queue holds.
        waiting: usize,
    },
    /// No speaker of the device's layout is covered by the preset's map.
    NoRenderers {
        /// The preset's name.
        preset: String,
        /// The device layout's name.
        layout: String,
    },
}

impl fmt::Display for ActivateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActivateError::Preset(e) => write!(f, "{e}"),
            ActivateError::Convolver(e) => write!(f, "{e}"),
            ActivateError::QueueFull { waiting } => write!(
                f,
                "{waiting} renderer sets are waiting for the audio thread; is the output callback running?"
            ),
            ActivateError::NoRenderers { preset, layout } => write!(
                f,
                "no renderers: preset '{preset}' maps none of the speakers of a {layout} device \
                 (HeSuVi maps cover stereo, 5.1, 7.1 and 7.1.4)"
            ),
        }
    }
}

impl std::error::Error for ActivateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ActivateError::Preset(e) => Some(e),
            ActivateError::Convolver(e) => Some(e),
            ActivateError::NoRenderers { .. } | ActivateError::QueueFull { .. } => None,
        }
    }
}

impl From<PresetError> for ActivateError {
    fn from(e: PresetError) -> Self {
        ActivateError::Preset(e)
    }
}

impl From<ConvolverError> for ActivateError {
    fn from(e: ConvolverError) -> Self {
        ActivateError::Convolver(e)
    }
}

/// How a renderer set convolves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum RenderMode {
    /// The reference: a [`Convolver`] per speaker and ear, whole blocks
    /// only, no added latency.
    #[default]
    PerSpeaker,
    /// The `optimized` variant: one forward FFT per input channel shared
    /// by both ears, frequency-domain mixing, two inverse FFTs per block
    /// ([`SpectralMixer`]), behind a [`BlockFifo`] so every frame is
    /// rendered, [`FIFO_LATENCY`] frames late.
    Spectral,
}

impl RenderMode {
    /// Frames between a sample reaching the renderer and its rendering
    /// being played: 0 for the reference, one block for the spectral
    /// renderer.
    pub const fn latency_frames(self) -> usize {
        match self {
            RenderMode::PerSpeaker => 0,
            RenderMode::Spectral => FIFO_LATENCY,
        }
    }
}

/// What one [`RendererSet::render`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rendered {
    /// Blocks of [`BLOCK`] frames rendered.
    pub blocks: usize,
    /// Frames past the last whole block, left untouched (per speaker
    /// only; the spectral renderer renders every frame).
    pub unrendered: usize,
}

/// The renderers built from one preset for one device layout.
#[derive(Debug)]
pub struct RendererSet {
    preset: String,
    speakers: Vec<Speaker>,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    PerSpeaker(Vec<Renderer>),
    Spectral(Box<BlockFifo<SpectralMixer>>),
}

impl RendererSet {
    /// Builds one renderer per speaker of `layout` that the preset's map
    /// covers, in channel order (unmapped speakers are skipped, as the
    /// binauralizer skips them), resampling each impulse response to
    /// `device_rate`. Off the audio thread: allocates freely.
    pub fn build(
        preset: &Preset,
        layout: &Layout,
        device_rate: u32,
        mode: RenderMode,
        plans: &FftPlans,
    ) -> Result<RendererSet, ActivateError> {
        let (speakers, filters): (Vec<Speaker>, Vec<EarFilters>) =
            mapped_impulse_responses(preset, layout, device_rate)?
                .into_iter()
                .unzip();
        RendererSet::with_speakers(preset.name(), speakers, &filters, mode, plans)
    }

    /// A set from explicit (left, right) impulse responses, one pair per
    /// speaker in the order they consume input channels (speakers named
    /// `channel i`): for synthetic scaling runs past what a HeSuVi map
    /// covers. Off the audio thread.
    pub fn from_filters(
        name: &str,
        filters: &[EarFilters],
        mode: RenderMode,
        plans: &FftPlans,
    ) -> Result<RendererSet, ActivateError> {
        let speakers = (0..filters.len())
            .map(|i| Speaker::Generic(u8::try_from(i).unwrap_or(u8::MAX)))
            .collect();
        RendererSet::with_speakers(name, speakers, filters, mode, plans)
    }

    fn with_speakers(
        name: &str,
        speakers: Vec<Speaker>,
        filters: &[EarFilters],
        mode: RenderMode,
        plans: &FftPlans,
    ) -> Result<RendererSet, ActivateError> {
        let kind = match mode {
            RenderMode::PerSpeaker => Kind::PerSpeaker(
                filters
                    .iter()
                    .zip(&speakers)
                    .map(|([left, right], &speaker)| {
                        Ok(Renderer {
                            speaker,
                            left: Convolver::new(left, plans)?,
                            right: Convolver::new(right, plans)?,
                        })
                    })
                    .collect::<Result<Vec<_>, ActivateError>>()?,
            ),
            RenderMode::Spectral => Kind::Spectral(Box::new(BlockFifo::new(
                SpectralMixer::new(filters, plans)?,
                filters.len(),
            ))),
        };
        Ok(RendererSet {
            preset: name.to_owned(),
            speakers,
            kind,
        })
    }

    /// The preset the set was built from.
    pub fn preset(&self) -> &str {
        &self.preset
    }

    /// How the set convolves.
    pub fn mode(&self) -> RenderMode {
        match self.kind {
            Kind::PerSpeaker(_) => RenderMode::PerSpeaker,
            Kind::Spectral(_) => RenderMode::Spectral,
        }
    }

    /// The speakers rendered, in the order they consume input channels.
    pub fn speakers(&self) -> &[Speaker] {
        &self.speakers
    }

    /// The per-speaker renderers, in the order they consume input
    /// channels; empty for a [`RenderMode::Spectral`] set.
    pub fn renderers(&self) -> &[Renderer] {
        match &self.kind {
            Kind::PerSpeaker(r) => r,
            Kind::Spectral(_) => &[],
        }
    }

    /// Partitions of the longest filter (P).
    pub fn partitions(&self) -> usize {
        match &self.kind {
            Kind::PerSpeaker(r) => r
                .iter()
                .map(|r| r.left.partitions().max(r.right.partitions()))
                .max()
                .unwrap_or(0),
            Kind::Spectral(f) => f.inner().partitions(),
        }
    }

    /// Renderers that receive input on a device of `channels` channels:
    /// renderer `i` reads channel `i`, so only the first `channels` count.
    pub fn active(&self, channels: usize) -> usize {
        self.speakers.len().min(channels)
    }

    /// Heap blocks freed when the boxed set is dropped: the box, the
    /// preset name, the speaker list, and the renderers' own: per
    /// speaker, the renderer vector and every engine's buffers
    /// ([`Convolver::heap_blocks`]); spectral, the FIFO's box, its own
    /// buffers and the mixer's ([`SpectralMixer::heap_blocks`]).
    pub fn heap_blocks(&self) -> usize {
        1 + usize::from(self.preset.capacity() > 0)
            + usize::from(self.speakers.capacity() > 0)
            + match &self.kind {
                Kind::PerSpeaker(renderers) => {
                    usize::from(renderers.capacity() > 0)
                        + renderers
                            .iter()
                            .map(|r| r.left.heap_blocks() + r.right.heap_blocks())
                            .sum::<usize>()
                }
                Kind::Spectral(f) => 1 + f.heap_blocks() + f.inner().heap_blocks(),
            }
    }

    /// Renders `frames` frames of `channels` input channels into `left`
    /// and `right`. Per speaker: one whole [`BLOCK`] at a time, leaving
    /// the frames past the last whole block untouched. Spectral: every
    /// frame, through the FIFO, rendering each block that fills. Audio
    /// thread: allocates nothing unless `sites` says so.
    pub fn render(
        &mut self,
        input: &Planar,
        channels: usize,
        frames: usize,
        left: &mut [f32],
        right: &mut [f32],
        sites: SiteSet,
    ) -> Rendered {
        let renderers = match &mut self.kind {
            Kind::PerSpeaker(r) => r,
            Kind::Spectral(fifo) => {
                return Rendered {
                    blocks: fifo.render(input, channels, frames, left, right),
                    unrendered: 0,
                };
            }
        };
        let blocks = frames / BLOCK;
        for b in 0..blocks {
            let span = b * BLOCK..(b + 1) * BLOCK;
            let (l, r) = (&mut left[span.clone()], &mut right[span.clone()]);
            l.fill(0.0);
            r.fill(0.0);
            for (i, renderer) in renderers.iter_mut().enumerate().take(channels) {
                let x = &input.channel(i)[span.clone()];
                renderer.left.process_and_accumulate(x, l, sites);
                renderer.right.process_and_accumulate(x, r, sites);
            }
        }
        Rendered {
            blocks,
            unrendered: frames - blocks * BLOCK,
        }
    }
}

/// The (left-ear, right-ear) impulse responses of every speaker of
/// `layout` that the preset's map covers, in channel order (unmapped
/// speakers are skipped, as the binauralizer skips them), resampled to
/// `device_rate`: what [`RendererSet::build`] turns into renderers, and
/// what an offline reference convolves with. Fails when no speaker is
/// covered. Off the audio thread.
pub fn mapped_impulse_responses(
    preset: &Preset,
    layout: &Layout,
    device_rate: u32,
) -> Result<Vec<(Speaker, EarFilters)>, ActivateError> {
    let map = HesuviMap::for_preset_channels(preset.channel_count());
    let mut mapped = Vec::new();
    for &speaker in layout.speakers() {
        let Some((left_index, right_index)) = map.indices(speaker) else {
            continue;
        };
        mapped.push((
            speaker,
            [
                preset.impulse_response(left_index, device_rate)?,
                preset.impulse_response(right_index, device_rate)?,
            ],
        ));
    }
    if mapped.is_empty() {
        return Err(ActivateError::NoRenderers {
            preset: preset.name().to_owned(),
            layout: layout.name(),
        });
    }
    Ok(mapped)
}

/// With no renderer set, the renderer copies input channel 0 to the left
/// ear and channel 1 (channel 0 again for a mono device) to the right.
/// Audio thread: never allocates.
pub fn copy_through(
    input: &Planar,
    channels: usize,
    frames: usize,
    left: &mut [f32],
    right: &mut [f32],
) {
    match channels {
        0 => {
            left[..frames].fill(0.0);
            right[..frames].fill(0.0);
        }
        1 => {
            left[..frames].copy_from_slice(&input.channel(0)[..frames]);
            right[..frames].copy_from_slice(&input.channel(0)[..frames]);
        }
        _ => {
            left[..frames].copy_from_slice(&input.channel(0)[..frames]);
            right[..frames].copy_from_slice(&input.channel(1)[..frames]);
        }
    }
}
