//! What counting costs: one 48-byte alloc + free through the system
//! allocator, through allocgate outside a scope and inside one, and through
//! `stats_alloc`.
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
//! and the ratios compare the allocators.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use allocgate::CountingAlloc;
use criterion::Criterion;
use stats_alloc::StatsAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::system();
static STATS: StatsAlloc<System> = StatsAlloc::system();

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

fn alloc_free_loop<S: Shim>(iters: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        let p = black_box(S::alloc(LAYOUT));
        S::dealloc(p, LAYOUT);
    }
    start.elapsed()
}

/// Per case, per sample: ns per iteration of the case and of the `System`
/// sample taken right after it.
type Samples = Vec<(&'static str, Vec<(f64, f64)>)>;
static SIDE_BY_SIDE: Mutex<Samples> = Mutex::new(Vec::new());

fn record(case: &'static str, own: Duration, system: Duration, iters: u64) {
    let per_iter = |d: Duration| d.as_nanos() as f64 / iters as f64;
    let sample = (per_iter(own), per_iter(system));
    let mut rows = SIDE_BY_SIDE.lock().unwrap();
    match rows.iter_mut().find(|r| r.0 == case) {
        Some(r) => r.1.push(sample),
        None => rows.push((case, vec![sample])),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
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

    let rows = SIDE_BY_SIDE.lock().unwrap();
    if rows.is_empty() {
        return; // a filtered or --list run
    }
    // Medians over samples (warm-up samples included), robust to the odd
    // preempted sample on a shared machine.
    println!(
        "\n| alloc + free of 48 bytes | ns (median) | System, interleaved (ns) | ratio to System (median of per-sample ratios) |"
    );
    println!("|---|---:|---:|---:|");
    for (case, samples) in rows.iter() {
        let own = median(samples.iter().map(|s| s.0).collect());
        let system = median(samples.iter().map(|s| s.1).collect());
        let ratio = median(samples.iter().map(|s| s.0 / s.1).collect());
        println!("| {case} | {own:.2} | {system:.2} | {ratio:.3} |");
    }
}
