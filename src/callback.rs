//! Measuring every invocation of a callback, for your own audio callbacks.
//!
//! A [`Probe`] wraps each invocation in a measured scope and hands the
//! figures to a [`Sink`] you supply, allocated up front. The probe adds no
//! allocation, lock or blocking call to the audio thread; whether the sink
//! does is up to the sink ([`CallLog`] and [`Totals`] don't).

use super::error::Error;
use super::scope::{Measured, check_installed, measure_installed};
use super::stats::{Counts, Stats};

/// Receives the figures of each callback invocation.
///
/// Runs on the audio thread: an implementation must not allocate, lock or
/// block. Closures `FnMut(u64, &Stats)` are sinks.
pub trait Sink {
    /// Takes the figures of invocation number `index` (counting from 0).
    fn record(&mut self, index: u64, stats: &Stats);
}

impl<F: FnMut(u64, &Stats)> Sink for F {
    fn record(&mut self, index: u64, stats: &Stats) {
        self(index, stats)
    }
}

/// Measures each invocation of a callback and passes the figures to a sink.
///
/// ```rust,standalone_crate
/// #[global_allocator]
/// static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();
///
/// # fn main() {
/// // Off the audio thread: check the allocator and size the log.
/// let mut probe = allocgate::Probe::new(allocgate::CallLog::with_capacity(1024)).unwrap();
///
/// // On the audio thread, around each callback.
/// let mut out = [0.0f32; 512];
/// for _ in 0..3 {
///     probe.run(|| out.iter_mut().for_each(|s| *s *= 0.5));
/// }
///
/// // Afterwards, anywhere.
/// let log = probe.into_sink();
/// assert_eq!(log.entries().len(), 3);
/// assert!(log.entries().iter().all(|s| s.is_allocation_free()));
/// # }
/// ```
#[derive(Debug)]
pub struct Probe<S> {
    sink: S,
    calls: u64,
}

impl<S: Sink> Probe<S> {
    /// A probe feeding `sink`. Fails if the counting allocator is not the
    /// global allocator. Call it off the audio thread: the first install
    /// check in a process allocates once.
    pub fn new(sink: S) -> Result<Self, Error> {
        check_installed()?;
        Ok(Probe { sink, calls: 0 })
    }

    /// Runs one invocation of the callback in a measured scope and records
    /// its figures. Runs on the audio thread: adds no allocation, lock or
    /// blocking call of its own.
    pub fn run<R>(&mut self, callback: impl FnOnce() -> R) -> R {
        let Measured { value, stats } = measure_installed(callback);
        self.sink.record(self.calls, &stats);
        self.calls += 1;
        value
    }

    /// Invocations measured so far.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// The sink.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// Gives the sink back.
    pub fn into_sink(self) -> S {
        self.sink
    }
}

/// A sink that keeps the figures of each invocation in storage reserved up
/// front; invocations past its capacity are counted, not stored.
#[derive(Clone, Debug)]
pub struct CallLog {
    entries: Vec<Stats>,
    overflowed: u64,
}

impl CallLog {
    /// Room for `capacity` invocations, allocated now.
    pub fn with_capacity(capacity: usize) -> Self {
        CallLog {
            entries: Vec::with_capacity(capacity),
            overflowed: 0,
        }
    }

    /// The figures of the invocations stored, oldest first.
    pub fn entries(&self) -> &[Stats] {
        &self.entries
    }

    /// Invocations that did not fit.
    pub fn overflowed(&self) -> u64 {
        self.overflowed
    }
}

impl Sink for CallLog {
    fn record(&mut self, _index: u64, stats: &Stats) {
        if self.entries.len() < self.entries.capacity() {
            // Within capacity: push never allocates here.
            self.entries.push(*stats);
        } else {
            self.overflowed += 1;
        }
    }
}

/// A sink that adds up all invocations and remembers the worst one.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    /// Invocations recorded.
    pub calls: u64,
    /// Invocations that made at least one forbidden allocator call.
    pub calls_with_allocator_calls: u64,
    /// All invocations' figures added up.
    pub total: Stats,
    /// Forbidden counts of the invocation with the most allocator calls.
    pub worst: Counts,
    /// Index of that invocation.
    pub worst_index: Option<u64>,
}

impl Sink for Totals {
    fn record(&mut self, index: u64, stats: &Stats) {
        self.calls += 1;
        self.total.merge(stats);
        if !stats.is_allocation_free() {
            self.calls_with_allocator_calls += 1;
            if self.worst_index.is_none() || stats.counts.calls() > self.worst.calls() {
                self.worst = stats.counts;
                self.worst_index = Some(index);
            }
        }
    }
}
