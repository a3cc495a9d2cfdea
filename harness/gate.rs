//! `CallbackGate` with allocgate installed: verdicts, failure messages,
//! warm-up, hazards, site tracing over a third-party crate, and the memory
//! a million invocations keep. Also run as a release build by CI
//! (`cargo test --release -p allocgate --test gate`): site names must hold
//! with inlining.

use std::hint::black_box;
use std::panic::catch_unwind;
use std::process::Command;

use allocgate::hazard::TrackedMutex;
use allocgate::{CallbackGate, CountingAlloc, GateError, KEPT_OFFENDERS, measure};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

#[path = "common/panic_message.rs"]
mod panic_message;
use panic_message::panic_message;

fn boxes(n: u64) {
    for _ in 0..n {
        drop(black_box(Box::new(0u64)));
    }
}

#[test]
fn a_clean_callback_passes_and_every_invocation_is_measured() {
    let mut buf = vec![0.5f32; 512];
    let run = CallbackGate::new("gain")
        .run(100, |_| buf.iter_mut().for_each(|x| *x *= 0.5))
        .unwrap();
    assert_eq!((run.invocations(), run.calls().len()), (100, 100));
    assert!(run.is_allocation_free() && run.is_clean());
    run.assert_allocation_free();
    run.assert_clean();
    assert!(run.total().is_zero());
    assert_eq!(run.hazards(), None, "hazards were not checked");
}

#[test]
fn one_allocation_in_one_invocation_fails_and_is_named() {
    let run = CallbackGate::new("late")
        .run(10, |i| boxes(u64::from(i == 7)))
        .unwrap();
    assert!(!run.is_allocation_free());
    let offenders: Vec<u64> = run.offenders().iter().map(|o| o.index).collect();
    assert_eq!(offenders, [7]);
    assert_eq!(run.calls().nth(7).unwrap().allocations, 1);
    let msg = panic_message(catch_unwind(|| run.assert_allocation_free()).unwrap_err());
    assert!(
        msg.starts_with("callback 'late' touched the allocator in 1 of 10 invocations:"),
        "{msg}"
    );
    assert!(
        msg.contains("invocation 7: 1 allocation (8 bytes), 0 reallocations, 1 deallocation;"),
        "{msg}"
    );
    let clean = panic_message(catch_unwind(|| run.assert_clean()).unwrap_err());
    assert!(
        clean.starts_with(
            "callback 'late' was not clean in 1 of 10 invocations (1 touched the allocator, \
             0 had hazards):"
        ),
        "{clean}"
    );
}

#[test]
fn a_failure_lists_each_invocation_in_words_with_macos_classes_named_as_such() {
    let run = CallbackGate::new("two")
        .run(1, |_| {
            drop(black_box(Box::new([0u8; 8])));
            drop(black_box(Box::new([0u8; 36])));
        })
        .unwrap();
    let msg = panic_message(catch_unwind(|| run.assert_allocation_free()).unwrap_err());
    assert!(
        msg.starts_with("callback 'two' touched the allocator in 1 of 1 invocation:"),
        "{msg}"
    );
    let row = msg
        .lines()
        .find(|l| l.trim_start().starts_with("invocation 0:"))
        .expect("a row for invocation 0");
    let classes = if cfg!(target_os = "macos") {
        "; size classes: 1 x 16 B (tiny), 1 x 48 B (tiny)"
    } else {
        "; in macOS's size classes (not this platform's): 1 x 16 B (tiny), 1 x 48 B (tiny)"
    };
    assert_eq!(
        row,
        format!(
            "  invocation 0: 2 allocations (44 bytes), 0 reallocations, 2 deallocations{classes}"
        )
    );
    assert!(!msg.lines().any(|l| l.ends_with(',')), "{msg}");
}

#[test]
fn warm_up_is_checked_unless_allowed() {
    let setup_on_first = |i: u64| boxes(u64::from(i == 0));
    let strict = CallbackGate::new("setup")
        .warm_up(4)
        .run(10, setup_on_first)
        .unwrap();
    assert!(!strict.is_allocation_free());
    assert_eq!(strict.warm_up_total().allocations, 1);
    assert!(strict.steady_total().is_zero());
    assert!(strict.offenders()[0].warm_up);
    let lenient = CallbackGate::new("setup")
        .warm_up(4)
        .allow_warm_up()
        .run(10, setup_on_first)
        .unwrap();
    lenient.assert_allocation_free();
    assert_eq!(lenient.total().allocations, 1, "counted all the same");
    // Past warm-up, allowing it changes nothing.
    let late = CallbackGate::new("late")
        .warm_up(4)
        .allow_warm_up()
        .run(10, |i| boxes(u64::from(i == 4)))
        .unwrap();
    let offenders: Vec<u64> = late.offenders().iter().map(|o| o.index).collect();
    assert_eq!(offenders, [4]);
}

#[test]
fn exact_counts_pass_when_right_and_name_the_invocation_when_wrong() {
    let run = CallbackGate::new("by design")
        .run(9, |i| boxes(i % 3))
        .unwrap();
    run.assert_counts(|i| (i % 3, i % 3, 0));
    let msg = panic_message(catch_unwind(|| run.assert_counts(|i| (i % 3, 0, 0))).unwrap_err());
    assert!(
        msg.starts_with("callback 'by design': 6 of 9 invocations made other counts"),
        "{msg}"
    );
    assert!(
        msg.contains(
            "invocation 1: (allocations, deallocations, reallocations) = (1, 1, 0), \
             expected (1, 0, 0)"
        ),
        "{msg}"
    );
}

#[test]
fn zero_invocations_are_refused() {
    let e = CallbackGate::new("none").run(0, |_| {}).unwrap_err();
    assert!(matches!(e, GateError::NoInvocations));
}

#[test]
fn the_gate_allocates_only_before_the_first_call() {
    // Around the whole run: the gate's name (made in `new`, freed when the
    // gate drops), the per-invocation counts, the offenders' room and the
    // result's copy of the name; with hazards, the per-invocation hazards
    // too. Nothing per call, whatever the number of invocations.
    for n in [1, 10, 1000] {
        let m = measure(|| CallbackGate::new("x").run(n, |_| {}).unwrap());
        let c = m.stats.counts;
        assert_eq!(
            (c.allocations, c.deallocations, c.reallocations),
            (4, 1, 0),
            "n = {n}"
        );
        let m = measure(|| {
            CallbackGate::new("x")
                .check_hazards()
                .run(n, |_| {})
                .unwrap()
        });
        let c = m.stats.counts;
        assert_eq!(
            (c.allocations, c.deallocations, c.reallocations),
            (5, 1, 0),
            "n = {n}, hazards checked"
        );
    }
}

#[test]
fn a_callback_taking_a_tracked_mutex_fails_check_hazards() {
    const CALLS: u64 = 20;
    let shared = TrackedMutex::new(0u64);
    let locking = |_| {
        *shared.lock() += 1;
        *shared.lock() += 1;
    };
    // Without hazards checked the locks are not looked at.
    CallbackGate::new("mixer")
        .run(CALLS, locking)
        .unwrap()
        .assert_clean();
    let run = CallbackGate::new("mixer")
        .check_hazards()
        .run(CALLS, locking)
        .unwrap();
    assert!(run.is_allocation_free());
    assert!(!run.is_clean());
    assert_eq!(run.hazardous_invocations(), CALLS);
    let h = run.hazards().unwrap();
    assert_eq!((h.lock_acquisitions, h.lock_contentions), (2 * CALLS, 0));
    assert_eq!(h.callbacks_locking, CALLS);
    assert!(run.calls().all(|c| c.lock_acquisitions == 2));
    assert_eq!(run.offenders().len(), KEPT_OFFENDERS);
    let msg = panic_message(catch_unwind(|| run.assert_clean()).unwrap_err());
    assert!(
        msg.starts_with(&format!(
            "callback 'mixer' was not clean in {CALLS} of {CALLS} invocations \
             (0 touched the allocator, {CALLS} had hazards):\n  invocation 0: 2 tracked locks \
             taken (0 contended)"
        )),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("  … and {} more\n", CALLS - KEPT_OFFENDERS as u64)),
        "{msg}"
    );
    // Allocation-free it is: that verdict does not look at hazards.
    run.assert_allocation_free();
    assert_eq!(*shared.lock(), 4 * CALLS);
}

#[test]
fn hazards_in_allowed_warm_up_pass_and_a_clean_callback_has_none() {
    let m = TrackedMutex::new(());
    let lock_once = |i: u64| {
        if i == 0 {
            drop(m.lock());
        }
    };
    CallbackGate::new("setup")
        .check_hazards()
        .warm_up(1)
        .allow_warm_up()
        .run(10, lock_once)
        .unwrap()
        .assert_clean();
    let strict = CallbackGate::new("setup")
        .check_hazards()
        .warm_up(1)
        .run(10, lock_once)
        .unwrap();
    assert_eq!(strict.hazardous_invocations(), 1);
    // Memory written before the gate: past the first call (which may
    // fault on the callback's code pages), no fault, no switch, no lock in
    // a thousand calls, the gate's own bookkeeping included.
    let mut buf = vec![0.5f32; 4096];
    CallbackGate::new("gain")
        .check_hazards()
        .warm_up(1)
        .allow_warm_up()
        .run(1000, |_| buf.iter_mut().for_each(|x| *x *= 0.5))
        .unwrap()
        .assert_clean();
}

#[cfg(target_os = "linux")]
#[test]
fn a_first_touch_of_fresh_memory_is_a_page_fault_of_that_invocation() {
    // 8 MiB, zeroed: the pages come from the kernel untouched, so the
    // first write to each faults.
    let mut fresh = vec![0u8; 8 << 20];
    let run = CallbackGate::new("first touch")
        .check_hazards()
        .run(3, |i| {
            if i == 1 {
                for p in fresh.iter_mut().step_by(4096) {
                    *p = 1;
                }
            }
            black_box(&fresh);
        })
        .unwrap();
    let faults: Vec<u32> = run.calls().map(|c| c.page_faults).collect();
    assert!(
        faults[0] == 0 && faults[1] > 0 && faults[2] == 0,
        "{faults:?}"
    );
    let offenders: Vec<u64> = run.offenders().iter().map(|o| o.index).collect();
    assert_eq!(offenders, [1]);
}

/// Allocates one vector whose size depends on the invocation: one call
/// site, three sizes.
#[inline(never)]
fn scratch_of_varying_size(i: u64) {
    let n = 8 * (1 + (i % 3) as usize);
    drop(black_box(Vec::<u8>::with_capacity(n)));
}

#[test]
fn sites_are_grouped_by_function_with_their_sizes_listed_within() {
    let run = CallbackGate::new("varying")
        .trace_sites()
        .run(9, scratch_of_varying_size)
        .unwrap();
    let sites = run.sites();
    assert_eq!(sites.len(), 1, "{sites:#?}");
    let site = &sites[0];
    assert!(
        site.function.ends_with("scratch_of_varying_size"),
        "{sites:#?}"
    );
    let sizes: Vec<(usize, u64, u64)> = site
        .sizes
        .iter()
        .map(|s| (s.size, s.allocations, s.deallocations))
        .collect();
    // Invocation i asks for 8 × (1 + i mod 3) bytes: three of each.
    assert_eq!(sizes, [(8, 3, 3), (16, 3, 3), (24, 3, 3)]);
    assert_eq!(site.invocations, (0..9).collect::<Vec<u64>>());
    assert_eq!(site.backtrace[0], site.function);
    let msg = panic_message(catch_unwind(|| run.assert_allocation_free()).unwrap_err());
    let header = format!(
        "\n1 call site (first frame outside std and allocgate):\n  {}: 9 allocations, 9 deallocations\n    8 bytes: 3 allocations, 3 deallocations\n    16 bytes: 3 allocations, 3 deallocations\n    24 bytes: 3 allocations, 3 deallocations\n    in invocations 0, 1, 2, 3, 4, 5, 6, 7, …\n    backtrace:\n      {}",
        site.function, site.function
    );
    assert!(msg.contains(&header), "{msg}");
    assert!(
        msg.contains("  invocation 0: 1 allocation (8 bytes)"),
        "{msg}"
    );
    assert!(
        msg.lines().any(|l| l.starts_with("  invocation 4: ")
            && l.ends_with(&format!("; at {}", site.function))),
        "{msg}"
    );
}

/// True when `function` is realfft's own: a plain path in the crate, or a
/// method of a realfft type or trait.
fn is_realfft(function: &str) -> bool {
    function.starts_with("realfft::")
        || function.starts_with("<realfft::")
        || function.contains(" as realfft::")
}

#[test]
fn an_odd_length_realfft_transform_is_named_at_realfft() {
    use realfft::RealFftPlanner;
    const CALLS: u64 = 4;
    // Odd lengths take realfft's path that allocates its scratch buffer
    // in `process` (`make_scratch_vec`): one vector of `get_scratch_len`
    // complex values per call, freed before it returns.
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(1023);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let scratch_bytes =
        fft.get_scratch_len() * std::mem::size_of::<realfft::num_complex::Complex<f32>>();
    let run = CallbackGate::new("spectrum")
        .trace_sites()
        .run(CALLS, |_| fft.process(&mut input, &mut spectrum).unwrap())
        .unwrap();
    let t = run.total();
    assert_eq!(
        (t.allocations, t.deallocations, t.bytes_allocated),
        (CALLS, CALLS, CALLS * scratch_bytes as u64)
    );
    let sites = run.sites();
    assert!(!sites.is_empty());
    for site in sites {
        assert!(is_realfft(&site.function), "{sites:#?}");
        assert!(
            site.sizes.iter().all(|s| s.size == scratch_bytes),
            "{sites:#?}"
        );
    }
    let allocating: u64 = sites.iter().map(|s| s.allocations()).sum();
    assert_eq!(allocating, CALLS);
    let msg = panic_message(catch_unwind(|| run.assert_allocation_free()).unwrap_err());
    assert!(
        msg.contains(&format!("\n  {}: ", sites[0].function)),
        "{msg}"
    );
    println!("{msg}");
}

const CHILD: &str = "ALLOCGATE_GATE_MEMORY_CHILD";

/// A line of /proc/self/status, in KiB.
#[cfg(target_os = "linux")]
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A million invocations that each allocate: the gate's peak memory grows
/// by at most 50 MB. Measured in a child process running this test alone
/// (the peak resident size is the process's, whatever thread made it).
#[cfg(target_os = "linux")]
#[test]
fn a_million_allocating_invocations_stay_within_50_mb() {
    const NAME: &str = "a_million_allocating_invocations_stay_within_50_mb";
    const CALLS: u64 = 1_000_000;
    if std::env::var_os(CHILD).is_none() {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        print!("{stdout}");
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("peak resident growth"),
            "the child measured: {stdout}"
        );
        return;
    }
    let before = status_kib("VmHWM:");
    let run = CallbackGate::new("boxes").run(CALLS, |_| boxes(1)).unwrap();
    let after = status_kib("VmHWM:");
    let grown_kib = after - before;
    println!("peak resident growth over {CALLS} invocations: {grown_kib} KiB");
    // Exact totals and every invocation's counts, however little is kept.
    let t = run.total();
    assert_eq!(
        (t.allocations, t.deallocations, t.bytes_allocated),
        (CALLS, CALLS, 8 * CALLS)
    );
    assert_eq!(run.allocating_invocations(), CALLS);
    assert_eq!(run.offenders().len(), KEPT_OFFENDERS);
    assert!(
        run.calls()
            .all(|c| (c.allocations, c.deallocations) == (1, 1))
    );
    assert!(grown_kib < 50 * 1000 * 1000 / 1024, "{grown_kib} KiB");
}
