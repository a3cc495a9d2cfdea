//! Behaviour of the counting allocator and its scope API, with allocgate
//! installed on top of the system allocator. Tests run in parallel under
//! libtest: per-thread scopes are what keeps them exact.

use std::alloc::{Layout, alloc, dealloc, realloc};
use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use allocgate::scope_depth;
use allocgate::size_class::MacosBucket;
use allocgate::{
    CallLog, CountingAlloc, Probe, Totals, assert_no_alloc, check_installed, measure, permit,
    try_measure,
};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

#[path = "common/panic_message.rs"]
mod panic_message;
use panic_message::panic_message;

#[test]
fn the_installed_allocator_is_detected() {
    assert_eq!(check_installed(), Ok(()));
    assert!(try_measure(|| ()).is_ok());
}

#[test]
fn a_box_is_one_allocation_and_one_deallocation_of_its_size() {
    let m = measure(|| drop(black_box(Box::new([0u8; 48]))));
    let c = m.stats.counts;
    assert_eq!((c.allocations, c.deallocations, c.reallocations), (1, 1, 0));
    assert_eq!((c.bytes_allocated, c.bytes_deallocated), (48, 48));
    assert_eq!(c.largest_request, 48);
}

#[test]
fn a_36_byte_request_counts_in_the_48_byte_macos_class() {
    let m = measure(|| drop(black_box(Box::new([0u8; 36]))));
    assert_eq!(m.stats.macos_classes().count_like(48), 1);
    let classes: Vec<_> = m.stats.macos_classes().iter().collect();
    assert_eq!(classes, vec![(MacosBucket::Tiny(48), 1)]);
    assert_eq!(m.stats.requested().count_like(36), 1);
}

#[test]
fn realloc_is_counted_as_its_own_kind_in_both_directions() {
    let m = measure(|| {
        let l = |n| Layout::from_size_align(n, 8).unwrap();
        // SAFETY: non-zero sizes; each pointer goes back with its current
        // layout and is freed once.
        unsafe {
            let p = alloc(l(64));
            let p = realloc(black_box(p), l(64), 1000);
            let p = realloc(black_box(p), l(1000), 8);
            dealloc(black_box(p), l(8));
        }
    });
    let c = m.stats.counts;
    assert_eq!((c.allocations, c.reallocations, c.deallocations), (1, 2, 1));
    assert_eq!(
        (c.realloc_bytes_from, c.realloc_bytes_to),
        (64 + 1000, 1000 + 8)
    );
    assert_eq!((c.realloc_bytes_grown, c.realloc_bytes_shrunk), (936, 992));
    assert_eq!(c.largest_request, 1000);
    assert_eq!(c.net_bytes(), 0);
    // Histograms hold requests: the allocation and both new sizes.
    assert_eq!(m.stats.macos_classes().total(), 3);
}

#[test]
fn zeroed_allocations_are_allocations_marked_zeroed() {
    let m = measure(|| drop(black_box(vec![0u8; 4096])));
    assert_eq!(m.stats.counts.allocations, 1);
    assert_eq!(m.stats.counts.zeroed, 1);
}

#[test]
fn zero_sized_values_make_no_allocator_calls() {
    let m = measure(|| {
        black_box(Vec::<u8>::new());
        black_box(Box::new(()));
        black_box(Vec::<()>::with_capacity(4096));
    });
    assert!(m.stats.is_allocation_free(), "{}", m.stats);
}

#[test]
fn another_thread_allocating_never_shows_in_this_threads_scope() {
    let stop = Arc::new(AtomicBool::new(false));
    let made = Arc::new(AtomicU64::new(0));
    let worker = {
        let (stop, made) = (stop.clone(), made.clone());
        thread::spawn(move || {
            let m = measure(|| {
                while !stop.load(Ordering::Relaxed) {
                    drop(black_box(vec![1u8; 48]));
                    made.fetch_add(1, Ordering::Relaxed);
                }
            });
            m.stats.counts.allocations
        })
    };
    let m = measure(|| {
        // Stay open until the worker has allocated many times meanwhile.
        let start = made.load(Ordering::Relaxed);
        while made.load(Ordering::Relaxed) < start + 10_000 {
            std::hint::spin_loop();
        }
    });
    stop.store(true, Ordering::Relaxed);
    let worker_allocations = worker.join().unwrap();
    assert!(m.stats.is_allocation_free(), "this thread: {}", m.stats);
    assert_eq!(worker_allocations, made.load(Ordering::Relaxed));
    assert!(worker_allocations >= 10_000);
}

#[test]
fn outer_scopes_include_inner_scopes_and_inner_scopes_see_only_their_own() {
    let outer = measure(|| {
        drop(black_box(Box::new(1u64)));
        let inner = measure(|| drop(black_box(Box::new([0u8; 100]))));
        assert_eq!(scope_depth(), 1);
        drop(black_box(Box::new(2u32)));
        inner.stats
    });
    let inner = outer.value;
    assert_eq!(inner.counts.allocations, 1);
    assert_eq!(inner.counts.bytes_allocated, 100);
    assert_eq!(outer.stats.counts.allocations, 3);
    assert_eq!(outer.stats.counts.bytes_allocated, 8 + 100 + 4);
    assert_eq!(outer.stats.macos_classes().total(), 3);
    assert_eq!(scope_depth(), 0);
}

#[test]
fn permit_inside_assert_no_alloc_counts_apart_and_passes() {
    let m = measure(|| assert_no_alloc(|| permit(|| drop(black_box(Box::new([0u8; 36]))))));
    assert!(m.stats.is_allocation_free());
    assert_eq!(m.stats.permitted.allocations, 1);
    assert_eq!(m.stats.permitted.deallocations, 1);
    assert_eq!(m.stats.macos_classes().total(), 0);
}

#[test]
fn assert_no_alloc_inside_permit_forbids_again() {
    let caught = catch_unwind(|| permit(|| assert_no_alloc(|| drop(black_box(Box::new(1u8))))));
    let message = panic_message(caught.unwrap_err());
    assert!(message.contains("1 allocation (1 byte)"), "{message}");
}

#[test]
fn measure_keeps_the_enclosing_permit_mode() {
    let m = measure(|| permit(|| measure(|| drop(black_box(Box::new(1u8)))).stats));
    assert_eq!(m.value.permitted.allocations, 1);
    assert_eq!(m.value.counts.allocations, 0);
    assert_eq!(m.stats.permitted.allocations, 1);
}

#[test]
fn assert_no_alloc_reports_what_it_counted_after_the_closure_returns() {
    let finished = AtomicBool::new(false);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        assert_no_alloc(|| {
            drop(black_box(Box::new([0u8; 36])));
            finished.store(true, Ordering::Relaxed);
        })
    }));
    assert!(
        finished.load(Ordering::Relaxed),
        "the closure must run to its end"
    );
    let message = panic_message(caught.unwrap_err());
    assert!(message.contains("1 allocation (36 bytes)"), "{message}");
    assert!(message.contains("1 deallocation"), "{message}");
    assert!(message.contains("48 B (tiny)"), "{message}");
}

#[test]
fn assert_no_alloc_fails_on_a_deallocation_alone() {
    let made_before = Box::new([0u8; 64]);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        assert_no_alloc(move || drop(made_before))
    }));
    let message = panic_message(caught.unwrap_err());
    assert!(message.contains("0 allocations"), "{message}");
    assert!(message.contains("1 deallocation"), "{message}");
    assert!(!message.contains("1 deallocations"), "{message}");
}

#[test]
fn assert_no_alloc_passes_and_returns_the_value_when_nothing_allocates() {
    let mut buffer = vec![0.0f32; 512];
    let sum = assert_no_alloc(|| {
        buffer.iter_mut().for_each(|s| *s += 0.25);
        buffer.iter().sum::<f32>()
    });
    assert_eq!(sum, 128.0);
}

#[test]
fn a_panic_unwinding_out_of_a_scope_restores_depth_and_mode() {
    let caught = catch_unwind(|| {
        measure(|| {
            permit(|| -> () { panic!("callback failed") });
        })
    });
    assert!(caught.is_err());
    assert_eq!(scope_depth(), 0);
    // The permit mode did not leak out of the unwound closure.
    let m = measure(|| drop(black_box(Box::new(1u8))));
    assert_eq!(m.stats.counts.allocations, 1);
    assert_eq!(m.stats.permitted.allocations, 0);
}

#[test]
fn a_probe_records_each_invocation_and_adds_no_allocation_of_its_own() {
    let mut probe = Probe::new(CallLog::with_capacity(4)).unwrap();
    let mut block = [0.5f32; 512];
    // The harness measured by itself: the outer scope sees everything the
    // probe, its scope and its sink do on this thread.
    let outer = measure(|| {
        for _ in 0..6 {
            probe.run(|| block.iter_mut().for_each(|s| *s *= 0.5));
        }
    });
    assert!(outer.stats.is_allocation_free(), "{}", outer.stats);
    let log = probe.into_sink();
    assert_eq!(log.entries().len(), 4);
    assert_eq!(log.overflowed(), 2);
}

#[test]
fn a_probe_gives_each_invocation_its_own_figures() {
    let mut probe = Probe::new(Totals::default()).unwrap();
    // Invocation i makes i temporaries of 36 bytes.
    for i in 0..5u64 {
        probe.run(|| {
            for _ in 0..i {
                drop(black_box(vec![0u8; 36]));
            }
        });
    }
    let totals = probe.into_sink();
    assert_eq!(totals.calls, 5);
    assert_eq!(totals.calls_with_allocator_calls, 4);
    assert_eq!(totals.total.counts.allocations, 1 + 2 + 3 + 4);
    assert_eq!(totals.total.macos_classes().count_like(48), 10);
    assert_eq!(totals.worst_index, Some(4));
    assert_eq!(totals.worst.allocations, 4);
}

#[test]
fn a_closure_is_a_sink() {
    let mut seen = [0u64; 3];
    {
        let mut probe = Probe::new(|i: u64, s: &allocgate::Stats| {
            seen[i as usize] = s.counts.allocations;
        })
        .unwrap();
        for n in 0..3 {
            probe.run(|| (0..n).for_each(|_| drop(black_box(Box::new(n)))));
        }
    }
    assert_eq!(seen, [0, 1, 2]);
}

static MEASURED_IN_TEARDOWN: AtomicU64 = AtomicU64::new(u64::MAX);

struct MeasuresOnDrop;

impl Drop for MeasuresOnDrop {
    fn drop(&mut self) {
        // Runs while the thread tears down its thread-locals.
        let m = measure(|| drop(black_box(vec![0u8; 10])));
        MEASURED_IN_TEARDOWN.store(m.stats.counts.allocations, Ordering::SeqCst);
    }
}

thread_local! {
    static TEARDOWN: MeasuresOnDrop = const { MeasuresOnDrop };
}

#[test]
fn counting_works_while_a_thread_starts_and_tears_down() {
    thread::spawn(|| {
        // First thing on a fresh thread.
        let m = measure(|| drop(black_box(Box::new(7u32))));
        assert_eq!(m.stats.counts.allocations, 1);
        TEARDOWN.with(|_| {});
    })
    .join()
    .unwrap();
    assert_eq!(MEASURED_IN_TEARDOWN.load(Ordering::SeqCst), 1);
}
