//! A check must not pass vacuously: in this binary another allocator
//! (`stats_alloc`'s) is the global allocator, so allocgate sees nothing, and
//! every way of measuring must fail and say why rather than report zero.

use std::alloc::System;
use std::hint::black_box;
use std::panic::catch_unwind;

use allocgate::{CallLog, Error, Probe, assert_no_alloc, check_installed, measure, try_measure};
use stats_alloc::{Region, StatsAlloc};

#[global_allocator]
static OTHER: StatsAlloc<System> = StatsAlloc::system();

#[path = "common/panic_message.rs"]
mod panic_message;
use panic_message::panic_message;

#[test]
fn the_other_allocator_really_is_the_one_in_use() {
    let region = Region::new(&OTHER);
    drop(black_box(Box::new(1u8)));
    assert!(region.change().allocations >= 1);
}

#[test]
fn check_installed_says_the_counting_allocator_is_missing() {
    assert_eq!(check_installed(), Err(Error::NotInstalled));
    let message = Error::NotInstalled.to_string();
    assert!(message.contains("not the global allocator"), "{message}");
    assert!(message.contains("#[global_allocator]"), "{message}");
}

#[test]
fn try_measure_refuses_instead_of_reporting_zero() {
    let result = try_measure(|| drop(black_box(Box::new(1u8))));
    assert_eq!(result.unwrap_err(), Error::NotInstalled);
}

#[test]
fn measure_panics_with_the_reason() {
    let caught = catch_unwind(|| measure(|| drop(black_box(Box::new(1u8)))));
    let message = panic_message(caught.unwrap_err());
    assert!(message.contains("not the global allocator"), "{message}");
}

#[test]
fn assert_no_alloc_fails_even_for_a_closure_that_does_not_allocate() {
    let caught = catch_unwind(|| assert_no_alloc(|| 1 + 1));
    let message = panic_message(caught.unwrap_err());
    assert!(message.contains("pass vacuously"), "{message}");
}

#[test]
fn a_probe_cannot_be_built() {
    let probe = Probe::new(CallLog::with_capacity(1));
    assert_eq!(probe.unwrap_err(), Error::NotInstalled);
}

#[test]
fn a_callback_gate_refuses_to_run_rather_than_pass() {
    let mut calls = 0;
    let e = allocgate::CallbackGate::new("cb")
        .run(10, |_| calls += 1)
        .unwrap_err();
    assert!(matches!(e, allocgate::GateError::NotInstalled(_)), "{e}");
    assert!(e.to_string().contains("not the global allocator"), "{e}");
    assert_eq!(calls, 0, "nothing ran");
}
