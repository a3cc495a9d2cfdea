//! The engine driven by the simulated clock, under the counting
//! allocator: `fixed` allocates nothing in any callback through every
//! scheduled event, other variants' per-callback counts from the records
//! equal the site formulas, and the driver adds no allocation of its own.

use std::time::Duration;

use allocgate::measure;
use allocgate_engine::EngineConfig;
use allocgate_engine::convolver::BLOCK;
use allocgate_engine::preset::Preset;
use allocgate_engine::sites::expected::{CallbackContext, Expected};
use allocgate_engine::sites::{CallbackKind, Site, SiteSet};
use allocgate_engine::variant::Variant;
use allocgate_tool::drive::callback::WARM_UP_CALLBACKS;
use allocgate_tool::drive::outcome::Outcome;
use allocgate_tool::drive::sim::{Action, Drift, FrameSequence, SimConfig, Simulation};
use allocgate_tool::drive::sink::RecordLog;
use allocgate_tool::metrics::Record;

const RATE: u64 = 48_000;
/// KEMAR maps every speaker of 7.1: 8 renderers.
const KEMAR_RENDERERS: usize = 8;

fn kemar_7_1(sites: SiteSet, frames: FrameSequence, secs: u64) -> SimConfig {
    SimConfig::new(
        EngineConfig::new(8, RATE as u32).with_sites(sites),
        frames,
        Duration::from_secs(secs),
    )
    .with_preset(Preset::kemar())
}

fn run(config: &SimConfig) -> (Outcome, Vec<Record>) {
    let mut log = RecordLog::with_capacity(config.record_bound());
    let outcome = Simulation::new(config)
        .expect("valid configuration")
        .run(&mut log)
        .expect("the run completes");
    (outcome, log.into_records())
}

/// Simulated time of an output record's callback, in ms, on a clock
/// without drift.
fn at_ms(r: &Record) -> u64 {
    r.device_time * 1000 / RATE
}

#[test]
fn fixed_allocates_nothing_in_any_callback_through_every_scheduled_event() {
    let config = kemar_7_1(Variant::Fixed.sites(), FrameSequence::Fixed(512), 4)
        .with_drift(Drift::ppm(2000))
        .at(
            Duration::from_millis(500),
            Action::SwitchPreset(Preset::kemar().into()),
        )
        .at(Duration::from_millis(1000), Action::Restart)
        .at(
            Duration::from_millis(1500),
            Action::SetFrames {
                input: Some(FrameSequence::coreaudio_seeded(3)),
                output: Some(FrameSequence::Fixed(1024)),
            },
        )
        .at(Duration::from_millis(2000), Action::SetConvolution(false))
        .at(Duration::from_millis(2500), Action::SetConvolution(true))
        .at(
            Duration::from_millis(3000),
            Action::SetFrames {
                input: Some(FrameSequence::Fixed(256)),
                output: Some(FrameSequence::Fixed(256)),
            },
        );
    let (outcome, records) = run(&config);
    for r in &records {
        assert!(
            r.counts.is_zero(),
            "{:?} callback #{} (warm-up: {}): {}",
            r.kind,
            r.index,
            r.warm_up,
            r.counts
        );
    }
    assert!(outcome.input.stats.is_allocation_free());
    assert!(outcome.output.stats.is_allocation_free());
    assert!(
        outcome.xruns.total() > 0,
        "the drift reaches the xrun paths"
    );
    assert!(
        !outcome.integrity.verdict.failed(),
        "{}",
        outcome.integrity.verdict
    );
    assert!(records.len() > 700);
}

/// Follows a run's output records and says what the site formulas expect
/// of each, from what the records say and when the schedule's events
/// happened.
struct Formulas {
    sites: SiteSet,
    channels: usize,
    max_frames: usize,
    steps: u64,
}

impl Formulas {
    fn input(&self, r: &Record) -> Expected {
        self.sites
            .expected(&CallbackContext::input(self.channels, r.frames as usize))
    }

    /// `convolving`: convolution on at the callback; `adopts`: the
    /// callback adopts a newly published set (its engines start from step 0).
    fn output(&mut self, r: &Record, convolving: bool, adopts: bool) -> Expected {
        if adopts {
            self.steps = 0;
        }
        let frames = r.frames as usize;
        let blocks = if convolving && !r.buffering {
            frames / BLOCK
        } else {
            0
        };
        let cx = CallbackContext {
            renderers: if blocks > 0 { KEMAR_RENDERERS } else { 0 },
            blocks,
            steps_before: self.steps,
            first: r.index == 0,
            underrun: r.underrun,
            max_frames_before: self.max_frames,
            ..CallbackContext::output(self.channels, frames)
        };
        self.steps += blocks as u64;
        self.max_frames = self.max_frames.max(frames);
        self.sites.expected(&cx)
    }
}

fn measured(r: &Record) -> Expected {
    Expected {
        allocations: r.counts.allocations,
        deallocations: r.counts.deallocations,
        reallocations: r.counts.reallocations,
    }
}

/// Checks every record of a run at 7.1 / 48 kHz with convolution off
/// during [off_ms, on_ms) and a preset switch at `switch_ms`.
fn check_against_formulas(
    sites: SiteSet,
    config: &SimConfig,
    off: (u64, u64),
    switch_ms: Option<u64>,
) {
    let (outcome, records) = run(config);
    let mut formulas = Formulas {
        sites,
        channels: 8,
        max_frames: 0,
        steps: 0,
    };
    // The gate's formulas (which replay the schedule) must agree with this
    // hand-written model (told the events' times) on every record.
    let mut library = allocgate_tool::gate::expect::Formulas::new(config).expect("formulas");
    let mut adopted_switch = false;
    let mut allocating = 0;
    for r in &records {
        let expected = match r.kind {
            CallbackKind::Input => formulas.input(r),
            CallbackKind::Output => {
                let t = at_ms(r);
                let adopts = r.index == 0 || (!adopted_switch && switch_ms.is_some_and(|s| t >= s));
                adopted_switch |= r.index > 0 && adopts;
                formulas.output(r, !(off.0..off.1).contains(&t), adopts)
            }
        };
        assert_eq!(
            library.next(r).expect("clock and records in step"),
            expected,
            "the gate's formulas differ from the hand model at {:?} callback #{}",
            r.kind,
            r.index
        );
        assert_eq!(
            measured(r),
            expected,
            "sites {sites}: {:?} callback #{} at {} ms ({} frames, buffering {}, underrun {})",
            r.kind,
            r.index,
            at_ms(r),
            r.frames,
            r.buffering,
            r.underrun
        );
        allocating += u64::from(!expected.is_zero());
    }
    assert_eq!(adopted_switch, switch_ms.is_some());
    assert!(
        allocating > 0,
        "sites {sites}: the formulas expect allocations"
    );
    assert!(!outcome.integrity.verdict.failed());
}

#[test]
fn prefix_counts_per_callback_equal_the_site_formulas_at_48k_512() {
    // scale-array: 2 × 16 engines × 1 block = 32 allocations and frees per
    // rendering callback; debug-print: 16 lines on each of the first two
    // block steps of a set (again after the switch); renderer-snapshot:
    // none. Convolution off for [1 000, 1 500) ms: nothing.
    let sites = Variant::Prefix.sites();
    let config = kemar_7_1(sites, FrameSequence::Fixed(512), 3)
        .at(Duration::from_millis(1000), Action::SetConvolution(false))
        .at(Duration::from_millis(1500), Action::SetConvolution(true))
        .at(
            Duration::from_millis(2000),
            Action::SwitchPreset(Preset::kemar().into()),
        )
        .at(Duration::from_millis(2500), Action::Restart);
    check_against_formulas(sites, &config, (1000, 1500), Some(2000));
}

#[test]
fn seed_and_rare_path_sites_match_the_formulas_with_varying_frames() {
    // The `seed` variant's input pattern, and the output's rare paths: the
    // first callback, underruns (a restart at 700 ms, and the CoreAudio
    // pattern: 471-frame outputs run the ring short), and growth with the
    // frame count.
    let sites = Variant::Seed
        .sites()
        .with(Site::FirstCallback)
        .with(Site::UnderrunLog)
        .with(Site::GrowOnFrames)
        .with(Site::ScaleArray);
    let config = kemar_7_1(sites, FrameSequence::coreaudio_seeded(11), 2)
        .at(Duration::from_millis(700), Action::Restart)
        .at(
            Duration::from_millis(1200),
            Action::SetFrames {
                input: Some(FrameSequence::Fixed(2048)),
                output: Some(FrameSequence::Fixed(2048)),
            },
        );
    check_against_formulas(sites, &config, (0, 0), None);
    let (o, records) = run(&config);
    assert!(o.xruns.underruns > 0);
    // `seed`'s 1 + 1 + 8 allocations (buffer list, pointer array, channel
    // buffers) and one growth of the pointer array in every input callback.
    let input = records
        .iter()
        .find(|r| r.kind == CallbackKind::Input)
        .unwrap();
    assert_eq!(
        (input.counts.allocations, input.counts.reallocations),
        (10, 1)
    );
}

#[test]
fn the_driver_adds_no_allocation_of_its_own_between_callbacks() {
    for sites in [Variant::Fixed.sites(), Variant::Prefix.sites()] {
        let config =
            kemar_7_1(sites, FrameSequence::coreaudio_seeded(2), 1).with_drift(Drift::ppm(-3000));
        let mut log = RecordLog::with_capacity(config.record_bound());
        let mut simulation = Simulation::new(&config).unwrap();
        let whole = measure(|| simulation.run(&mut log).unwrap());
        let o = whole.value;
        let mut callbacks = o.input.stats.counts;
        callbacks.merge(&o.output.stats.counts);
        assert_eq!(whole.stats.counts, callbacks, "sites {sites}");
        assert_eq!(
            log.records().len() as u64,
            o.input.all.callbacks + o.output.all.callbacks
        );
    }
}

#[test]
fn warm_up_and_steady_state_are_totalled_apart() {
    let config = kemar_7_1(Variant::Prefix.sites(), FrameSequence::Fixed(512), 1);
    let (o, _) = run(&config);
    // 94 output callbacks, the first 16 warm-up; debug lines only then.
    assert_eq!(o.output.warm_up_callbacks(), WARM_UP_CALLBACKS);
    // Steady: 78 callbacks × 32 scale arrays.
    assert_eq!(o.output.steady.counts.allocations, 78 * 32);
    // All: plus 16 callbacks × 32, plus 2 steps × 16 debug lines.
    assert_eq!(o.output.stats.counts.allocations, 94 * 32 + 32);
}

#[test]
fn two_runs_with_the_same_seed_count_the_same_in_every_callback() {
    let config = |seed| {
        kemar_7_1(
            Variant::Prefix.sites().with(Site::UnderrunLog),
            FrameSequence::coreaudio_seeded(seed),
            1,
        )
        .with_seed(seed)
        .with_drift(Drift::ppm(-20_000))
    };
    let strip = |records: Vec<Record>| -> Vec<Record> {
        records
            .into_iter()
            .map(|r| Record { wall_ns: 0, ..r })
            .collect()
    };
    let (a, ra) = run(&config(4));
    let (b, rb) = run(&config(4));
    assert_eq!(strip(ra.clone()), strip(rb));
    assert_eq!(a.output.stats.counts, b.output.stats.counts);
    assert_eq!(a.integrity, b.integrity);
    let (_, rc) = run(&config(5));
    assert_ne!(strip(ra), strip(rc));
}
