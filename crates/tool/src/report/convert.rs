//! From [`Aggregates`] to the report's schema.

use std::time::Duration;

use crate::drive::sim;
use crate::metrics::{
    Aggregates, KindFigures, Latency, LatencySummary, PerCallback, Phase, Rates, Timeline, Totals,
};
use allocgate::Stats;
use allocgate::hazard::HazardTotals;
use allocgate::size_class::MacosBucket;
use allocgate_engine::sites::CallbackKind;

use super::blocking::{BlockingCalls, blocking_calls};
use super::environment::Environment;
use super::integrity::Integrity;
use super::schema::MEASURED_RATE_SECONDS;
use super::schema::{
    ByKind, HarnessReport, HazardsReport, KindHistograms, KindLatency, KindRates, KindSizeClasses,
    KindTotals, LatencyBucketRow, LatencyReport, LoadReport, MacosRegion, MacosRow, Pacing,
    PerCallbackRow, PhaseReport, RatesReport, Report, ReportConfig, RequestedRow, SCHEMA_VERSION,
    SizeClassesReport, TimelineBin, TotalsReport,
};

impl Report {
    /// The report of a run: what was run, where, what its records added up
    /// to, and the integrity verdict. `sites` is left empty.
    pub fn from_aggregates(
        config: ReportConfig,
        environment: Environment,
        aggregates: &Aggregates,
        integrity: Integrity,
    ) -> Report {
        let c_level = config.c_level;
        let all = phase(&aggregates.all, aggregates.duration, c_level);
        Report {
            schema_version: SCHEMA_VERSION,
            interrupted: None,
            config,
            environment,
            rates: rates(aggregates),
            totals: all.totals,
            allocations_per_callback: all.allocations_per_callback,
            size_classes: size_classes(aggregates),
            sites: Vec::new(),
            latency: all.latency,
            latency_histograms: by_kind(&aggregates.all, histograms),
            timeline: timeline(&aggregates.timeline),
            cpu_load: all.cpu_load,
            deadline_misses: all.deadline_misses,
            xruns: all.xruns,
            warm_up: phase(&aggregates.warm_up, aggregates.duration, c_level),
            steady_state: phase(&aggregates.steady_state, aggregates.duration, c_level),
            integrity,
            pacing: None,
            harness: HarnessReport::default(),
            backend: None,
            attach: None,
        }
    }
}

impl From<&sim::PacingReport> for Pacing {
    fn from(p: &sim::PacingReport) -> Pacing {
        Pacing {
            realtime_granted: matches!(p.realtime, sim::Realtime::Granted { .. }),
            realtime: p.realtime.to_string(),
            wakeups: p.wakeups,
            late_wakeups: p.late_wakeups,
            max_late_ns: p.max_late_ns,
        }
    }
}

fn by_kind<T>(phase: &Phase, f: impl Fn(&KindFigures) -> T) -> ByKind<T> {
    ByKind {
        input: f(&phase.input),
        output: f(&phase.output),
    }
}

fn phase(p: &Phase, duration: Duration, c_level: bool) -> PhaseReport {
    PhaseReport {
        totals: totals(p, c_level),
        allocations_per_callback: by_kind(p, |k| per_callback(&k.allocations_per_callback)),
        latency: by_kind(p, latency),
        cpu_load: by_kind(p, |k| LoadReport {
            mean: k.load.mean(),
            max: k.load.max(),
            share: k.time_share(duration),
        }),
        deadline_misses: by_kind(p, |k| k.deadline_misses),
        xruns: p.xruns(),
    }
}

/// The blocking calls of `t` by name, when the run counted them
/// (`c_level`), and the callbacks that made any.
fn blocking(t: &Totals, c_level: bool) -> (Option<BlockingCalls>, Option<u64>) {
    if !c_level {
        return (None, None);
    }
    (
        Some(blocking_calls(&t.blocking)),
        Some(t.hazards.callbacks_blocking),
    )
}

fn totals(p: &Phase, c_level: bool) -> TotalsReport {
    let both = p.totals();
    let c = &both.counts;
    let kind = |t: &Totals| {
        let (blocking_calls, callbacks_blocking) = blocking(t, c_level);
        KindTotals {
            blocking_calls,
            callbacks_blocking,
            ..KindTotals::from(t)
        }
    };
    let (blocking_calls, callbacks_blocking) = blocking(&both, c_level);
    TotalsReport {
        callbacks: by_kind(p, |k| k.totals.callbacks),
        callbacks_touching_allocator: both.touched_allocator,
        allocations: c.allocations,
        deallocations: c.deallocations,
        reallocations: c.reallocations,
        bytes: c.bytes_allocated,
        bytes_requested: c.bytes_requested(),
        bytes_deallocated: c.bytes_deallocated,
        blocking_calls,
        callbacks_blocking,
        input: kind(&p.input.totals),
        output: kind(&p.output.totals),
    }
}

impl From<&Totals> for KindTotals {
    fn from(t: &Totals) -> KindTotals {
        let c = &t.counts;
        KindTotals {
            callbacks: t.callbacks,
            callbacks_touching_allocator: t.touched_allocator,
            allocations: c.allocations,
            deallocations: c.deallocations,
            reallocations: c.reallocations,
            bytes: c.bytes_allocated,
            bytes_requested: c.bytes_requested(),
            bytes_deallocated: c.bytes_deallocated,
            largest_request_bytes: c.largest_request,
            frames: t.frames,
            wall_ns: t.wall_ns,
            period_ns: t.period_ns,
            hazards: HazardsReport::from(&t.hazards),
            blocking_calls: None,
            callbacks_blocking: None,
        }
    }
}

impl From<&HazardTotals> for HazardsReport {
    fn from(h: &HazardTotals) -> HazardsReport {
        HazardsReport {
            callbacks_sampled: h.sampled,
            minor_faults: h.minor_faults,
            major_faults: h.major_faults,
            voluntary_switches: h.voluntary_switches,
            involuntary_switches: h.involuntary_switches,
            lock_acquisitions: h.lock_acquisitions,
            lock_contentions: h.lock_contentions,
            callbacks_faulting: h.callbacks_faulting,
            callbacks_switching: h.callbacks_switching,
            callbacks_locking: h.callbacks_locking,
        }
    }
}

fn rates(a: &Aggregates) -> RatesReport {
    let r = a.rates();
    let kind = |r: Rates| KindRates {
        callbacks_per_second: r.callbacks_per_second,
        allocations_per_second: r.allocations_per_second,
        deallocations_per_second: r.deallocations_per_second,
        reallocations_per_second: r.reallocations_per_second,
        allocator_calls_per_second: r.allocator_calls_per_second,
        bytes_per_second: r.bytes_per_second,
    };
    let seconds = a.duration.as_secs_f64();
    RatesReport {
        seconds,
        extrapolated: seconds < MEASURED_RATE_SECONDS,
        callbacks_per_second: r.callbacks_per_second,
        allocations_per_second: r.allocations_per_second,
        deallocations_per_second: r.deallocations_per_second,
        reallocations_per_second: r.reallocations_per_second,
        allocator_calls_per_second: r.allocator_calls_per_second,
        bytes_per_second: r.bytes_per_second,
        input: kind(a.rates_of(CallbackKind::Input)),
        output: kind(a.rates_of(CallbackKind::Output)),
    }
}

fn per_callback(h: &PerCallback) -> Vec<PerCallbackRow> {
    h.iter()
        .map(|b| PerCallbackRow {
            allocations: b.allocations,
            or_more: b.or_more,
            callbacks: b.callbacks,
        })
        .collect()
}

pub(crate) fn summary(s: LatencySummary) -> LatencyReport {
    LatencyReport {
        count: s.count,
        min_ns: s.min_ns,
        mean_ns: s.mean_ns,
        p50_ns: s.p50_ns,
        p90_ns: s.p90_ns,
        p99_ns: s.p99_ns,
        p999_ns: s.p999_ns,
        max_ns: s.max_ns,
    }
}

fn latency(k: &KindFigures) -> KindLatency {
    KindLatency {
        all: summary(k.latency.summary()),
        allocated: summary(k.latency_allocated.summary()),
        not_allocated: summary(k.latency_not_allocated.summary()),
    }
}

fn buckets(l: &Latency) -> Vec<LatencyBucketRow> {
    l.buckets()
        .iter()
        .map(|b| LatencyBucketRow {
            lower_ns: b.lower_ns,
            upper_ns: b.upper_ns,
            count: b.count,
        })
        .collect()
}

fn histograms(k: &KindFigures) -> KindHistograms {
    KindHistograms {
        all: buckets(&k.latency),
        allocated: buckets(&k.latency_allocated),
        not_allocated: buckets(&k.latency_not_allocated),
    }
}

fn timeline(t: &Timeline) -> ByKind<Vec<TimelineBin>> {
    let width_s = t.width_ns() as f64 / 1e9;
    let kind = |kind| {
        t.kind(kind)
            .enumerate()
            .map(|(i, c)| TimelineBin {
                start_s: i as f64 * width_s,
                width_s,
                callbacks: c.callbacks,
                allocations: c.allocations,
                deallocations: c.deallocations,
                reallocations: c.reallocations,
            })
            .collect()
    };
    ByKind {
        input: kind(CallbackKind::Input),
        output: kind(CallbackKind::Output),
    }
}

fn size_classes(a: &Aggregates) -> SizeClassesReport {
    let both = kind_sizes(&a.sizes_total());
    SizeClassesReport {
        requested: both.requested,
        macos: both.macos,
        input: kind_sizes(&a.sizes.input),
        output: kind_sizes(&a.sizes.output),
    }
}

fn kind_sizes(stats: &Stats) -> KindSizeClasses {
    let requested = stats
        .requested()
        .iter()
        .map(|(range, count)| RequestedRow {
            requested_bytes: (range.max != usize::MAX).then_some(range.max as u64),
            min_bytes: range.min as u64,
            count,
        })
        .collect();
    let macos = stats
        .macos_classes()
        .iter()
        .map(|(bucket, count)| {
            let (class_bytes, class) = match bucket {
                MacosBucket::Tiny(b) => (Some(b as u64), MacosRegion::Tiny),
                MacosBucket::Small(b) => (Some(b as u64), MacosRegion::Small),
                MacosBucket::Large => (None, MacosRegion::Large),
            };
            MacosRow {
                class_bytes,
                class,
                count,
            }
        })
        .collect();
    KindSizeClasses { requested, macos }
}
