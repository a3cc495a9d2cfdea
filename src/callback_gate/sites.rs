//! A gate's call sites: the traced stacks of a run, named and grouped per
//! function, with the sizes requested there listed within.

use std::collections::BTreeMap;

use super::record::TAGS;
use crate::trace::{CallKind, SiteTable, Symboliser, TracedStack};

/// Frames shown in a site's backtrace, its function included.
const BACKTRACE_FRAMES: usize = 5;

/// One call site of a gate's run: a function in your code or a
/// third-party crate's, and the allocator calls made under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSite {
    /// The first frame, from the allocator outward, that is neither std's
    /// nor allocgate's (see [`DEFAULT_SKIP`](crate::trace::DEFAULT_SKIP)),
    /// or `"(no user frame)"`.
    pub function: String,
    /// The calls made here, per size (bytes requested; `realloc`: the new
    /// size, `dealloc`: the block's), most calls first.
    pub sizes: Vec<SiteSize>,
    /// A short backtrace from `function` outward (its callers), leaving
    /// out std's and allocgate's frames in between: an allocating example
    /// when the site allocates.
    pub backtrace: Vec<String>,
    /// The invocations (by index) that made calls here, in order, among
    /// the first 255 that made any allocator call (later ones are not
    /// told apart).
    pub invocations: Vec<u64>,
}

/// The calls of one size at one [`CallSite`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteSize {
    /// Bytes.
    pub size: usize,
    /// `alloc` and `alloc_zeroed` calls.
    pub allocations: u64,
    /// `dealloc` calls.
    pub deallocations: u64,
    /// `realloc` calls.
    pub reallocations: u64,
}

impl SiteSize {
    /// Allocator calls of every kind.
    pub fn calls(&self) -> u64 {
        self.allocations + self.deallocations + self.reallocations
    }
}

impl CallSite {
    /// Allocator calls of every kind at this site.
    pub fn calls(&self) -> u64 {
        self.sizes.iter().map(SiteSize::calls).sum()
    }

    /// `alloc` and `alloc_zeroed` calls at this site.
    pub fn allocations(&self) -> u64 {
        self.sizes.iter().map(|s| s.allocations).sum()
    }

    /// `dealloc` calls at this site.
    pub fn deallocations(&self) -> u64 {
        self.sizes.iter().map(|s| s.deallocations).sum()
    }

    /// `realloc` calls at this site.
    pub fn reallocations(&self) -> u64 {
        self.sizes.iter().map(|s| s.reallocations).sum()
    }
}

/// Frames where a thread's Rust code begins (a test's, a spawned
/// thread's, `main`'s): what lies beyond is the runtime and libc.
const ENTRY_POINTS: &[&str] = &[
    "__rust_begin_short_backtrace",
    "std::rt::lang_start",
    "thread_start",
];

/// From the function outward: the function, then the callers that are
/// user code up to the thread's entry point, at most [`BACKTRACE_FRAMES`]
/// in all. Unnamed frames (bare addresses) are left out.
fn backtrace(stack: &TracedStack, symboliser: &Symboliser) -> Vec<String> {
    let from = stack.user_frame.unwrap_or(0);
    stack.frames[from..]
        .iter()
        .take_while(|n| !ENTRY_POINTS.iter().any(|e| n.contains(e)))
        .filter(|n| !n.starts_with("0x") && !symboliser.skips(n))
        .take(BACKTRACE_FRAMES)
        .cloned()
        .collect()
}

/// `table`'s stacks named and grouped per function; `tagged_calls[t - 1]`
/// is the invocation that recorded under trace tag `t`.
pub(super) fn sites(table: &SiteTable, tagged_calls: &[u64]) -> Vec<CallSite> {
    debug_assert!(tagged_calls.len() <= TAGS);
    let mut symboliser = Symboliser::new(&[]);
    // Per function: the site, its sizes by size, whether its example
    // allocates.
    let mut by_function: BTreeMap<String, (CallSite, BTreeMap<usize, SiteSize>, bool)> =
        BTreeMap::new();
    for raw in table.rows() {
        let stack = symboliser.site(&raw);
        let allocates = stack.kind != CallKind::Dealloc;
        let (site, sizes, example_allocates) = by_function
            .entry(stack.function.clone())
            .or_insert_with(|| {
                (
                    CallSite {
                        function: stack.function.clone(),
                        sizes: Vec::new(),
                        backtrace: backtrace(&stack, &symboliser),
                        invocations: Vec::new(),
                    },
                    BTreeMap::new(),
                    allocates,
                )
            });
        if allocates && !*example_allocates {
            site.backtrace = backtrace(&stack, &symboliser);
            *example_allocates = true;
        }
        let s = sizes.entry(stack.size).or_insert(SiteSize {
            size: stack.size,
            allocations: 0,
            deallocations: 0,
            reallocations: 0,
        });
        match stack.kind {
            CallKind::Alloc => s.allocations += stack.count,
            CallKind::Dealloc => s.deallocations += stack.count,
            CallKind::Realloc => s.reallocations += stack.count,
        }
        if let Some(&i) = usize::from(stack.tag)
            .checked_sub(1)
            .and_then(|t| tagged_calls.get(t))
        {
            site.invocations.push(i);
        }
    }
    let mut out: Vec<CallSite> = by_function
        .into_values()
        .map(|(mut site, sizes, _)| {
            site.sizes = sizes.into_values().collect();
            site.sizes
                .sort_by(|a, b| b.calls().cmp(&a.calls()).then(a.size.cmp(&b.size)));
            site.invocations.sort_unstable();
            site.invocations.dedup();
            site
        })
        .collect();
    out.sort_by(|a, b| {
        b.calls()
            .cmp(&a.calls())
            .then_with(|| a.function.cmp(&b.function))
    });
    out
}
