//! How many callbacks made 0, 1, 2, … allocations.

/// Allocation counts [`PerCallback`] keeps exactly: 0 up to one less than
/// this. Callbacks with more share one overflow bucket. The engine's
/// largest known site (two scale arrays per convolution engine per
/// 512-frame block) stays far below it.
pub const PER_CALLBACK_EXACT: usize = 1024;

/// Histogram of allocations per callback: exact counts below
/// [`PER_CALLBACK_EXACT`], then one overflow bucket.
///
/// Sized in [`new`](Self::new); [`record`](Self::record) never allocates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerCallback {
    /// `buckets[k]`: callbacks with exactly `k` allocations; the last one
    /// those with at least [`PER_CALLBACK_EXACT`].
    buckets: Box<[u64]>,
}

/// One non-empty bucket of a [`PerCallback`] histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerCallbackBucket {
    /// Allocations made by each callback in the bucket (the lower bound
    /// when `or_more`).
    pub allocations: u64,
    /// True for the overflow bucket: `allocations` or more.
    pub or_more: bool,
    /// Callbacks in the bucket.
    pub callbacks: u64,
}

impl PerCallback {
    /// An empty histogram.
    pub fn new() -> Self {
        PerCallback {
            buckets: vec![0; PER_CALLBACK_EXACT + 1].into_boxed_slice(),
        }
    }

    /// Counts a callback that made `allocations` allocations. Real-time
    /// safe.
    #[inline]
    pub fn record(&mut self, allocations: u64) {
        let k = usize::try_from(allocations)
            .unwrap_or(PER_CALLBACK_EXACT)
            .min(PER_CALLBACK_EXACT);
        self.buckets[k] = self.buckets[k].saturating_add(1);
    }

    /// Adds another histogram's callbacks to these.
    pub fn merge(&mut self, other: &PerCallback) {
        for (a, b) in self.buckets.iter_mut().zip(other.buckets.iter()) {
            *a = a.saturating_add(*b);
        }
    }

    /// Callbacks that made exactly `allocations` allocations (for the
    /// overflow bucket: at least [`PER_CALLBACK_EXACT`]).
    pub fn callbacks_with(&self, allocations: u64) -> u64 {
        let k = usize::try_from(allocations)
            .unwrap_or(PER_CALLBACK_EXACT)
            .min(PER_CALLBACK_EXACT);
        self.buckets[k]
    }

    /// Non-empty buckets, fewest allocations first.
    pub fn iter(&self) -> impl Iterator<Item = PerCallbackBucket> + '_ {
        self.buckets
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| PerCallbackBucket {
                allocations: k as u64,
                or_more: k == PER_CALLBACK_EXACT,
                callbacks: *n,
            })
    }

    /// Callbacks counted.
    pub fn total(&self) -> u64 {
        self.buckets.iter().fold(0, |a, b| a.saturating_add(*b))
    }
}

impl Default for PerCallback {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_below_the_cap_are_exact_and_the_rest_overflow() {
        let mut h = PerCallback::new();
        for n in [0, 0, 3, PER_CALLBACK_EXACT as u64, u64::MAX] {
            h.record(n);
        }
        let rows: Vec<_> = h.iter().collect();
        assert_eq!(
            rows,
            vec![
                PerCallbackBucket {
                    allocations: 0,
                    or_more: false,
                    callbacks: 2
                },
                PerCallbackBucket {
                    allocations: 3,
                    or_more: false,
                    callbacks: 1
                },
                PerCallbackBucket {
                    allocations: PER_CALLBACK_EXACT as u64,
                    or_more: true,
                    callbacks: 2
                },
            ]
        );
        assert_eq!(h.total(), 5);
        assert_eq!(h.callbacks_with(5000), 2);
    }

    #[test]
    fn merging_adds_bucket_by_bucket() {
        let mut a = PerCallback::new();
        a.record(1);
        let mut b = PerCallback::new();
        b.record(1);
        b.record(2);
        a.merge(&b);
        assert_eq!((a.callbacks_with(1), a.callbacks_with(2)), (2, 1));
    }
}
