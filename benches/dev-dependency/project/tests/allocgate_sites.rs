//! Where the resampler allocates, named by site tracing (the default
//! `backtrace` feature).

use voice::{BLOCK, Voice};

#[global_allocator]
static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();

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
