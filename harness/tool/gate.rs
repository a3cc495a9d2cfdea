//! The gate: the default scenario matrix on `fixed` makes no allocator
//! call in any callback; every site switched on alone is caught by at
//! least one default scenario, with every callback's counts equal to its
//! formula; the JUnit file is well-formed and names failures; each
//! scenario does what its name promises.

use std::path::PathBuf;

use allocgate_engine::sites::{Site, SiteSet};
use allocgate_engine::variant::Variant;
use allocgate_tool::drive::sim::{Action, FrameSequence};
use allocgate_tool::gate::expect::measured;
use allocgate_tool::gate::{GateConfig, junit, run_matrix, run_scenario};
use allocgate_tool::scenario::{self, Scenario};

fn defaults() -> Vec<Scenario> {
    scenario::defaults().expect("the default scenarios are valid")
}

fn by_name(all: &[Scenario], name: &str) -> Scenario {
    all.iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no default scenario '{name}'"))
        .clone()
}

fn sites_only(site: Site, integrity: bool) -> GateConfig {
    GateConfig {
        variant: Variant::Fixed,
        sites: SiteSet::only(site),
        integrity,
        trace_sites: false,
        rusage: allocgate::hazard::RUSAGE_SUPPORTED,
        c_level: false,
    }
}

#[test]
fn the_default_matrix_on_fixed_makes_no_allocator_call_in_any_callback() {
    let all = defaults();
    let outcome = run_matrix(&all, &GateConfig::default(), &mut |_| {}).unwrap();
    assert_eq!(outcome.results.len(), all.len());
    for r in &outcome.results {
        assert!(r.callbacks.0 > 0 && r.callbacks.1 > 0, "{}: ran", r.name);
        assert!(r.allocation_free(), "{}: {:?}", r.name, r.failures());
        assert_eq!(r.counts.calls(), 0, "{}", r.name);
        assert!(r.expected.is_zero(), "{}", r.name);
        assert_eq!(r.mismatch, None, "{}", r.name);
        assert!(!r.integrity.failed(), "{}: {}", r.name, r.integrity);
        assert!(r.passed(), "{}", r.name);
    }
    assert!(outcome.passed());
    let table = allocgate_tool::gate::render_table(&outcome);
    assert!(table.contains("gate passed"), "{table}");
}

#[test]
fn each_site_alone_is_caught_by_a_default_scenario_with_its_exact_counts() {
    let all = defaults();
    for site in Site::ALL {
        let gate = sites_only(site, false);
        let mut caught = None;
        for s in &all {
            let r = run_scenario(s, &gate).unwrap();
            // Every callback equals the formula, caught or not.
            assert_eq!(r.mismatch, None, "{site} in {}", s.name);
            assert_eq!(measured(&r.counts), r.expected, "{site} in {}", s.name);
            if r.counts.calls() > 0 {
                assert!(!r.passed(), "{site} in {}: the gate fails it", s.name);
                assert!(r.first_offender.is_some());
                caught = Some(s.name.clone());
                break;
            }
        }
        if !site.calls_allocator() {
            // A lock, a sleep, fresh pages: blocking hazards with no heap
            // traffic, which no allocation gate can see (harness/tool/
            // hazards.rs shows the hazard gate catching each).
            assert_eq!(caught, None, "{site} never allocates");
        } else {
            assert!(caught.is_some(), "{site}: no default scenario catches it");
        }
    }
}

#[test]
fn the_rare_paths_are_caught_where_the_scenarios_promise() {
    let all = defaults();
    let cases = [
        (Site::UnderrunLog, "drift-fast-underrun"),
        (Site::DropOnAudioThread, "preset-switch"),
        (Site::GrowOnFrames, "varying-coreaudio"),
        (Site::FirstCallback, "stereo"),
        (Site::DebugPrint, "preset-switch"),
    ];
    for (site, name) in cases {
        let r = run_scenario(&by_name(&all, name), &sites_only(site, false)).unwrap();
        assert_eq!(r.mismatch, None, "{site} in {name}");
        assert!(r.counts.calls() > 0, "{site} in {name}");
    }
    // Growth reallocates only when the frame count rises past every
    // earlier one: with CoreAudio's 471/512/553 and then 1024, at least
    // once (the formula gives the exact number, checked above).
    let r = run_scenario(
        &by_name(&all, "varying-coreaudio"),
        &sites_only(Site::GrowOnFrames, false),
    )
    .unwrap();
    assert_eq!(r.counts.allocations, 1);
    assert!(r.counts.reallocations >= 1);
    // The old set is freed on the audio thread at each of the 2 switches.
    let r = run_scenario(
        &by_name(&all, "preset-switch"),
        &sites_only(Site::DropOnAudioThread, false),
    )
    .unwrap();
    assert_eq!(r.callbacks_touching, 2);
}

#[test]
fn each_scenario_does_what_its_name_promises() {
    let all = defaults();
    let s = |n: &str| by_name(&all, n).config;
    let fixed = |n: &str| s(n).devices.input.frames;
    assert_eq!(fixed("steady-7.1-48k-512"), FrameSequence::Fixed(512));
    assert_eq!(
        (
            s("steady-7.1-48k-512").engine.channels,
            s("steady-7.1-48k-512").engine.sample_rate
        ),
        (8, 48_000)
    );
    assert_eq!(fixed("small-128"), FrameSequence::Fixed(128));
    assert_eq!(fixed("small-256"), FrameSequence::Fixed(256));
    assert_eq!(s("rate-96k").engine.sample_rate, 96_000);
    assert_eq!(s("rate-192k").engine.sample_rate, 192_000);
    assert_eq!(s("stereo").engine.channels, 2);
    assert_eq!(s("7.1.4-12ch").engine.channels, 12);
    assert!(matches!(
        fixed("varying-coreaudio"),
        FrameSequence::Seeded { ref choices, .. } if choices == &[471, 512, 553]
    ));
    let has = |n: &str, f: &dyn Fn(&Action) -> bool| s(n).schedule.iter().any(|e| f(&e.action));
    assert!(has("preset-switch", &|a| matches!(
        a,
        Action::SwitchPreset(_)
    )));
    assert!(has("device-restart", &|a| matches!(a, Action::Restart)));
    assert!(has("convolution-toggle", &|a| matches!(
        a,
        Action::SetConvolution(false)
    )));
    assert!(has("convolution-toggle", &|a| matches!(
        a,
        Action::SetConvolution(true)
    )));
    assert!(has("varying-coreaudio", &|a| matches!(
        a,
        Action::SetFrames { .. }
    )));
    // The drift scenarios really under- and overrun.
    let gate = GateConfig {
        integrity: false,
        ..GateConfig::default()
    };
    let fast = run_scenario(&by_name(&all, "drift-fast-underrun"), &gate).unwrap();
    assert!(s("drift-fast-underrun").devices.drift.as_ppb() > 0);
    assert!(fast.xruns.underruns >= 5, "{:?}", fast.xruns);
    let slow = run_scenario(&by_name(&all, "drift-slow-overrun"), &gate).unwrap();
    assert!(s("drift-slow-overrun").devices.drift.as_ppb() < 0);
    assert!(slow.xruns.overruns > 0, "{:?}", slow.xruns);
    assert!(slow.xruns.bytes_dropped > 0);
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("allocgate-gate-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A minimal XML well-formedness check: one root, every tag closed in
/// order, attributes quoted, no raw `<` or stray `&` in text or values.
fn well_formed(xml: &str) -> Result<(), String> {
    let body = xml
        .strip_prefix(r#"<?xml version="1.0" encoding="UTF-8"?>"#)
        .ok_or("no XML declaration")?;
    let entity_ok = |t: &str| {
        t.split('&').skip(1).all(|rest| {
            ["amp;", "lt;", "gt;", "quot;", "apos;"]
                .iter()
                .any(|e| rest.starts_with(e))
        })
    };
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        if !entity_ok(text) || text.contains('>') {
            return Err(format!("bad text: {text:?}"));
        }
        if stack.is_empty() && !text.trim().is_empty() {
            return Err("text outside the root".into());
        }
        let close = rest[open..].find('>').ok_or("unclosed tag")? + open;
        let tag = &rest[open + 1..close];
        if tag.contains('<') || !entity_ok(tag) || tag.matches('"').count() % 2 != 0 {
            return Err(format!("bad tag: {tag:?}"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            if stack.pop().as_deref() != Some(name) {
                return Err(format!("</{name}> closes the wrong element"));
            }
        } else {
            let name = tag
                .split_whitespace()
                .next()
                .unwrap_or("")
                .trim_end_matches('/');
            if stack.is_empty() {
                roots += 1;
            }
            if !tag.ends_with('/') {
                stack.push(name.to_owned());
            }
        }
        rest = &rest[close + 1..];
    }
    if !rest.trim().is_empty() || !stack.is_empty() || roots != 1 {
        return Err(format!("unbalanced: open {stack:?}, {roots} roots"));
    }
    Ok(())
}

#[test]
fn the_junit_file_is_well_formed_and_names_each_failure() {
    let all = defaults();
    let picked: Vec<Scenario> = ["stereo", "preset-switch"]
        .iter()
        .map(|n| by_name(&all, n))
        .collect();
    // drop-on-audio-thread: only preset-switch fails.
    let outcome = run_matrix(
        &picked,
        &sites_only(Site::DropOnAudioThread, true),
        &mut |_| {},
    )
    .unwrap();
    assert!(!outcome.passed());
    let dir = temp_dir("junit");
    let path = dir.join("sub/gate.xml");
    junit::write(&path, &outcome).unwrap();
    let xml = std::fs::read_to_string(&path).unwrap();
    well_formed(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert!(xml.contains(r#"tests="2" failures="1""#), "{xml}");
    assert!(xml.contains(r#"name="stereo" time="#) && !xml.contains("stereo\" time=\"0.000\">"));
    let failure = xml
        .split("name=\"preset-switch\"")
        .nth(1)
        .expect("preset-switch case");
    assert!(failure.contains("<failure message=\""), "{xml}");
    assert!(failure.contains("first: output callback #"), "{xml}");
    assert!(failure.contains("0 allocations"), "{xml}");
    // The checker itself can fail.
    assert!(well_formed("<?xml version=\"1.0\" encoding=\"UTF-8\"?><a><b></a></b>").is_err());
    assert!(well_formed("<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>x < y</a>").is_err());
    assert_eq!(
        junit::escape("<a & \"b\" 'c'>\u{1}"),
        "&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;"
    );
    // Written atomically: nothing else left in the directory.
    let names: Vec<_> = std::fs::read_dir(dir.join("sub"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn scenario_files_with_unknown_keys_or_bad_values_are_refused_naming_file_and_key() {
    let dir = temp_dir("toml");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"x\"\ndescription = \"d\"\nchannels = 8\nrate = 48000\nframes = 512\nseconds = 1.0\nbuffer = 3\n",
    )
    .unwrap();
    let e = scenario::load_file(&bad).unwrap_err().to_string();
    assert!(
        e.contains("bad.toml") && e.contains("unknown field `buffer`"),
        "{e}"
    );
    assert!(!e.contains('\n'));
    std::fs::write(
        &bad,
        "name = \"x\"\ndescription = \"d\"\nchannels = 8\nrate = 48000\nframes = 9000\nseconds = 1.0\n",
    )
    .unwrap();
    let e = scenario::load_file(&bad).unwrap_err().to_string();
    assert!(
        e.contains("bad.toml") && e.contains("`frames`: 9000 frames"),
        "{e}"
    );
    // The gate refuses the directory, before running anything.
    let args = allocgate_tool::cli::GateArgs {
        variant: "fixed".into(),
        sites: vec![],
        scenarios: Some(dir.clone()),
        junit: None,
        no_integrity: false,
        baseline: None,
        update_baseline: false,
        no_rusage: false,
        c_level: false,
    };
    let e = args.validate().unwrap_err().to_string();
    assert!(e.contains("`frames`"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_baseline_ratchet_fails_a_new_site_or_a_higher_count_and_passes_a_lower_one() {
    use allocgate_engine::sites::CallbackKind;
    use allocgate_tool::baseline::{Baseline, Change, SiteKey};
    let all = defaults();
    let scenario = by_name(&all, "drift-fast-underrun");
    let traced = |sites: SiteSet| GateConfig {
        variant: Variant::Fixed,
        sites,
        integrity: false,
        trace_sites: true,
        rusage: allocgate::hazard::RUSAGE_SUPPORTED,
        c_level: false,
    };
    let run =
        |sites| run_matrix(std::slice::from_ref(&scenario), &traced(sites), &mut |_| {}).unwrap();
    let logged = run(SiteSet::only(Site::UnderrunLog));
    let underruns = logged.results[0].xruns.underruns;
    assert!(underruns > 0);
    // One formatted line per underrun, under the site's own function.
    let key = SiteKey {
        scenario: "drift-fast-underrun".to_owned(),
        kind: CallbackKind::Output.name().to_owned(),
        function: Site::UnderrunLog.function().to_owned(),
    };
    let base = logged.site_counts();
    assert_eq!(
        base.counts().get(&key),
        Some(&underruns),
        "{:?}",
        base.counts()
    );
    assert_eq!(base.counts().len(), 1);
    // The same run: unchanged.
    let same = base.compare(&run(SiteSet::only(Site::UnderrunLog)).site_counts());
    assert!(same.passed() && !same.improved() && same.unchanged == 1);
    // A new site fails.
    let more = run(SiteSet::only(Site::UnderrunLog).with(Site::FirstCallback)).site_counts();
    let r = base.compare(&more);
    assert!(!r.passed());
    assert!(
        r.changes
            .iter()
            .all(|(k, c)| matches!(c, Change::New { .. }) && *k != key)
    );
    // A baseline one lower than the run: the run's count is higher, fails.
    let tighter = Baseline::from_counts([(key.clone(), underruns - 1)]);
    assert!(!tighter.compare(&base).passed());
    // A baseline one higher: the run is lower, passes, asks for an update.
    let looser = Baseline::from_counts([(key.clone(), underruns + 1)]);
    let r = looser.compare(&base);
    assert!(r.passed() && r.improved());
    assert!(r.render().contains("--update-baseline"));
    // Fixed: every site of the baseline is gone, which passes.
    let gone = base.compare(&run(SiteSet::EMPTY).site_counts());
    assert!(gone.passed() && gone.improved());
}
