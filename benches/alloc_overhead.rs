//! What counting costs: one 48-byte alloc + free through the system
//! allocator, through allocgate outside a scope and inside one, and through
//! three peers: `stats_alloc`, `dhat` and `assert_no_alloc`.
//!
//! `cargo bench --bench alloc_overhead`
//!
//! Every sample of every case is followed by a sample of the same length
//! through `System`, so each ratio printed at the end compares two
//! measurements taken side by side, not minutes apart (this 2-core machine
//! drifts by ±10% between runs).
//!
//! Each allocator is called through `GlobalAlloc` on its static from two
//! out-of-line functions, the way Rust's `__rust_alloc`/`__rust_dealloc`
//! shims call the global allocator, so every case pays the same call path
//! and the ratios compare the allocators. allocgate stays the global
//! allocator; the peers are called on statics of their own.
//!
//! The cases:
//! - `allocgate_outside_scope` / `allocgate_inside_scope`: the counting
//!   allocator with no scope open (one mode check, then `System`) and inside
//!   [`allocgate::measure`] (every call counted, checked after the sample).
//! - `stats_alloc`: `StatsAlloc<System>`, a few relaxed atomic additions.
//! - `dhat_profiling`: `dhat::Alloc` while a `dhat::Profiler` (testing mode,
//!   heap profiling) runs, started for this case only. Without a running
//!   profiler `dhat::Alloc` is `System` behind a global lock and records
//!   nothing, which would say nothing about dhat. While it runs, every
//!   allocation takes the lock, captures a backtrace and records the block
//!   in hash tables; dhat's own bookkeeping allocates through the global
//!   allocator (allocgate, outside a scope, here), not through dhat, so no
//!   re-entrancy arises. Each sample checks that dhat's `total_blocks` grew
//!   by the sample's iterations.
//! - `assert_no_alloc_permitted`: `AllocDisabler` outside its
//!   `assert_no_alloc` closure (two thread-local reads, then `System`), as
//!   on any thread that is not being checked.
//! - `assert_no_alloc_forbidden`: the same inside `assert_no_alloc(|| ..)`,
//!   where each call is a violation; built with `warn_release` it counts
//!   the violation (a thread-local increment) instead of aborting. Each
//!   sample checks that the violation count grew by two per iteration.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::time::{Duration, Instant};

use allocgate::CountingAlloc;
use assert_no_alloc::AllocDisabler;
use criterion::Criterion;
use stats_alloc::StatsAlloc;

#[path = "common/side_by_side.rs"]
mod side_by_side;
use side_by_side::record;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::system();
static STATS: StatsAlloc<System> = StatsAlloc::system();
static DHAT: dhat::Alloc = dhat::Alloc;
static DISABLER: AllocDisabler = AllocDisabler;

const LAYOUT: Layout = match Layout::from_size_align(48, 8) {
    Ok(l) => l,
    Err(_) => panic!("48-byte layout"),
};

/// Stands in for the `__rust_alloc`/`__rust_dealloc` pair Rust emits for a
/// `#[global_allocator]` static: out-of-line functions naming the static.
trait Shim {
    fn alloc(layout: Layout) -> *mut u8;
    fn dealloc(p: *mut u8, layout: Layout);
}

macro_rules! shim {
    ($name:ident, $alloc:expr) => {
        struct $name;
        impl Shim for $name {
            #[inline(never)]
            fn alloc(layout: Layout) -> *mut u8 {
                // SAFETY: callers pass a layout of non-zero size.
                unsafe { $alloc.alloc(layout) }
            }
            #[inline(never)]
            fn dealloc(p: *mut u8, layout: Layout) {
                // SAFETY: `p` came from `alloc` above with `layout`.
                unsafe { $alloc.dealloc(p, layout) }
            }
        }
    };
}

shim!(ViaSystem, System);
shim!(ViaAllocgate, GLOBAL);
shim!(ViaStatsAlloc, STATS);
shim!(ViaDhat, DHAT);
shim!(ViaAssertNoAlloc, DISABLER);

fn alloc_free_loop<S: Shim>(iters: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        let p = black_box(S::alloc(LAYOUT));
        S::dealloc(p, LAYOUT);
    }
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("alloc_overhead");
    g.bench_function("system", |b| b.iter_custom(alloc_free_loop::<ViaSystem>));
    g.bench_function("allocgate_outside_scope", |b| {
        b.iter_custom(|iters| {
            let own = alloc_free_loop::<ViaAllocgate>(iters);
            record(
                "allocgate_outside_scope",
                own,
                alloc_free_loop::<ViaSystem>(iters),
                iters,
            );
            own
        })
    });
    g.bench_function("allocgate_inside_scope", |b| {
        b.iter_custom(|iters| {
            let m = allocgate::measure(|| alloc_free_loop::<ViaAllocgate>(iters));
            // The scope really counted every call.
            assert_eq!(m.stats.counts.allocations, iters);
            assert_eq!(m.stats.counts.deallocations, iters);
            record(
                "allocgate_inside_scope",
                m.value,
                alloc_free_loop::<ViaSystem>(iters),
                iters,
            );
            m.value
        })
    });
    g.bench_function("stats_alloc", |b| {
        b.iter_custom(|iters| {
            let own = alloc_free_loop::<ViaStatsAlloc>(iters);
            record(
                "stats_alloc",
                own,
                alloc_free_loop::<ViaSystem>(iters),
                iters,
            );
            own
        })
    });

    // dhat records only while a profiler runs; this one runs for this case
    // alone (testing mode: nothing is written when it stops).
    let profiler = dhat::Profiler::builder().testing().build();
    g.bench_function("dhat_profiling", |b| {
        b.iter_custom(|iters| {
            let before = dhat::HeapStats::get();
            let own = alloc_free_loop::<ViaDhat>(iters);
            let after = dhat::HeapStats::get();
            // dhat really recorded every block, and saw every one freed.
            assert_eq!(after.total_blocks - before.total_blocks, iters);
            assert_eq!(after.total_bytes - before.total_bytes, 48 * iters);
            assert_eq!(after.curr_blocks, before.curr_blocks);
            record(
                "dhat_profiling",
                own,
                alloc_free_loop::<ViaSystem>(iters),
                iters,
            );
            own
        })
    });
    drop(profiler);

    // Not inside `assert_no_alloc`: the checks that pass.
    g.bench_function("assert_no_alloc_permitted", |b| {
        b.iter_custom(|iters| {
            let before = assert_no_alloc::violation_count();
            let own = alloc_free_loop::<ViaAssertNoAlloc>(iters);
            assert_eq!(assert_no_alloc::violation_count(), before);
            record(
                "assert_no_alloc_permitted",
                own,
                alloc_free_loop::<ViaSystem>(iters),
                iters,
            );
            own
        })
    });
    // Inside `assert_no_alloc`: every alloc and every free is a violation,
    // counted (warn_release) rather than aborting.
    g.bench_function("assert_no_alloc_forbidden", |b| {
        b.iter_custom(|iters| {
            assert_no_alloc::reset_violation_count();
            let (own, violations) = assert_no_alloc::assert_no_alloc(|| {
                let own = alloc_free_loop::<ViaAssertNoAlloc>(iters);
                let violations = assert_no_alloc::violation_count();
                // Cleared before the closure returns: assert_no_alloc prints
                // a warning line for a closure whose violations grew, which
                // would be a line per sample. Nothing here is timed.
                assert_no_alloc::reset_violation_count();
                (own, violations)
            });
            assert_eq!(u64::from(violations), 2 * iters, "one per alloc and free");
            record(
                "assert_no_alloc_forbidden",
                own,
                alloc_free_loop::<ViaSystem>(iters),
                iters,
            );
            own
        })
    });
    g.finish();
}

fn main() {
    allocgate::check_installed().expect("allocgate is the global allocator here");
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    bench(&mut c);
    c.final_summary();

    side_by_side::print_table(
        "| alloc + free of 48 bytes | ns (median) | System, interleaved (ns) | ratio to System (median of per-sample ratios) |",
    );
}
