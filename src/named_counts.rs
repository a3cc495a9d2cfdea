//! Calls counted by the C function's name: one counter per name in a fixed
//! array, so counting is an addition that never allocates. The blocking
//! calls ([`BlockingCounts`](crate::BlockingCounts)) and the C allocator's
//! entry points ([`CAllocCounts`](crate::c_level::CAllocCounts)) are both
//! kept this way.

use std::fmt;
use std::marker::PhantomData;

/// A set of C functions counted by name: each has a counter index, in the
/// order of [`CallName::ALL`], and a name.
pub trait CallName: Copy + fmt::Display + 'static {
    /// Every function of the set, in the order of their counters.
    const ALL: &'static [Self];
    /// This function's counter.
    fn index(self) -> usize;
}

/// Calls counted per function of `K` (`N` is the number of functions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NamedCounts<K: CallName, const N: usize> {
    calls: [u64; N],
    names: PhantomData<K>,
}

impl<K: CallName, const N: usize> Default for NamedCounts<K, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: CallName, const N: usize> NamedCounts<K, N> {
    /// No call counted.
    pub const fn new() -> Self {
        NamedCounts {
            calls: [0; N],
            names: PhantomData,
        }
    }

    /// Calls to `call`.
    pub fn get(&self, call: K) -> u64 {
        self.calls[call.index()]
    }

    /// Calls of every name.
    pub fn total(&self) -> u64 {
        self.calls.iter().fold(0, |a, &n| a.saturating_add(n))
    }

    /// True when no call was counted.
    pub fn is_zero(&self) -> bool {
        self.calls.iter().all(|&n| n == 0)
    }

    /// The calls made, with their counts, in [`CallName::ALL`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (K, u64)> + '_ {
        K::ALL
            .iter()
            .map(|&c| (c, self.get(c)))
            .filter(|&(_, n)| n > 0)
    }

    /// Adds `n` calls to `call`: for counts made elsewhere (another
    /// process) and carried here by name.
    ///
    /// ```
    /// use allocgate::{BlockingCall, BlockingCounts};
    /// let mut b = BlockingCounts::new();
    /// b.add_calls(BlockingCall::Printf, 3);
    /// assert_eq!(b.to_string(), "3 x printf");
    /// ```
    pub fn add_calls(&mut self, call: K, n: u64) {
        let c = &mut self.calls[call.index()];
        *c = c.saturating_add(n);
    }

    /// Adds other counts to these.
    pub fn merge(&mut self, o: &Self) {
        for (a, b) in self.calls.iter_mut().zip(o.calls) {
            *a = a.saturating_add(b);
        }
    }

    // A wrapping addition on the layer's path, as for `Counts`: it must
    // never panic.
    #[inline(always)]
    pub(crate) fn add(&mut self, call: K) {
        let n = &mut self.calls[call.index()];
        *n = n.wrapping_add(1);
    }
}

impl<K: CallName, const N: usize> fmt::Display for NamedCounts<K, N> {
    /// `2 x pthread_mutex_lock, 1 x nanosleep`; `none` when nothing was
    /// counted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut separator = "";
        for (call, n) in self.iter() {
            write!(f, "{separator}{n} x {call}")?;
            separator = ", ";
        }
        if separator.is_empty() {
            f.write_str("none")?;
        }
        Ok(())
    }
}
