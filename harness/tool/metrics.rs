//! The aggregator under the counting allocator: recording allocates
//! nothing once it is built, whatever the records hold, and the size
//! classes it is handed are those the allocator measured, down to the
//! report's rows.

use std::time::Duration;

use allocgate::{Counts, measure};
use allocgate_engine::sites::CallbackKind;
use allocgate_tool::metrics::Record;
use allocgate_tool::metrics::{Aggregator, LATENCY_MAX_NS, PER_CALLBACK_EXACT, TIMELINE_BINS};
use allocgate_tool::report::{
    Environment, Integrity, MacosRegion, MacosRow, Report, ReportConfig, RequestedRow,
};

/// Record `i` of a varied stream: both kinds, warm-up and steady state,
/// with and without allocator calls, xruns, durations past the
/// histogram's range and allocation counts past the exact buckets.
fn varied(i: u64) -> Record {
    let kind = if i.is_multiple_of(2) {
        CallbackKind::Input
    } else {
        CallbackKind::Output
    };
    let allocations = match i % 7 {
        0 => 0,
        1 => 3,
        2 => PER_CALLBACK_EXACT as u64 + i,
        _ => i % 5,
    };
    let wall_ns = match i % 11 {
        0 => 2 * LATENCY_MAX_NS,
        1 => 0,
        _ => 1_000 + i * 37,
    };
    let period_ns = if i.is_multiple_of(13) { 0 } else { 10_666_667 };
    Record {
        underrun: i.is_multiple_of(17),
        buffering: i.is_multiple_of(19),
        bytes_dropped: if i.is_multiple_of(23) { 64 } else { 0 },
        partial_frame: i.is_multiple_of(29),
        frames_unrendered: (i % 4) as u32,
        ..Record::new(kind)
            .with_index(i / 2)
            .with_device_time(i * 512)
            .with_frames(512, period_ns)
            .with_wall_ns(wall_ns)
            .with_counts(Counts {
                allocations,
                deallocations: i % 3,
                bytes_allocated: allocations * 48,
                ..Counts::new()
            })
            .with_hazards(allocgate::hazard::Hazards {
                lock_acquisitions: (i % 2) as u32,
                voluntary_switches: u32::from(i.is_multiple_of(5)),
                minor_faults: (i % 7) as u32,
                usage_sampled: i.is_multiple_of(3),
                ..allocgate::hazard::Hazards::NONE
            })
            .with_warm_up(i < 100)
    }
}

#[test]
fn recording_ten_thousand_records_allocates_nothing() {
    let records: Vec<Record> = (0..10_000).map(varied).collect();
    let mut agg = Aggregator::new();
    let sizes = measure(|| vec![0u8; 36]).stats;
    let m = measure(|| {
        for r in &records {
            agg.record(r);
        }
        agg.add_sizes(CallbackKind::Output, &sizes);
    });
    assert!(
        m.stats.is_allocation_free(),
        "recording allocated: {}",
        m.stats
    );
    let a = agg.finish(Duration::from_secs(100));
    assert_eq!(a.all.totals().callbacks, 10_000);
    assert_eq!(a.warm_up.totals().callbacks, 100);
}

#[test]
fn recording_across_timeline_doublings_allocates_nothing_and_loses_no_call() {
    // 480-frame callbacks at 48 kHz, one every 36th period (0.36 s), over
    // an hour of device time: 256 bins of 10 ms × 2^10 end at 2 621 s, so
    // the bins double eleven times, to 20.48 s, and 3 599.64 s is bin 175.
    let records: Vec<Record> = (0..10_000)
        .map(|i| Record {
            device_time: i * 480 * 36,
            frames: 480,
            period_ns: 10_000_000,
            ..varied(i)
        })
        .collect();
    let mut agg = Aggregator::new();
    let m = measure(|| {
        for r in &records {
            agg.record(r);
        }
    });
    assert!(
        m.stats.is_allocation_free(),
        "recording allocated: {}",
        m.stats
    );
    let a = agg.finish(Duration::from_secs(3_600));
    let t = &a.timeline;
    assert_eq!(t.width_ns(), 10_000_000 << 11);
    assert_eq!(t.bins().len(), 176);
    assert!(t.bins().len() <= TIMELINE_BINS);
    let (callbacks, allocations) = t.bins().iter().fold((0, 0), |(c, n), b| {
        (
            c + b.input.callbacks + b.output.callbacks,
            n + b.input.allocations + b.output.allocations,
        )
    });
    assert_eq!(callbacks, 10_000);
    assert_eq!(allocations, a.all.totals().counts.allocations);
}

#[test]
fn size_classes_are_those_the_allocator_measured() {
    let mut agg = Aggregator::new();
    let m = measure(|| (vec![0u8; 36], vec![0u8; 40], vec![0u64; 100]));
    agg.add_sizes(CallbackKind::Input, &m.stats);
    let a = agg.finish(Duration::from_secs(1));
    let macos: Vec<_> = a.sizes.input.macos_classes().iter().collect();
    // 36 and 40 bytes land in the 48-byte class, 800 bytes in its own.
    assert_eq!(macos.iter().map(|(_, n)| n).sum::<u64>(), 3);
    assert_eq!(a.sizes.input.macos_classes().count_like(36), 2);
    assert_eq!(a.sizes.input.requested().count_like(64), 2);
    assert_eq!(a.sizes.output.requested().total(), 0);
}

#[test]
fn measured_size_classes_reach_the_report_as_rows() {
    let mut agg = Aggregator::new();
    let input = measure(|| vec![0u8; 36]).stats;
    let output = measure(|| (vec![0u8; 40], vec![0u8; 40_000])).stats;
    agg.add_sizes(CallbackKind::Input, &input);
    agg.add_sizes(CallbackKind::Output, &output);
    let config = ReportConfig {
        variant: "fixed".to_owned(),
        sites: Vec::new(),
        sample_rate: 48_000,
        frames: 512,
        channels: 8,
        seconds: 1.0,
        seed: 0,
        backend: "sim".to_owned(),
        mode: "virtual".to_owned(),
        convolution: false,
        preset: None,
        warm_up_callbacks: 0,
        scenario: None,
        trace_sites: false,
        rusage: false,
        c_level: false,
    };
    let report = Report::from_aggregates(
        config,
        Environment::detect(),
        &agg.finish(Duration::from_secs(1)),
        Integrity::pass(),
    );
    let s = &report.size_classes;
    // 36 and 40 bytes: the 33-64 range and the 48-byte tiny class;
    // 40 000 bytes: the 32 769-65 536 range and the large bucket.
    assert_eq!(
        s.requested,
        [
            RequestedRow {
                requested_bytes: Some(64),
                min_bytes: 33,
                count: 2
            },
            RequestedRow {
                requested_bytes: Some(65_536),
                min_bytes: 32_769,
                count: 1
            },
        ]
    );
    assert_eq!(
        s.macos,
        [
            MacosRow {
                class_bytes: Some(48),
                class: MacosRegion::Tiny,
                count: 2
            },
            MacosRow {
                class_bytes: None,
                class: MacosRegion::Large,
                count: 1
            },
        ]
    );
    assert_eq!(s.input.macos.len(), 1);
    assert_eq!(s.output.requested.len(), 2);
}
