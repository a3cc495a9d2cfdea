//! Our convolver gives what `fft-convolver` gives on the same filters and
//! input (the check `benches/convolver.rs` makes before timing them).

#[path = "../common/convolver_peer.rs"]
mod peer;

use allocgate_engine::convolver::BLOCK;
use allocgate_engine::synthetic;

fn assert_agree(name: &str, h: &[f32]) {
    // 16 blocks: start-up, then 8 or more blocks with every partition of
    // the longest filter (8 of them) filled.
    for seed in [1, 2, 3] {
        let x = synthetic::noise(16 * BLOCK, seed);
        let a = peer::compare(h, &x);
        assert!(
            a.relative_difference < peer::TOLERANCE,
            "{name}, seed {seed}: relative difference {:e}",
            a.relative_difference
        );
        assert!(a.relative_peak > 0.01, "{name}: output nearly silent");
    }
}

#[test]
fn kemar_558_taps_agrees_with_fft_convolver() {
    let h = peer::kemar_filter();
    assert_eq!(h.len(), 558);
    assert_agree("KEMAR", &h);
}

#[test]
fn synthetic_4096_taps_agrees_with_fft_convolver() {
    let h = peer::synthetic_filter();
    assert_eq!(h.len(), peer::SYNTHETIC_TAPS);
    assert_agree("synthetic", &h);
}
