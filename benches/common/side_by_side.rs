//! Side-by-side samples for the overhead benches: each sample of a case is
//! paired with a sample of its comparison taken right before or after it,
//! and the table printed at the end gives medians over samples (warm-up
//! samples included, robust to the odd preempted sample on a shared
//! machine) and the median of the per-sample ratios.

use std::sync::Mutex;
use std::time::Duration;

/// Per case, per sample: ns per iteration of the case and of its
/// comparison.
type Samples = Vec<(&'static str, Vec<(f64, f64)>)>;
static SIDE_BY_SIDE: Mutex<Samples> = Mutex::new(Vec::new());

/// Records one pair of samples of `case`, each `iters` iterations long.
pub fn record(case: &'static str, own: Duration, other: Duration, iters: u64) {
    let per_iter = |d: Duration| d.as_nanos() as f64 / iters as f64;
    let sample = (per_iter(own), per_iter(other));
    let mut rows = SIDE_BY_SIDE.lock().unwrap();
    match rows.iter_mut().find(|r| r.0 == case) {
        Some(r) => r.1.push(sample),
        None => rows.push((case, vec![sample])),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Prints the markdown table of every case recorded, under `header` (four
/// columns: case, own ns, comparison ns, ratio); nothing for a filtered or
/// `--list` run that recorded none.
pub fn print_table(header: &str) {
    let rows = SIDE_BY_SIDE.lock().unwrap();
    if rows.is_empty() {
        return;
    }
    println!("\n{header}");
    println!("|---|---:|---:|---:|");
    for (case, samples) in rows.iter() {
        let own = median(samples.iter().map(|s| s.0).collect());
        let other = median(samples.iter().map(|s| s.1).collect());
        let ratio = median(samples.iter().map(|s| s.0 / s.1).collect());
        println!("| {case} | {own:.2} | {other:.2} | {ratio:.3} |");
    }
}
