//! A fixed-capacity single-producer single-consumer queue of owned
//! values: how [`super::publish`] hands renderer sets between the control
//! and audio threads.
//!
//! [`channel`] allocates every slot; [`Sender::push`] and
//! [`Receiver::pop`] never allocate, lock or block.
//!
//! The index protocol: `tail` is stored only by the sender, `head` only by
//! the receiver, and each end keeps its own in a plain field (never loads
//! it). Both count positions modulo `2 * capacity` (so a full queue and an
//! empty one differ without a spare slot); position `p` is slot
//! `p % capacity`. The sender writes a slot, then release-stores
//! `tail` past it; the receiver acquire-loads `tail` before moving a value
//! out of a slot below it, then release-stores `head` past that slot; the
//! sender acquire-loads `head` before writing a slot again. Values still
//! queued when both ends are gone are dropped with the queue.
//!
//! The atomics, `Arc` and `UnsafeCell` come from [`super::sync`], so in the
//! `--cfg loom` test build loom model-checks this code
//! (`publish_loom.rs`).

use std::fmt;
use std::mem::MaybeUninit;

use super::sync::{Arc, AtomicUsize, Ordering, UnsafeCell};

/// The slots and the two positions, shared by both ends.
struct Shared<T> {
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
    /// The next position to pop. Stored by the receiver only.
    head: AtomicUsize,
    /// The next position to push. Stored by the sender only.
    tail: AtomicUsize,
}

// SAFETY: values move in on the sender's thread and out on the receiver's
// (or wherever the queue is dropped), never shared by reference, so
// `T: Send` is enough; the slot accesses are ordered by the index protocol
// (module docs).
unsafe impl<T: Send> Send for Shared<T> {}
// SAFETY: as for `Send`: through `&Shared` a value is only ever moved in
// (by the one `Sender`) or out (by the one `Receiver`), each slot by one
// side at a time.
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Shared<T> {
    fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The position after `pos`.
    fn next(&self, pos: usize) -> usize {
        (pos + 1) % (2 * self.capacity())
    }

    /// How many values lie between positions `head` and `tail`.
    fn count(&self, head: usize, tail: usize) -> usize {
        let wrap = 2 * self.capacity();
        (tail + wrap - head) % wrap
    }

    /// Moves the value out of the slot at position `pos`.
    ///
    /// # Safety
    ///
    /// The slot must hold a value (`pos` is at or past `head` and before a
    /// `tail` the caller has acquired), nothing else may access it
    /// meanwhile, and the caller must then treat it as empty.
    unsafe fn take(&self, pos: usize) -> T {
        let slot = &self.slots[pos % self.capacity()];
        // SAFETY: by the contract, the slot holds an initialised value
        // whose write is ordered before this read, and nothing races it;
        // the value is moved out once, since the caller marks the slot
        // empty.
        slot.with(|p| unsafe { (*p).assume_init_read() })
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // `&mut self`: both ends are gone, and the last `Arc`'s drop
        // ordered their accesses before this one.
        let mut pos = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Relaxed);
        while pos != tail {
            // SAFETY: positions `head..tail` hold the values still queued,
            // written before (above); this is the only access left, and
            // each position is taken once.
            drop(unsafe { self.take(pos) });
            pos = self.next(pos);
        }
    }
}

/// The pushing end.
pub(crate) struct Sender<T> {
    shared: Arc<Shared<T>>,
    /// `shared.tail`, which only this end stores: no need to load it.
    tail: usize,
}

/// The popping end.
pub(crate) struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// `shared.head`, which only this end stores.
    head: usize,
}

/// A queue holding up to `capacity` values (at least one), its slots
/// allocated here and only here.
pub(crate) fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "a queue needs at least one slot");
    let shared = Arc::new(Shared {
        slots: (0..capacity)
            .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
            .collect(),
        head: AtomicUsize::new(0),
        tail: AtomicUsize::new(0),
    });
    (
        Sender {
            shared: Arc::clone(&shared),
            tail: 0,
        },
        Receiver { shared, head: 0 },
    )
}

impl<T> Sender<T> {
    /// Queues `value`, or hands it back if the queue is full. Never
    /// allocates, locks or blocks.
    pub(crate) fn push(&mut self, value: T) -> Result<(), T> {
        let s = &*self.shared;
        // Pairs with the release in `pop`: a slot the receiver has passed
        // has been read out.
        let head = s.head.load(Ordering::Acquire);
        if s.count(head, self.tail) == s.capacity() {
            return Err(value);
        }
        let slot = &s.slots[self.tail % s.capacity()];
        // SAFETY: fewer than `capacity` values are queued, so the slot at
        // `tail` is empty: either never written, or read out by the
        // receiver before its release store of `head` past it, which the
        // acquire load above saw. The receiver reads it only once `tail`
        // moves past it (below), and `&mut self` makes this the only
        // pusher, so nothing else accesses the slot now. Writing over the
        // old bits drops nothing: they were moved out.
        slot.with_mut(|p| unsafe { p.write(MaybeUninit::new(value)) });
        self.tail = s.next(self.tail);
        // Publishes the slot to the receiver, after the write.
        s.tail.store(self.tail, Ordering::Release);
        Ok(())
    }

    /// Values queued and not yet popped.
    pub(crate) fn len(&self) -> usize {
        let s = &*self.shared;
        s.count(s.head.load(Ordering::Acquire), self.tail)
    }

    /// Free slots: how many pushes would succeed now.
    pub(crate) fn slots(&self) -> usize {
        self.shared.capacity() - self.len()
    }

    /// Whether a push now would hand its value back.
    pub(crate) fn is_full(&self) -> bool {
        self.slots() == 0
    }
}

impl<T> Receiver<T> {
    /// The oldest queued value, if any. Never allocates, locks or blocks.
    pub(crate) fn pop(&mut self) -> Option<T> {
        let s = &*self.shared;
        // Pairs with the release in `push`: the slots below `tail` are
        // written, and the writes visible here.
        let tail = s.tail.load(Ordering::Acquire);
        if self.head == tail {
            return None;
        }
        // SAFETY: `head != tail`, so the slot at `head` holds a value the
        // sender wrote before its release store of `tail`, which the
        // acquire load above saw. The sender does not touch the slot again
        // until it sees `head` move past it (below), and `&mut self` makes
        // this the only popper; moving `head` on marks the slot empty.
        let value = unsafe { s.take(self.head) };
        self.head = s.next(self.head);
        // Hands the slot back to the sender, after the read.
        s.head.store(self.head, Ordering::Release);
        Some(value)
    }

    /// Values queued and not yet popped.
    pub(crate) fn len(&self) -> usize {
        let s = &*self.shared;
        s.count(self.head, s.tail.load(Ordering::Acquire))
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.shared.capacity())
            .field("len", &self.len())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("capacity", &self.shared.capacity())
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::channel;

    /// Counts its drops in the counter it was given.
    #[derive(Debug)]
    struct Counted<'a>(u32, &'a AtomicUsize);

    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn fills_empties_and_keeps_order() {
        let (mut tx, mut rx) = channel(3);
        assert!(rx.len() == 0 && !tx.is_full());
        assert_eq!((tx.len(), tx.slots()), (0, 3));
        for v in 1..=3 {
            tx.push(v).unwrap();
        }
        assert!(tx.is_full());
        assert_eq!((tx.len(), tx.slots(), rx.len()), (3, 0, 3));
        assert_eq!(
            (rx.pop(), rx.pop(), rx.pop(), rx.pop()),
            (Some(1), Some(2), Some(3), None)
        );
        assert!(rx.len() == 0 && !tx.is_full());
        assert_eq!(tx.slots(), 3);
    }

    #[test]
    fn a_full_queue_hands_the_value_back() {
        let (mut tx, mut rx) = channel(2);
        tx.push(String::from("a")).unwrap();
        tx.push(String::from("b")).unwrap();
        assert_eq!(tx.push(String::from("c")), Err(String::from("c")));
        assert_eq!(rx.pop().as_deref(), Some("a"));
        tx.push(String::from("c")).unwrap();
        assert_eq!(tx.push(String::from("d")), Err(String::from("d")));
        assert_eq!(rx.pop().as_deref(), Some("b"));
        assert_eq!(rx.pop().as_deref(), Some("c"));
        assert_eq!(rx.pop(), None);
    }

    #[test]
    fn positions_wrap_around_many_times() {
        // Every fill level at every offset, past both the slot count and
        // the position range (2 * capacity) many times over.
        for capacity in 1..=4 {
            let (mut tx, mut rx) = channel(capacity);
            let (mut next_in, mut next_out) = (0u32, 0u32);
            for round in 0..50 {
                let fill = round % (capacity + 1);
                for _ in 0..fill {
                    tx.push(next_in).unwrap();
                    next_in += 1;
                }
                assert_eq!(tx.len(), fill);
                assert_eq!(tx.is_full(), fill == capacity);
                while let Some(v) = rx.pop() {
                    assert_eq!(v, next_out);
                    next_out += 1;
                }
            }
            assert_eq!(next_in, next_out);
        }
    }

    #[test]
    fn values_left_queued_are_dropped_once_with_the_queue() {
        let drops = AtomicUsize::new(0);
        {
            let (mut tx, mut rx) = channel(4);
            for k in 0..4 {
                tx.push(Counted(k, &drops)).unwrap();
            }
            let rejected = tx.push(Counted(9, &drops)).unwrap_err();
            assert_eq!(rejected.0, 9);
            drop(rejected);
            let first = rx.pop().unwrap();
            assert_eq!(first.0, 0);
            drop(first);
            // Wrap the positions so the leftovers straddle the end.
            tx.push(Counted(4, &drops)).unwrap();
            assert_eq!(rx.pop().unwrap().0, 1);
            assert_eq!(drops.load(Ordering::Relaxed), 3);
            // Receiver first, then the sender: the queue goes with the
            // last end, taking 2, 3 and 4.
            drop(rx);
            assert_eq!(drops.load(Ordering::Relaxed), 3);
        }
        assert_eq!(drops.load(Ordering::Relaxed), 6);
    }

    #[test]
    fn values_pushed_after_the_receiver_left_are_dropped_too() {
        let drops = AtomicUsize::new(0);
        let (mut tx, rx) = channel(2);
        tx.push(Counted(0, &drops)).unwrap();
        drop(rx);
        tx.push(Counted(1, &drops)).unwrap();
        assert_eq!(drops.load(Ordering::Relaxed), 0);
        drop(tx);
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn hands_values_across_threads_in_order() {
        let (mut tx, mut rx) = channel(3);
        let n: u64 = if cfg!(miri) { 200 } else { 100_000 };
        let producer = std::thread::spawn(move || {
            for v in 0..n {
                let mut b = Box::new(v);
                loop {
                    match tx.push(b) {
                        Ok(()) => break,
                        Err(back) => {
                            b = back;
                            std::thread::yield_now();
                        }
                    }
                }
            }
        });
        let mut expect = 0;
        while expect < n {
            match rx.pop() {
                Some(b) => {
                    assert_eq!(*b, expect);
                    expect += 1;
                }
                None => std::thread::yield_now(),
            }
        }
        producer.join().unwrap();
        assert_eq!(rx.pop(), None);
    }
}
