//! Size classes: the macOS malloc class a request lands in, and power-of-two
//! buckets of requested sizes.
//!
//! The macOS figures follow Apple's libmalloc (`src/thresholds.h` in
//! <https://github.com/apple-oss-distributions/libmalloc>, release 792):
//!
//! | region | requests (bytes)   | quantum | classes                      |
//! |--------|--------------------|---------|------------------------------|
//! | tiny   | 1 ..= 1008         | 16      | 16, 32, 48, …, 1008 (63)     |
//! | small  | 1009 ..= 32 768    | 512     | 1024, 1536, …, 32 768 (63)   |
//! | large  | above 32 768       | page    | rounded up to a 16 KiB page  |
//!
//! Requests of at most 256 bytes are usually served by the nano zone, whose
//! buckets use the same 16-byte quantum, so their class is the same. On
//! machines with at least 32 GiB of memory libmalloc engages a "medium"
//! region (32 KiB quantum up to 8 MiB) above the small limit; we count every
//! request above 32 KiB in one "large" bucket. `malloc(0)` takes one quantum
//! (16 bytes). Instruments groups allocations by these classes, which is why
//! a 36-byte Swift array header request shows there as a 48-byte malloc.

use std::fmt;

/// Largest request served by the tiny (and nano) regions.
pub const TINY_LIMIT: usize = 1008;
/// Quantum of the tiny region.
pub const TINY_QUANTUM: usize = 16;
/// Largest request served by the small region on macOS (iOS uses 15 KiB).
pub const SMALL_LIMIT: usize = 32 * 1024;
/// Quantum of the small region.
pub const SMALL_QUANTUM: usize = 512;
/// Page size large allocations are rounded to (Apple silicon; 4 KiB on Intel).
pub const LARGE_PAGE: usize = 16 * 1024;

const TINY_CLASSES: usize = TINY_LIMIT / TINY_QUANTUM; // 63
const SMALL_FIRST: usize = (TINY_LIMIT / SMALL_QUANTUM + 1) * SMALL_QUANTUM; // 1024
const SMALL_CLASSES: usize = (SMALL_LIMIT - SMALL_FIRST) / SMALL_QUANTUM + 1; // 63

/// Number of buckets in [`MacosHistogram`]: every tiny and small class, and
/// one bucket for everything larger.
pub const MACOS_BUCKETS: usize = TINY_CLASSES + SMALL_CLASSES + 1;

/// Number of buckets in [`RequestHistogram`]: bucket `k` holds requests in
/// `2^(k-1)+1 ..= 2^k` (bucket 0 holds 0 and 1 byte); the last bucket holds
/// everything above its lower bound.
pub const REQUEST_BUCKETS: usize = 48;

/// The macOS malloc size class of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MacosClass {
    /// Tiny (or nano) region: the request rounded up to 16 bytes.
    Tiny(usize),
    /// Small region: the request rounded up to 512 bytes.
    Small(usize),
    /// Above the small limit: rounded up to whole pages.
    Large(usize),
}

impl MacosClass {
    /// The class a request of `size` bytes lands in.
    #[inline]
    pub const fn of(size: usize) -> Self {
        if size <= TINY_LIMIT {
            let quanta = if size == 0 {
                1
            } else {
                size.div_ceil(TINY_QUANTUM)
            };
            MacosClass::Tiny(quanta * TINY_QUANTUM)
        } else if size <= SMALL_LIMIT {
            MacosClass::Small(size.div_ceil(SMALL_QUANTUM) * SMALL_QUANTUM)
        } else {
            MacosClass::Large(size.div_ceil(LARGE_PAGE).saturating_mul(LARGE_PAGE))
        }
    }

    /// Bytes the allocator actually hands out for this class.
    pub const fn bytes(self) -> usize {
        match self {
            MacosClass::Tiny(b) | MacosClass::Small(b) | MacosClass::Large(b) => b,
        }
    }

    /// Index of this class in [`MacosHistogram`].
    #[inline]
    const fn bucket(self) -> usize {
        match self {
            MacosClass::Tiny(b) => b / TINY_QUANTUM - 1,
            MacosClass::Small(b) => TINY_CLASSES + (b - SMALL_FIRST) / SMALL_QUANTUM,
            MacosClass::Large(_) => MACOS_BUCKETS - 1,
        }
    }
}

/// One bucket of a [`MacosHistogram`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MacosBucket {
    /// A tiny class of this many bytes.
    Tiny(usize),
    /// A small class of this many bytes.
    Small(usize),
    /// Every request above [`SMALL_LIMIT`].
    Large,
}

impl MacosBucket {
    fn from_index(i: usize) -> Self {
        if i < TINY_CLASSES {
            MacosBucket::Tiny((i + 1) * TINY_QUANTUM)
        } else if i < TINY_CLASSES + SMALL_CLASSES {
            MacosBucket::Small(SMALL_FIRST + (i - TINY_CLASSES) * SMALL_QUANTUM)
        } else {
            MacosBucket::Large
        }
    }
}

impl fmt::Display for MacosBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MacosBucket::Tiny(b) => write!(f, "{b} B (tiny)"),
            MacosBucket::Small(b) => write!(f, "{b} B (small)"),
            MacosBucket::Large => write!(f, "over {SMALL_LIMIT} B (large)"),
        }
    }
}

/// Count of requests per macOS malloc size class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacosHistogram {
    buckets: [u64; MACOS_BUCKETS],
}

impl MacosHistogram {
    /// An empty histogram.
    pub const fn new() -> Self {
        MacosHistogram {
            buckets: [0; MACOS_BUCKETS],
        }
    }

    fn add_n(&mut self, size: usize, n: u64) {
        let b = &mut self.buckets[MacosClass::of(size).bucket()];
        *b = b.saturating_add(n);
    }

    /// Requests counted in the class that a request of `size` bytes lands
    /// in: `count_like(36)` is the 48-byte class count.
    pub fn count_like(&self, size: usize) -> u64 {
        self.buckets[MacosClass::of(size).bucket()]
    }

    /// Non-empty buckets, smallest class first.
    pub fn iter(&self) -> impl Iterator<Item = (MacosBucket, u64)> + '_ {
        self.buckets
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (MacosBucket::from_index(i), *n))
    }

    /// Sum over all buckets.
    pub fn total(&self) -> u64 {
        self.buckets.iter().fold(0, |a, b| a.saturating_add(*b))
    }
}

impl Default for MacosHistogram {
    fn default() -> Self {
        Self::new()
    }
}

/// Count of requests per power-of-two range of requested sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHistogram {
    buckets: [u64; REQUEST_BUCKETS],
}

/// The inclusive range of requested sizes a [`RequestHistogram`] bucket holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SizeRange {
    /// Smallest size in the bucket.
    pub min: usize,
    /// Largest size in the bucket (`usize::MAX` for the last one).
    pub max: usize,
}

impl fmt::Display for SizeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.max == usize::MAX {
            write!(f, "{}+ B", self.min)
        } else if self.min == self.max {
            write!(f, "{} B", self.min)
        } else {
            write!(f, "{}-{} B", self.min, self.max)
        }
    }
}

const fn request_bucket(size: usize) -> usize {
    if size <= 1 {
        return 0;
    }
    // Bit length of size - 1: 2 -> 1, 3..=4 -> 2, 33..=64 -> 6.
    let k = (usize::BITS - (size - 1).leading_zeros()) as usize;
    if k >= REQUEST_BUCKETS {
        REQUEST_BUCKETS - 1
    } else {
        k
    }
}

fn request_range(k: usize) -> SizeRange {
    let min = if k == 0 { 0 } else { (1usize << (k - 1)) + 1 };
    let max = if k == 0 {
        1
    } else if k == REQUEST_BUCKETS - 1 {
        usize::MAX
    } else {
        1usize << k
    };
    SizeRange { min, max }
}

impl RequestHistogram {
    /// An empty histogram.
    pub const fn new() -> Self {
        RequestHistogram {
            buckets: [0; REQUEST_BUCKETS],
        }
    }

    fn add_n(&mut self, size: usize, n: u64) {
        let b = &mut self.buckets[request_bucket(size)];
        *b = b.saturating_add(n);
    }

    /// Requests counted in the bucket that holds `size`.
    pub fn count_like(&self, size: usize) -> u64 {
        self.buckets[request_bucket(size)]
    }

    /// Non-empty buckets, smallest sizes first.
    pub fn iter(&self) -> impl Iterator<Item = (SizeRange, u64)> + '_ {
        self.buckets
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (request_range(k), *n))
    }

    /// Sum over all buckets.
    pub fn total(&self) -> u64 {
        self.buckets.iter().fold(0, |a, b| a.saturating_add(*b))
    }
}

impl Default for RequestHistogram {
    fn default() -> Self {
        Self::new()
    }
}

/// The one histogram the allocator updates per request, fine enough that
/// both [`MacosHistogram`] and [`RequestHistogram`] derive from it exactly:
/// every power-of-two boundary from 16 bytes up is also a tiny or small
/// class boundary, so only sizes up to 16 bytes (kept exact) and above the
/// small limit (kept in power-of-two buckets) need buckets of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SizeTally {
    buckets: [u64; TALLY_BUCKETS],
}

/// Exact sizes 0..=16.
const TALLY_EXACT: usize = 17;
/// Tiny classes 32..=1008 follow, then small classes 1024..=32768.
const TALLY_SMALL_START: usize = TALLY_EXACT + TINY_CLASSES - 1;
const TALLY_LARGE_START: usize = TALLY_SMALL_START + SMALL_CLASSES;
/// First power-of-two bucket above the small limit (32 769..=65 536).
const LARGE_FIRST_BUCKET: usize = request_bucket(SMALL_LIMIT + 1);
const TALLY_BUCKETS: usize = TALLY_LARGE_START + REQUEST_BUCKETS - LARGE_FIRST_BUCKET;

impl SizeTally {
    pub(crate) const fn new() -> Self {
        SizeTally {
            buckets: [0; TALLY_BUCKETS],
        }
    }

    #[inline(always)]
    const fn index(size: usize) -> usize {
        if size < TALLY_EXACT {
            size
        } else if size <= TINY_LIMIT {
            // 17..=32 -> class 32, the first after the exact sizes.
            TALLY_EXACT + (size - TALLY_EXACT) / TINY_QUANTUM
        } else if size <= SMALL_LIMIT {
            // 1009..=1024 -> class 1024, 1025..=1536 -> class 1536, ...
            TALLY_SMALL_START + (size - 1) / SMALL_QUANTUM - 1
        } else {
            TALLY_LARGE_START + request_bucket(size) - LARGE_FIRST_BUCKET
        }
    }

    /// A size that lands in bucket `i`: its largest for exact sizes and
    /// classes, the lower bound for power-of-two buckets.
    fn representative(i: usize) -> usize {
        if i < TALLY_EXACT {
            i
        } else if i < TALLY_SMALL_START {
            (i - TALLY_EXACT + 2) * TINY_QUANTUM
        } else if i < TALLY_LARGE_START {
            (i - TALLY_SMALL_START + 2) * SMALL_QUANTUM
        } else {
            request_range(i - TALLY_LARGE_START + LARGE_FIRST_BUCKET).min
        }
    }

    #[inline(always)]
    pub(crate) fn add(&mut self, size: usize) {
        let b = &mut self.buckets[Self::index(size)];
        *b = b.wrapping_add(1);
    }

    pub(crate) fn add_n(&mut self, size: usize, n: u64) {
        let b = &mut self.buckets[Self::index(size)];
        *b = b.saturating_add(n);
    }

    pub(crate) fn merge(&mut self, other: &Self) {
        for (a, b) in self.buckets.iter_mut().zip(other.buckets.iter()) {
            *a = a.saturating_add(*b);
        }
    }

    fn nonzero(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.buckets
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (Self::representative(i), *n))
    }

    pub(crate) fn macos(&self) -> MacosHistogram {
        let mut h = MacosHistogram::new();
        self.nonzero().for_each(|(size, n)| h.add_n(size, n));
        h
    }

    pub(crate) fn requested(&self) -> RequestHistogram {
        let mut h = RequestHistogram::new();
        self.nonzero().for_each(|(size, n)| h.add_n(size, n));
        h
    }
}

impl Default for SizeTally {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_36_byte_request_is_a_48_byte_tiny_malloc() {
        assert_eq!(MacosClass::of(36), MacosClass::Tiny(48));
    }

    #[test]
    fn class_boundaries_follow_libmalloc_thresholds() {
        let cases = [
            (0, MacosClass::Tiny(16)),
            (1, MacosClass::Tiny(16)),
            (16, MacosClass::Tiny(16)),
            (17, MacosClass::Tiny(32)),
            (256, MacosClass::Tiny(256)),
            (1008, MacosClass::Tiny(1008)),
            (1009, MacosClass::Small(1024)),
            (1024, MacosClass::Small(1024)),
            (1025, MacosClass::Small(1536)),
            (32 * 1024, MacosClass::Small(32 * 1024)),
            (32 * 1024 + 1, MacosClass::Large(48 * 1024)),
            (64 * 1024, MacosClass::Large(64 * 1024)),
        ];
        for (size, class) in cases {
            assert_eq!(MacosClass::of(size), class, "request of {size} bytes");
        }
    }

    #[test]
    fn every_class_has_its_own_bucket_and_round_trips() {
        let mut seen = [false; MACOS_BUCKETS];
        for size in 1..=SMALL_LIMIT + 1 {
            let class = MacosClass::of(size);
            let i = class.bucket();
            seen[i] = true;
            match (MacosBucket::from_index(i), class) {
                (MacosBucket::Tiny(a), MacosClass::Tiny(b)) => assert_eq!(a, b, "size {size}"),
                (MacosBucket::Small(a), MacosClass::Small(b)) => assert_eq!(a, b, "size {size}"),
                (MacosBucket::Large, MacosClass::Large(_)) => {}
                (bucket, class) => panic!("size {size}: bucket {bucket:?} for class {class:?}"),
            }
        }
        assert!(seen.iter().all(|s| *s), "some bucket unreachable");
    }

    #[test]
    fn request_buckets_cover_sizes_without_gaps() {
        let mut expected_min = 0;
        for k in 0..REQUEST_BUCKETS {
            let r = request_range(k);
            assert_eq!(r.min, expected_min, "bucket {k}");
            assert_eq!(request_bucket(r.min), k, "min of bucket {k}");
            assert_eq!(request_bucket(r.max), k, "max of bucket {k}");
            expected_min = r.max.wrapping_add(1);
        }
        assert_eq!(request_bucket(36), 6);
        assert_eq!(request_range(6), SizeRange { min: 33, max: 64 });
    }

    #[test]
    fn histograms_derived_from_the_tally_match_direct_binning_for_every_size() {
        // Every size up to past the small limit, a sample of large ones.
        // Under Miri, which runs this some thousand times slower, every
        // size of the tiny region and every 97th after it (the class
        // boundaries have a test of their own).
        let step = if cfg!(miri) { 97 } else { 1 };
        let sizes = (0..=1024)
            .chain((1025..=SMALL_LIMIT + 2048).step_by(step))
            .chain((16..48).map(|k| (1usize << k) + 7));
        for size in sizes {
            let mut t = SizeTally::new();
            t.add(size);
            let mut direct_macos = MacosHistogram::new();
            direct_macos.add_n(size, 1);
            let mut direct_requested = RequestHistogram::new();
            direct_requested.add_n(size, 1);
            assert_eq!(t.macos(), direct_macos, "macOS class of {size} bytes");
            assert_eq!(
                t.requested(),
                direct_requested,
                "request bucket of {size} bytes"
            );
        }
    }

    #[test]
    fn tally_counts_and_merges() {
        let mut a = SizeTally::new();
        a.add(36);
        a.add(48);
        a.add(100_000);
        let mut b = SizeTally::new();
        b.add(40);
        b.merge(&a);
        let macos = b.macos();
        assert_eq!(macos.count_like(36), 3);
        assert_eq!(macos.count_like(1 << 20), 1);
        assert_eq!(macos.total(), 4);
        let rows: Vec<_> = macos.iter().collect();
        assert_eq!(
            rows,
            vec![(MacosBucket::Tiny(48), 3), (MacosBucket::Large, 1)]
        );
        assert_eq!(b.requested().count_like(33), 3);
    }
}
