//! What the engine's callbacks cost, variant against variant, and what
//! measuring them costs.
//!
//! ```text
//! cargo bench --bench callback              # everything (about 3 minutes)
//! cargo bench --bench callback -- callback/ # the variants only
//! cargo bench --bench callback -- scaling/  # the scaling tables only
//! ```
//!
//! - `callback/{input,output}/VARIANT`: one callback at 7.1, 48 kHz, 512
//!   frames, embedded KEMAR preset, steady state (each output callback
//!   preceded by an untimed input callback, so the ring always has its
//!   block). Every sample of a variant is followed by a sample of `fixed`
//!   of the same length, and the tables print the median of the
//!   per-sample ratios: side by side, not minutes apart.
//! - `callback/measured_output/VARIANT`: the same output callback through
//!   the harness's own wrapper (`allocgate_tool::drive::callback::output`:
//!   measured scope, site tag, timing, record), each sample followed by
//!   one of the bare callback: the harness's share of a callback.
//! - `callback/rusage_output/{fixed,optimized}`: the measured output
//!   callback with `--rusage`'s two `getrusage(RUSAGE_THREAD)` readings
//!   around it, each sample followed by one without: what the readings
//!   cost per callback.
//! - `callback/fft_bound/{fixed,optimized}`: the FFTs alone that one 7.1
//!   output callback of each design needs (fixed: 16 forward and 16
//!   inverse real transforms of 1 024 points; optimized: 4 forward and 1
//!   inverse complex ones), each sample followed by one of that
//!   variant's output callback: the lower bound, and how far above it
//!   the callback is.
//! - `scaling/channels/VARIANT/C`, `scaling/partitions/VARIANT/P`,
//!   `scaling/frames/VARIANT/N`: the output callback against speakers
//!   (synthetic filters, one speaker per channel), filter length in
//!   512-tap partitions, and frames per callback; the tables print the
//!   cost per unit and a least-squares line through the points.
//!
//! Before it is timed, each engine's steady state is measured with
//! allocgate's counting allocator: no allocator call for `fixed` and
//! `optimized`, some for `seed` and `prefix`.

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use allocgate::{CountingAlloc, measure};
use allocgate_engine::buffers::{BufferList, OwnedBufferList};
use allocgate_engine::convolver::EarFilters;
use allocgate_engine::preset::Preset;
use allocgate_engine::sites::SiteSet;
use allocgate_engine::variant::Variant;
use allocgate_engine::{Engine, EngineConfig, MAX_FRAMES, synthetic};
use allocgate_tool::drive::callback::{Meter, Slot, output as measured_output, period_ns};
use criterion::{BenchmarkId, Criterion};
use realfft::RealFftPlanner;
use realfft::num_complex::Complex32;
use rustfft::FftPlanner;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::system();

const RATE: u32 = 48_000;

/// An engine with its device buffers, running callbacks in lockstep.
struct Bench {
    engine: Engine,
    channels: usize,
    source: OwnedBufferList,
    out: OwnedBufferList,
    frames: usize,
    index: u64,
}

/// What an engine renders.
enum Filters<'a> {
    Preset(&'a Preset),
    Synthetic(&'a [EarFilters]),
}

impl Bench {
    fn new(variant: Variant, channels: usize, frames: usize, filters: Filters<'_>) -> Bench {
        let config = EngineConfig::new(channels, RATE).with_variant(variant, SiteSet::EMPTY);
        let mut engine = Engine::new(&config).expect("a valid configuration");
        match filters {
            Filters::Preset(p) => engine.control.activate(p),
            Filters::Synthetic(f) => engine.control.activate_filters("synthetic", f),
        }
        .expect("renderers build");
        let mut source = OwnedBufferList::new(channels, MAX_FRAMES);
        for (c, ch) in source.channels_mut(MAX_FRAMES).enumerate() {
            ch.copy_from_slice(&synthetic::noise(MAX_FRAMES, c as u64 + 1));
            ch.iter_mut().for_each(|x| *x *= 0.5);
        }
        let mut b = Bench {
            engine,
            channels,
            source,
            out: OwnedBufferList::new(2, MAX_FRAMES),
            frames,
            index: 0,
        };
        // Past buffering, every set adopted, every lazy path taken; then
        // the steady state must not touch the allocator.
        for _ in 0..8 {
            b.input();
            b.output();
        }
        let m = measure(|| {
            for _ in 0..4 {
                b.input();
                b.output();
            }
        });
        let calls = m.stats.counts.calls();
        assert_eq!(
            calls == 0,
            variant.sites().is_empty(),
            "{} at {channels} channels: {calls} allocator calls in 4 callback pairs; \
             allocation-free variants make none, the others some",
            variant.name()
        );
        b
    }

    fn input(&mut self) {
        let (source, channels, frames) = (&self.source, self.channels, self.frames);
        self.engine
            .input
            .process(frames, |list: &mut BufferList<'_>| {
                for c in 0..channels {
                    let Some(dst) = list.channel_mut(c) else {
                        return false;
                    };
                    dst[..frames].copy_from_slice(source.channel(c, frames));
                }
                true
            });
    }

    fn output(&mut self) {
        let mut view = self.out.view();
        view.set_frames(self.frames);
        black_box(self.engine.output.process(&mut view, self.frames));
    }

    fn measured_output(&mut self, meter: Meter) {
        let slot = Slot {
            index: self.index,
            device_time: self.index * self.frames as u64,
            frames: self.frames as u32,
            period_ns: period_ns(self.frames as u32, RATE),
            warm_up: false,
        };
        self.index += 1;
        let mut view = self.out.view();
        view.set_frames(self.frames);
        black_box(measured_output(
            &mut self.engine.output,
            meter,
            slot,
            &mut view,
        ));
    }

    /// `iters` output callbacks, each after an untimed input callback.
    /// Through the harness with `meter`, or bare with `None`.
    fn time_outputs(&mut self, iters: u64, meter: Option<Meter>) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            self.input();
            let start = Instant::now();
            match meter {
                Some(m) => self.measured_output(m),
                None => self.output(),
            }
            total += start.elapsed();
        }
        total
    }

    /// `iters` input callbacks, the ring drained by an untimed output
    /// callback after each.
    fn time_inputs(&mut self, iters: u64) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let start = Instant::now();
            self.input();
            total += start.elapsed();
            self.output();
        }
        total
    }
}

/// Per case: per sample, ns per iteration of the case and of its
/// comparison, timed right after it.
type Samples = Vec<(String, Vec<(f64, f64)>)>;
static PAIRS: Mutex<Samples> = Mutex::new(Vec::new());
/// Per case: per sample, ns per iteration.
static SINGLES: Mutex<Samples> = Mutex::new(Vec::new());

fn ns(d: Duration, iters: u64) -> f64 {
    d.as_nanos() as f64 / iters as f64
}

fn record(table: &Mutex<Samples>, case: &str, sample: (f64, f64)) {
    let mut rows = table.lock().unwrap();
    match rows.iter_mut().find(|r| r.0 == case) {
        Some(r) => r.1.push(sample),
        None => rows.push((case.to_owned(), vec![sample])),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn callbacks(c: &mut Criterion, kemar: &Preset) {
    let mut g = c.benchmark_group("callback");
    let mut fixed = Bench::new(Variant::Fixed, 8, 512, Filters::Preset(kemar));
    for variant in Variant::ALL {
        let mut b = Bench::new(variant, 8, 512, Filters::Preset(kemar));
        let name = variant.name();
        g.bench_function(BenchmarkId::new("output", name), |bencher| {
            bencher.iter_custom(|iters| {
                let own = b.time_outputs(iters, BARE);
                let reference = fixed.time_outputs(iters, BARE);
                record(
                    &PAIRS,
                    &format!("output/{name}"),
                    (ns(own, iters), ns(reference, iters)),
                );
                own
            })
        });
        g.bench_function(BenchmarkId::new("input", name), |bencher| {
            bencher.iter_custom(|iters| {
                let own = b.time_inputs(iters);
                let reference = fixed.time_inputs(iters);
                record(
                    &PAIRS,
                    &format!("input/{name}"),
                    (ns(own, iters), ns(reference, iters)),
                );
                own
            })
        });
        g.bench_function(BenchmarkId::new("measured_output", name), |bencher| {
            bencher.iter_custom(|iters| {
                let own = b.time_outputs(iters, COUNTED);
                let bare = b.time_outputs(iters, BARE);
                record(
                    &PAIRS,
                    &format!("measured_output/{name}"),
                    (ns(own, iters), ns(bare, iters)),
                );
                own
            })
        });
        if !matches!(variant, Variant::Fixed | Variant::Optimized) {
            continue;
        }
        g.bench_function(BenchmarkId::new("rusage_output", name), |bencher| {
            bencher.iter_custom(|iters| {
                let own = b.time_outputs(iters, WITH_USAGE);
                let counted = b.time_outputs(iters, COUNTED);
                record(
                    &PAIRS,
                    &format!("rusage_output/{name}"),
                    (ns(own, iters), ns(counted, iters)),
                );
                own
            })
        });
    }
    let mut optimized = Bench::new(Variant::Optimized, 8, 512, Filters::Preset(kemar));
    for (variant, bench, mut fft) in [
        (Variant::Fixed, &mut fixed, FftWork::reference(8)),
        (Variant::Optimized, &mut optimized, FftWork::spectral(8)),
    ] {
        let name = variant.name();
        g.bench_function(BenchmarkId::new("fft_bound", name), |bencher| {
            bencher.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    fft.run();
                }
                let own = start.elapsed();
                let callback = bench.time_outputs(iters, BARE);
                record(
                    &PAIRS,
                    &format!("fft_bound/{name}"),
                    (ns(own, iters), ns(callback, iters)),
                );
                own
            })
        });
    }
    g.finish();
}

/// Forward and inverse real transforms.
type RealPlans = (
    Arc<dyn realfft::RealToComplex<f32>>,
    Arc<dyn realfft::ComplexToReal<f32>>,
);
/// Forward and inverse complex transforms.
type ComplexPlans = (Arc<dyn rustfft::Fft<f32>>, Arc<dyn rustfft::Fft<f32>>);

/// The transforms of one output block, alone: what no implementation of
/// that design can go below.
struct FftWork {
    real: Option<RealPlans>,
    complex: Option<ComplexPlans>,
    /// Forward and inverse transforms per block.
    counts: (usize, usize),
    time: Vec<f32>,
    spectrum: Vec<Complex32>,
    buffer: Vec<Complex32>,
    scratch: Vec<Complex32>,
}

impl FftWork {
    /// The reference renderer: 2 × speakers real transforms each way.
    fn reference(speakers: usize) -> FftWork {
        let mut planner = RealFftPlanner::<f32>::new();
        let (f, i) = (
            planner.plan_fft_forward(1024),
            planner.plan_fft_inverse(1024),
        );
        let scratch = f.get_scratch_len().max(i.get_scratch_len());
        FftWork {
            real: Some((f, i)),
            complex: None,
            counts: (2 * speakers, 2 * speakers),
            time: synthetic::noise(1024, 7),
            spectrum: vec![Complex32::default(); 513],
            buffer: Vec::new(),
            scratch: vec![Complex32::default(); scratch],
        }
    }

    /// The spectral renderer: ⌈speakers / 2⌉ complex forward transforms
    /// and one inverse.
    fn spectral(speakers: usize) -> FftWork {
        let mut planner = FftPlanner::<f32>::new();
        let (f, i) = (
            planner.plan_fft_forward(1024),
            planner.plan_fft_inverse(1024),
        );
        let scratch = f.get_inplace_scratch_len().max(i.get_inplace_scratch_len());
        let noise = synthetic::noise(2048, 7);
        FftWork {
            real: None,
            complex: Some((f, i)),
            counts: (speakers.div_ceil(2), 1),
            time: Vec::new(),
            spectrum: Vec::new(),
            buffer: noise
                .chunks(2)
                .map(|p| Complex32::new(p[0], p[1]))
                .collect(),
            scratch: vec![Complex32::default(); scratch],
        }
    }

    fn run(&mut self) {
        let (forward, inverse) = self.counts;
        if let Some((f, i)) = &self.real {
            for _ in 0..forward {
                f.process_with_scratch(&mut self.time, &mut self.spectrum, &mut self.scratch)
                    .expect("sized for the plan");
            }
            for _ in 0..inverse {
                self.spectrum[0].im = 0.0;
                self.spectrum[512].im = 0.0;
                i.process_with_scratch(&mut self.spectrum, &mut self.time, &mut self.scratch)
                    .expect("sized for the plan");
            }
        }
        if let Some((f, i)) = &self.complex {
            for _ in 0..forward {
                f.process_with_scratch(&mut self.buffer, &mut self.scratch);
            }
            for _ in 0..inverse {
                i.process_with_scratch(&mut self.buffer, &mut self.scratch);
            }
        }
        black_box(&mut self.time);
        black_box(&mut self.buffer);
    }
}

const SCALED: [Variant; 2] = [Variant::Fixed, Variant::Optimized];
const CHANNELS: [usize; 5] = [2, 6, 8, 12, 16];
const PARTITIONS: [usize; 6] = [1, 2, 4, 8, 12, 16];
const FRAMES: [usize; 6] = [64, 128, 256, 512, 1024, 2048];
/// The KEMAR filters' length: 558 taps, 2 partitions.
const KEMAR_TAPS: usize = 558;

fn scaling_case(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    axis: &str,
    variant: Variant,
    x: usize,
    mut b: Bench,
) {
    let case = format!("{axis}/{}/{x}", variant.name());
    g.bench_function(
        BenchmarkId::new(format!("{axis}/{}", variant.name()), x),
        |bencher| {
            bencher.iter_custom(|iters| {
                let own = b.time_outputs(iters, BARE);
                record(&SINGLES, &case, (ns(own, iters), 0.0));
                own
            })
        },
    );
}

fn scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("scaling");
    g.warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20);
    for variant in SCALED {
        for ch in CHANNELS {
            let f = synthetic::ear_filters(ch, KEMAR_TAPS);
            let b = Bench::new(variant, ch, 512, Filters::Synthetic(&f));
            scaling_case(&mut g, "channels", variant, ch, b);
        }
        for p in PARTITIONS {
            let f = synthetic::ear_filters(8, p * 512);
            let b = Bench::new(variant, 8, 512, Filters::Synthetic(&f));
            scaling_case(&mut g, "partitions", variant, p, b);
        }
        for n in FRAMES {
            let f = synthetic::ear_filters(8, KEMAR_TAPS);
            let b = Bench::new(variant, 8, n, Filters::Synthetic(&f));
            scaling_case(&mut g, "frames", variant, n, b);
        }
    }
    g.finish();
}

/// The bare callback.
const BARE: Option<Meter> = None;
/// Through the harness, allocations counted: the default.
const COUNTED: Option<Meter> = Some(Meter {
    allocations: true,
    rusage: false,
});
/// Through the harness with `--rusage`'s two readings around it.
const WITH_USAGE: Option<Meter> = Some(Meter {
    allocations: true,
    rusage: true,
});

fn print_callback_tables() {
    let rows = PAIRS.lock().unwrap();
    if rows.is_empty() {
        return;
    }
    println!(
        "\n| callback, 7.1, 48 kHz / 512, KEMAR | µs (median) | fixed, interleaved (µs) | fixed / this (median of per-sample ratios) |"
    );
    println!("|---|---:|---:|---:|");
    let variants =
        |r: &&(String, Vec<(f64, f64)>)| r.0.starts_with("output") || r.0.starts_with("input");
    for (case, samples) in rows.iter().filter(variants) {
        let own = median(samples.iter().map(|s| s.0).collect()) / 1e3;
        let fixed = median(samples.iter().map(|s| s.1).collect()) / 1e3;
        let speedup = median(samples.iter().map(|s| s.1 / s.0).collect());
        println!("| {case} | {own:.2} | {fixed:.2} | {speedup:.2}× |");
    }
    println!(
        "\n| the FFTs alone of one 7.1 output block | FFTs µs (median) | output callback, interleaved (µs) | callback / FFTs (median of per-sample ratios) |"
    );
    println!("|---|---:|---:|---:|");
    for (case, samples) in rows.iter().filter(|r| r.0.starts_with("fft_bound")) {
        let own = median(samples.iter().map(|s| s.0).collect()) / 1e3;
        let callback = median(samples.iter().map(|s| s.1).collect()) / 1e3;
        let ratio = median(samples.iter().map(|s| s.1 / s.0).collect());
        println!("| {case} | {own:.2} | {callback:.2} | {ratio:.2} |");
    }
    println!(
        "\n| output callback through the harness | measured (µs) | bare, interleaved (µs) | harness share of the measured callback |"
    );
    println!("|---|---:|---:|---:|");
    for (case, samples) in rows.iter().filter(|r| r.0.starts_with("measured")) {
        let own = median(samples.iter().map(|s| s.0).collect());
        let bare = median(samples.iter().map(|s| s.1).collect());
        let share = median(samples.iter().map(|s| (s.0 - s.1) / s.0).collect());
        println!(
            "| {case} | {:.2} | {:.2} | {:.2} % ({:.0} ns) |",
            own / 1e3,
            bare / 1e3,
            share * 100.0,
            own - bare
        );
    }
    println!(
        "\n| output callback with --rusage | with usage readings (µs) | counted only, interleaved (µs) | readings' cost per callback (median of per-sample differences) |"
    );
    println!("|---|---:|---:|---:|");
    for (case, samples) in rows.iter().filter(|r| r.0.starts_with("rusage")) {
        let own = median(samples.iter().map(|s| s.0).collect());
        let counted = median(samples.iter().map(|s| s.1).collect());
        let cost = median(samples.iter().map(|s| s.0 - s.1).collect());
        println!(
            "| {case} | {:.2} | {:.2} | {cost:.0} ns ({:.2} % of the callback) |",
            own / 1e3,
            counted / 1e3,
            cost / own * 100.0
        );
    }
}

/// Least-squares line through `(x, y)`: slope, intercept, the largest
/// relative distance of a point from it, and R².
fn line(points: &[(f64, f64)]) -> (f64, f64, f64, f64) {
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let sxx: f64 = points.iter().map(|(x, _)| (x - mx) * (x - mx)).sum();
    let sxy: f64 = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let worst = points
        .iter()
        .map(|(x, y)| ((slope * x + intercept) - y).abs() / y)
        .fold(0.0, f64::max);
    let syy: f64 = points.iter().map(|(_, y)| (y - my) * (y - my)).sum();
    let residual: f64 = points
        .iter()
        .map(|(x, y)| (y - (slope * x + intercept)).powi(2))
        .sum();
    (slope, intercept, worst, 1.0 - residual / syy)
}

fn print_scaling_tables() {
    let rows = SINGLES.lock().unwrap();
    if rows.is_empty() {
        return;
    }
    let cost = |axis: &str, v: Variant, x: usize| {
        rows.iter()
            .find(|r| r.0 == format!("{axis}/{}/{x}", v.name()))
            .map(|r| median(r.1.iter().map(|s| s.0).collect()) / 1e3)
    };
    for (axis, xs, unit, what) in [
        (
            "channels",
            &CHANNELS[..],
            "channel",
            "speakers (input channels), 558-tap synthetic filters, 512 frames",
        ),
        (
            "partitions",
            &PARTITIONS[..],
            "partition",
            "512-tap partitions per filter, 8 speakers, 512 frames",
        ),
        (
            "frames",
            &FRAMES[..],
            "frame",
            "frames per callback, 8 speakers, 558-tap synthetic filters",
        ),
    ] {
        if !xs
            .iter()
            .any(|&x| SCALED.iter().any(|&v| cost(axis, v, x).is_some()))
        {
            continue; // filtered out
        }
        println!("\n{what}: output callback µs (median), and µs per {unit}");
        print!("| {axis} |");
        for v in SCALED {
            print!(" {} µs | {} µs per {unit} |", v.name(), v.name());
        }
        println!();
        println!("|---:|{}", "---:|---:|".repeat(SCALED.len()));
        for &x in xs {
            print!("| {x} |");
            for v in SCALED {
                match cost(axis, v, x) {
                    Some(c) => print!(" {c:.2} | {:.3} |", c / x as f64),
                    None => print!(" | |"),
                }
            }
            println!();
        }
        for v in SCALED {
            // Below 512 frames fixed renders nothing (the binauralizer's
            // unrendered remainder): its line is fitted where it renders
            // every frame.
            let renders_all =
                |x: usize| axis != "frames" || v != Variant::Fixed || x.is_multiple_of(512);
            let points: Vec<(f64, f64)> = xs
                .iter()
                .filter(|&&x| renders_all(x))
                .filter_map(|&x| cost(axis, v, x).map(|c| (x as f64, c)))
                .collect();
            if points.len() >= 3 {
                let (slope, intercept, worst, r2) = line(&points);
                println!(
                    "{}: least squares {slope:.3} µs per {unit} + {intercept:.2} µs over {} points, R² {r2:.4}; every point within {:.1} % of the line",
                    v.name(),
                    points.len(),
                    worst * 100.0
                );
            }
        }
    }
}

fn main() {
    allocgate::check_installed().expect("allocgate is the global allocator here");
    let kemar = Preset::kemar();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    callbacks(&mut c, &kemar);
    scaling(&mut c);
    c.final_summary();
    print_callback_tables();
    print_scaling_tables();
}
