//! Workloads and a runner shared by the agreement tests: each peer binary
//! stacks allocgate's counting allocator on a peer's allocator, runs every
//! workload once inside both tools' regions, and checks that the peer's
//! figures equal allocgate's through a stated mapping.
//!
//! These binaries run without libtest (`harness = false`): the peers count
//! process-wide, so no test-runner thread may allocate during a region.

// Each peer binary reads a different part of allocgate's figures.
#![allow(dead_code)]

use std::alloc::{Layout, alloc, dealloc, realloc};
use std::hint::black_box;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;

use allocgate::{Counts, Measured, Stats};

/// allocgate's own figures that a workload predicts from first principles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Predicted {
    pub allocations: u64,
    pub deallocations: u64,
    pub reallocations: u64,
    pub bytes_allocated: u64,
    pub permitted_allocations: u64,
}

/// One workload: runs inside the regions and may predict allocgate's counts.
pub struct Workload {
    pub name: &'static str,
    pub run: fn() -> Option<Predicted>,
}

/// Allocations the worker thread makes in the `other_thread` workload.
pub const WORKER_ALLOCATIONS: u64 = 1000;

pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "plain_boxes",
            run: plain_boxes,
        },
        Workload {
            name: "vec_growth",
            run: vec_growth,
        },
        Workload {
            name: "realloc_up_and_down",
            run: realloc_up_and_down,
        },
        Workload {
            name: "zero_size_layouts",
            run: zero_size_layouts,
        },
        Workload {
            name: "over_aligned_layouts",
            run: over_aligned_layouts,
        },
        Workload {
            name: "zeroed_buffers",
            run: zeroed_buffers,
        },
        Workload {
            name: "boxed_closure_and_slice",
            run: boxed_closure_and_slice,
        },
        Workload {
            name: "string_formatting",
            run: string_formatting,
        },
        Workload {
            name: "permitted_region",
            run: permitted_region,
        },
        Workload {
            name: "other_thread_allocating",
            run: other_thread_allocating,
        },
    ]
}

/// Three boxes of 8, 36 and 100 bytes: 3 allocations, 3 frees, 144 bytes.
fn plain_boxes() -> Option<Predicted> {
    drop(black_box(Box::new([1u8; 8])));
    drop(black_box(Box::new([2u8; 36])));
    drop(black_box(Box::new([3u8; 100])));
    Some(Predicted {
        allocations: 3,
        deallocations: 3,
        bytes_allocated: 144,
        ..Predicted::default()
    })
}

/// Pushes 1000 `u32`s: the first capacity is one allocation, every later
/// capacity change one reallocation, the drop one free. The capacities are
/// read from the vector itself as it grows.
fn vec_growth() -> Option<Predicted> {
    let mut v: Vec<u32> = Vec::new();
    let mut first_capacity = 0;
    let mut growths = 0;
    for i in 0..1000 {
        let before = v.capacity();
        v.push(i);
        if v.capacity() != before {
            if before == 0 {
                first_capacity = v.capacity();
            } else {
                growths += 1;
            }
        }
    }
    drop(black_box(v));
    Some(Predicted {
        allocations: 1,
        deallocations: 1,
        reallocations: growths,
        bytes_allocated: first_capacity as u64 * 4,
        ..Predicted::default()
    })
}

/// 64 bytes, grown to 256, shrunk to 16, freed.
fn realloc_up_and_down() -> Option<Predicted> {
    let layout = Layout::from_size_align(64, 8).unwrap();
    // SAFETY: non-zero size; each pointer is passed back with the layout it
    // currently has, and freed once.
    unsafe {
        let p = alloc(layout);
        assert!(!p.is_null());
        let p = realloc(black_box(p), layout, 256);
        assert!(!p.is_null());
        let p = realloc(black_box(p), Layout::from_size_align(256, 8).unwrap(), 16);
        assert!(!p.is_null());
        dealloc(black_box(p), Layout::from_size_align(16, 8).unwrap());
    }
    Some(Predicted {
        allocations: 1,
        deallocations: 1,
        reallocations: 2,
        bytes_allocated: 64,
        ..Predicted::default()
    })
}

/// Zero-sized values never reach the allocator.
fn zero_size_layouts() -> Option<Predicted> {
    black_box(Vec::<u8>::new());
    black_box(Box::new(()));
    black_box(Vec::<()>::with_capacity(1000));
    black_box(String::new());
    Some(Predicted::default())
}

#[repr(align(64))]
struct CacheLine([u8; 64]);

/// A page-aligned 64-byte block and a cache-line-aligned box.
fn over_aligned_layouts() -> Option<Predicted> {
    let layout = Layout::from_size_align(64, 4096).unwrap();
    // SAFETY: non-zero size, freed once with the same layout.
    unsafe {
        let p = alloc(layout);
        assert!(!p.is_null());
        assert_eq!(p as usize % 4096, 0);
        dealloc(black_box(p), layout);
    }
    let line = black_box(Box::new(CacheLine([7; 64])));
    assert_eq!(line.0[63], 7);
    drop(line);
    Some(Predicted {
        allocations: 2,
        deallocations: 2,
        bytes_allocated: 128,
        ..Predicted::default()
    })
}

/// `vec![0; n]` asks for zeroed memory: two zeroed allocations.
fn zeroed_buffers() -> Option<Predicted> {
    drop(black_box(vec![0u8; 4096]));
    drop(black_box(vec![0f32; 512]));
    Some(Predicted {
        allocations: 2,
        deallocations: 2,
        bytes_allocated: 4096 + 2048,
        ..Predicted::default()
    })
}

/// A boxed closure capturing 24 bytes, and a boxed slice of 9 floats.
fn boxed_closure_and_slice() -> Option<Predicted> {
    let captured = [1u64, 2, 3];
    let f: Box<dyn Fn() -> u64> = Box::new(move || captured.iter().sum());
    black_box(f());
    drop(black_box(f));
    drop(black_box(vec![0.5f32; 9].into_boxed_slice()));
    Some(Predicted {
        allocations: 2,
        deallocations: 2,
        bytes_allocated: 24 + 36,
        ..Predicted::default()
    })
}

/// `format!` and string growth: std decides the capacities, so only the
/// peers' agreement is checked.
fn string_formatting() -> Option<Predicted> {
    let mut s = format!("{} {:?} {:.3}", black_box(12_345), "callback", 1.5f32);
    for _ in 0..20 {
        s.push_str(black_box("more text "));
    }
    drop(black_box(s));
    None
}

/// A 36-byte box made and freed inside both tools' permit regions.
fn permitted_region() -> Option<Predicted> {
    assert_no_alloc::permit_alloc(|| allocgate::permit(|| drop(black_box(Box::new([0u8; 36])))));
    Some(Predicted {
        permitted_allocations: 1,
        ..Predicted::default()
    })
}

/// What the worker thread counted in its own scope during the last
/// `other_thread_allocating` workload.
pub static WORKER_STATS: Mutex<Option<Stats>> = Mutex::new(None);

const IDLE: u32 = 0;
const READY: u32 = 1;
const GO: u32 = 2;
const DONE: u32 = 3;
const EXIT: u32 = 4;
static WORKER: AtomicU32 = AtomicU32::new(IDLE);

fn wait_for(state: u32) {
    while WORKER.load(Ordering::Acquire) != state {
        thread::yield_now();
    }
}

/// The main thread makes one 48-byte box while a worker thread, started
/// before the region, makes `WORKER_ALLOCATIONS` boxes in its own scope.
/// allocgate's main-thread figures show only the main thread's box.
fn other_thread_allocating() -> Option<Predicted> {
    WORKER.store(GO, Ordering::Release);
    drop(black_box(Box::new([0u8; 48])));
    wait_for(DONE);
    Some(Predicted {
        allocations: 1,
        deallocations: 1,
        bytes_allocated: 48,
        ..Predicted::default()
    })
}

fn worker_body() {
    WORKER.store(READY, Ordering::Release);
    wait_for(GO);
    let m = allocgate::measure(|| {
        for i in 0..WORKER_ALLOCATIONS {
            drop(black_box(Box::new(i)));
        }
    });
    *WORKER_STATS.lock().unwrap() = Some(m.stats);
    WORKER.store(DONE, Ordering::Release);
    wait_for(EXIT);
}

/// allocgate's figures for a region: the main thread's scope, plus the
/// worker's scope when the worker took part.
pub struct Ours {
    pub main: Stats,
    pub worker: Option<Stats>,
}

impl Ours {
    /// Forbidden and permitted calls of every thread that took part: what a
    /// process-wide peer sees.
    pub fn all_threads(&self) -> Counts {
        let mut all = Stats::new();
        all.merge(&self.main);
        if let Some(w) = &self.worker {
            all.merge(w);
        }
        let mut counts = all.counts;
        counts.merge(&all.permitted);
        counts
    }
}

fn check_prediction(p: &Predicted, s: &Stats) -> Vec<String> {
    let mut bad = Vec::new();
    let mut eq = |what: &str, predicted: u64, counted: u64| {
        if predicted != counted {
            bad.push(format!(
                "allocgate {what}: predicted {predicted}, counted {counted}"
            ));
        }
    };
    eq("allocations", p.allocations, s.counts.allocations);
    eq("deallocations", p.deallocations, s.counts.deallocations);
    eq("reallocations", p.reallocations, s.counts.reallocations);
    eq(
        "bytes allocated",
        p.bytes_allocated,
        s.counts.bytes_allocated,
    );
    eq(
        "permitted allocations",
        p.permitted_allocations,
        s.permitted.allocations,
    );
    eq(
        "permitted deallocations",
        p.permitted_allocations,
        s.permitted.deallocations,
    );
    bad
}

/// Checks passed and failed, printed as the closing line by [`Tally::finish`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub passed: u32,
    pub failed: u32,
    pub skipped: u32,
}

impl Tally {
    /// Prints the closing `N passed, N failed` line (`, N skipped` when a
    /// check could not run); exits non-zero on any failure.
    pub fn finish(self) {
        let skipped = match self.skipped {
            0 => String::new(),
            n => format!(", {n} skipped"),
        };
        println!("\n{} passed, {} failed{skipped}", self.passed, self.failed);
        if self.failed > 0 {
            std::process::exit(1);
        }
    }
}

/// Runs every workload in a region of allocgate and the peer, and checks
/// the peer's figures with `check`. `region` runs a closure inside the
/// peer's region and returns the peer's change over it. Prints one line per
/// workload and returns the tally, for [`Tally::finish`] once every check
/// of the binary has run.
pub fn run<D>(
    peer: &str,
    mut region: impl FnMut(
        &mut dyn FnMut() -> Measured<Option<Predicted>>,
    ) -> (Measured<Option<Predicted>>, D),
    check: impl Fn(&D, &Ours) -> Vec<String>,
) -> Tally {
    // The install probe allocates once: do it before any region.
    allocgate::check_installed().expect("allocgate must be the global allocator here");
    let worker = thread::spawn(worker_body);
    wait_for(READY);

    let (mut passed, mut failed) = (0, 0);
    for w in workloads() {
        *WORKER_STATS.lock().unwrap() = None;
        let run = w.run;
        let (m, delta) = region(&mut || allocgate::measure(run));
        let ours = Ours {
            main: m.stats,
            worker: *WORKER_STATS.lock().unwrap(),
        };
        let mut bad = check(&delta, &ours);
        if let Some(p) = &m.value {
            bad.extend(check_prediction(p, &ours.main));
        }
        if w.name == "other_thread_allocating" {
            match &ours.worker {
                Some(ws) if ws.counts.allocations == WORKER_ALLOCATIONS => {}
                other => bad.push(format!(
                    "worker scope: expected {WORKER_ALLOCATIONS} allocations, got {other:?}"
                )),
            }
        }
        if bad.is_empty() {
            passed += 1;
            println!("{peer}::{} ... ok", w.name);
        } else {
            failed += 1;
            println!("{peer}::{} ... FAILED", w.name);
            for b in bad {
                println!("    {b}");
            }
        }
    }
    WORKER.store(EXIT, Ordering::Release);
    worker.join().unwrap();
    Tally {
        passed,
        failed,
        skipped: 0,
    }
}

/// One mismatch line when a peer's figure differs from the one mapped from
/// allocgate's, or nothing.
pub fn compare(bad: &mut Vec<String>, what: &str, peer: i128, mapped: i128, mapping: &str) {
    if peer != mapped {
        bad.push(format!(
            "{what}: peer reports {peer}, allocgate maps to {mapped} ({mapping})"
        ));
    }
}
