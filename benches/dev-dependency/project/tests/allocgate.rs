//! The voice's block processing under allocgate's gate.

use voice::{BLOCK, Voice};

#[global_allocator]
static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();

#[test]
fn processing_a_block_is_real_time_safe() {
    let mut voice = Voice::new(48_000.0, 512);
    let mut out = vec![0.0f32; BLOCK];
    allocgate::CallbackGate::new("Voice::process")
        .warm_up(1)
        .allow_warm_up()
        .trace_sites()
        .check_hazards()
        .run(1000, |_| {
            voice.process(&mut out);
        })
        .unwrap()
        .assert_allocation_free();
}

#[test]
fn resampling_a_block_allocates_inside_rubato() {
    let mut voice = Voice::new(48_000.0, 512);
    let block = vec![0.1f32; BLOCK];
    let run = allocgate::CallbackGate::new("Voice::resample")
        .trace_sites()
        .run(100, |_| {
            voice.resample(&block);
        })
        .unwrap();
    assert!(!run.is_allocation_free());
    // The output buffer is made inside rubato's `process` (by its
    // audio-buffer crate) and freed by the caller.
    let made_in_rubato = run
        .sites()
        .iter()
        .any(|s| s.allocations() > 0 && s.backtrace.iter().any(|f| f.contains("rubato::")));
    assert!(made_in_rubato, "{:#?}", run.sites());
}
