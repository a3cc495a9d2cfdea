use std::path::Path;

use super::*;
use crate::drive::sim::{Action, FrameSequence};

const BASE: &str =
    "name = \"t\"\ndescription = \"d\"\nchannels = 8\nrate = 48000\nframes = 512\nseconds = 1.0\n";

fn refused(text: &str) -> String {
    let e = parse(text, "t.toml", Path::new(".")).expect_err("must be refused");
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "one line: {msg}");
    assert!(msg.starts_with("t.toml: "), "names the file: {msg}");
    msg
}

#[test]
fn the_minimal_file_is_kemar_with_convolution_and_seed_1() {
    let s = parse(BASE, "t.toml", Path::new(".")).unwrap();
    assert_eq!(s.name, "t");
    assert_eq!(s.preset_name, "kemar");
    assert_eq!(s.config.seed, 1);
    assert!(s.config.engine.convolution);
    assert_eq!(s.config.devices.output.frames, FrameSequence::Fixed(512));
    assert!(s.config.schedule.is_empty());
}

#[test]
fn unknown_keys_are_refused_with_the_key_named() {
    let msg = refused(&format!("{BASE}colour = 3\n"));
    assert!(msg.contains("unknown field `colour`"), "{msg}");
    let msg = refused(&format!(
        "{BASE}[[events]]\nat_ms = 10\naction = \"restart\"\nwhen = 4\n"
    ));
    assert!(msg.contains("unknown field `when`"), "{msg}");
    let msg = refused("name = \"t\"\n");
    assert!(msg.contains("missing field `description`"), "{msg}");
}

#[test]
fn bad_values_are_refused_with_the_key_and_the_range() {
    let with = |k: &str, v: &str| {
        let text: String = BASE
            .lines()
            .filter(|l| !l.starts_with(&format!("{k} =")))
            .map(|l| format!("{l}\n"))
            .collect();
        refused(&format!("{text}{k} = {v}\n"))
    };
    let cases = [
        (
            "rate",
            "1000",
            "`rate`: 1000 Hz; expected 8000 to 768000 Hz",
        ),
        ("rate", "-5", "key `rate`"),
        ("rate", "\"fast\"", "key `rate`"),
        (
            "channels",
            "17",
            "`channels`: 17 channels; expected 1 to 16",
        ),
        ("frames", "0", "`frames`: 0 frames; expected 1 to 4096"),
        ("frames", "[]", "`frames`: an empty list"),
        ("frames", "\"jack\"", "`frames`: \"jack\""),
        ("seconds", "0.0", "`seconds`: 0; expected more than 0"),
        (
            "seconds",
            "1e-300",
            "`seconds`: a run of 0 ns is shorter than one callback of each device; \
             expected at least 0.010667 s (512 frames of the input device at 48000 Hz)",
        ),
        (
            "seconds",
            "0.01",
            "`seconds`: a run of 0.01 s is shorter than one callback",
        ),
        ("drift_ppm", "200000.0", "`drift_ppm`: 200000 ppm"),
        ("output_rate", "900000", "`output_rate`: 900000 Hz"),
        ("preset", "\"synthetic:x\"", "`preset`: 'synthetic:x'"),
        ("preset", "\"/nonexistent.wav\"", "`preset`:"),
        ("name", "\"a b\"", "`name`: 'a b'"),
    ];
    for (key, value, want) in cases {
        let msg = with(key, value);
        assert!(msg.contains(want), "{key} = {value}: {msg}");
    }
}

#[test]
fn events_are_checked_against_their_action() {
    let ev = |body: &str| refused(&format!("{BASE}[[events]]\n{body}"));
    let msg = ev("at_ms = 1000\naction = \"restart\"\n");
    assert!(
        msg.contains("`events[0].at_ms`: 1000 ms is at or past the end"),
        "{msg}"
    );
    let msg = ev("at_ms = 5\naction = \"explode\"\n");
    assert!(
        msg.contains("`events[0].action`: unknown action 'explode'"),
        "{msg}"
    );
    let msg = ev("at_ms = 5\naction = \"switch-preset\"\n");
    assert!(msg.contains("`events[0].preset`: missing"), "{msg}");
    let msg = ev("at_ms = 5\naction = \"restart\"\npreset = \"kemar\"\n");
    assert!(
        msg.contains("`events[0].preset`: not used by action 'restart'"),
        "{msg}"
    );
    let msg = ev("at_ms = 5\naction = \"set-frames\"\noutput = 5000\n");
    assert!(msg.contains("`events[0].output`: 5000 frames"), "{msg}");
    let msg = ev("at_ms = 5\naction = \"set-frames\"\n");
    assert!(
        msg.contains("set-frames needs input, output or both"),
        "{msg}"
    );
}

#[test]
fn events_become_the_schedule() {
    let text = format!(
        "{BASE}[[events]]\nat_ms = 100\naction = \"set-frames\"\ninput = [256, 512]\n\
         [[events]]\nat_ms = 200\naction = \"convolution-off\"\n\
         [[events]]\nat_ms = 300\naction = \"switch-preset\"\npreset = \"synthetic:3\"\n"
    );
    let s = parse(&text, "t.toml", Path::new(".")).unwrap();
    let actions: Vec<&Action> = s.config.schedule.iter().map(|e| &e.action).collect();
    assert_eq!(
        actions[0],
        &Action::SetFrames {
            input: Some(FrameSequence::Cycle(vec![256, 512])),
            output: None
        }
    );
    assert_eq!(actions[1], &Action::SetConvolution(false));
    assert!(matches!(actions[2], Action::SwitchPreset(p) if p.name() == "synthetic:3"));
}

#[test]
fn the_default_scenarios_parse_with_unique_names_matching_their_files() {
    let all = defaults().unwrap();
    assert_eq!(all.len(), DEFAULT_SCENARIOS.len());
    for (s, (stem, _)) in all.iter().zip(DEFAULT_SCENARIOS) {
        assert_eq!(s.name, stem);
    }
}

#[test]
fn the_directory_on_disk_holds_exactly_the_embedded_scenarios() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("harness/scenarios");
    let mut on_disk: Vec<String> = load_dir(&dir)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    let mut embedded: Vec<&str> = DEFAULT_SCENARIOS.iter().map(|(n, _)| *n).collect();
    on_disk.sort();
    embedded.sort();
    assert_eq!(on_disk, embedded);
}

#[test]
fn a_preset_named_again_is_the_one_loaded_first() {
    let text = format!(
        "{BASE}preset = \"synthetic:3\"\n\
         [[events]]\nat_ms = 100\naction = \"switch-preset\"\npreset = \"kemar\"\n\
         [[events]]\nat_ms = 200\naction = \"switch-preset\"\npreset = \"synthetic:3\"\n\
         [[events]]\nat_ms = 300\naction = \"switch-preset\"\npreset = \"kemar\"\n"
    );
    let s = parse(&text, "t.toml", Path::new(".")).unwrap();
    let switched: Vec<&std::sync::Arc<allocgate_engine::preset::Preset>> = s
        .config
        .schedule
        .iter()
        .filter_map(|e| match &e.action {
            Action::SwitchPreset(p) => Some(p),
            _ => None,
        })
        .collect();
    let first = s.config.preset.as_ref().unwrap();
    assert!(std::sync::Arc::ptr_eq(first, switched[1]));
    assert!(std::sync::Arc::ptr_eq(switched[0], switched[2]));
    assert!(!std::sync::Arc::ptr_eq(first, switched[0]));
}

#[test]
fn events_and_distinct_presets_are_capped() {
    let events = |n: usize, preset: &dyn Fn(usize) -> String| -> String {
        let mut t = BASE.to_owned();
        for i in 0..n {
            t.push_str(&format!(
                "[[events]]\nat_ms = 1\naction = \"switch-preset\"\npreset = \"{}\"\n",
                preset(i)
            ));
        }
        t
    };
    let kemar = |_: usize| "kemar".to_owned();
    assert!(parse(&events(MAX_EVENTS, &kemar), "t.toml", Path::new(".")).is_ok());
    let msg = refused(&events(MAX_EVENTS + 1, &kemar));
    assert!(
        msg.ends_with("`events`: 10001 events; expected at most 10000"),
        "{msg}"
    );
    // KEMAR (the start) and 15 synthetic sets: 16.
    let seeds = |i: usize| format!("synthetic:{}", i % MAX_PRESETS);
    let last = MAX_PRESETS - 1;
    assert!(parse(&events(last, &|i| seeds(i + 1)), "t.toml", Path::new(".")).is_ok());
    let msg = refused(&events(MAX_PRESETS, &|i| seeds(i + 1)));
    assert!(
        msg.contains(&format!(
            "`events[{last}].preset`: 'synthetic:0' would be preset number 17; expected at most 16"
        )),
        "{msg}"
    );
}
