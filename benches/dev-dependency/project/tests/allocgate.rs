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
        .check_hazards()
        .run(1000, |_| {
            voice.process(&mut out);
        })
        .unwrap()
        .assert_allocation_free();
}
