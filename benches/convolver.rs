//! What one 512-sample block step of our partitioned convolver costs,
//! against the `fft-convolver` crate on the same filter and block size, and
//! against the FFT work alone.
//!
//! `cargo bench --bench convolver`
//!
//! Two filters: the 558-tap KEMAR impulse response the engine ships (2
//! partitions) and a 4 096-tap synthetic one (8 partitions). The cases:
//! - `ours`: `Convolver::process_block` with no allocation site switched on
//!   (uniform partitioned overlap-save: one forward and one inverse real
//!   FFT of 1 024 points, a multiply-accumulate over P spectra).
//! - `fft_convolver`: `FFTConvolver::<f32>::process` on one 512-sample block
//!   (zero-latency uniform partitioned overlap-add on `realfft`: the same
//!   two transforms and P products per block).
//! - `fft_only`: one forward and one inverse `realfft` transform of 1 024
//!   points (`process_with_scratch`), after copying the block into both
//!   halves of the forward input (the transform clobbers it): the FFT cost
//!   of one block, a lower bound for either convolver.
//!
//! As in `alloc_overhead`, every sample of a case is followed by a sample
//! of the same number of block steps of its comparison, and the table at
//! the end gives medians of the per-sample ratios: ours/fft_convolver and
//! ours/fft_only, and fft_convolver/fft_only for scale.
//!
//! Before timing, the set-up checks that both convolvers give the same
//! output for the same input (within `peer::TOLERANCE` of max|x| · Σ|h|, on
//! every sample of 16 blocks) and that a block step of each allocates
//! nothing (`allocgate::assert_no_alloc`).

#[path = "../harness/common/convolver_peer.rs"]
mod peer;

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use allocgate::CountingAlloc;
use allocgate_engine::convolver::{BINS, BLOCK, Convolver, FFT_SIZE, FftPlans};
use allocgate_engine::sites::SiteSet;
use allocgate_engine::synthetic;
use criterion::Criterion;
use fft_convolver::FFTConvolver;
use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::system();

/// Input blocks cycled through by every case (noise, the same for all).
const INPUT_BLOCKS: usize = 16;

/// One block step: `BLOCK` samples in, `BLOCK` samples out; returns one
/// output sample so the work is observed.
trait Step {
    fn step(&mut self, input: &[f32]) -> f32;
}

struct Ours(Convolver);

impl Step for Ours {
    fn step(&mut self, input: &[f32]) -> f32 {
        self.0.process_block(input, SiteSet::EMPTY)[BLOCK - 1]
    }
}

struct Theirs {
    convolver: FFTConvolver<f32>,
    output: Vec<f32>,
}

impl Step for Theirs {
    fn step(&mut self, input: &[f32]) -> f32 {
        self.convolver
            .process(input, &mut self.output)
            .expect("input and output are one block each");
        self.output[BLOCK - 1]
    }
}

/// The two transforms of one block step and nothing else.
struct FftOnly {
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
    time: Vec<f32>,
    spectrum: Vec<Complex32>,
    output: Vec<f32>,
    scratch: Vec<Complex32>,
}

impl FftOnly {
    fn new() -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let forward = planner.plan_fft_forward(FFT_SIZE);
        let inverse = planner.plan_fft_inverse(FFT_SIZE);
        let scratch_len = forward.get_scratch_len().max(inverse.get_scratch_len());
        FftOnly {
            forward,
            inverse,
            time: vec![0.0; FFT_SIZE],
            spectrum: vec![Complex32::default(); BINS],
            output: vec![0.0; FFT_SIZE],
            scratch: vec![Complex32::default(); scratch_len],
        }
    }
}

impl Step for FftOnly {
    fn step(&mut self, input: &[f32]) -> f32 {
        self.time[..BLOCK].copy_from_slice(input);
        self.time[BLOCK..].copy_from_slice(input);
        self.forward
            .process_with_scratch(&mut self.time, &mut self.spectrum, &mut self.scratch)
            .expect("buffers sized for the plan");
        // The forward transform leaves DC and Nyquist exactly real, as the
        // inverse requires.
        self.inverse
            .process_with_scratch(&mut self.spectrum, &mut self.output, &mut self.scratch)
            .expect("buffers sized for the plan");
        self.output[FFT_SIZE - 1]
    }
}

fn run<S: Step>(engine: &mut S, input: &[Vec<f32>], iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        let block = &input[i as usize % input.len()];
        black_box(engine.step(black_box(block)));
    }
    start.elapsed()
}

/// Per case, per sample: ns per block step of the case and of its
/// comparison, sampled right after it.
struct Row {
    filter: &'static str,
    case: &'static str,
    comparison: &'static str,
    samples: Vec<(f64, f64)>,
}
static SIDE_BY_SIDE: Mutex<Vec<Row>> = Mutex::new(Vec::new());

fn record(
    (filter, case, comparison): (&'static str, &'static str, &'static str),
    own: Duration,
    other: Duration,
    iters: u64,
) {
    let per_step = |d: Duration| d.as_nanos() as f64 / iters as f64;
    let sample = (per_step(own), per_step(other));
    let mut rows = SIDE_BY_SIDE.lock().unwrap();
    match rows
        .iter_mut()
        .find(|r| (r.filter, r.case, r.comparison) == (filter, case, comparison))
    {
        Some(r) => r.samples.push(sample),
        None => rows.push(Row {
            filter,
            case,
            comparison,
            samples: vec![sample],
        }),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Times `case` with each sample followed by one of `comparison`.
fn side_by_side<A: Step, B: Step>(
    c: &mut Criterion,
    names: (&'static str, &'static str, &'static str),
    case: &mut A,
    comparison: &mut B,
    input: &[Vec<f32>],
) {
    let id = format!("convolver/{}/{}_vs_{}", names.0, names.1, names.2);
    c.bench_function(&id, |b| {
        b.iter_custom(|iters| {
            let own = run(case, input, iters);
            record(names, own, run(comparison, input, iters), iters);
            own
        })
    });
}

fn bench_filter(c: &mut Criterion, filter: &'static str, h: &[f32], plans: &FftPlans) {
    let signal = synthetic::noise(INPUT_BLOCKS * BLOCK, 17);
    let agreement = peer::compare(h, &signal);
    assert!(
        agreement.relative_difference < peer::TOLERANCE && agreement.relative_peak > 0.01,
        "{filter}: ours and fft-convolver disagree: {agreement:?}"
    );
    eprintln!(
        "{filter}: ours and fft-convolver agree within {:.2e} of max|x|·Σ|h| (tolerance {:.0e})",
        agreement.relative_difference,
        peer::TOLERANCE
    );
    let input: Vec<Vec<f32>> = signal.chunks_exact(BLOCK).map(<[f32]>::to_vec).collect();

    let mut ours = Ours(Convolver::new(h, plans).expect("a non-empty filter"));
    let mut theirs = Theirs {
        convolver: peer::fft_convolver(h),
        output: vec![0.0; BLOCK],
    };
    let mut fft_only = FftOnly::new();
    // Set-up is done; a block step of each allocates nothing.
    allocgate::assert_no_alloc(|| ours.step(&input[0]));
    allocgate::assert_no_alloc(|| theirs.step(&input[0]));
    allocgate::assert_no_alloc(|| fft_only.step(&input[0]));

    let names = |case, comparison| (filter, case, comparison);
    side_by_side(
        c,
        names("ours", "fft_convolver"),
        &mut ours,
        &mut theirs,
        &input,
    );
    side_by_side(
        c,
        names("ours", "fft_only"),
        &mut ours,
        &mut fft_only,
        &input,
    );
    side_by_side(
        c,
        names("fft_convolver", "fft_only"),
        &mut theirs,
        &mut fft_only,
        &input,
    );
}

fn main() {
    allocgate::check_installed().expect("allocgate is the global allocator here");
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let plans = FftPlans::new();
    bench_filter(&mut c, "kemar_558", &peer::kemar_filter(), &plans);
    let synthetic = peer::synthetic_filter();
    assert_eq!(synthetic.len(), peer::SYNTHETIC_TAPS);
    bench_filter(&mut c, "synthetic_4096", &synthetic, &plans);
    c.final_summary();

    let rows = SIDE_BY_SIDE.lock().unwrap();
    if rows.is_empty() {
        return; // a filtered or --list run
    }
    // Medians over samples (warm-up samples included), robust to the odd
    // preempted sample on a shared machine.
    println!(
        "\n| filter | case | ns per block (median) | comparison | comparison ns per block, interleaved | ratio case/comparison (median of per-sample ratios) |"
    );
    println!("|---|---|---:|---|---:|---:|");
    for r in rows.iter() {
        let own = median(r.samples.iter().map(|s| s.0).collect());
        let other = median(r.samples.iter().map(|s| s.1).collect());
        let ratio = median(r.samples.iter().map(|s| s.0 / s.1).collect());
        println!(
            "| {} | {} | {own:.0} | {} | {other:.0} | {ratio:.3} |",
            r.filter, r.case, r.comparison
        );
    }
}
