//! What the site formulas ([`SiteSet::expected`]) say each callback of a
//! simulated run should cost, rebuilt from the run's records and its
//! clock: the clock is replayed beside the records, so every scheduled
//! action (preset switch, convolution toggle, restart, frame change) is
//! known to have happened before the callbacks that follow it, exactly
//! as the driver applied it.
//!
//! Shared by `allocgate gate` and the tests, so that both compare
//! measured counts with the same first-principles figures.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use crate::drive::sim::clock::Tick;
use crate::drive::sim::{Action, SimClock, SimConfig, SimError};
use crate::metrics::Record;
use allocgate::Counts;
use allocgate_engine::convolver::BLOCK;
use allocgate_engine::preset::Preset;
use allocgate_engine::sites::expected::{CallbackContext, Expected, ExpectedHazards};
use allocgate_engine::sites::{CallbackKind, SiteSet};
use allocgate_engine::{Engine, EngineConfig};

/// What a renderer set costs the formulas: renderers receiving input and
/// heap blocks freed when it is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SetShape {
    active: usize,
    heap_blocks: usize,
}

/// Replays a run's clock beside its records and gives each record the
/// counts the formulas expect.
#[derive(Debug)]
pub struct Formulas {
    sites: SiteSet,
    channels: usize,
    clock: SimClock,
    schedule: Vec<Action>,
    /// Shapes of the presets the schedule switches to, in schedule order.
    switch_shapes: Vec<Option<SetShape>>,
    convolving: bool,
    pending: VecDeque<SetShape>,
    current: Option<SetShape>,
    steps: u64,
    max_frames: usize,
    hazards: ExpectedHazards,
}

/// The records and the replayed clock disagree: the run was not made
/// from this configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfStep(String);

impl fmt::Display for OutOfStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OutOfStep {}

/// Builds `preset`'s renderer set for `engine`'s device (no sites) and
/// reads its shape.
fn shape(engine: &EngineConfig, preset: &Preset) -> Result<SetShape, SimError> {
    let config = EngineConfig {
        sites: SiteSet::EMPTY,
        ..engine.clone()
    };
    let mut e = Engine::new(&config)?;
    let a = e.control.activate(preset)?;
    Ok(SetShape {
        active: a.renderers.min(engine.channels),
        heap_blocks: a.heap_blocks,
    })
}

impl Formulas {
    /// The formulas for a run of `config` (its sites are the ones
    /// expected). Builds each preset's renderer set once, off any audio
    /// thread, to learn its shape.
    pub fn new(config: &SimConfig) -> Result<Formulas, SimError> {
        // One build per distinct preset (the same one shared, or an equal
        // copy of it).
        let mut shapes: Vec<(Arc<Preset>, SetShape)> = Vec::new();
        let mut shape_of = |p: &Arc<Preset>| -> Result<SetShape, SimError> {
            if let Some((_, s)) = shapes.iter().find(|(q, _)| Arc::ptr_eq(p, q) || p == q) {
                return Ok(*s);
            }
            let s = shape(&config.engine, p)?;
            shapes.push((Arc::clone(p), s));
            Ok(s)
        };
        let mut pending = VecDeque::new();
        if let Some(p) = &config.preset {
            pending.push_back(shape_of(p)?);
        }
        let switch_shapes = config
            .schedule
            .iter()
            .map(|s| match &s.action {
                Action::SwitchPreset(p) => shape_of(p).map(Some),
                _ => Ok(None),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Formulas {
            sites: config.engine.sites,
            channels: config.engine.channels,
            clock: config.clock(),
            schedule: config.schedule.iter().map(|s| s.action.clone()).collect(),
            switch_shapes,
            convolving: config.engine.convolution,
            pending,
            current: None,
            steps: 0,
            max_frames: 0,
            hazards: ExpectedHazards::default(),
        })
    }

    /// What the next record (in the run's order) should have counted.
    pub fn next(&mut self, r: &Record) -> Result<Expected, OutOfStep> {
        let tick = loop {
            let Some(event) = self.clock.next_event() else {
                return Err(OutOfStep(format!(
                    "{:?} callback #{}: the clock has no callback left",
                    r.kind, r.index
                )));
            };
            match event.tick {
                Tick::Action(i) => match &self.schedule[i] {
                    Action::SwitchPreset(_) => {
                        if let Some(s) = self.switch_shapes[i] {
                            self.pending.push_back(s);
                        }
                    }
                    Action::SetConvolution(on) => self.convolving = *on,
                    Action::Restart | Action::SetFrames { .. } => {}
                },
                Tick::Callback(t) => break t,
            }
        };
        if (tick.kind, tick.index, tick.frames) != (r.kind, r.index, r.frames) {
            return Err(OutOfStep(format!(
                "{:?} callback #{} of {} frames recorded where the clock has {:?} #{} of {}",
                r.kind, r.index, r.frames, tick.kind, tick.index, tick.frames
            )));
        }
        let frames = r.frames as usize;
        let cx = match r.kind {
            CallbackKind::Input => CallbackContext::input(self.channels, frames),
            CallbackKind::Output => {
                // Every set published since the last callback is adopted
                // at its start, each replacing the one before.
                let mut replaced = 0;
                while let Some(next) = self.pending.pop_front() {
                    replaced += self.current.map_or(0, |c| c.heap_blocks);
                    self.current = Some(next);
                    self.steps = 0;
                }
                let rendering = self.convolving && !r.buffering;
                let (renderers, blocks) = match self.current {
                    Some(set) if rendering => (set.active, frames / BLOCK),
                    _ => (0, 0),
                };
                let cx = CallbackContext {
                    renderers,
                    blocks,
                    rendering,
                    steps_before: self.steps,
                    first: r.index == 0,
                    underrun: r.underrun,
                    max_frames_before: self.max_frames,
                    replaced_set_blocks: replaced,
                    ..CallbackContext::output(self.channels, frames)
                };
                self.steps += blocks as u64;
                self.max_frames = self.max_frames.max(frames);
                cx
            }
        };
        self.hazards = self.sites.expected_hazards(&cx);
        Ok(self.sites.expected(&cx))
    }

    /// The hazards the sites cause in the record [`next`](Self::next)
    /// last judged.
    pub fn hazards(&self) -> ExpectedHazards {
        self.hazards
    }
}

/// The figures of a record, comparable with [`Expected`].
pub fn measured(counts: &Counts) -> Expected {
    Expected {
        allocations: counts.allocations,
        deallocations: counts.deallocations,
        reallocations: counts.reallocations,
    }
}
