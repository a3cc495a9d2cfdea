//! The page's plots: inline SVG drawn by `plotters` into a string.
//!
//! Every label drawn here is the page's own wording or a number; text from
//! a report (names, functions) stays in the HTML around the plots, where
//! [`escape`](super::escape) handles it. `plotters` escapes SVG text
//! itself all the same. Text names only the generic `sans-serif` family,
//! and nothing refers outside the SVG.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::report::{LatencyBucketRow, TimelineBin};

use super::ticks;

/// Width and height of every plot, in SVG pixels; CSS scales them down to
/// the viewport.
const SIZE: (u32, u32) = (540, 300);

/// The one font family the plots name.
const FONT: &str = "sans-serif";

/// Margin around every plot, in SVG pixels.
const MARGIN: u32 = 12;

/// Width of a plot's x axis with a y label area `y_labels` wide.
fn plot_width(y_labels: u32) -> f64 {
    f64::from(SIZE.0 - 2 * MARGIN - y_labels)
}

/// The before run's colour (blue).
pub(super) const BEFORE: RGBColor = RGBColor(0x3b, 0x6e, 0xa8);
/// The after run's colour (orange).
pub(super) const AFTER: RGBColor = RGBColor(0xe0, 0x7b, 0x1f);
/// Callbacks that touched the allocator (red).
pub(super) const ALLOCATED: RGBColor = RGBColor(0xc0, 0x39, 0x2b);
/// Callbacks that did not (green).
pub(super) const NOT_ALLOCATED: RGBColor = RGBColor(0x2e, 0x8b, 0x57);

/// One named, coloured set of values in a plot.
pub(super) struct Series<'a, T: ?Sized> {
    /// Legend text: the page's own words.
    pub label: &'static str,
    pub color: RGBColor,
    pub data: &'a T,
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Draws with `draw` on a fresh white SVG canvas and returns the SVG
/// element, or what went wrong as a sentence.
fn svg(draw: impl FnOnce(&Area<'_>) -> DrawResult) -> Result<String, String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    // Inline SVG in HTML needs no namespace, and the page names no URL.
    Ok(buf.replace(r#" xmlns="http://www.w3.org/2000/svg""#, ""))
}

fn text(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

/// Overlaid latency histograms on a logarithmic duration axis, in µs:
/// each bucket a translucent bar as high as its share of the series'
/// callbacks. At least one series must hold a bucket.
pub(super) fn latency_overlay(series: &[Series<'_, [LatencyBucketRow]>]) -> Result<String, String> {
    // A bucket spans lower..=upper ns: draw it from lower to upper + 1,
    // and the 0 ns bucket from 0.5 to 1 (the log axis has no 0).
    let span = |b: &LatencyBucketRow| {
        let lo = if b.lower_ns == 0 {
            0.5
        } else {
            b.lower_ns as f64
        };
        (lo / 1e3, (b.upper_ns as f64 + 1.0) / 1e3)
    };
    let bars = || series.iter().flat_map(|s| s.data.iter().map(span));
    let lo = bars().map(|(lo, _)| lo).fold(f64::INFINITY, f64::min);
    let hi = bars().map(|(_, hi)| hi).fold(0.0, f64::max);
    if !(lo.is_finite() && hi > lo) {
        return Err("nothing to plot".to_owned());
    }
    // A margin on both sides; the ticks are chosen for the range itself,
    // however narrow or wide.
    let (lo, hi) = (lo / 1.3, hi * 1.3);
    let y_labels = 48;
    let key_points: Vec<f64> = ticks::log_ticks(lo * 1e3, hi * 1e3, plot_width(y_labels))
        .into_iter()
        .map(|ns| ns as f64 / 1e3)
        .collect();
    let share = |s: &Series<'_, [LatencyBucketRow]>, b: &LatencyBucketRow| {
        let total: u64 = s.data.iter().map(|b| b.count).sum();
        100.0 * b.count as f64 / total.max(1) as f64
    };
    let top = series
        .iter()
        .flat_map(|s| s.data.iter().map(move |b| share(s, b)))
        .fold(0.0, f64::max);
    svg(|root| {
        let mut chart = ChartBuilder::on(root)
            .margin(MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(y_labels)
            .build_cartesian_2d(
                (lo..hi).log_scale().with_key_points(key_points),
                0.0..top * 1.1,
            )?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .disable_x_mesh()
            .x_desc("callback duration (µs, log scale)")
            .y_desc("% of callbacks")
            .x_label_formatter(&|v| ticks::label((v * 1e3).round() as u64))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style(text(14))
            .axis_desc_style(text(15))
            .draw()?;
        for s in series {
            let fill = s.color.mix(0.45).filled();
            chart
                .draw_series(s.data.iter().map(|b| {
                    let (x0, x1) = span(b);
                    Rectangle::new([(x0, 0.0), (x1, share(s, b))], fill)
                }))?
                .label(s.label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], fill));
        }
        legend(&mut chart)
    })
}

/// Allocations per callback over device time, one line per series; bins
/// without callbacks are left out. At least one series must hold a bin
/// with callbacks.
pub(super) fn timeline(series: &[Series<'_, [TimelineBin]>]) -> Result<String, String> {
    let points = |s: &Series<'_, [TimelineBin]>| -> Vec<(f64, f64)> {
        s.data
            .iter()
            .filter(|b| b.callbacks > 0)
            .map(|b| {
                (
                    b.start_s + b.width_s / 2.0,
                    b.allocations as f64 / b.callbacks as f64,
                )
            })
            .collect()
    };
    let lines: Vec<Vec<(f64, f64)>> = series.iter().map(points).collect();
    let end = series
        .iter()
        .flat_map(|s| s.data.iter().map(|b| b.start_s + b.width_s))
        .fold(0.0, f64::max);
    if lines.iter().all(Vec::is_empty) || end <= 0.0 {
        return Err("nothing to plot".to_owned());
    }
    let top = lines
        .iter()
        .flatten()
        .map(|&(_, y)| y)
        .fold(0.0, f64::max)
        .max(1.0);
    svg(|root| {
        let mut chart = ChartBuilder::on(root)
            .margin(MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..end, 0.0..top * 1.1)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_desc("device time (s)")
            .y_desc("allocations per callback")
            .x_label_formatter(&|v| trim(*v))
            .y_label_formatter(&|v| trim(*v))
            .label_style(text(14))
            .axis_desc_style(text(15))
            .draw()?;
        for (s, line) in series.iter().zip(lines) {
            let color = s.color;
            let style = color.stroke_width(2);
            chart
                .draw_series(LineSeries::new(line.iter().copied(), style))?
                .label(s.label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 12, y)], style));
            // A line of one point draws nothing: mark every point.
            chart.draw_series(line.iter().map(|&p| Circle::new(p, 2, color.filled())))?;
        }
        legend(&mut chart)
    })
}

/// Grouped bars: for each category, one bar per series, side by side.
/// Every series holds one value per category.
pub(super) fn grouped_bars(
    categories: &[String],
    y_desc: &str,
    series: &[Series<'_, [f64]>],
) -> Result<String, String> {
    let n = categories.len();
    if n == 0 || series.is_empty() {
        return Err("nothing to plot".to_owned());
    }
    let top = series
        .iter()
        .flat_map(|s| s.data.iter().copied())
        .fold(0.0, f64::max);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    // Category i is centred on x = i, so the axis's whole numbers label
    // the categories; each category's bars share the middle 80 % of it.
    let label = |x: f64| {
        let i = x.round();
        if (x - i).abs() > 1e-9 || i < 0.0 {
            return String::new();
        }
        categories.get(i as usize).cloned().unwrap_or_default()
    };
    let bar = 0.8 / series.len() as f64;
    svg(|root| {
        let mut chart = ChartBuilder::on(root)
            .margin(MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.5..n as f64 - 0.5, 0.0..top)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .disable_x_mesh()
            .x_labels(n.min(24))
            .x_desc("macOS malloc size class")
            .y_desc(y_desc)
            .x_label_formatter(&|v| label(*v))
            .y_label_formatter(&|v| trim(*v))
            .label_style(text(13))
            .axis_desc_style(text(15))
            .draw()?;
        for (k, s) in series.iter().enumerate() {
            let fill = s.color.filled();
            chart
                .draw_series(s.data.iter().enumerate().map(|(i, &v)| {
                    let x0 = i as f64 - 0.4 + bar * k as f64;
                    Rectangle::new([(x0, 0.0), (x0 + bar, v)], fill)
                }))?
                .label(s.label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], fill));
        }
        legend(&mut chart)
    })
}

fn legend<'a, X, Y>(chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>) -> DrawResult
where
    X: Ranged,
    Y: Ranged,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(text(15))
        .draw()?;
    Ok(())
}

/// A number with at most three decimals and no trailing zeros.
fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_numbers_drop_trailing_zeros() {
        assert_eq!(trim(2.0), "2");
        assert_eq!(trim(0.25), "0.25");
        assert_eq!(trim(0.0), "0");
    }

    #[test]
    fn a_plot_is_one_svg_element_naming_only_a_generic_font() {
        let buckets = [LatencyBucketRow {
            lower_ns: 96,
            upper_ns: 103,
            count: 3,
        }];
        let svg = latency_overlay(&[Series {
            label: "before",
            color: BEFORE,
            data: &buckets[..],
        }])
        .unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert_eq!(svg.matches("<svg").count(), 1);
        assert!(!svg.contains("http"));
        for family in svg.split("font-family=\"").skip(1) {
            assert!(family.starts_with("sans-serif\""), "{family}");
        }
        assert!(svg.contains(">\nbefore\n</text>"));
    }

    /// The x axis's labels, in order: the texts of the plot that are
    /// numbers, less the y axis's (drawn first).
    fn numbers(svg: &str) -> Vec<String> {
        svg.split("</text>")
            .filter_map(|t| t.rsplit('>').next())
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.parse::<f64>().is_ok())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn duration_ticks_are_round_values_around_the_bars() {
        // Callbacks of 40 to 50 µs: ticks at 100, 200 and 300 µs would
        // leave the typical duration unreadable.
        let buckets: Vec<LatencyBucketRow> = (40..50)
            .map(|us| LatencyBucketRow {
                lower_ns: us * 1000,
                upper_ns: us * 1000 + 999,
                count: 5,
            })
            .collect();
        let svg = latency_overlay(&[Series {
            label: "before",
            color: BEFORE,
            data: &buckets[..],
        }])
        .unwrap();
        let labels = numbers(&svg);
        for tick in ["40", "45", "50"] {
            assert!(labels.iter().any(|l| l == tick), "{tick} in {labels:?}");
        }
        for far in ["100", "200", "300"] {
            assert!(!labels.iter().any(|l| l == far), "{far} in {labels:?}");
        }
    }

    #[test]
    fn plots_with_nothing_to_show_say_so_instead_of_drawing() {
        let none: [LatencyBucketRow; 0] = [];
        let series = [Series {
            label: "before",
            color: BEFORE,
            data: &none[..],
        }];
        assert!(latency_overlay(&series).is_err());
        let bins = [TimelineBin::default()];
        let series = [Series {
            label: "after",
            color: AFTER,
            data: &bins[..],
        }];
        assert!(timeline(&series).is_err());
        assert!(grouped_bars(&[], "requests", &[]).is_err());
    }
}
