//! Integrity: is what the output callback played what it should have
//! played, given the known input signal?
//!
//! The [`Checker`] follows the ring with a model that holds signal
//! positions instead of bytes (`shadow`): every input write, every drop
//! (whole or mid-frame), every read, every underrun's zeroed tail and every
//! restart's reset. From it, each played sample's expected value follows
//! exactly: in passthrough, channel 0 on the left and channel 1 (channel 0
//! for mono) on the right, bit for bit, even after a partial-frame write
//! has misaligned the stream; with convolution, the blocks the engine's
//! renderers were fed, rendered by a [`ConvolutionReference`]. The
//! engine's stereo buffers are modelled too, so frames it leaves
//! unrendered are expected to hold what they held. Silence while buffering
//! is checked as silence.
//!
//! Everything is allocated in [`Checker::new`] or on the control side
//! ([`Checker::publish`]); checking a callback never allocates.

mod reference;
mod shadow;

pub use reference::{ConvolutionReference, DIRECT_TOLERANCE};

use std::collections::VecDeque;
use std::fmt;

use reference::{Builder, Reference};
use shadow::{Lost, ReadStream, ShadowRing};

use crate::drive::signal::Signal;
use allocgate_engine::MAX_FRAMES;
use allocgate_engine::buffers::{BYTES_PER_SAMPLE, Planar};
use allocgate_engine::convolver::BLOCK;
use allocgate_engine::input::InputReport;
use allocgate_engine::output::OutputReport;
use allocgate_engine::preset::Preset;
use allocgate_engine::publish::PENDING_SETS;
use allocgate_engine::renderer::{ActivateError, RenderMode};

/// Whether and how a run checks its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntegrityMode {
    /// No check: the verdict is [`NotChecked::Disabled`].
    Off,
    /// Check every output callback, with this reference for convolution.
    Check(ConvolutionReference),
}

impl Default for IntegrityMode {
    fn default() -> Self {
        IntegrityMode::Check(ConvolutionReference::default())
    }
}

/// The first sample that differed from what was expected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mismatch {
    /// Index of the output callback.
    pub callback: u64,
    /// Its device time (output frames since the start).
    pub device_time: u64,
    /// Frame within the callback.
    pub frame: u32,
    /// Output channel: 0 left, 1 right.
    pub channel: u8,
    /// What should have been played.
    pub expected: f32,
    /// What was played.
    pub got: f32,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "output callback {} (device frame {}), frame {}, {}: expected {:e}, got {:e}",
            self.callback,
            self.device_time,
            self.frame,
            if self.channel == 0 { "left" } else { "right" },
            self.expected,
            self.got
        )
    }
}

/// Why the output could not be (fully) checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotChecked {
    /// The run did not ask for a check.
    Disabled,
    /// Convolution left frames past the last whole 512-frame block
    /// unrendered (N not a multiple of 512): the output is not a render of
    /// the input. Every played frame still matched the engine's model
    /// (rendered blocks, and stale samples where nothing was rendered).
    UnrenderedFrames {
        /// Frames left unrendered over the run.
        frames: u64,
    },
    /// A partial-frame write misaligned the stream while convolving with
    /// the direct reference: the renderers were fed floats pieced together
    /// from parts of samples, which direct convolution cannot be compared
    /// with within a tolerance. Checking stopped there.
    Misaligned,
    /// More discontinuities in the ring at once than the model has room
    /// for. Checking stopped there.
    TooManyCuts,
    /// The engine read bytes the model did not hold, or adopted a set the
    /// model did not know of: the model lost track. Checking stopped there.
    LostTrack,
    /// What an output callback played never reached the checker (a real
    /// backend's recording of it was lost). Checking stopped there.
    Unobserved,
    /// No output callback was heard and compared: there was nothing to
    /// check, and nothing passed.
    NothingPlayed,
    /// What an input callback pulled was not known (a real backend's
    /// player could not vouch for its buffers around a server xrun).
    /// Checking stopped there.
    InputUnknown,
}

impl fmt::Display for NotChecked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotChecked::Disabled => f.write_str("integrity check off"),
            NotChecked::UnrenderedFrames { frames } => write!(
                f,
                "{} past the last whole 512-frame block {} left unrendered; the output is \
                 not a render of the input",
                allocgate_engine::text::count(*frames, "frame"),
                if *frames == 1 { "was" } else { "were" }
            ),
            NotChecked::Misaligned => f.write_str(
                "a partial-frame write misaligned the stream under convolution; \
                 the direct reference cannot follow it",
            ),
            NotChecked::TooManyCuts => {
                f.write_str("too many discontinuities in the ring at once to follow")
            }
            NotChecked::LostTrack => f.write_str("the checker's model of the ring lost track"),
            NotChecked::Unobserved => f.write_str(
                "what an output callback played was not recorded, so checking stopped there",
            ),
            NotChecked::InputUnknown => f.write_str(
                "what an input callback pulled is not known (the signal's player could not \
                 vouch for it), so checking stopped there",
            ),
            NotChecked::NothingPlayed => f.write_str(
                "no output callback was heard and compared, so there was nothing to pass",
            ),
        }
    }
}

/// The integrity verdict of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Every played sample was what it should have been.
    Pass,
    /// A played sample was not.
    Fail {
        /// The first one.
        first_mismatch: Mismatch,
    },
    /// The output could not be checked, or not all of it.
    NotChecked(NotChecked),
}

impl Verdict {
    /// True for [`Verdict::Pass`].
    pub fn passed(&self) -> bool {
        matches!(self, Verdict::Pass)
    }

    /// True for [`Verdict::Fail`].
    pub fn failed(&self) -> bool {
        matches!(self, Verdict::Fail { .. })
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Pass => f.write_str("pass"),
            Verdict::Fail { first_mismatch } => write!(f, "fail: {first_mismatch}"),
            Verdict::NotChecked(why) => write!(f, "not checked: {why}"),
        }
    }
}

/// What the checker found over a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntegrityReport {
    /// The verdict.
    pub verdict: Verdict,
    /// Output frames compared with what they should have been.
    pub frames_checked: u64,
    /// Output frames checked to be silent (buffering).
    pub frames_silent: u64,
    /// Discontinuities the model followed: underruns and dropped writes.
    pub cuts: u64,
    /// Output callbacks whose played audio was not heard intact (a real
    /// backend's server ran its clients out of step, or the recording of
    /// it was lost): the model followed them, their frames were not
    /// compared.
    pub unheard: u64,
}

/// Follows a run callback by callback and says whether its output is
/// right. See the [module documentation](self).
#[derive(Debug)]
pub struct Checker {
    signal: Signal,
    channels: usize,
    right_channel: usize,
    ring: ShadowRing,
    read: ReadStream,
    builder: Builder,
    pending: VecDeque<Reference>,
    current: Option<Reference>,
    convolution: bool,
    planar: Planar,
    /// The engine's stereo buffers, as they should be.
    left: Vec<f32>,
    right: Vec<f32>,
    first_mismatch: Option<Mismatch>,
    stopped: Option<NotChecked>,
    unrendered: u64,
    frames_checked: u64,
    frames_silent: u64,
    cuts: u64,
    unheard: u64,
}

impl Checker {
    /// A checker for an engine of `channels` channels at `sample_rate`
    /// with a ring of `ring_bytes`, renderer sets built for `mode`, fed
    /// `signal`, convolution on or off at the start. Allocates everything
    /// it needs.
    pub fn new(
        reference: ConvolutionReference,
        mode: RenderMode,
        signal: Signal,
        channels: usize,
        sample_rate: u32,
        ring_bytes: usize,
        convolution: bool,
    ) -> Checker {
        // Spans in the ring break only at drops, and a drop fills the
        // ring, so at most one span per frame read since: a ring's worth
        // of frames bounds them.
        let cuts = (ring_bytes / (channels.max(1) * BYTES_PER_SAMPLE) + 2).clamp(64, 1 << 20);
        Checker {
            signal,
            channels,
            right_channel: if channels >= 2 { 1 } else { 0 },
            ring: ShadowRing::with_capacity(cuts),
            read: ReadStream::with_capacity(cuts),
            builder: Builder::new(reference, mode, channels, sample_rate),
            pending: VecDeque::with_capacity(PENDING_SETS + 1),
            current: None,
            convolution,
            planar: Planar::new(channels, MAX_FRAMES),
            left: vec![0.0; MAX_FRAMES],
            right: vec![0.0; MAX_FRAMES],
            first_mismatch: None,
            stopped: None,
            unrendered: 0,
            frames_checked: 0,
            frames_silent: 0,
            cuts: 0,
            unheard: 0,
        }
    }

    fn checking(&self) -> bool {
        self.first_mismatch.is_none() && self.stopped.is_none()
    }

    /// The control side published renderers for `preset`: build the
    /// matching reference, adopted when the engine adopts the set.
    /// Control side: allocates.
    pub fn publish(&mut self, preset: &Preset) -> Result<(), ActivateError> {
        let reference = self.builder.build(preset)?;
        self.pending.push_back(reference);
        Ok(())
    }

    /// Convolution was switched on or off.
    pub fn set_convolution(&mut self, on: bool) {
        self.convolution = on;
    }

    /// The engine restarted: the ring is empty.
    pub fn restart(&mut self) {
        self.ring.clear();
    }

    fn lose(&mut self, why: Lost) {
        self.stopped.get_or_insert(match why {
            Lost::TooManyCuts => NotChecked::TooManyCuts,
            Lost::Diverged => NotChecked::LostTrack,
        });
    }

    /// What an output callback played was not observed: checking stops
    /// here (the verdict is not checked, unless a mismatch came first).
    pub fn unobserved(&mut self) {
        self.stopped.get_or_insert(NotChecked::Unobserved);
    }

    /// What an input callback pulled is not known (a real backend's
    /// player could not vouch for it): the model no longer knows what the
    /// ring holds, and checking stops here.
    pub fn input_unknown(&mut self) {
        self.stopped.get_or_insert(NotChecked::InputUnknown);
    }

    /// An input callback that fired at `device_time` did `report`.
    pub fn input(&mut self, device_time: u64, report: &InputReport) {
        if report.dropped_bytes > 0 {
            self.cuts += 1;
        }
        if !self.checking() || !report.pulled {
            return;
        }
        let frame_bytes = (self.channels * BYTES_PER_SAMPLE) as u64;
        if let Err(e) = self
            .ring
            .write(device_time * frame_bytes, report.written_bytes as u64)
        {
            self.lose(e);
        }
    }

    /// Output callback `index`, fired at `device_time`, did `report` and
    /// played `left` and `right` (its output buffers 0 and 1, at least
    /// `report.frames` long).
    pub fn output(
        &mut self,
        index: u64,
        device_time: u64,
        report: &OutputReport,
        left: &[f32],
        right: &[f32],
    ) {
        self.play(index, device_time, report, Some((left, right)));
    }

    /// Output callback `index` did `report`, and what it played was not
    /// heard intact (a real backend's server ran its clients out of step
    /// with an xrun, or the recording was lost): the model follows it
    /// (the ring read, the renderers fed) exactly as if it had been heard,
    /// and its frames are not compared, so checking resumes with the next
    /// callback heard. Counted in [`IntegrityReport::unheard`].
    pub fn output_unheard(&mut self, index: u64, device_time: u64, report: &OutputReport) {
        self.unheard += 1;
        self.play(index, device_time, report, None);
    }

    /// Follows one output callback; compares what it played when heard.
    fn play(
        &mut self,
        index: u64,
        device_time: u64,
        report: &OutputReport,
        played: Option<(&[f32], &[f32])>,
    ) {
        if report.underrun {
            self.cuts += 1;
        }
        if !self.checking() {
            return;
        }
        for _ in 0..report.adopted_sets {
            match self.pending.pop_front() {
                Some(r) => self.current = Some(r),
                None => {
                    self.lose(Lost::Diverged);
                    return;
                }
            }
        }
        let frames = report.frames;
        let mismatch = |frame: usize, channel: u8, expected: f32, got: f32| Mismatch {
            callback: index,
            device_time,
            frame: frame as u32,
            channel,
            expected,
            got,
        };
        if report.rejected || report.buffering {
            let Some((left, right)) = played else {
                return;
            };
            for (ch, played) in [left, right].into_iter().enumerate() {
                if let Some(n) = played[..frames].iter().position(|x| x.to_bits() != 0) {
                    self.first_mismatch = Some(mismatch(n, ch as u8, 0.0, played[n]));
                    return;
                }
            }
            self.frames_silent += frames as u64;
            return;
        }
        if let Err(e) = self.ring.read(report.read_bytes as u64, &mut self.read) {
            self.lose(e);
            return;
        }
        let c = self.channels;
        let float_at = |read: &mut ReadStream, n: usize, ch: usize| {
            read.float(((n * c + ch) * BYTES_PER_SAMPLE) as u64, &self.signal, c)
        };
        let mut tolerance = 0.0;
        match self.current.as_mut().filter(|_| self.convolution) {
            Some(reference) => {
                let rendered = if reference.streaming() {
                    frames
                } else {
                    frames / BLOCK * BLOCK
                };
                let active = reference.active(c);
                let mut whole = true;
                for n in 0..rendered {
                    for ch in 0..active {
                        let v = float_at(&mut self.read, n, ch);
                        whole &= v.whole;
                        self.planar.channel_mut(ch)[n] = v.value;
                    }
                }
                if !whole && !reference.exact() {
                    self.stopped = Some(NotChecked::Misaligned);
                    return;
                }
                reference.render(&self.planar, c, frames, &mut self.left, &mut self.right);
                tolerance = reference.tolerance(c);
                self.unrendered += (frames - rendered) as u64;
            }
            None => {
                for n in 0..frames {
                    self.left[n] = float_at(&mut self.read, n, 0).value;
                    self.right[n] = float_at(&mut self.read, n, self.right_channel).value;
                }
            }
        }
        let Some((left, right)) = played else {
            return;
        };
        for (ch, (expected, played)) in [(&self.left, left), (&self.right, right)]
            .into_iter()
            .enumerate()
        {
            let bad = |(e, g): (&f32, &f32)| {
                if tolerance == 0.0 {
                    e.to_bits() != g.to_bits()
                } else {
                    (e - g).abs() > tolerance || g.is_nan()
                }
            };
            if let Some(n) = expected[..frames]
                .iter()
                .zip(&played[..frames])
                .position(bad)
            {
                self.first_mismatch = Some(mismatch(n, ch as u8, expected[n], played[n]));
                return;
            }
        }
        self.frames_checked += frames as u64;
    }

    /// What the checker found so far.
    pub fn report(&self) -> IntegrityReport {
        let verdict = if let Some(m) = self.first_mismatch {
            Verdict::Fail { first_mismatch: m }
        } else if let Some(why) = self.stopped {
            Verdict::NotChecked(why)
        } else if self.frames_checked + self.frames_silent == 0 {
            Verdict::NotChecked(NotChecked::NothingPlayed)
        } else if self.unrendered > 0 {
            Verdict::NotChecked(NotChecked::UnrenderedFrames {
                frames: self.unrendered,
            })
        } else {
            Verdict::Pass
        };
        IntegrityReport {
            verdict,
            frames_checked: self.frames_checked,
            frames_silent: self.frames_silent,
            cuts: self.cuts,
            unheard: self.unheard,
        }
    }
}

impl IntegrityReport {
    /// The report of a run that did not check.
    pub fn disabled() -> IntegrityReport {
        IntegrityReport {
            verdict: Verdict::NotChecked(NotChecked::Disabled),
            frames_checked: 0,
            frames_silent: 0,
            cuts: 0,
            unheard: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checker_that_saw_no_output_callback_passes_nothing() {
        let checker = Checker::new(
            ConvolutionReference::default(),
            RenderMode::default(),
            Signal::new(1),
            2,
            48_000,
            1 << 16,
            false,
        );
        let r = checker.report();
        assert_eq!(r.verdict, Verdict::NotChecked(NotChecked::NothingPlayed));
        assert_eq!(
            r.verdict.to_string(),
            "not checked: no output callback was heard and compared, so there was nothing to pass"
        );
    }
}
