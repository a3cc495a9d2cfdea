//! Hazards beyond the allocator, through the gate: each hazard site,
//! switched on alone, allocates nothing and still fails the gate, with
//! every callback's locks, faults and switches matching its formula;
//! `renderer-snapshot` shows as a lock; `fixed` and `optimized` are clean
//! with usage sampled in every callback; and the usage readings add no
//! allocator call on the driver's thread.

use allocgate::hazard::RUSAGE_SUPPORTED;
use allocgate_engine::sites::hazards::FRESH_PAGES;
use allocgate_engine::sites::{Site, SiteSet};
use allocgate_engine::variant::Variant;
use allocgate_tool::drive::sim::{self, Mode};
use allocgate_tool::gate::{GateConfig, GateFailure, ScenarioResult, run_matrix, run_scenario};
use allocgate_tool::metrics::Record;
use allocgate_tool::scenario::{self, Scenario};

fn steady() -> Scenario {
    scenario::defaults()
        .unwrap()
        .into_iter()
        .find(|s| s.name == "steady-7.1-48k-512")
        .expect("the steady scenario")
}

fn gate(variant: Variant, sites: SiteSet) -> GateConfig {
    GateConfig {
        variant,
        sites: variant.sites().union(sites),
        integrity: false,
        trace_sites: false,
        rusage: RUSAGE_SUPPORTED,
        c_level: false,
    }
}

/// Fails when usage should be read here and is not: on Linux (and so in
/// CI) the usage half of these tests must run.
fn usage_or_skip(what: &str) -> bool {
    if RUSAGE_SUPPORTED {
        return true;
    }
    assert!(
        !crate::rig::on_ci(),
        "{what}: per-thread usage is unsupported on this CI machine"
    );
    eprintln!("skipping the usage half of {what}: no per-thread getrusage on this platform");
    false
}

fn outputs(r: &ScenarioResult) -> u64 {
    r.callbacks.1
}

#[test]
fn fixed_and_optimized_meet_no_hazard_in_any_default_scenario() {
    let all = scenario::defaults().unwrap();
    for variant in [Variant::Fixed, Variant::Optimized] {
        let outcome = run_matrix(&all, &gate(variant, SiteSet::EMPTY), &mut |_| {}).unwrap();
        for r in &outcome.results {
            assert!(r.passed(), "{variant:?} {}: {:?}", r.name, r.failures());
            assert_eq!(r.first_hazard, None, "{}", r.name);
            assert_eq!(r.hazards.lock_acquisitions, 0, "{}", r.name);
            if RUSAGE_SUPPORTED {
                assert_eq!(r.hazards.sampled, r.callbacks.0 + r.callbacks.1);
                assert_eq!(r.hazards.voluntary_switches, 0, "{}", r.name);
                assert_eq!(r.hazards.major_faults, 0, "{}", r.name);
            }
        }
    }
    usage_or_skip("the clean matrix");
}

#[test]
fn each_hazard_site_allocates_nothing_and_fails_the_gate_by_its_formula() {
    let s = steady();
    for site in Site::HAZARDS {
        let r = run_scenario(&s, &gate(Variant::Fixed, SiteSet::only(site))).unwrap();
        assert_eq!(r.counts.calls(), 0, "{site}: no allocator call");
        assert!(r.first_offender.is_none(), "{site}");
        // Every callback matched the site's hazard formula…
        assert_eq!(r.hazard_violation, None, "{site}");
        let h = &r.hazards;
        let n = outputs(&r);
        match site {
            Site::ContendedLock => {
                // One contended acquisition per output callback, exactly.
                assert_eq!((h.lock_acquisitions, h.lock_contentions), (n, n));
            }
            _ => assert_eq!(h.lock_acquisitions, 0, "{site}"),
        }
        if !usage_or_skip(site.name()) {
            continue;
        }
        match site {
            // At least one wait per output callback (the formulas' floor).
            Site::Sleep | Site::ContendedLock => {
                assert!(h.voluntary_switches >= n, "{site}: {h:?}");
                assert_eq!(h.callbacks_switching, n, "{site}");
            }
            // 16 first writes per output callback: each one a fault.
            Site::FreshPages => {
                assert!(h.minor_faults >= FRESH_PAGES as u64 * n, "{h:?}");
                assert_eq!(h.voluntary_switches, 0);
            }
            _ => unreachable!(),
        }
        // …and the gate fails it.
        assert!(!r.passed(), "{site}: the gate fails it");
        let why = r.failures();
        assert!(
            why.iter().any(|f| matches!(f, GateFailure::Hazard { .. })),
            "{site}: {why:?}"
        );
    }
}

#[test]
fn the_renderer_snapshot_shows_as_a_lock_on_the_audio_thread_and_allocates_nothing() {
    let s = steady();
    let r = run_scenario(
        &s,
        &gate(Variant::Fixed, SiteSet::only(Site::RendererSnapshot)),
    )
    .unwrap();
    assert_eq!(r.counts.calls(), 0, "a lock and a reference count");
    // The formula takes one lock per callback that reached the renderer,
    // checked callback by callback; steady playback reaches it in all
    // but the buffering ones.
    assert_eq!(r.hazard_violation, None);
    assert!(r.hazards.lock_acquisitions > 0);
    assert!(r.hazards.lock_acquisitions <= outputs(&r));
    assert_eq!(r.hazards.lock_contentions, 0, "nothing publishes meanwhile");
    assert!(!r.passed());
    assert!(
        r.failures().iter().any(
            |f| matches!(f, GateFailure::Hazard { first, .. } if first.contains("lock acquisition"))
        ),
        "{:?}",
        r.failures()
    );
    // The pre-fix engine has it among its sites.
    let prefix = run_scenario(&s, &gate(Variant::Prefix, SiteSet::EMPTY)).unwrap();
    assert_eq!(
        prefix.hazards.lock_acquisitions,
        r.hazards.lock_acquisitions
    );
}

#[test]
fn usage_readings_add_no_allocator_call_to_the_driver_thread() {
    if !usage_or_skip("the driver's own calls") {
        return;
    }
    let config = steady()
        .sim_config(Variant::Fixed, SiteSet::EMPTY)
        .with_rusage(true)
        .with_mode(Mode::Virtual);
    // The run itself (callbacks, readings, the driver's bookkeeping and
    // the integrity check), set up beforehand, measured from outside.
    let mut simulation = sim::Simulation::new(&config).unwrap();
    let m = allocgate::measure(|| simulation.run(&mut |_: &Record| {}).unwrap());
    let o = m.value;
    assert_eq!(o.output.all.hazards.sampled, o.output.all.callbacks);
    assert_eq!(o.input.all.hazards.sampled, o.input.all.callbacks);
    assert!(o.output.all.callbacks > 100);
    assert_eq!(m.stats.counts.calls(), 0, "{:?}", m.stats.counts);
}
