//! Tests against the real HAL (macOS only). The BlackHole ones need the
//! virtual loopback device (`brew install blackhole-2ch`); without it they
//! pass with a note, unless `ALLOCGATE_REQUIRE_BLACKHOLE` is set (as CI
//! does), when they fail.
//!
//! Lib unit tests have no counting global allocator, so these run with
//! `Callbacks::count` off: they check that the units run the engine, not
//! what it allocates.

use std::time::Duration;

use super::*;
use crate::drive::backend::DeviceInfo;
use allocgate_engine::{Engine, EngineConfig};

const BLACKHOLE: &str = "BlackHole 2ch";

fn blackhole(devices: &[DeviceInfo]) -> Option<DeviceInfo> {
    let found = devices.iter().find(|d| d.name == BLACKHOLE).cloned();
    if found.is_none() {
        assert!(
            std::env::var_os("ALLOCGATE_REQUIRE_BLACKHOLE").is_none(),
            "'{BLACKHOLE}' is not installed; devices: {devices:?}"
        );
        eprintln!("note: '{BLACKHOLE}' is not installed; skipping");
    }
    found
}

#[test]
fn the_host_lists_devices_with_uids_names_and_rates() {
    available().unwrap();
    let devices = host().unwrap().devices().unwrap();
    for d in &devices {
        assert!(!d.id.is_empty(), "{d:?}");
        assert!(!d.sample_rates.is_empty(), "{d:?}");
    }
}

#[test]
fn blackhole_is_found_by_name_with_two_channels_each_way() {
    let devices = host().unwrap().devices().unwrap();
    let Some(d) = blackhole(&devices) else { return };
    assert_eq!((d.input_channels, d.output_channels), (2, 2));
    let p = prepare(&CoreAudioOptions {
        input: Some("blackhole 2ch".into()),
        output: Some(d.id.clone()),
        frames: 0,
    })
    .unwrap();
    assert_eq!(p.input.id, d.id);
    assert_eq!(p.plan.input_channels, 2);
}

#[test]
fn the_fixed_engine_runs_two_seconds_on_blackhole() {
    let devices = host().unwrap().devices().unwrap();
    if blackhole(&devices).is_none() {
        return;
    }
    let prepared = prepare(&CoreAudioOptions {
        input: Some(BLACKHOLE.into()),
        output: Some(BLACKHOLE.into()),
        frames: 512,
    })
    .unwrap();
    let config = EngineConfig::new(prepared.plan.input_channels as usize, prepared.sample_rate)
        .with_convolution(false);
    let engine = Engine::new(&config).unwrap();
    let callbacks = Callbacks {
        input: engine.input,
        output: engine.output,
        count: false,
        rusage: false,
    };
    let mut started = start(&prepared, callbacks).unwrap();
    let mut seen = [0u64; 2];
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(100));
        for (n, queue) in seen.iter_mut().zip(started.measurements.iter_mut()) {
            while queue.pop().is_some() {
                *n += 1;
            }
        }
    }
    assert_eq!(started.stream.failure(), None);
    let info = started.stream.info();
    assert_eq!(info.backend, "coreaudio");
    assert_eq!(info.sample_rate, prepared.sample_rate);
    let stopped = started.stream.stop().unwrap();
    assert_eq!(stopped.outside_callbacks, Default::default(), "not counted");
    // 2 s at 512 frames is about 2 × fs / 512 callbacks a side; allow for
    // start-up and a slow runner.
    let expected = 2 * u64::from(prepared.sample_rate) / 512;
    for (side, n) in ["input", "output"].iter().zip(seen) {
        assert!(
            n >= expected / 2,
            "{side}: {n} callbacks; expected about {expected}"
        );
    }
}
