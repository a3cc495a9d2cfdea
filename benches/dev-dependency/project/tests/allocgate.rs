//! The voice's block processing under allocgate's gate.

use voice::{BLOCK, Voice};

#[global_allocator]
static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();

#[test]
fn processing_a_block_never_allocates() {
    let mut voice = Voice::new(48_000.0, 512);
    let mut out = vec![0.0f32; BLOCK];
    allocgate::CallbackGate::new("voice.process")
        .run(1000, |_| {
            voice.process(&mut out);
        })
        .unwrap()
        .assert_allocation_free();
}

#[test]
fn resampling_a_block_allocates_its_output() {
    let mut voice = Voice::new(48_000.0, 512);
    let block = vec![0.1f32; BLOCK];
    let run = allocgate::CallbackGate::new("voice.resample")
        .run(100, |_| {
            voice.resample(&block);
        })
        .unwrap();
    let failed = std::panic::catch_unwind(|| run.assert_allocation_free());
    assert!(failed.is_err(), "rubato's process returns a new buffer each call");
}
