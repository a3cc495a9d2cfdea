//! Handing renderer sets to the audio thread, and handing old ones back
//! (docs/engine.md, "Renderer sets and publication").
//!
//! The control side builds a set (allocating freely) and pushes the box
//! through a pre-allocated wait-free queue; the output callback adopts the
//! newest at its start and pushes the set it replaces through a second
//! queue back to the control side, which frees it. The audio thread never
//! allocates or frees a set, even during a preset switch, unless
//! [`Site::DropOnAudioThread`](crate::sites::Site::DropOnAudioThread)
//! asks it to free the old set itself (what swapping a reference-counted
//! pointer does when the audio thread holds the last reference).
//!
//! The binauralizer, before its fix, also reads its renderer list on the
//! audio thread through a synchronous call on a dispatch queue: a lock and
//! a reference-count increment, no allocation. [`Subscriber::snapshot`]
//! reproduces that for
//! [`Site::RendererSnapshot`](crate::sites::Site::RendererSnapshot); its
//! lock is a [`TrackedRwLock`], so each read shows in the callback's
//! hazards as a lock acquisition (contended when a publish holds it).
//!
//! The queues are the crate's own `engine::spsc`. The publication logic
//! itself is `Outbox` and `Inbox`, generic over the set type so that
//! the loom tests (`publish_loom.rs`) run this very code with a small set;
//! [`Publisher`] and [`Subscriber`] are those for [`RendererSet`], plus the
//! snapshot.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::renderer::RendererSet;
use crate::spsc::{self, Receiver, Sender};
use allocgate::hazard::TrackedRwLock;

/// Sets that can wait for the audio thread at once.
pub const PENDING_SETS: usize = 4;

/// What the publisher's lock guards: a reference-counted record the audio
/// thread copies out under the lock, as the binauralizer copies its array.
/// Created once; publishing updates it in place, so no clone is ever the
/// last reference.
#[derive(Debug, Default)]
pub struct Snapshot {
    generation: AtomicU64,
}

impl Snapshot {
    /// How many sets have been published.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }
}

type Shared = Arc<TrackedRwLock<Arc<Snapshot>>>;

/// The control side: publishes sets and frees the ones the audio thread
/// returns.
#[derive(Debug)]
pub struct Publisher {
    sets: Outbox<RendererSet>,
    snapshot: Shared,
}

/// The audio side: the current set, and the queues to and from the
/// control side.
#[derive(Debug)]
pub struct Subscriber {
    sets: Inbox<RendererSet>,
    snapshot: Shared,
}

/// The two ends of a publication channel.
pub fn channel() -> (Publisher, Subscriber) {
    let (sets, inbox) = queues(PENDING_SETS);
    let snapshot: Shared = Arc::new(TrackedRwLock::new(Arc::new(Snapshot::default())));
    (
        Publisher {
            sets,
            snapshot: Arc::clone(&snapshot),
        },
        Subscriber {
            sets: inbox,
            snapshot,
        },
    )
}

/// The control side's ends of the two queues, for sets of type `S`.
#[derive(Debug)]
pub(crate) struct Outbox<S> {
    outgoing: Sender<Option<Box<S>>>,
    returned: Receiver<Box<S>>,
}

/// The audio side's ends of the two queues, and the current set.
#[derive(Debug)]
pub(crate) struct Inbox<S> {
    incoming: Receiver<Option<Box<S>>>,
    retiring: Sender<Box<S>>,
    current: Option<Box<S>>,
}

/// The two queues between the sides, `pending` sets deep.
pub(crate) fn queues<S>(pending: usize) -> (Outbox<S>, Inbox<S>) {
    let (to_audio, from_control) = spsc::channel(pending);
    // One more than can be pending, plus the current set: the audio thread
    // always has room to return what it replaces.
    let (to_control, from_audio) = spsc::channel(pending + 1);
    let outbox = Outbox {
        outgoing: to_audio,
        returned: from_audio,
    };
    let inbox = Inbox {
        incoming: from_control,
        retiring: to_control,
        current: None,
    };
    (outbox, inbox)
}

/// Why a set was not published: the audio thread has not taken the
/// earlier ones yet (it adopts at the start of each output callback). The
/// set is handed back.
#[derive(Debug)]
pub struct QueueFull(pub Option<Box<RendererSet>>);

impl Publisher {
    /// Sends `set` (or `None`: no renderers, copy through) to the audio
    /// thread, first freeing any sets it has returned. Control thread.
    pub fn publish(&mut self, set: Option<Box<RendererSet>>) -> Result<(), QueueFull> {
        self.sets.send(set).map_err(QueueFull)?;
        let guard = self.snapshot.write();
        guard.generation.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Frees the sets the audio thread has returned; returns how many.
    /// Control thread.
    pub fn collect_retired(&mut self) -> usize {
        self.sets.collect_retired()
    }

    /// Sets published but not yet adopted.
    pub fn pending(&self) -> usize {
        self.sets.pending()
    }
}

impl<S> Outbox<S> {
    /// [`Publisher::publish`]'s queueing: frees what has come back, then
    /// queues `set`, or hands it back if the queue is full.
    pub(crate) fn send(&mut self, set: Option<Box<S>>) -> Result<(), Option<Box<S>>> {
        self.collect_retired();
        self.outgoing.push(set)
    }

    /// [`Publisher::collect_retired`].
    pub(crate) fn collect_retired(&mut self) -> usize {
        let mut freed = 0;
        while let Some(set) = self.returned.pop() {
            drop(set);
            freed += 1;
        }
        freed
    }

    /// [`Publisher::pending`].
    pub(crate) fn pending(&self) -> usize {
        self.outgoing.len()
    }
}

impl<S> Inbox<S> {
    /// [`Subscriber::adopt`], freeing replaced sets with `free` when
    /// `free_here` is true.
    pub(crate) fn adopt(&mut self, free_here: bool, free: fn(Box<S>) -> usize) -> Adoption {
        let mut result = Adoption::default();
        loop {
            let replaces_one = self.current.is_some();
            if replaces_one && !free_here && self.retiring.is_full() {
                break;
            }
            let Some(next) = self.incoming.pop() else {
                break;
            };
            result.adopted += 1;
            if let Some(old) = std::mem::replace(&mut self.current, next) {
                if free_here {
                    result.freed_blocks += free(old);
                } else if self.retiring.push(old).is_err() {
                    unreachable!("room was checked before taking the set");
                }
            }
        }
        result
    }

    /// [`Subscriber::current_mut`].
    pub(crate) fn current_mut(&mut self) -> Option<&mut S> {
        self.current.as_deref_mut()
    }

    /// [`Subscriber::current`].
    pub(crate) fn current(&self) -> Option<&S> {
        self.current.as_deref()
    }
}

/// What [`Subscriber::adopt`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Adoption {
    /// Sets taken from the queue.
    pub adopted: usize,
    /// Heap blocks freed on this thread (only with `free_here`).
    pub freed_blocks: usize,
}

impl Subscriber {
    /// Takes every set published since the last call, keeping the newest.
    /// Replaced sets go back to the control side, or, when `free_here` is
    /// true, are freed right here. Audio thread: with `free_here` false it
    /// never allocates, frees or blocks; a set it cannot return yet (the
    /// return queue is full) stays queued until a later call.
    pub fn adopt(&mut self, free_here: bool) -> Adoption {
        self.sets.adopt(free_here, free_on_audio_thread)
    }

    /// The current set. Audio thread.
    pub fn current_mut(&mut self) -> Option<&mut RendererSet> {
        self.sets.current_mut()
    }

    /// The current set. Audio thread.
    pub fn current(&self) -> Option<&RendererSet> {
        self.sets.current()
    }

    /// Reads the shared record under the lock and copies it out by
    /// reference count, as the binauralizer reads its renderer list: a lock
    /// (which can block while the control side publishes) and an atomic
    /// increment, never an allocation or a free (the lock keeps a
    /// reference, so the copy is never the last). Returns the generation.
    pub fn snapshot(&self) -> u64 {
        let copy = {
            let guard = self.snapshot.read();
            Arc::clone(&guard)
        };
        copy.generation()
    }
}

/// [`Site::DropOnAudioThread`](crate::sites::Site::DropOnAudioThread):
/// frees a replaced set right here and returns its heap blocks. A
/// function of its own, never inlined, so a site trace names it.
#[inline(never)]
fn free_on_audio_thread(old: Box<RendererSet>) -> usize {
    let blocks = old.heap_blocks();
    drop(old);
    std::hint::black_box(blocks)
}

#[cfg(all(test, not(loom)))]
mod tests {
    //! The queue logic with a small set type (`usize`), so Miri can run it;
    //! the loom checks are in `publish_loom.rs`.

    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::{Adoption, queues};

    /// Set `k`, counting its drops.
    struct Counted(usize, Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::Relaxed);
        }
    }

    // The box is what `Inbox::adopt`'s `free` takes.
    #[allow(clippy::boxed_local)]
    fn never_freed(set: Box<Counted>) -> usize {
        panic!("adopt(false) freed set {}", set.0)
    }

    // The box is what `Inbox::adopt`'s `free` takes.
    #[allow(clippy::boxed_local)]
    fn freed_here(set: Box<usize>) -> usize {
        *set
    }

    #[test]
    fn a_full_queue_hands_the_set_back_and_adoption_keeps_the_newest() {
        let (mut outbox, mut inbox) = queues::<usize>(2);
        outbox.send(Some(Box::new(1))).unwrap();
        outbox.send(None).unwrap();
        assert_eq!(outbox.send(Some(Box::new(3))), Err(Some(Box::new(3))));
        assert_eq!(outbox.pending(), 2);
        let a = inbox.adopt(false, freed_here);
        assert_eq!(
            a,
            Adoption {
                adopted: 2,
                freed_blocks: 0
            }
        );
        // `None` (copy through) is a set like any other.
        assert_eq!(inbox.current(), None);
        assert_eq!(outbox.pending(), 0);
        assert_eq!(outbox.collect_retired(), 1, "set 1 (`None` is no box)");
        outbox.send(Some(Box::new(4))).unwrap();
        assert_eq!(inbox.adopt(false, freed_here).adopted, 1);
        assert_eq!(inbox.current(), Some(&4));
        *inbox.current_mut().unwrap() += 1;
        outbox.send(Some(Box::new(6))).unwrap();
        // Freed here: the replaced set goes to `free`, not back.
        let a = inbox.adopt(true, freed_here);
        assert_eq!(
            a,
            Adoption {
                adopted: 1,
                freed_blocks: 5
            }
        );
        assert_eq!(outbox.collect_retired(), 0);
    }

    #[test]
    fn sets_cross_threads_newest_wins_and_all_come_back() {
        let (mut outbox, mut inbox) = queues::<Counted>(3);
        let sets = if cfg!(miri) { 50 } else { 10_000 };
        let drops = Arc::new(AtomicUsize::new(0));
        let control_drops = Arc::clone(&drops);
        let control = std::thread::spawn(move || {
            for k in 1..=sets {
                let mut set = Some(Box::new(Counted(k, Arc::clone(&control_drops))));
                loop {
                    match outbox.send(set) {
                        Ok(()) => break,
                        Err(back) => {
                            set = back;
                            std::thread::yield_now();
                        }
                    }
                }
            }
            outbox
        });
        let mut last = 0;
        while last != sets {
            let a = inbox.adopt(false, never_freed);
            let now = inbox.current().map_or(0, |s| s.0);
            assert!(now >= last && (a.adopted == 0) == (now == last));
            last = now;
            std::thread::yield_now();
        }
        let mut outbox = control.join().unwrap();
        outbox.collect_retired();
        assert_eq!(
            drops.load(Ordering::Relaxed),
            sets - 1,
            "all but the current"
        );
        drop(inbox);
        assert_eq!(drops.load(Ordering::Relaxed), sets);
    }
}
