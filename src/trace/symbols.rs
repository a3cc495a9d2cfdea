//! Names for recorded stacks, looked up after the run, and the grouping of
//! stacks into sites. Off the audio thread: everything here allocates.

use std::collections::HashMap;
use std::ffi::c_void;

use super::table::{CallKind, RawSite};

/// Name prefixes of frames that are not user code, and so never a site's
/// function: the allocator and the tracer (`allocgate::alloc`), Rust's
/// standard libraries and their allocation shims (`std`, `core`, `alloc`,
/// `__rust*`, `__rg_*`, `__rdl_*`), the unwinder (`backtrace`,
/// `_Unwind*`), and the reference engine's allocating idioms
/// (`allocgate_engine::sites::temporaries`, standing in for the Swift
/// runtime's allocation calls that the binauralizer's sites go through).
/// A name matches when it starts with a prefix, or with `<` and a prefix
/// (trait implementations: `<alloc::vec::Vec<T> as …>::drop`). This list
/// is the definition of "user code"; add more with
/// [`Symboliser::new`]'s `extra` (`allocgate run --trace-skip PREFIX`).
pub const DEFAULT_SKIP: &[&str] = &[
    "allocgate::",
    "allocgate_engine::sites::temporaries::",
    "std::",
    "core::",
    "alloc::",
    "__rust",
    "__rg_",
    "__rdl_",
    "backtrace::",
    "_Unwind",
];

/// Frames of the tracer itself, dropped from the top of a backtrace.
const TRACER: &[&str] = &["allocgate::", "backtrace::", "_Unwind"];

/// Frames kept in a site's backtrace after its function.
const CONTEXT_FRAMES: usize = 4;

/// `name` without a trailing `::h` and 16 hex digits (the legacy mangling
/// hash a demangler prints when not told to omit it).
pub fn strip_hash(name: &str) -> &str {
    match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            head
        }
        _ => name,
    }
}

fn matches_any(name: &str, prefixes: &[String]) -> bool {
    let bare = name.trim_start_matches('<');
    prefixes.iter().any(|p| bare.starts_with(p.as_str()))
}

/// One stack with names: what [`Symboliser::site`] makes of a [`RawSite`].
#[derive(Debug, Clone, PartialEq)]
pub struct TracedStack {
    /// The first frame in user code (see [`DEFAULT_SKIP`]), or
    /// `"(no user frame)"`.
    pub function: String,
    /// Every frame's name, innermost first (inlined functions as frames of
    /// their own when the binary has line tables; unknown ones as
    /// addresses).
    pub frames: Vec<String>,
    /// Index of `function` in `frames`, if found.
    pub user_frame: Option<usize>,
    /// The call, size, tag and count of the raw site.
    pub kind: CallKind,
    /// Bytes requested.
    pub size: usize,
    /// The thread's tag.
    pub tag: u8,
    /// Calls with this stack.
    pub count: u64,
}

/// Resolves return addresses to function names, caching each address.
#[derive(Debug)]
pub struct Symboliser {
    skip: Vec<String>,
    cache: HashMap<usize, Vec<String>>,
}

impl Symboliser {
    /// A symboliser skipping [`DEFAULT_SKIP`] and `extra` prefixes.
    pub fn new(extra: &[String]) -> Symboliser {
        let mut skip: Vec<String> = DEFAULT_SKIP.iter().map(|s| (*s).to_owned()).collect();
        skip.extend(extra.iter().filter(|s| !s.is_empty()).cloned());
        Symboliser {
            skip,
            cache: HashMap::new(),
        }
    }

    /// True when `name` is not user code.
    pub fn skips(&self, name: &str) -> bool {
        matches_any(name, &self.skip)
    }

    /// The names at return address `ip`, innermost (inlined) first.
    fn names(&mut self, ip: usize) -> &[String] {
        self.cache.entry(ip).or_insert_with(|| {
            let mut names = Vec::new();
            // `resolve` looks up the call instruction before `ip` (it
            // subtracts one), as a return address needs.
            backtrace::resolve(ip as *mut c_void, |symbol| {
                if let Some(name) = symbol.name() {
                    names.push(strip_hash(&format!("{name:#}")).to_owned());
                }
            });
            if names.is_empty() {
                names.push(format!("{ip:#x}"));
            }
            names
        })
    }

    /// Names `raw`'s stack and finds its function.
    pub fn site(&mut self, raw: &RawSite<'_>) -> TracedStack {
        let mut frames = Vec::new();
        for &ip in raw.frames {
            frames.extend(self.names(ip).iter().cloned());
        }
        let user_frame = frames
            .iter()
            .position(|n| !n.starts_with("0x") && !self.skips(n));
        TracedStack {
            function: user_frame
                .map_or_else(|| "(no user frame)".to_owned(), |i| frames[i].clone()),
            frames,
            user_frame,
            kind: raw.kind,
            size: raw.size,
            tag: raw.tag,
            count: raw.count,
        }
    }
}

/// The part of a stack worth showing: from the first frame that is not
/// the tracer's own to a few frames past the user frame.
fn trimmed(stack: &TracedStack) -> Vec<String> {
    let tracer: Vec<String> = TRACER.iter().map(|s| (*s).to_owned()).collect();
    let start = stack
        .frames
        .iter()
        .position(|n| !matches_any(n, &tracer))
        .unwrap_or(0);
    let end = stack
        .user_frame
        .map_or(stack.frames.len(), |u| u + 1 + CONTEXT_FRAMES)
        .min(stack.frames.len());
    stack.frames[start.min(end)..end].to_vec()
}

/// One site: the calls of one size made under one function with one tag.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteGroup {
    /// The first function in user code.
    pub function: String,
    /// The thread's tag (the driver's callback kind).
    pub tag: u8,
    /// Bytes requested (`realloc`: the new size; `dealloc`: the block's).
    pub size: usize,
    /// `alloc` and `alloc_zeroed` calls.
    pub allocations: u64,
    /// `dealloc` calls.
    pub deallocations: u64,
    /// `realloc` calls.
    pub reallocations: u64,
    /// One example stack, trimmed (an allocating one when there is one).
    pub backtrace: Vec<String>,
}

/// Groups stacks per (function, tag, size), ordered by calls, most first
/// (then by function, tag and size).
pub fn group(stacks: impl IntoIterator<Item = TracedStack>) -> Vec<SiteGroup> {
    let mut groups: HashMap<(String, u8, usize), (SiteGroup, CallKind)> = HashMap::new();
    for s in stacks {
        let key = (s.function.clone(), s.tag, s.size);
        let (g, example_kind) = groups.entry(key).or_insert_with(|| {
            (
                SiteGroup {
                    function: s.function.clone(),
                    tag: s.tag,
                    size: s.size,
                    allocations: 0,
                    deallocations: 0,
                    reallocations: 0,
                    backtrace: trimmed(&s),
                },
                s.kind,
            )
        });
        match s.kind {
            CallKind::Alloc => g.allocations += s.count,
            CallKind::Dealloc => g.deallocations += s.count,
            CallKind::Realloc => g.reallocations += s.count,
        }
        // Prefer an example that allocates over one that frees.
        if *example_kind == CallKind::Dealloc && s.kind != CallKind::Dealloc {
            g.backtrace = trimmed(&s);
            *example_kind = s.kind;
        }
    }
    let mut out: Vec<SiteGroup> = groups.into_values().map(|(g, _)| g).collect();
    out.sort_by(|a, b| {
        let calls = |g: &SiteGroup| g.allocations + g.deallocations + g.reallocations;
        calls(b)
            .cmp(&calls(a))
            .then_with(|| a.function.cmp(&b.function))
            .then(a.tag.cmp(&b.tag))
            .then(a.size.cmp(&b.size))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stripped_and_other_names_kept() {
        assert_eq!(strip_hash("a::b::h0123456789abcdef"), "a::b");
        assert_eq!(strip_hash("a::b::hello"), "a::b::hello");
        assert_eq!(
            strip_hash("a::b::h0123456789abcdeg"),
            "a::b::h0123456789abcdeg"
        );
        assert_eq!(strip_hash("main"), "main");
    }

    #[test]
    fn the_allocator_std_and_the_idioms_are_not_user_code() {
        let s = Symboliser::new(&["mylib::pool::".to_owned()]);
        for name in [
            "<allocgate::alloc::counting::CountingAlloc<A> as core::alloc::global::GlobalAlloc>::alloc",
            "__rust_alloc",
            "alloc::alloc::alloc",
            "<alloc::vec::Vec<T,A> as core::ops::drop::Drop>::drop",
            "core::ptr::drop_in_place<allocgate_engine::renderer::RendererSet>",
            "allocgate_engine::sites::temporaries::scale_array",
            "backtrace::backtrace::libunwind::trace",
            "mylib::pool::Pool::get",
        ] {
            assert!(s.skips(name), "{name}");
        }
        for name in [
            "allocgate_engine::convolver::Convolver::process_block",
            "<allocgate_engine::input::InputCallback>::process",
            "mylib::engine::run",
        ] {
            assert!(!s.skips(name), "{name}");
        }
    }

    fn stack(names: &[&str], kind: CallKind, size: usize, count: u64) -> TracedStack {
        let s = Symboliser::new(&[]);
        let frames: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let user_frame = frames.iter().position(|n| !s.skips(n));
        TracedStack {
            function: user_frame.map_or("(no user frame)".to_owned(), |i| frames[i].clone()),
            frames,
            user_frame,
            kind,
            size,
            tag: 2,
            count,
        }
    }

    #[test]
    fn stacks_group_per_function_and_size_with_an_allocating_example() {
        let free = stack(
            &["backtrace::x", "__rust_dealloc", "app::step", "app::run"],
            CallKind::Dealloc,
            36,
            3,
        );
        let alloc = stack(
            &[
                "allocgate::alloc::x",
                "__rust_alloc",
                "app::step",
                "app::run",
            ],
            CallKind::Alloc,
            36,
            3,
        );
        let other = stack(&["__rust_alloc", "app::log"], CallKind::Alloc, 128, 1);
        let groups = group([free, alloc, other]);
        assert_eq!(groups.len(), 2);
        let g = &groups[0];
        assert_eq!(
            (g.function.as_str(), g.size, g.allocations, g.deallocations),
            ("app::step", 36, 3, 3)
        );
        assert_eq!(g.backtrace, ["__rust_alloc", "app::step", "app::run"]);
        assert_eq!(groups[1].function, "app::log");
    }
}
