//! The fixed-capacity table the audio thread records stacks into: every
//! row is allocated when the table is made, so recording never allocates.

/// Frames kept per stack (innermost first); deeper frames are cut off and
/// the cut counted in [`SiteTable::truncated`].
pub const MAX_FRAMES: usize = 48;

/// Rows of a table made with [`SiteTable::new`].
pub(crate) const DEFAULT_ROWS: usize = 512;

/// Which allocator call a row counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum CallKind {
    /// `alloc` or `alloc_zeroed`.
    Alloc,
    /// `dealloc`.
    Dealloc,
    /// `realloc` (the row's size is the new size).
    Realloc,
}

/// One distinct (stack, call kind, size, tag) and how often it was seen.
#[derive(Debug, Clone, Copy)]
struct Row {
    used: bool,
    hash: u64,
    kind: CallKind,
    tag: u8,
    depth: u8,
    size: usize,
    count: u64,
    frames: [usize; MAX_FRAMES],
}

impl Row {
    const EMPTY: Row = Row {
        used: false,
        hash: 0,
        kind: CallKind::Alloc,
        tag: 0,
        depth: 0,
        size: 0,
        count: 0,
        frames: [0; MAX_FRAMES],
    };

    fn matches(&self, hash: u64, kind: CallKind, tag: u8, size: usize, frames: &[usize]) -> bool {
        self.hash == hash
            && self.kind == kind
            && self.tag == tag
            && self.size == size
            && self.stack() == frames
    }

    fn stack(&self) -> &[usize] {
        &self.frames[..usize::from(self.depth)]
    }
}

/// A recorded stack: raw return addresses, innermost first, not yet
/// symbolised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawSite<'a> {
    /// Instruction pointers, innermost first (at most [`MAX_FRAMES`]).
    pub frames: &'a [usize],
    /// The call.
    pub kind: CallKind,
    /// Bytes requested (`realloc`: the new size; `dealloc`: the block's).
    pub size: usize,
    /// The thread's tag when the call was made ([`tagged`](super::tagged)).
    pub tag: u8,
    /// Calls with exactly this stack, kind, size and tag.
    pub count: u64,
}

/// Distinct allocation stacks and their counts, filled by
/// [`trace`](super::trace) on one thread.
///
/// Made (and allocated) before the traced work; recording into it is an
/// open-addressed lookup over a fixed array and never allocates. When
/// every row is taken, further new stacks are only counted
/// ([`overflowed`](Self::overflowed)).
#[derive(Debug, Clone)]
pub struct SiteTable {
    rows: Box<[Row]>,
    used: usize,
    calls: u64,
    overflowed: u64,
    truncated: u64,
    nested: u64,
}

impl Default for SiteTable {
    fn default() -> Self {
        Self::new()
    }
}

impl SiteTable {
    /// A table of 512 rows (about 210 KiB). Off the audio thread.
    pub fn new() -> Self {
        Self::with_rows(DEFAULT_ROWS)
    }

    /// A table of `rows` distinct stacks (at least one). Off the audio
    /// thread.
    pub fn with_rows(rows: usize) -> Self {
        SiteTable {
            rows: vec![Row::EMPTY; rows.max(1)].into_boxed_slice(),
            used: 0,
            calls: 0,
            overflowed: 0,
            truncated: 0,
            nested: 0,
        }
    }

    /// Rows the table can hold.
    pub fn capacity(&self) -> usize {
        self.rows.len()
    }

    /// Rows in use (distinct stacks recorded).
    pub fn len(&self) -> usize {
        self.used
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.calls == 0
    }

    /// Allocator calls recorded, overflowed ones included.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// Calls whose stack found no free row (counted in
    /// [`calls`](Self::calls), in no row).
    pub fn overflowed(&self) -> u64 {
        self.overflowed
    }

    /// Calls whose stack was deeper than [`MAX_FRAMES`] and was cut.
    pub fn truncated(&self) -> u64 {
        self.truncated
    }

    /// Allocator calls made while a stack was being captured (by the
    /// unwinder, say): never counted in any scope's figures, never
    /// recorded, only tallied here. Zero on the platforms tested.
    pub fn nested(&self) -> u64 {
        self.nested
    }

    /// Forgets everything recorded; keeps the rows. Never allocates.
    pub fn clear(&mut self) {
        self.rows.fill(Row::EMPTY);
        self.used = 0;
        self.calls = 0;
        self.overflowed = 0;
        self.truncated = 0;
        self.nested = 0;
    }

    /// The recorded stacks, in no particular order.
    pub(crate) fn rows(&self) -> impl Iterator<Item = RawSite<'_>> {
        self.rows.iter().filter(|r| r.used).map(|r| RawSite {
            frames: r.stack(),
            kind: r.kind,
            size: r.size,
            tag: r.tag,
            count: r.count,
        })
    }

    /// Counts one call. Audio thread: never allocates, locks or panics.
    pub(crate) fn record(
        &mut self,
        frames: &[usize],
        truncated: bool,
        kind: CallKind,
        size: usize,
        tag: u8,
    ) {
        self.calls += 1;
        self.truncated += u64::from(truncated);
        let frames = &frames[..frames.len().min(MAX_FRAMES)];
        let hash = hash(frames, kind, size, tag);
        let len = self.rows.len();
        let start = (hash % len as u64) as usize;
        for probe in 0..len {
            let row = &mut self.rows[(start + probe) % len];
            if !row.used {
                row.used = true;
                row.hash = hash;
                row.kind = kind;
                row.tag = tag;
                row.size = size;
                row.depth = frames.len() as u8;
                row.frames[..frames.len()].copy_from_slice(frames);
                row.count = 1;
                self.used += 1;
                return;
            }
            if row.matches(hash, kind, tag, size, frames) {
                row.count += 1;
                return;
            }
        }
        self.overflowed += 1;
    }

    pub(crate) fn add_nested(&mut self, calls: u64) {
        self.nested += calls;
    }
}

/// FNV-1a over the words of the key: cheap, allocation-free, and good
/// enough to spread a few hundred stacks over the rows.
fn hash(frames: &[usize], kind: CallKind, size: usize, tag: u8) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |word: u64| {
        h ^= word;
        h = h.wrapping_mul(PRIME);
    };
    mix(kind as u64);
    mix(u64::from(tag));
    mix(size as u64);
    for &ip in frames {
        mix(ip as u64);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_stacks_share_a_row_and_different_ones_do_not() {
        let mut t = SiteTable::with_rows(8);
        t.record(&[1, 2, 3], false, CallKind::Alloc, 36, 2);
        t.record(&[1, 2, 3], false, CallKind::Alloc, 36, 2);
        t.record(&[1, 2, 3], false, CallKind::Dealloc, 36, 2);
        t.record(&[1, 2, 3], false, CallKind::Alloc, 48, 2);
        t.record(&[1, 2, 3], false, CallKind::Alloc, 36, 1);
        t.record(&[1, 2, 4], false, CallKind::Alloc, 36, 2);
        assert_eq!((t.len(), t.calls()), (5, 6));
        let twice: Vec<_> = t.rows().filter(|r| r.count == 2).collect();
        assert_eq!(twice.len(), 1);
        assert_eq!(twice[0].frames, &[1, 2, 3]);
        assert_eq!(
            (twice[0].kind, twice[0].size, twice[0].tag),
            (CallKind::Alloc, 36, 2)
        );
    }

    #[test]
    fn a_full_table_counts_new_stacks_as_overflowed() {
        let mut t = SiteTable::with_rows(2);
        for ip in 0..5 {
            t.record(&[ip], false, CallKind::Alloc, 8, 0);
        }
        t.record(&[0], false, CallKind::Alloc, 8, 0);
        assert_eq!((t.len(), t.calls(), t.overflowed()), (2, 6, 3));
        assert_eq!(t.rows().map(|r| r.count).sum::<u64>(), 3);
    }

    #[test]
    fn deep_stacks_are_cut_and_counted() {
        let mut t = SiteTable::with_rows(4);
        let deep: Vec<usize> = (0..MAX_FRAMES + 10).collect();
        t.record(&deep, true, CallKind::Realloc, 64, 0);
        assert_eq!(t.truncated(), 1);
        assert_eq!(t.rows().next().unwrap().frames.len(), MAX_FRAMES);
        t.clear();
        assert!(t.is_empty());
        assert_eq!((t.len(), t.truncated(), t.rows().count()), (0, 0, 0));
    }
}
