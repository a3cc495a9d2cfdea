use std::time::Duration;

use super::*;
use crate::metrics::{Rates, Xruns};
use allocgate::Counts;

/// A steady-state callback of `kind` that took `wall_ns` of a 1 ms
/// period and made `allocations` allocations of 48 bytes.
fn rec(kind: CallbackKind, wall_ns: u64, allocations: u64) -> Record {
    Record::new(kind)
        .with_frames(48, 1_000_000)
        .with_wall_ns(wall_ns)
        .with_counts(Counts {
            allocations,
            bytes_allocated: 48 * allocations,
            ..Counts::new()
        })
}

fn run(records: &[Record], duration: Duration) -> Aggregates {
    let mut agg = Aggregator::new();
    for r in records {
        agg.record(r);
    }
    assert_eq!(agg.callbacks(), records.len() as u64);
    agg.finish(duration)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn three_callbacks_give_hand_computed_percentiles_load_and_deadline_misses() {
    // Periods of 250 ns: loads 0.4, 0.8 and 1.2; the last misses.
    let records: Vec<Record> = [100, 200, 300]
        .into_iter()
        .map(|ns| Record {
            period_ns: 250,
            ..rec(CallbackKind::Output, ns, 0)
        })
        .collect();
    let a = run(&records, Duration::from_micros(1));
    let out = &a.all.output;
    let s = out.latency.summary();
    // Nearest rank: p50 is the 2nd of 3 (ceil 1.5), p90 and above the 3rd.
    assert_eq!(
        (
            s.count, s.min_ns, s.p50_ns, s.p90_ns, s.p99_ns, s.p999_ns, s.max_ns
        ),
        (3, 100, 200, 300, 300, 300, 300)
    );
    assert_eq!(s.mean_ns, 200.0);
    assert!(close(out.load.mean(), (0.4 + 0.8 + 1.2) / 3.0));
    assert!(close(out.load.max(), 1.2));
    assert_eq!(out.deadline_misses, 1);
    // 600 ns of callbacks in 1 µs of simulated time.
    assert!(close(out.time_share(a.duration), 0.6));
    assert_eq!(a.all.input.totals.callbacks, 0);
}

#[test]
fn rates_are_totals_over_the_simulated_duration() {
    let mut records = Vec::new();
    for _ in 0..10 {
        let mut r = rec(CallbackKind::Input, 10, 3);
        r.counts.deallocations = 2;
        records.push(r);
    }
    for _ in 0..5 {
        let mut r = rec(CallbackKind::Output, 10, 0);
        r.counts.reallocations = 1;
        records.push(r);
    }
    let a = run(&records, Duration::from_secs(2));
    let t = a.all.totals();
    assert_eq!(t.callbacks, 15);
    assert_eq!(t.touched_allocator, 15);
    assert_eq!(
        (
            t.counts.allocations,
            t.counts.deallocations,
            t.counts.reallocations
        ),
        (30, 20, 5)
    );
    assert_eq!(t.counts.bytes_allocated, 30 * 48);
    let r = a.rates();
    assert_eq!(r.callbacks_per_second, 15.0 / 2.0);
    assert_eq!(r.allocations_per_second, 30.0 / 2.0);
    assert_eq!(r.deallocations_per_second, 20.0 / 2.0);
    assert_eq!(r.reallocations_per_second, 5.0 / 2.0);
    assert_eq!(r.allocator_calls_per_second, 55.0 / 2.0);
    assert_eq!(r.bytes_per_second, 30.0 * 48.0 / 2.0);
    assert_eq!(a.rates_of(CallbackKind::Input).allocations_per_second, 15.0);
    assert_eq!(a.rates_of(CallbackKind::Output).allocations_per_second, 0.0);
}

#[test]
fn warm_up_and_steady_state_are_apart_and_the_whole_run_includes_both() {
    let mut records = Vec::new();
    for ns in [5_000, 7_000] {
        records.push(Record {
            warm_up: true,
            ..rec(CallbackKind::Output, ns, 4)
        });
    }
    for ns in [100, 200, 300] {
        records.push(rec(CallbackKind::Output, ns, 0));
    }
    let a = run(&records, Duration::from_secs(1));
    let (warm, steady, all) = (&a.warm_up.output, &a.steady_state.output, &a.all.output);
    assert_eq!(warm.totals.callbacks, 2);
    assert_eq!(warm.totals.counts.allocations, 8);
    assert_eq!(warm.latency.summary().max_ns, 7_000);
    assert_eq!(steady.totals.callbacks, 3);
    assert_eq!(steady.totals.counts.allocations, 0);
    assert_eq!(steady.latency.summary().max_ns, 300);
    assert_eq!(all.totals.callbacks, 5);
    assert_eq!(all.totals.counts.allocations, 8);
    assert_eq!(all.totals.wall_ns, 12_600);
    let s = all.latency.summary();
    assert_eq!((s.count, s.min_ns, s.max_ns), (5, 100, 7_000));
    assert_eq!(
        a.warm_up.totals().callbacks + a.steady_state.totals().callbacks,
        5
    );
}

#[test]
fn latency_is_split_by_whether_the_callback_touched_the_allocator() {
    let mut records = vec![
        rec(CallbackKind::Input, 1_000, 1),
        rec(CallbackKind::Input, 1_000, 0),
    ];
    // A callback that only frees still touched the allocator.
    records[1].counts.deallocations = 1;
    for _ in 0..3 {
        records.push(rec(CallbackKind::Input, 100, 0));
    }
    let a = run(&records, Duration::from_secs(1));
    let input = &a.all.input;
    assert_eq!(input.totals.touched_allocator, 2);
    let allocated = input.latency_allocated.summary();
    let not_allocated = input.latency_not_allocated.summary();
    assert_eq!((allocated.count, allocated.p50_ns), (2, 1_000));
    assert_eq!((not_allocated.count, not_allocated.p50_ns), (3, 100));
    let all = input.latency.summary();
    // 5 callbacks: the 3rd (ceil 2.5) is the last of the 100 ns ones.
    assert_eq!((all.count, all.p50_ns, all.p90_ns), (5, 100, 1_000));
    assert_eq!(all.mean_ns, 2_300.0 / 5.0);
}

#[test]
fn xruns_count_events_bytes_and_unrendered_frames() {
    let mut records = Vec::new();
    for (dropped, partial) in [(0, false), (12, true), (8, false)] {
        records.push(Record {
            bytes_dropped: dropped,
            partial_frame: partial,
            ..rec(CallbackKind::Input, 10, 0)
        });
    }
    for (underrun, buffering, unrendered) in
        [(true, true, 10), (true, false, 20), (false, false, 0)]
    {
        records.push(Record {
            underrun,
            buffering,
            frames_unrendered: unrendered,
            ..rec(CallbackKind::Output, 10, 0)
        });
    }
    let a = run(&records, Duration::from_secs(1));
    let x = a.all.xruns();
    assert_eq!(
        x,
        Xruns {
            underruns: 2,
            buffering_callbacks: 1,
            overruns: 2,
            bytes_dropped: 20,
            partial_frames: 1,
            frames_unrendered: 30,
        }
    );
    assert_eq!(x.total(), 4);
    assert_eq!(a.all.input.xruns.underruns, 0);
    assert_eq!(a.all.output.xruns.overruns, 0);
}

#[test]
fn allocations_per_callback_are_counted_exactly() {
    let records: Vec<Record> = [0, 0, 2, 2, 2, 5]
        .into_iter()
        .map(|n| rec(CallbackKind::Output, 10, n))
        .collect();
    let a = run(&records, Duration::from_secs(1));
    let rows: Vec<(u64, u64)> = a
        .all
        .output
        .allocations_per_callback
        .iter()
        .map(|b| (b.allocations, b.callbacks))
        .collect();
    assert_eq!(rows, vec![(0, 2), (2, 3), (5, 1)]);
}

#[test]
fn an_empty_run_finishes_to_zeros_without_dividing_by_zero() {
    let a = Aggregator::new().finish(Duration::ZERO);
    assert_eq!(a.all.totals().callbacks, 0);
    assert_eq!(a.rates(), Rates::default());
    assert_eq!(a.all.output.load.mean(), 0.0);
    assert_eq!(a.all.output.time_share(a.duration), 0.0);
    assert_eq!(a.all.output.latency.summary().count, 0);
}

#[test]
fn sizes_handed_over_are_kept_per_kind() {
    let mut agg = Aggregator::new();
    agg.add_sizes(CallbackKind::Input, &Stats::new());
    let a = agg.finish(Duration::from_secs(1));
    assert!(a.sizes.input.is_allocation_free());
    assert_eq!(a.sizes_total().requested().total(), 0);
}
