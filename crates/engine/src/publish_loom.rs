//! Loom model checks of set publication: the real [`Outbox`] and [`Inbox`]
//! code (what [`Publisher`](super::publish::Publisher) and
//! [`Subscriber`](super::publish::Subscriber) run) on the real
//! [`spsc`](super::spsc) queues, whose atomics and slot cells are loom's
//! (`engine::sync`). A control thread publishes while the audio thread
//! adopts; every interleaving loom's scheduler explores is checked.
//!
//! The set type is a small [`TestSet`] in place of the FFT-heavy
//! `RendererSet`: its payload is loom `UnsafeCell`s written on the control
//! thread after the box is built, so loom panics if the audio thread reads
//! one without a happens-before edge from that write (a half-built set),
//! and its `Drop` records which thread freed it. Run with
//! `RUSTFLAGS="--cfg loom" cargo test --release --lib loom`.

use std::fmt;
use std::sync::Arc as StdArc;
use std::sync::atomic::{AtomicBool, AtomicUsize as StdCounter, Ordering as StdOrdering};
use std::time::Instant;

use loom::cell::UnsafeCell;
use loom::thread::{self, ThreadId};

use super::publish::{Inbox, Outbox, PENDING_SETS, queues};

/// The highest generation a test publishes.
const MAX_SETS: usize = 8;

/// Bookkeeping outside loom's model (std atomics: loom runs one thread at
/// a time, and these must not add interleavings).
struct Tally {
    /// The audio thread (the model's main thread).
    audio: ThreadId,
    /// Set once the audio thread's checked part is over: drops after this
    /// are the test's teardown.
    teardown: AtomicBool,
    /// Per generation, how many times it was dropped.
    drops: [StdCounter; MAX_SETS + 1],
    /// Drops on the control thread.
    on_control: StdCounter,
    /// Drops on the audio thread before teardown: must stay 0.
    on_audio: StdCounter,
}

impl Tally {
    fn new() -> StdArc<Tally> {
        StdArc::new(Tally {
            audio: thread::current().id(),
            teardown: AtomicBool::new(false),
            drops: Default::default(),
            on_control: StdCounter::new(0),
            on_audio: StdCounter::new(0),
        })
    }

    fn dropped(&self, generation: usize) -> usize {
        self.drops[generation].load(StdOrdering::Relaxed)
    }
}

/// A renderer set in miniature: a generation and a payload derived from
/// it, written field by field after the box exists.
struct TestSet {
    generation: usize,
    payload: [UnsafeCell<usize>; 2],
    tally: StdArc<Tally>,
}

impl TestSet {
    /// Builds set `generation` on the calling (control) thread: allocate,
    /// then fill in the payload with plain writes.
    fn build(generation: usize, tally: &StdArc<Tally>) -> Box<TestSet> {
        let set = Box::new(TestSet {
            generation,
            payload: [UnsafeCell::new(0), UnsafeCell::new(0)],
            tally: StdArc::clone(tally),
        });
        for (i, cell) in set.payload.iter().enumerate() {
            // SAFETY: the set is not shared yet.
            cell.with_mut(|p| unsafe { *p = Self::expected(generation, i) });
        }
        set
    }

    fn expected(generation: usize, i: usize) -> usize {
        generation * 10 + i + 1
    }

    /// Checks the payload (loom checks the reads are ordered after the
    /// writes) and returns the generation.
    fn verify(&self) -> usize {
        for (i, cell) in self.payload.iter().enumerate() {
            // SAFETY: nothing writes a published set.
            let v = cell.with(|p| unsafe { *p });
            assert_eq!(
                v,
                Self::expected(self.generation, i),
                "set {} half-built",
                self.generation
            );
        }
        self.generation
    }
}

impl fmt::Debug for TestSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TestSet({})", self.generation)
    }
}

impl Drop for TestSet {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // A check has already failed; do not turn it into an abort.
            return;
        }
        let t = &*self.tally;
        let before = t.drops[self.generation].fetch_add(1, StdOrdering::Relaxed);
        assert_eq!(before, 0, "set {} freed twice", self.generation);
        if t.teardown.load(StdOrdering::Relaxed) {
            return;
        }
        if thread::current().id() == t.audio {
            t.on_audio.fetch_add(1, StdOrdering::Relaxed);
        } else {
            t.on_control.fetch_add(1, StdOrdering::Relaxed);
        }
    }
}

/// `adopt(false)` never frees, so the free function must never be called.
// The box is what `Inbox::adopt`'s `free` takes.
#[allow(clippy::boxed_local)]
fn never_free(set: Box<TestSet>) -> usize {
    panic!("adopt(false) freed set {}", set.generation)
}

/// Runs `body` under `builder`, prints how many executions it explored
/// and how long that took, and returns the count.
fn explore(name: &str, builder: loom::model::Builder, body: fn()) -> usize {
    // A counter of this call's own (not a static): tests run in parallel.
    let runs = StdArc::new(StdCounter::new(0));
    let counter = StdArc::clone(&runs);
    let start = Instant::now();
    builder.check(move || {
        counter.fetch_add(1, StdOrdering::Relaxed);
        body();
    });
    let runs = runs.load(StdOrdering::Relaxed);
    eprintln!("{name}: {runs} executions, {:.2?}", start.elapsed());
    runs
}

/// Adopts once on the audio thread and checks what is current: whole,
/// never older than before, newer if anything was adopted. Returns the
/// current generation (0: none yet).
fn adopt_and_check(inbox: &mut Inbox<TestSet>, last: usize) -> usize {
    let a = inbox.adopt(false, never_free);
    assert_eq!(a.freed_blocks, 0);
    let now = inbox.current().map_or(0, TestSet::verify);
    if a.adopted > 0 {
        assert!(now > last, "adopted {} after {last}", now);
    } else {
        assert_eq!(now, last, "nothing adopted, yet {last} became {now}");
    }
    now
}

/// What the control thread reports: the generations the queue accepted.
struct Published {
    outbox: Outbox<TestSet>,
    accepted: Vec<usize>,
}

/// The control thread publishes sets `1..=sets` into queues `pending`
/// deep (dropping any handed back as full, after checking it is the one
/// offered), then collects what has come back. The audio thread (the
/// model's main thread) adopts `adoptions` times meanwhile, then once more
/// after the control thread is done. Checks what `TestSet` and
/// [`adopt_and_check`] check, and that every set is freed exactly once:
/// on the control thread, or at teardown (the current set, and any
/// returned after the control thread's last collection).
fn publish_while_adopting(pending: usize, sets: usize, adoptions: usize) {
    let tally = Tally::new();
    let (mut outbox, mut inbox) = queues::<TestSet>(pending);
    let control_tally = StdArc::clone(&tally);
    let control = thread::spawn(move || {
        let mut accepted = Vec::new();
        for g in 1..=sets {
            let set = TestSet::build(g, &control_tally);
            match outbox.send(Some(set)) {
                Ok(()) => accepted.push(g),
                Err(back) => {
                    let back = back.expect("the set offered");
                    assert_eq!(back.verify(), g, "handed back another set");
                    assert!(outbox.pending() <= pending);
                    drop(back);
                }
            }
        }
        outbox.collect_retired();
        Published { outbox, accepted }
    });

    let mut last = 0;
    for _ in 0..adoptions {
        last = adopt_and_check(&mut inbox, last);
    }
    let Published {
        mut outbox,
        accepted,
    } = control.join().unwrap();
    last = adopt_and_check(&mut inbox, last);
    assert_eq!(Some(&last), accepted.last(), "the last published set");
    assert_eq!(outbox.pending(), 0);
    assert_eq!(tally.on_audio.load(StdOrdering::Relaxed), 0);

    // Teardown: what is still returned, then the current set.
    let freed_on_control = tally.on_control.load(StdOrdering::Relaxed);
    tally.teardown.store(true, StdOrdering::Relaxed);
    let late = outbox.collect_retired();
    drop(outbox);
    assert_eq!(tally.dropped(last), 0, "the current set freed");
    drop(inbox);
    assert_eq!(tally.dropped(last), 1);
    // Published sets: freed on the control side (rejected ones included),
    // or returned late, or current.
    assert_eq!(freed_on_control + late + 1, sets);
    for g in 1..=sets {
        assert_eq!(tally.dropped(g), 1, "set {g}");
    }
}

#[test]
fn loom_three_sets_published_while_the_audio_thread_adopts_twice() {
    explore(
        "loom_three_sets_published_while_the_audio_thread_adopts_twice",
        loom::model::Builder::new(),
        || publish_while_adopting(PENDING_SETS, 3, 2),
    );
}

#[test]
fn loom_one_deep_queue_hands_back_sets_while_the_audio_thread_adopts() {
    // Queues one set deep, so the second and third publications can find
    // it full, depending on how far the audio thread has got.
    explore(
        "loom_one_deep_queue_hands_back_sets_while_the_audio_thread_adopts",
        loom::model::Builder::new(),
        || publish_while_adopting(1, 3, 2),
    );
}

#[test]
fn loom_more_than_pending_sets_without_adoption_hands_the_last_back() {
    // The production depth, nothing adopted until the queue is full.
    explore(
        "loom_more_than_pending_sets_without_adoption_hands_the_last_back",
        loom::model::Builder::new(),
        || {
            let tally = Tally::new();
            let (mut outbox, mut inbox) = queues::<TestSet>(PENDING_SETS);
            let control_tally = StdArc::clone(&tally);
            let control = thread::spawn(move || {
                for g in 1..=PENDING_SETS {
                    outbox
                        .send(Some(TestSet::build(g, &control_tally)))
                        .unwrap();
                }
                let extra = PENDING_SETS + 1;
                let back = outbox
                    .send(Some(TestSet::build(extra, &control_tally)))
                    .unwrap_err()
                    .expect("the set offered");
                assert_eq!(back.verify(), extra);
                assert_eq!(outbox.pending(), PENDING_SETS);
                drop(back);
                outbox
            });
            let mut outbox = control.join().unwrap();
            let a = inbox.adopt(false, never_free);
            assert_eq!(a.adopted, PENDING_SETS);
            assert_eq!(inbox.current().map(TestSet::verify), Some(PENDING_SETS));
            assert_eq!(tally.on_audio.load(StdOrdering::Relaxed), 0);
            assert_eq!(tally.on_control.load(StdOrdering::Relaxed), 1);
            tally.teardown.store(true, StdOrdering::Relaxed);
            assert_eq!(outbox.collect_retired(), PENDING_SETS - 1);
            drop((outbox, inbox));
            for g in 1..=PENDING_SETS + 1 {
                assert_eq!(tally.dropped(g), 1, "set {g}");
            }
        },
    );
}

#[test]
fn loom_bare_queue_wraps_while_both_ends_run() {
    // The queue alone, two slots, four boxed values: the sender laps the
    // receiver's slots, so slot reuse is ordered only by `head`.
    explore(
        "loom_bare_queue_wraps_while_both_ends_run",
        loom::model::Builder::new(),
        || {
            let (mut tx, mut rx) = super::spsc::channel::<Box<usize>>(2);
            let sender = thread::spawn(move || {
                let mut sent = 0;
                for v in 1..=4 {
                    if tx.push(Box::new(v)).is_ok() {
                        sent = v;
                    }
                }
                sent
            });
            let mut got = Vec::new();
            for _ in 0..3 {
                if let Some(v) = rx.pop() {
                    got.push(*v);
                }
            }
            let _ = sender.join().unwrap();
            while let Some(v) = rx.pop() {
                got.push(*v);
            }
            assert!(got.windows(2).all(|w| w[0] < w[1]), "out of order: {got:?}");
            assert!(!got.is_empty() && got[0] == 1, "{got:?}");
        },
    );
}
