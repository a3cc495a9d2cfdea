//! Off the audio threads: the stream's file, a thread that empties the
//! slots' queues every few milliseconds and writes their records, and the
//! last round at exit, which marks the stream complete.
//!
//! The file gets its header when the library loads (so an empty file
//! means the library never ran), slots and records as they come, and
//! the end frame from an `atexit` handler. A program killed in between
//! leaves every record written up to the last round, a few milliseconds
//! before it died.

use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

use allocgate::BlockingCall;
use allocgate::size_class::MacosBucket;
use allocgate_wire::{Callback, Client, Counts, Drops, End, Header, Message, Site, Usage};

use crate::config::Config;
use crate::measure::Sample;
use crate::slots::{self, Slot};

/// Time between two rounds.
const ROUND: Duration = Duration::from_millis(5);

/// Function names in site names that are the library's own.
const OWN_FRAMES: &str = "allocgate_preload::";

/// The open stream.
struct Writer {
    file: File,
    buf: Vec<u8>,
    /// A write failed: nothing more is written.
    failed: bool,
    /// The end frame was written.
    ended: bool,
    announced: [bool; slots::CAPACITY],
    drops_written: [u64; slots::CAPACITY],
}

static WRITER: Mutex<Option<Writer>> = Mutex::new(None);
/// The process that opened the stream: a child forked without `exec`
/// inherits a copy of the writer (and perhaps of a held lock) and must
/// not touch it.
static OWNER: AtomicU32 = AtomicU32::new(0);
static STARTED: Once = Once::new();
static STOP: AtomicBool = AtomicBool::new(false);

/// Opens the stream and writes its header; arranges for the last round
/// at exit. Load time.
pub(crate) fn open(config: &Config) {
    let file = match File::create(&config.out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "allocgate: cannot write the attach stream to {}: {e}",
                config.out.display()
            );
            return;
        }
    };
    let header = Header {
        version: allocgate_wire::VERSION,
        pid: std::process::id(),
        program: std::fs::read_link("/proc/self/exe")
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default(),
        blocking_names: BlockingCall::ALL
            .iter()
            .map(|c| c.name().to_owned())
            .collect(),
        queue_capacity: u32::try_from(config.queue).unwrap_or(u32::MAX),
        sites: config.sites,
        rusage: config.rusage,
        children: config.children,
    };
    let mut writer = Writer {
        file,
        buf: Vec::with_capacity(64 * 1024),
        failed: false,
        ended: false,
        announced: [false; slots::CAPACITY],
        drops_written: [0; slots::CAPACITY],
    };
    allocgate_wire::encode(&Message::Header(header), &mut writer.buf);
    writer.flush();
    OWNER.store(std::process::id(), Ordering::Release);
    *lock() = Some(writer);
    // SAFETY: registers a plain `extern "C"` function with no arguments.
    unsafe { libc::atexit(at_exit) };
}

fn lock() -> std::sync::MutexGuard<'static, Option<Writer>> {
    WRITER.lock().unwrap_or_else(|e| e.into_inner())
}

fn owned_here() -> bool {
    OWNER.load(Ordering::Acquire) == std::process::id()
}

/// Starts the collecting thread, once (at the first registration).
pub(crate) fn start() {
    STARTED.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("allocgate-collect".into())
            .spawn(|| {
                while !STOP.load(Ordering::Acquire) {
                    std::thread::sleep(ROUND);
                    if let Some(w) = lock().as_mut() {
                        w.round();
                    }
                }
            });
        if let Err(e) = spawned {
            eprintln!("allocgate: cannot start the collecting thread: {e}");
        }
    });
}

/// The last round, then the end frame.
extern "C" fn at_exit() {
    if !owned_here() {
        return;
    }
    STOP.store(true, Ordering::Release);
    if let Some(w) = lock().as_mut() {
        w.round();
        if !w.ended {
            let complete = !w.failed;
            allocgate_wire::encode(&Message::End(End { complete }), &mut w.buf);
            w.flush();
            w.ended = true;
        }
    }
}

impl Writer {
    fn flush(&mut self) {
        if !self.failed && !self.buf.is_empty() && self.file.write_all(&self.buf).is_err() {
            self.failed = true;
        }
        self.buf.clear();
    }

    /// Announces new slots, writes every queued record, new drop totals
    /// and new sites.
    fn round(&mut self) {
        if self.ended {
            return;
        }
        for slot in slots::all() {
            let i = usize::from(slot.number);
            if !self.announced[i] {
                if !slot.ready.load(Ordering::Acquire) {
                    continue;
                }
                self.announced[i] = true;
                let r = &slot.registration;
                let client = Client {
                    slot: slot.number,
                    role: r.role,
                    name: r.name.clone(),
                    sample_rate: r.sample_rate,
                    buffer_size: r.buffer_size,
                };
                allocgate_wire::encode(&Message::Client(client), &mut self.buf);
            }
            self.records(slot);
            let dropped = slot.dropped.load(Ordering::Relaxed);
            if dropped != self.drops_written[i] {
                self.drops_written[i] = dropped;
                let d = Drops {
                    slot: slot.number,
                    dropped,
                };
                allocgate_wire::encode(&Message::Drops(d), &mut self.buf);
            }
            self.sites(slot);
        }
        self.flush();
    }

    fn records(&mut self, slot: &Slot) {
        let mut consumer = slot.consumer.lock().unwrap_or_else(|e| e.into_inner());
        let (samples, figures) = &mut *consumer;
        let clean = allocgate::Stats::new();
        while let Ok(sample) = samples.pop() {
            // Queued before the record, by the same thread.
            let stats = match sample.made_calls {
                true => figures.pop().unwrap_or(clean),
                false => clean,
            };
            let c = callback(slot.number, &sample, &stats);
            allocgate_wire::encode(&Message::Callback(c), &mut self.buf);
        }
    }

    fn sites(&mut self, slot: &Slot) {
        let Some(swap) = &slot.sites else { return };
        let Some(table) = swap.rotate() else { return };
        if !table.is_empty() {
            let groups = allocgate::trace::symbolise(&table, &[OWN_FRAMES.to_owned()]);
            for g in groups {
                let site = Site {
                    slot: slot.number,
                    function: g.function,
                    size: g.size as u64,
                    allocations: g.allocations,
                    deallocations: g.deallocations,
                    reallocations: g.reallocations,
                    backtrace: g.backtrace,
                };
                allocgate_wire::encode(&Message::Site(site), &mut self.buf);
            }
        }
        swap.keep(table);
    }
}

/// A sample and its figures as a callback frame.
fn callback(slot: u16, s: &Sample, stats: &allocgate::Stats) -> Callback {
    let c = &stats.counts;
    Callback {
        slot,
        index: s.index,
        frames: s.frames,
        start_ns: s.start_ns,
        duration_ns: s.duration_ns,
        counts: Counts {
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
        },
        sizes: sizes(stats),
        blocking: BlockingCall::ALL
            .iter()
            .enumerate()
            .filter_map(|(i, &call)| {
                let n = stats.blocking.get(call);
                (n > 0).then_some((i as u16, n))
            })
            .collect(),
        usage: s.usage.map(|u| Usage {
            minor_faults: u.minor_faults,
            major_faults: u.major_faults,
            voluntary_switches: u.voluntary_switches,
            involuntary_switches: u.involuntary_switches,
        }),
    }
}

/// The requests as `(size, count)` pairs that land in the same
/// power-of-two range and macOS class as the real ones: the power-of-two
/// ranges up to 16 bytes (all in macOS's 16-byte class), the macOS tiny
/// and small classes from 32 bytes up to the small limit (each within one
/// power-of-two range), and the power-of-two ranges above it (all in
/// macOS's large bucket).
fn sizes(stats: &allocgate::Stats) -> Vec<(u64, u64)> {
    let limit = allocgate::size_class::SMALL_LIMIT;
    let mut out: Vec<(u64, u64)> = stats
        .requested()
        .iter()
        .filter(|&(range, n)| n > 0 && (range.max <= 16 || range.min > limit))
        .map(|(range, n)| {
            let size = if range.max <= 16 {
                range.max
            } else {
                range.min
            };
            (size as u64, n)
        })
        .collect();
    out.extend(
        stats
            .macos_classes()
            .iter()
            .filter_map(|(bucket, n)| match bucket {
                MacosBucket::Tiny(b) | MacosBucket::Small(b) if b > 16 && n > 0 => {
                    Some((b as u64, n))
                }
                _ => None,
            }),
    );
    out.sort_unstable();
    out
}
