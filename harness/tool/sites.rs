//! Every allocation site, switched on alone and in its variant, makes
//! exactly the allocations, deallocations and reallocations its formula
//! gives, in every callback of a session that reaches every rare path.

use allocgate_engine::EngineConfig;
use allocgate_engine::preset::Preset;
use allocgate_engine::sites::{Site, SiteSet};
use allocgate_engine::synthetic;
use allocgate_engine::variant::Variant;

use crate::rig::{Expect, Rig};

/// One step of a scripted session.
#[derive(Clone, Copy)]
enum Step {
    /// An input callback then an output callback of N frames.
    Both(usize),
    /// An output callback alone (the ring runs short: underrun).
    OutputOnly(usize),
    /// Activate the next preset (a switch, after the first).
    Switch,
}

use Step::*;

/// Start-up, steady state, a block-aligned larger N (debug lines, growth),
/// an underrun and recovery, an unaligned N, a preset switch, a smaller N.
const SESSION: &[Step] = &[
    Switch,
    Both(512),
    Both(512),
    Both(1024),
    OutputOnly(512),
    OutputOnly(512),
    Both(512),
    Both(600),
    Switch,
    Both(512),
    Both(256),
    Both(2048),
    Switch,
    Both(512),
];

/// Runs the session, checking every callback against the formulas; the
/// returned `Expect` holds how many callbacks were checked and the
/// formulas' totals.
pub fn run_session(sites: SiteSet, channels: usize) -> Expect {
    let presets = [
        Preset::from_channels("a", 48_000, synthetic::impulse_set(14, 558)).unwrap(),
        Preset::from_channels("b", 48_000, synthetic::impulse_set(7, 1100)).unwrap(),
    ];
    let mut rig = Rig::new(&EngineConfig::new(channels, 48_000).with_sites(sites), 2);
    let mut expect = Expect::new(sites, channels);
    let mut switches = 0;
    let mut new_renderers = 0;
    for step in SESSION {
        match *step {
            Switch => {
                let activated = rig.engine.control.activate(&presets[switches % 2]).unwrap();
                expect.published(activated.heap_blocks);
                new_renderers = activated.renderers.min(channels);
                switches += 1;
            }
            Both(n) => {
                let i = rig.input(n);
                expect.check_input(&i, n);
                let o = rig.output(n);
                expect.check_output(&o, n, new_renderers);
            }
            OutputOnly(n) => {
                let o = rig.output(n);
                expect.check_output(&o, n, new_renderers);
            }
        }
        rig.engine.control.collect_retired();
    }
    expect
}

#[test]
fn each_site_alone_makes_exactly_its_expected_counts_in_every_callback() {
    for site in Site::ALL {
        for channels in [2, 8, 12] {
            let checked = run_session(SiteSet::only(site), channels).checked;
            // 9 steps with both callbacks and 2 with output alone.
            assert_eq!(checked, 20, "{site}: callbacks checked");
        }
    }
}

#[test]
fn each_variant_makes_the_sum_of_its_sites() {
    for variant in Variant::ALL {
        run_session(variant.sites(), 8);
    }
}

#[test]
fn the_session_reaches_every_rare_path() {
    // Sanity for the script itself: a site that the session never
    // triggers would pass the test above vacuously.
    use allocgate_engine::sites::expected::CallbackContext;
    let mut triggered = SiteSet::EMPTY;
    let mut rig = Rig::new(&EngineConfig::new(8, 48_000), 2);
    let preset = Preset::from_channels("a", 48_000, synthetic::impulse_set(14, 558)).unwrap();
    let mut first = true;
    let mut max_before = 0;
    let mut blocks_of_current = 0;
    let mut pending = Vec::new();
    for step in SESSION {
        let (n, with_input) = match *step {
            Switch => {
                pending.push(rig.engine.control.activate(&preset).unwrap().heap_blocks);
                continue;
            }
            Both(n) => (n, true),
            OutputOnly(n) => (n, false),
        };
        if with_input {
            let cx = CallbackContext::input(8, n);
            for s in Site::ALL {
                if !s.expected(&cx).is_zero() {
                    triggered = triggered.with(s);
                }
            }
            rig.input(n);
        }
        let o = rig.output(n);
        let mut replaced = 0;
        for _ in 0..o.report.adopted_sets {
            replaced += blocks_of_current;
            blocks_of_current = pending.remove(0);
        }
        let cx = CallbackContext {
            renderers: if o.report.rendered_blocks > 0 { 8 } else { 0 },
            blocks: o.report.rendered_blocks,
            first,
            underrun: o.report.underrun,
            max_frames_before: max_before,
            replaced_set_blocks: replaced,
            ..CallbackContext::output(8, n)
        };
        for s in Site::ALL {
            if !s.expected(&cx).is_zero() {
                triggered = triggered.with(s);
            }
        }
        first = false;
        max_before = max_before.max(n);
        rig.engine.control.collect_retired();
    }
    // Every site but the ones that never allocate.
    let allocating = Site::ALL
        .into_iter()
        .filter(|s| s.calls_allocator())
        .fold(SiteSet::EMPTY, SiteSet::with);
    assert_eq!(triggered, allocating);
}
