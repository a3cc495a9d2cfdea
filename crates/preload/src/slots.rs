//! The slot table: one slot per registration of a callback (a JACK
//! client's process callback, its process thread, a thread's marked
//! callbacks, …), made when the program registers it, off the audio
//! thread. A slot owns the queue that carries its records to the
//! collector, and, with site tracing on, the tables its stacks go into.

use std::cell::UnsafeCell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use allocgate::Stats;
use allocgate::trace::SiteTable;
use allocgate_wire::Role;
use rtrb::{Consumer, Producer, RingBuffer};

use crate::config;
use crate::measure::Sample;

/// Most registrations a process can have measured; later ones are passed
/// to JACK unwrapped (and said so on standard error).
pub(crate) const CAPACITY: usize = 64;

/// What the program registered and what is known of its client.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    pub role: Role,
    /// The program's function (as an address) and its argument.
    pub callback: usize,
    pub arg: usize,
    /// The JACK client's (or thread's) name, its sample rate and buffer
    /// size, when known.
    pub name: String,
    pub sample_rate: u32,
    pub buffer_size: u32,
}

/// One registration and the way out for its records.
pub(crate) struct Slot {
    pub number: u16,
    pub registration: Registration,
    /// The audio thread's ends of the queues: every record, and the
    /// figures of those that made a call (a clean invocation's are all
    /// zero, and writing them would cost it several kilobytes of copying).
    producer: UnsafeCell<(Producer<Sample>, Producer<Stats>)>,
    /// The collector's ends.
    pub consumer: Mutex<(Consumer<Sample>, Consumer<Stats>)>,
    next_index: AtomicU64,
    pub dropped: AtomicU64,
    /// Registered with JACK (or in use, for marked callbacks): the
    /// collector may announce it.
    pub ready: AtomicBool,
    pub sites: Option<SiteSwap>,
}

// SAFETY: `producer` is only touched by `push`, which only the slot's one
// audio thread calls (JACK runs a client's process callback on one thread
// at a time; a process thread and a marked thread are single threads);
// everything else is immutable after the slot is made, atomic, or behind
// a mutex.
unsafe impl Sync for Slot {}

impl Slot {
    /// The next invocation's index. Audio thread.
    pub(crate) fn next_index(&self) -> u64 {
        self.next_index.fetch_add(1, Ordering::Relaxed)
    }

    /// Queues a record with its figures (the figures only when it made a
    /// call: see [`Sample::made_calls`]), or counts it dropped. Audio
    /// thread: never allocates, locks or blocks.
    pub(crate) fn push(&self, mut sample: Sample, stats: &Stats) {
        // SAFETY: see `unsafe impl Sync`: only this slot's audio thread
        // gets here, so this is the only reference.
        let (samples, figures) = unsafe { &mut *self.producer.get() };
        sample.made_calls = !stats.counts.is_zero() || !stats.blocking.is_zero();
        // Only this thread fills the queues: room seen now stays.
        if samples.slots() == 0 || (sample.made_calls && figures.slots() == 0) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // The figures first: the collector finds them when it pops the
        // record.
        if sample.made_calls {
            let _ = figures.push(*stats);
        }
        let _ = samples.push(sample);
    }
}

static TABLE: [AtomicPtr<Slot>; CAPACITY] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; CAPACITY];
static NEXT: AtomicUsize = AtomicUsize::new(0);
static FULL_SAID: AtomicBool = AtomicBool::new(false);

/// Makes a slot for `registration`, or `None` when the library is not
/// measuring, nothing can be counted or the table is full. Allocates:
/// never on an audio thread's measured path.
pub(crate) fn register(registration: Registration) -> Option<&'static Slot> {
    let config = config::get()?;
    allocgate::check_installed().ok()?;
    let number = NEXT.fetch_add(1, Ordering::Relaxed);
    if number >= CAPACITY {
        if !FULL_SAID.swap(true, Ordering::Relaxed) {
            eprintln!(
                "allocgate: more than {CAPACITY} callback registrations; later ones are not measured"
            );
        }
        return None;
    }
    let (mut samples, mut samples_out) = RingBuffer::new(config.queue);
    let (mut figures, mut figures_out) = RingBuffer::new(config.queue);
    // Touch every page of the queues now, so the audio thread's first
    // pushes do not fault them in.
    for _ in 0..config.queue {
        let _ = samples.push(Sample::EMPTY);
        let _ = figures.push(Stats::new());
    }
    while samples_out.pop().is_ok() {}
    while figures_out.pop().is_ok() {}
    let slot = Box::leak(Box::new(Slot {
        number: number as u16,
        registration,
        producer: UnsafeCell::new((samples, figures)),
        consumer: Mutex::new((samples_out, figures_out)),
        next_index: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
        ready: AtomicBool::new(false),
        sites: config.sites.then(SiteSwap::new),
    }));
    TABLE[number].store(slot, Ordering::Release);
    crate::collector::start();
    Some(slot)
}

/// The slots made so far, in slot order.
pub(crate) fn all() -> impl Iterator<Item = &'static Slot> {
    TABLE.iter().map_while(|p| {
        let p = p.load(Ordering::Acquire);
        // SAFETY: a non-null entry points to a leaked `Slot`, never freed.
        (!p.is_null()).then(|| unsafe { &*p })
    })
}

/// Two site tables per slot, handed between the audio thread and the
/// collector without a lock: the audio thread takes the active table
/// for the length of a callback and puts it back; the collector swaps a
/// cleared table in and reads the one it got out. If the audio thread
/// held the table at that moment, it leaves it in `returned` when it is
/// done, and the collector picks it up at its next round.
pub(crate) struct SiteSwap {
    active: AtomicPtr<SiteTable>,
    returned: AtomicPtr<SiteTable>,
    /// The collector's table, when it holds one (collector only).
    pub spare: Mutex<Option<Box<SiteTable>>>,
}

impl SiteSwap {
    fn new() -> SiteSwap {
        SiteSwap {
            active: AtomicPtr::new(Box::into_raw(Box::new(SiteTable::new()))),
            returned: AtomicPtr::new(std::ptr::null_mut()),
            spare: Mutex::new(Some(Box::new(SiteTable::new()))),
        }
    }

    /// The active table, for one callback. Audio thread.
    pub(crate) fn take(&self) -> Option<&'static mut SiteTable> {
        let p = self.active.swap(std::ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: a non-null pointer came from `Box::into_raw`, and the
        // swap made this thread its only holder until `give_back`.
        (!p.is_null()).then(|| unsafe { &mut *p })
    }

    /// Puts back a table [`take`](Self::take) gave. Audio thread.
    pub(crate) fn give_back(&self, table: &'static mut SiteTable) {
        let p: *mut SiteTable = table;
        if self
            .active
            .compare_exchange(std::ptr::null_mut(), p, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            self.returned.store(p, Ordering::Release);
        }
    }

    /// The table the audio thread recorded into since the last call, now
    /// the collector's, with a cleared one in its place. Collector only.
    pub(crate) fn rotate(&self) -> Option<Box<SiteTable>> {
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        let p = self.returned.swap(std::ptr::null_mut(), Ordering::AcqRel);
        if !p.is_null() {
            // SAFETY: the audio thread left it for the collector and no
            // longer refers to it.
            return Some(unsafe { Box::from_raw(p) });
        }
        let fresh = spare.take()?;
        let old = self.active.swap(Box::into_raw(fresh), Ordering::AcqRel);
        // SAFETY: a non-null pointer swapped out of `active` is no longer
        // reachable by the audio thread (it takes tables only from
        // `active`); null means the audio thread holds it and will leave
        // it in `returned`.
        (!old.is_null()).then(|| unsafe { Box::from_raw(old) })
    }

    /// Gives a read and cleared table back to the collector's hand.
    pub(crate) fn keep(&self, mut table: Box<SiteTable>) {
        table.clear();
        *self.spare.lock().unwrap_or_else(|e| e.into_inner()) = Some(table);
    }
}
