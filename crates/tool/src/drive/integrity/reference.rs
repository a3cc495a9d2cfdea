//! What convolution should have produced: the same input blocks through
//! the same filters, rendered apart from the engine.

use allocgate_engine::block_fifo::{BlockFifo, BlockRender};
use allocgate_engine::buffers::Planar;
use allocgate_engine::convolver::{BLOCK, FftPlans};
use allocgate_engine::layout::Layout;
use allocgate_engine::preset::Preset;
use allocgate_engine::renderer::{
    ActivateError, RenderMode, RendererSet, mapped_impulse_responses,
};
use allocgate_engine::sites::SiteSet;

/// How the checker computes the expected output of convolution.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ConvolutionReference {
    /// A fresh renderer set built from the same preset for the same
    /// [`RenderMode`], fed the same blocks: the engine's own partitioned
    /// convolution, so the output must match bit for bit. Fast (it doubles the rendering work); it
    /// checks everything around the convolver (ring, interleaving, block
    /// alignment, adoption of sets), not the convolver itself, which the
    /// engine's tests hold to direct convolution.
    #[default]
    Partitioned,
    /// Direct time-domain convolution in `f64` with the preset's impulse
    /// responses (for the spectral renderer, behind the same one-block
    /// FIFO, so one block late): independent of the engine's convolution
    /// code, matched within [`DIRECT_TOLERANCE`]. Costs taps × 2 multiply-adds per renderer
    /// and frame.
    Direct,
}

/// Largest difference accepted between the engine's output and direct
/// convolution, relative to the largest output the filters can produce
/// (the sum of the active filters' absolute taps × the signal's peak).
/// Single-precision FFT convolution of 1 024 points stays more than an
/// order of magnitude below it: with KEMAR at 7.1 the worst difference
/// measured is 9 × 10⁻⁷ against a tolerance of 2.8 × 10⁻⁵.
pub const DIRECT_TOLERANCE: f32 = 1e-6;

/// A reference renderer for one published preset.
#[derive(Debug)]
pub(super) enum Reference {
    Partitioned(Box<RendererSet>),
    Direct(Direct),
    /// Direct convolution with the spectral renderer's timing.
    DirectFifo(Box<BlockFifo<Direct>>),
}

/// Builds references the way the engine's control side builds sets.
#[derive(Debug)]
pub(super) struct Builder {
    kind: ConvolutionReference,
    mode: RenderMode,
    layout: Layout,
    sample_rate: u32,
    plans: FftPlans,
}

impl Builder {
    pub(super) fn new(
        kind: ConvolutionReference,
        mode: RenderMode,
        channels: usize,
        sample_rate: u32,
    ) -> Builder {
        Builder {
            kind,
            mode,
            layout: Layout::for_channels(channels),
            sample_rate,
            plans: FftPlans::new(),
        }
    }

    pub(super) fn build(&self, preset: &Preset) -> Result<Reference, ActivateError> {
        Ok(match self.kind {
            ConvolutionReference::Partitioned => {
                Reference::Partitioned(Box::new(RendererSet::build(
                    preset,
                    &self.layout,
                    self.sample_rate,
                    self.mode,
                    &self.plans,
                )?))
            }
            ConvolutionReference::Direct => {
                let direct = Direct::new(preset, &self.layout, self.sample_rate)?;
                match self.mode {
                    RenderMode::PerSpeaker => Reference::Direct(direct),
                    RenderMode::Spectral => {
                        let channels = direct.filters.len();
                        Reference::DirectFifo(Box::new(BlockFifo::new(direct, channels)))
                    }
                }
            }
        })
    }
}

impl Reference {
    /// Renderers that receive input on a device of `channels` channels.
    pub(super) fn active(&self, channels: usize) -> usize {
        match self {
            Reference::Partitioned(set) => set.active(channels),
            Reference::Direct(d) => d.filters.len().min(channels),
            Reference::DirectFifo(f) => f.inner().filters.len().min(channels),
        }
    }

    /// True when every frame is rendered (through a FIFO), not only
    /// whole blocks.
    pub(super) fn streaming(&self) -> bool {
        match self {
            Reference::Partitioned(set) => set.mode() == RenderMode::Spectral,
            Reference::Direct(_) => false,
            Reference::DirectFifo(_) => true,
        }
    }

    /// True when the engine must match it bit for bit.
    pub(super) fn exact(&self) -> bool {
        matches!(self, Reference::Partitioned(_))
    }

    /// Largest difference accepted from the engine's output.
    pub(super) fn tolerance(&self, channels: usize) -> f32 {
        match self {
            Reference::Partitioned(_) => 0.0,
            Reference::Direct(d) => d.tolerance(channels),
            Reference::DirectFifo(f) => f.inner().tolerance(channels),
        }
    }

    /// Renders `frames` frames of the first `channels` planar channels
    /// into `left` and `right` as the engine does: whole blocks only,
    /// leaving the frames past the last one untouched, or, when
    /// [`streaming`](Self::streaming), every frame.
    pub(super) fn render(
        &mut self,
        input: &Planar,
        channels: usize,
        frames: usize,
        left: &mut [f32],
        right: &mut [f32],
    ) {
        match self {
            Reference::Partitioned(set) => {
                set.render(input, channels, frames, left, right, SiteSet::EMPTY);
            }
            Reference::Direct(d) => d.render(input, channels, frames, left, right),
            Reference::DirectFifo(f) => {
                f.render(input, channels, frames, left, right);
            }
        }
    }
}

impl BlockRender for Direct {
    fn render_block(
        &mut self,
        input: &Planar,
        channels: usize,
        left: &mut [f32],
        right: &mut [f32],
    ) {
        self.render(input, channels, BLOCK, left, right);
    }
}

/// Direct convolution: each renderer's (left, right) impulse responses,
/// stored time-reversed so each output sample is a forward dot product,
/// and the recent history of the input each renderer has been fed.
#[derive(Debug)]
pub(super) struct Direct {
    filters: Vec<[Vec<f32>; 2]>,
    /// Per renderer: the last `taps - 1` samples fed, then the current
    /// block.
    history: Vec<Vec<f32>>,
    taps: usize,
}

impl Direct {
    /// The renderers `RendererSet::build` makes for this preset and
    /// layout: speakers in channel order, unmapped ones skipped.
    fn new(preset: &Preset, layout: &Layout, sample_rate: u32) -> Result<Direct, ActivateError> {
        let filters: Vec<[Vec<f32>; 2]> = mapped_impulse_responses(preset, layout, sample_rate)?
            .into_iter()
            .map(|(_, mut ears)| {
                ears.iter_mut().for_each(|ir| ir.reverse());
                ears
            })
            .collect();
        let taps = filters
            .iter()
            .flat_map(|f| f.iter().map(Vec::len))
            .max()
            .unwrap_or(1)
            .max(1);
        let history = vec![vec![0.0; taps - 1 + BLOCK]; filters.len()];
        Ok(Direct {
            filters,
            history,
            taps,
        })
    }

    fn tolerance(&self, channels: usize) -> f32 {
        let peak: f32 = (0..2)
            .map(|ear| {
                self.filters
                    .iter()
                    .take(channels)
                    .map(|f| f[ear].iter().map(|h| h.abs()).sum::<f32>())
                    .sum::<f32>()
            })
            .fold(0.0, f32::max);
        DIRECT_TOLERANCE * peak * crate::drive::signal::AMPLITUDE
    }

    fn render(
        &mut self,
        input: &Planar,
        channels: usize,
        frames: usize,
        left: &mut [f32],
        right: &mut [f32],
    ) {
        let active = self.filters.len().min(channels);
        let t = self.taps;
        for b in 0..frames / BLOCK {
            let span = b * BLOCK..(b + 1) * BLOCK;
            for (i, h) in self.history.iter_mut().enumerate().take(active) {
                h.copy_within(BLOCK.., 0);
                h[t - 1..].copy_from_slice(&input.channel(i)[span.clone()]);
            }
            for n in 0..BLOCK {
                let mut y = [0f64; 2];
                for (f, h) in self.filters.iter().zip(&self.history).take(active) {
                    for (ear, reversed) in f.iter().enumerate() {
                        // y[n] = Σ_k ir[k] · x[n − k], x[n] at h[t − 1 + n]:
                        // the reversed filter against the window ending there.
                        y[ear] += dot(reversed, &h[t + n - reversed.len()..t + n]);
                    }
                }
                left[span.start + n] = y[0] as f32;
                right[span.start + n] = y[1] as f32;
            }
        }
    }
}

/// Σ a[i] · b[i] in f64, over four partial sums so the compiler can
/// vectorise it.
fn dot(a: &[f32], b: &[f32]) -> f64 {
    let mut acc = [0f64; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = a4
        .remainder()
        .iter()
        .zip(b4.remainder())
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    for (x, y) in a4.zip(b4) {
        for i in 0..4 {
            acc[i] += f64::from(x[i]) * f64::from(y[i]);
        }
    }
    acc.iter().sum::<f64>() + tail
}
