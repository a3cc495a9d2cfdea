//! Tick marks for the duration plots' logarithmic axis: round durations
//! (1, 2, 5 … times a power of ten on a wide range, even steps on a
//! narrow one), as many as fit without their labels touching.
//!
//! Ticks are whole nanoseconds, labelled in µs exactly, so no two ticks
//! share a label and every label names its tick's position.

/// Width of one character of an axis label, in SVG pixels (14 px
/// sans-serif digits are about 8 px wide; a little more is safe).
const CHAR_PX: f64 = 8.5;

/// Least space between two labels, in SVG pixels.
const GAP_PX: f64 = 10.0;

/// At most this many ticks: more are clutter.
const MAX_TICKS: usize = 10;

/// How far a label may reach past the axis's ends, in SVG pixels: into
/// the y labels' area on the left, the chart's margin on the right.
const OVERHANG_PX: (f64, f64) = (40.0, 12.0);

/// Mantissas per decade on a wide range, finest first.
const DECADE_SETS: [&[u64]; 5] = [
    &[1, 2, 3, 4, 5, 6, 7, 8, 9],
    &[1, 2, 3, 5],
    &[1, 2, 5],
    &[1, 3],
    &[1],
];

/// A duration in whole nanoseconds as a µs label, exactly: `45`,
/// `1.5`, `0.045`.
pub(super) fn label(ns: u64) -> String {
    let (whole, frac) = (ns / 1000, ns % 1000);
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:03}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// The ticks of a logarithmic axis from `lo_ns` to `hi_ns` drawn
/// `width_px` wide: ascending whole nanoseconds within the range, the
/// most of any candidate set whose labels fit (at most [`MAX_TICKS`]).
/// Empty only when no whole nanosecond lies in the range.
pub(super) fn log_ticks(lo_ns: f64, hi_ns: f64, width_px: f64) -> Vec<u64> {
    if !(lo_ns > 0.0 && hi_ns > lo_ns && width_px > 0.0) {
        return Vec::new();
    }
    let x = |v: u64| width_px * (v as f64 / lo_ns).ln() / (hi_ns / lo_ns).ln();
    let half = |v: u64| label(v).len() as f64 * CHAR_PX / 2.0;
    // A label that would reach past the plot's edge is dropped, the
    // rest of its set kept.
    let inside = |v: &u64| {
        x(*v) - half(*v) >= -OVERHANG_PX.0 && x(*v) + half(*v) <= width_px + OVERHANG_PX.1
    };
    let apart = |ticks: &[u64]| {
        ticks
            .windows(2)
            .all(|w| x(w[1]) - x(w[0]) >= half(w[0]) + half(w[1]) + GAP_PX)
    };
    let mut best: Vec<u64> = Vec::new();
    for ticks in candidates(lo_ns, hi_ns) {
        let ticks: Vec<u64> = ticks.into_iter().filter(inside).collect();
        if ticks.len() > best.len() && ticks.len() <= MAX_TICKS && apart(&ticks) {
            best = ticks;
        }
    }
    if best.is_empty() {
        // Not even one label fits by the rules: the round value nearest
        // the middle, so the axis still says where it is.
        let mid = (lo_ns * hi_ns).sqrt();
        best = candidates(lo_ns, hi_ns)
            .flatten()
            .min_by(|a, b| {
                let d = |v: &u64| (*v as f64 / mid).ln().abs();
                d(a).total_cmp(&d(b))
            })
            .into_iter()
            .collect();
    }
    best
}

/// Widest range (`hi / lo`) that even steps may tick: beyond it they
/// crowd the top of the log axis and leave its bottom, where the typical
/// durations sit, bare.
const EVEN_STEPS_UP_TO: f64 = 4.0;

/// Candidate tick sets, each ascending and within `lo..=hi`: mantissas
/// per decade, every n-th decade, and on a narrow range multiples of an
/// even step.
fn candidates(lo: f64, hi: f64) -> impl Iterator<Item = Vec<u64>> {
    let within = move |v: u64| (v as f64) >= lo && (v as f64) <= hi;
    let decades = || (0..=19u32).map(|k| 10u64.pow(k));
    let per_decade = DECADE_SETS.into_iter().map(move |set| {
        decades()
            .flat_map(|p| set.iter().filter_map(move |m| m.checked_mul(p)))
            .filter(|&v| within(v))
            .collect::<Vec<u64>>()
    });
    let every_nth = (2..=6u32).map(move |n| {
        (0..=19u32)
            .step_by(n as usize)
            .map(|k| 10u64.pow(k))
            .filter(|&v| within(v))
            .collect()
    });
    let even = decades()
        .flat_map(|p| {
            [1u64, 2, 5]
                .into_iter()
                .filter_map(move |m| m.checked_mul(p))
        })
        .filter(move |_| hi / lo <= EVEN_STEPS_UP_TO)
        // Steps that give at most a few dozen ticks; the caller picks.
        .filter(move |&step| (hi - lo) / step as f64 <= 4.0 * MAX_TICKS as f64)
        .take(4)
        .map(move |step| {
            let first = (lo / step as f64).ceil() as u64;
            let last = (hi / step as f64).floor() as u64;
            (first.max(1)..=last).map(|i| i * step).collect()
        });
    per_decade.chain(every_nth).chain(even)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plots' axis width: 540 px less margins and the y labels.
    const WIDTH: f64 = 468.0;

    #[test]
    fn labels_are_exact_microseconds() {
        assert_eq!(label(45_000), "45");
        assert_eq!(label(1_500), "1.5");
        assert_eq!(label(45), "0.045");
        assert_eq!(label(10_000_000), "10000");
        assert_eq!(label(0), "0");
    }

    /// Ticks for every range from a few µs to tens of ms (and the
    /// extremes): within the range, ascending, distinct labels, labels
    /// apart by at least their widths and the gap.
    #[test]
    fn ticks_fit_every_range_and_their_labels_never_overlap() {
        let ranges_us = [
            (0.0004, 0.0013),
            (0.07, 0.13),
            (2.0, 5.0),
            (3.0, 40.0),
            (35.0, 60.0),
            (40.0, 50.0),
            (30.0, 16_000.0),
            (8.0, 400.0),
            (90.0, 110.0),
            (1_000.0, 30_000.0),
            (5_000.0, 40_000.0),
            (0.5, 1_000_000.0),
            (2.1, 33.0),
            (2.3, 130.0),
        ];
        for (lo_us, hi_us) in ranges_us {
            let (lo, hi) = (lo_us * 1e3, hi_us * 1e3);
            let ticks = log_ticks(lo, hi, WIDTH);
            let what = format!("{lo_us}..{hi_us} µs: {ticks:?}");
            // Three ticks wherever three round values fit; the sub-ns
            // range holds one whole nanosecond.
            let min = if hi - lo >= 10.0 { 3 } else { 1 };
            assert!(ticks.len() >= min && ticks.len() <= MAX_TICKS, "{what}");
            assert!(ticks.windows(2).all(|w| w[0] < w[1]), "{what}");
            assert!(
                ticks.iter().all(|&t| t as f64 >= lo && t as f64 <= hi),
                "{what}"
            );
            let labels: Vec<String> = ticks.iter().map(|&t| label(t)).collect();
            let mut unique = labels.clone();
            unique.dedup();
            assert_eq!(unique, labels, "{what}");
            if hi / lo >= 4.0 {
                // Both ends of a wide range are ticked, the bottom (the
                // typical durations) above all.
                let (first, last) = (ticks[0] as f64, ticks[ticks.len() - 1] as f64);
                assert!(first <= 2.0 * lo && last >= hi / 10.0, "{what}");
            }
            let x = |v: u64| WIDTH * (v as f64 / lo).ln() / (hi / lo).ln();
            for w in ticks.windows(2) {
                let room = (label(w[0]).len() + label(w[1]).len()) as f64 * CHAR_PX / 2.0;
                assert!(x(w[1]) - x(w[0]) >= room + GAP_PX, "{what}");
            }
        }
    }

    #[test]
    fn a_narrow_range_gets_even_steps_that_name_its_typical_value() {
        // Bars near 45 µs, padded: the ticks must sit around them, not at
        // 100, 200, 300.
        let ticks = log_ticks(35_000.0, 60_000.0, WIDTH);
        assert!(
            ticks.contains(&40_000) && ticks.contains(&50_000),
            "{ticks:?}"
        );
        assert!(ticks.len() >= 4, "{ticks:?}");
    }

    #[test]
    fn a_wide_range_gets_round_values_in_every_decade() {
        let ticks = log_ticks(30_000.0, 16_000_000.0, WIDTH);
        for t in [100_000, 1_000_000, 10_000_000] {
            assert!(ticks.contains(&t), "{ticks:?}");
        }
        assert!(
            ticks.iter().any(|&t| t < 100_000),
            "a tick below 100 µs: {ticks:?}"
        );
    }
}
