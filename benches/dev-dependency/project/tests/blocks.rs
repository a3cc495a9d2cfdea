use voice::{BLOCK, Voice};

#[test]
fn a_thousand_blocks_find_the_tone() {
    let mut voice = Voice::new(48_000.0, 512);
    let mut out = vec![0.0f32; BLOCK];
    let mut peak = 0;
    for _ in 0..1000 {
        peak = voice.process(&mut out);
    }
    // 440 Hz at 48 kHz in a 512-point FFT: bin 440 * 512 / 48000 = 4.7.
    assert!((4..=5).contains(&peak), "{peak}");
}

#[test]
fn resampling_writes_frames() {
    let mut voice = Voice::new(48_000.0, 512);
    let block = vec![0.1f32; BLOCK];
    let mut total = 0;
    for _ in 0..100 {
        total += voice.resample(&block);
    }
    assert!(total > 0);
}
