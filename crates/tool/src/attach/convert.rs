//! From captures to the tool's figures: each recorded invocation of an
//! audio cycle becomes one [`Record`] (an output callback) fed to the
//! same [`Aggregator`] every run uses; every slot, cycle or not, also
//! gets figures of its own.
//!
//! The rules, per invocation:
//! - kind: output (a process cycle produces the period's output; input
//!   figures stay empty); index: its index in its slot;
//! - frames: JACK's `nframes`, else the slot's buffer size;
//! - period: the slot's buffer size over its sample rate when both are
//!   known, else the invocation's frames over the rate, else 0 (unknown:
//!   no CPU load, and a deadline miss whenever it took any time);
//! - device time: its start after the first cycle's start, in frames at
//!   its own period (so the timeline is wall-clock aligned across
//!   slots);
//! - wall time: its measured duration; counts and blocking calls as
//!   recorded (blocking calls mapped by name; names this build does not
//!   know are counted apart); usage, when read, as its page faults and
//!   context switches; its request sizes replayed into the size classes;
//! - warm-up: an index below `--warm-up`.
//!
//! Invocations of other roles (buffer-size, sample-rate, xrun callbacks)
//! only go into their slot's own figures. The run's duration, which rates
//! divide by, runs from the first cycle's start to the last one's end.

use std::collections::BTreeMap;
use std::time::Duration;

use allocgate::hazard::Hazards;
use allocgate::size_class::MacosClass;
use allocgate::{BlockingCall, BlockingCounts, Counts, Stats};
use allocgate_engine::sites::CallbackKind;
use allocgate_wire::{Callback, Capture, Client, Role};

use crate::metrics::{Aggregates, Aggregator, Latency, Record, Totals};
use crate::report::{
    ClientReport, KindTotals, MacosRegion, SiteReport, blocking_calls, latency_report,
};

/// What the captures of one run add up to.
#[derive(Debug)]
pub struct Built {
    /// The cycles' figures, as every run has them.
    pub aggregates: Aggregates,
    /// Every slot of every capture, in capture and slot order.
    pub clients: Vec<ClientReport>,
    /// The cycles' allocation sites, every slot's added up per function
    /// and size.
    pub sites: Vec<SiteReport>,
    /// Records read.
    pub records: u64,
    /// Records dropped.
    pub dropped: u64,
    /// Cycle invocations recorded.
    pub cycles: u64,
}

/// The report's name for a role.
pub fn role_name(role: Role) -> String {
    match role {
        Role::JackProcess => "jack-process".to_owned(),
        Role::JackProcessThread => "jack-process-thread".to_owned(),
        Role::Manual => "marked".to_owned(),
        Role::JackBufferSize => "jack-buffer-size".to_owned(),
        Role::JackSampleRate => "jack-sample-rate".to_owned(),
        Role::JackXrun => "jack-xrun".to_owned(),
        Role::Other(code) => format!("other-{code}"),
    }
}

/// `n` frames at `rate` Hz, in nanoseconds (0 when either is 0).
fn frames_ns(n: u32, rate: u32) -> u64 {
    if n == 0 || rate == 0 {
        return 0;
    }
    let ns = (u128::from(n) * 1_000_000_000 + u128::from(rate) / 2) / u128::from(rate);
    u64::try_from(ns).unwrap_or(u64::MAX)
}

/// The period an invocation of `client` asking for `frames` is held to.
fn period_ns(client: &Client, frames: u32) -> u64 {
    match frames_ns(client.buffer_size, client.sample_rate) {
        0 => frames_ns(frames, client.sample_rate),
        p => p,
    }
}

fn counts(c: &allocgate_wire::Counts) -> Counts {
    Counts {
        allocations: c.allocations,
        zeroed: c.zeroed,
        deallocations: c.deallocations,
        reallocations: c.reallocations,
        bytes_allocated: c.bytes_allocated,
        bytes_deallocated: c.bytes_deallocated,
        realloc_bytes_from: c.realloc_bytes_from,
        realloc_bytes_to: c.realloc_bytes_to,
        realloc_bytes_grown: c.realloc_bytes_grown,
        realloc_bytes_shrunk: c.realloc_bytes_shrunk,
        largest_request: c.largest_request,
    }
}

fn saturate(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One invocation as a [`Record`], and its blocking calls under names
/// `names` does not map (this build does not know them).
fn record(
    cb: &Callback,
    client: &Client,
    t0: u64,
    warm_up: u64,
    names: &[Option<BlockingCall>],
) -> (Record, u64) {
    let frames = if cb.frames > 0 {
        cb.frames
    } else {
        client.buffer_size
    };
    let period = period_ns(client, frames);
    let device_time = if period > 0 {
        let since = u128::from(cb.start_ns.saturating_sub(t0));
        u64::try_from(since * u128::from(frames) / u128::from(period)).unwrap_or(u64::MAX)
    } else {
        0
    };
    let mut blocking = BlockingCounts::new();
    let mut unknown = 0u64;
    for &(i, n) in &cb.blocking {
        match names.get(usize::from(i)).copied().flatten() {
            Some(call) => blocking.add_calls(call, n),
            None => unknown = unknown.saturating_add(n),
        }
    }
    let hazards = match cb.usage {
        Some(u) => Hazards {
            minor_faults: saturate(u.minor_faults),
            major_faults: saturate(u.major_faults),
            voluntary_switches: saturate(u.voluntary_switches),
            involuntary_switches: saturate(u.involuntary_switches),
            usage_sampled: true,
            ..Hazards::NONE
        },
        None => Hazards::NONE,
    };
    let r = Record::new(CallbackKind::Output)
        .with_index(cb.index)
        .with_device_time(device_time)
        .with_frames(frames, period)
        .with_wall_ns(cb.duration_ns)
        .with_counts(counts(&cb.counts))
        .with_hazards(hazards)
        .with_blocking(blocking)
        .with_warm_up(cb.index < warm_up);
    (r, unknown)
}

/// A site's allocations, deallocations and reallocations over every
/// cycle slot, and its first backtrace.
type MergedSite = ((u64, u64, u64), Vec<String>);

/// A slot's figures while they are added up.
struct Slot {
    client: Client,
    all: Totals,
    warm_up: Totals,
    steady: Totals,
    latency: Latency,
    first_allocating: Option<u64>,
    first_blocking: Option<u64>,
    unknown_blocking: u64,
}

impl Slot {
    fn new(client: Client) -> Slot {
        Slot {
            client,
            all: Totals::default(),
            warm_up: Totals::default(),
            steady: Totals::default(),
            latency: Latency::new(),
            first_allocating: None,
            first_blocking: None,
            unknown_blocking: 0,
        }
    }

    fn add(&mut self, r: &Record, unknown: u64) {
        self.all.record(r);
        self.latency.record(r.wall_ns);
        self.unknown_blocking = self.unknown_blocking.saturating_add(unknown);
        if r.warm_up {
            self.warm_up.record(r);
            return;
        }
        self.steady.record(r);
        if r.touched_allocator() {
            self.first_allocating = Some(self.first_allocating.map_or(r.index, |i| i.min(r.index)));
        }
        if r.hazards.blocking_calls > 0 || unknown > 0 {
            self.first_blocking = Some(self.first_blocking.map_or(r.index, |i| i.min(r.index)));
        }
    }
}

/// A [`KindTotals`] with its blocking calls by name (always counted).
fn kind_totals(t: &Totals) -> KindTotals {
    KindTotals {
        blocking_calls: Some(blocking_calls(&t.blocking)),
        callbacks_blocking: Some(t.hazards.callbacks_blocking),
        ..KindTotals::from(t)
    }
}

/// A site's row; `callbacks` divides its allocations into `per_callback`.
fn site_report(
    function: &str,
    size: u64,
    (allocations, deallocations, reallocations): (u64, u64, u64),
    callbacks: u64,
    kind: &str,
    backtrace: &[String],
) -> SiteReport {
    let (class_bytes, class) = match MacosClass::of(usize::try_from(size).unwrap_or(usize::MAX)) {
        MacosClass::Tiny(b) => (Some(b as u64), MacosRegion::Tiny),
        MacosClass::Small(b) => (Some(b as u64), MacosRegion::Small),
        MacosClass::Large(_) => (None, MacosRegion::Large),
    };
    SiteReport {
        function: function.to_owned(),
        size,
        count: allocations,
        per_callback: if callbacks == 0 {
            0.0
        } else {
            allocations as f64 / callbacks as f64
        },
        kind: kind.to_owned(),
        site: None,
        class_bytes,
        class: Some(class),
        deallocations,
        reallocations,
        backtrace: backtrace.to_vec(),
    }
}

/// Most allocations first, then by function and size.
fn sort_sites(sites: &mut [SiteReport]) {
    sites.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.function.cmp(&b.function))
            .then_with(|| a.size.cmp(&b.size))
    });
}

/// Adds up `captures` (the program's first, then its children's) with
/// the first `warm_up` invocations of each slot marked as warm-up.
pub fn build(captures: &[Capture], warm_up: u64) -> Built {
    let cycle_of = |c: &Capture, slot: u16| c.client(slot).is_some_and(|k| k.role.is_cycle());
    let cycle_starts = captures.iter().flat_map(|c| {
        c.callbacks
            .iter()
            .filter(|cb| cycle_of(c, cb.slot))
            .map(|cb| (cb.start_ns, cb.start_ns.saturating_add(cb.duration_ns)))
    });
    let (t0, t_end) = cycle_starts.fold((u64::MAX, 0), |(a, b), (s, e)| (a.min(s), b.max(e)));
    let t0 = if t0 == u64::MAX { 0 } else { t0 };
    let duration = Duration::from_nanos(t_end.saturating_sub(t0).max(1));

    let mut aggregator = Aggregator::new();
    let mut sizes = Stats::new();
    let mut clients = Vec::new();
    let mut merged_sites: BTreeMap<(String, u64), MergedSite> = BTreeMap::new();
    let (mut records, mut dropped, mut cycles) = (0u64, 0u64, 0u64);
    for capture in captures {
        let names: Vec<Option<BlockingCall>> = capture
            .header
            .blocking_names
            .iter()
            .map(|n| BlockingCall::ALL.iter().copied().find(|c| c.name() == n))
            .collect();
        let mut slots: BTreeMap<u16, Slot> = capture
            .clients
            .iter()
            .map(|c| (c.slot, Slot::new(c.clone())))
            .collect();
        for cb in &capture.callbacks {
            let slot = slots.entry(cb.slot).or_insert_with(|| {
                Slot::new(Client {
                    slot: cb.slot,
                    role: Role::Other(u8::MAX),
                    name: String::new(),
                    sample_rate: 0,
                    buffer_size: 0,
                })
            });
            let (r, unknown) = record(cb, &slot.client, t0, warm_up, &names);
            slot.add(&r, unknown);
            records += 1;
            if slot.client.role.is_cycle() {
                cycles += 1;
                aggregator.record(&r);
                for &(size, n) in &cb.sizes {
                    sizes.add_requests(usize::try_from(size).unwrap_or(usize::MAX), n);
                }
            }
        }
        for &slot in capture.drops.keys() {
            slots.entry(slot).or_insert_with(|| {
                Slot::new(Client {
                    slot,
                    role: Role::Other(u8::MAX),
                    name: String::new(),
                    sample_rate: 0,
                    buffer_size: 0,
                })
            });
        }
        for (number, slot) in slots {
            let cycle = slot.client.role.is_cycle();
            let kind = if cycle {
                "output".to_owned()
            } else {
                role_name(slot.client.role)
            };
            let mut own_sites: Vec<SiteReport> = capture
                .sites
                .iter()
                .filter(|s| s.slot == number)
                .map(|s| {
                    let calls = (s.allocations, s.deallocations, s.reallocations);
                    if cycle {
                        let entry = merged_sites
                            .entry((s.function.clone(), s.size))
                            .or_insert_with(|| ((0, 0, 0), s.backtrace.clone()));
                        entry.0.0 = entry.0.0.saturating_add(s.allocations);
                        entry.0.1 = entry.0.1.saturating_add(s.deallocations);
                        entry.0.2 = entry.0.2.saturating_add(s.reallocations);
                    }
                    site_report(
                        &s.function,
                        s.size,
                        calls,
                        slot.all.callbacks,
                        &kind,
                        &s.backtrace,
                    )
                })
                .collect();
            sort_sites(&mut own_sites);
            let lost = capture.dropped(number);
            dropped = dropped.saturating_add(lost);
            let c = &slot.client;
            let period = period_ns(c, c.buffer_size);
            clients.push(ClientReport {
                pid: capture.header.pid,
                slot: number,
                role: role_name(c.role),
                cycle,
                name: c.name.clone(),
                sample_rate: c.sample_rate,
                buffer_size: c.buffer_size,
                period_ns: (period > 0).then_some(period).or_else(|| {
                    capture
                        .callbacks_of(number)
                        .map(|cb| period_ns(c, cb.frames))
                        .find(|&p| p > 0)
                }),
                callbacks: slot.all.callbacks,
                dropped: lost,
                totals: kind_totals(&slot.all),
                warm_up: kind_totals(&slot.warm_up),
                steady_state: kind_totals(&slot.steady),
                first_allocating_callback: slot.first_allocating,
                first_blocking_callback: slot.first_blocking,
                unknown_blocking_calls: slot.unknown_blocking,
                latency: latency_report(slot.latency.summary()),
                sites: own_sites,
            });
        }
    }
    aggregator.add_sizes(CallbackKind::Output, &sizes);
    let mut sites: Vec<SiteReport> = merged_sites
        .into_iter()
        .map(|((function, size), (calls, backtrace))| {
            site_report(&function, size, calls, cycles, "output", &backtrace)
        })
        .collect();
    sort_sites(&mut sites);
    Built {
        aggregates: aggregator.finish(duration),
        clients,
        sites,
        records,
        dropped,
        cycles,
    }
}
