//! Names for recorded stacks, looked up after the run, and the grouping of
//! stacks into sites. Off the audio thread: everything here allocates.

use std::collections::HashMap;
use std::ffi::c_void;

use super::c_library::CLibrary;
use super::table::{CallKind, RawSite};

/// Path prefixes of code that is not the user's, and so never a site's
/// function: the allocator and the tracer (`allocgate::`), Rust's standard
/// libraries and their allocation shims (`std`, `core`, `alloc`,
/// `__rust*`, `__rg_*`, `__rdl_*`), the unwinder (`backtrace`,
/// `_Unwind*`), the C-level layer (`allocgate_interpose`) and the test
/// harness (`test`). This list is the definition of "user code" (yours or
/// a third-party crate's); add more with [`symbolise`](super::symbolise)'s
/// `extra_skip`. Frames in the C library (`strdup` calling `malloc`) and
/// in the functions a C-level layer defines under the C library's names
/// (its `malloc`) are skipped too, told apart by address, not by name.
///
/// A frame is skipped when every path its name mentions at the top level
/// starts with a prefix. A plain name (`alloc::vec::from_elem`,
/// `core::ptr::drop_in_place<app::Voice>`) mentions one path: its own. A
/// trait method (`<Type as Trait>::method`) mentions the type's path and
/// the trait's, since the implementation belongs to one of their crates:
/// `<alloc::vec::Vec<T> as core::ops::drop::Drop>::drop` and `<T as
/// alloc::vec::spec_from_elem::SpecFromElem>::from_elem` are std's (a
/// generic parameter or a primitive type mentions no path), while `<app::Voice
/// as core::ops::drop::Drop>::drop` and `<realfft::RealToComplexOdd<T> as
/// realfft::RealToComplex<T>>::process` are not. Generic arguments are
/// not looked at. An inherent method of a primitive (`<[T]>::to_vec`)
/// mentions no path and is std's.
pub const DEFAULT_SKIP: &[&str] = &[
    "allocgate::",
    "std::",
    "core::",
    "alloc::",
    "__rust",
    "__rg_",
    "__rdl_",
    "backtrace::",
    "_Unwind",
    "allocgate_interpose::",
    "test::",
];

/// Frames of the tracer itself, dropped from the top of a backtrace.
const TRACER: &[&str] = &["allocgate::", "backtrace::", "_Unwind"];

/// Frames kept in a site's backtrace after its function.
const CONTEXT_FRAMES: usize = 4;

/// `name` without a trailing `::h` and 16 hex digits (the legacy mangling
/// hash a demangler prints when not told to omit it).
pub(crate) fn strip_hash(name: &str) -> &str {
    match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            head
        }
        _ => name,
    }
}

/// The paths a demangled name mentions at the top level, in order: for a
/// plain name the name itself, for `<Type as Trait>::…` the type's path
/// (if it has one) and the trait's, for `<Type>::…` the type's.
fn owners(name: &str) -> Vec<&str> {
    let mut out = Vec::new();
    name_owners(name.trim(), &mut out);
    out
}

fn name_owners<'a>(name: &'a str, out: &mut Vec<&'a str>) {
    let Some(inner) = name.strip_prefix('<') else {
        out.push(name);
        return;
    };
    let inner = &inner[..closing_angle(inner).unwrap_or(inner.len())];
    match split_top_level(inner, " as ") {
        Some((ty, tr)) => {
            type_owners(ty, out);
            name_owners(tr.trim(), out);
        }
        None => type_owners(inner, out),
    }
}

/// A type's path, if it has one. `dyn Trait` is the trait's; references,
/// pointers, slices, arrays, tuples and function pointers are std's
/// constructors (std's blanket impls over `&T` and `&mut T` show the
/// concrete `T` under the v0 mangling); a bare name without `::` is a
/// generic parameter or a primitive.
fn type_owners<'a>(ty: &'a str, out: &mut Vec<&'a str>) {
    let t = ty.trim();
    let t = t.strip_prefix("dyn ").unwrap_or(t).trim_start();
    if t.starts_with('<') {
        name_owners(t, out);
    } else if !t.starts_with(['[', '(', '{', '&', '*'])
        && !t.starts_with("fn(")
        && !t.starts_with("unsafe ")
        && !t.starts_with("extern ")
        && t.split('<').next().is_some_and(|head| head.contains("::"))
    {
        out.push(t);
    }
}

/// Index in `s` of the `>` that closes an already opened `<` (a `->`
/// arrow is not one).
fn closing_angle(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut previous = ' ';
    for (i, c) in s.char_indices() {
        match c {
            '<' => depth += 1,
            '>' if previous != '-' => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
            }
            _ => {}
        }
        previous = c;
    }
    None
}

/// `s` split at the first `sep` outside any brackets.
fn split_top_level<'a>(s: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let mut depth = 0i32;
    let mut previous = ' ';
    for (i, c) in s.char_indices() {
        match c {
            '<' | '[' | '(' => depth += 1,
            '>' if previous != '-' => depth -= 1,
            ']' | ')' => depth -= 1,
            _ => {}
        }
        previous = c;
        if depth == 0 && s[i..].starts_with(sep) {
            return Some((&s[..i], &s[i + sep.len()..]));
        }
    }
    None
}

fn starts_with_any(path: &str, prefixes: &[String]) -> bool {
    prefixes.iter().any(|p| path.starts_with(p.as_str()))
}

/// True when every path `name` mentions starts with one of `prefixes`.
fn skipped(name: &str, prefixes: &[String]) -> bool {
    owners(name).iter().all(|p| starts_with_any(p, prefixes))
}

/// True when the first path `name` mentions is the tracer's own.
fn is_tracer(name: &str) -> bool {
    owners(name)
        .first()
        .is_some_and(|p| TRACER.iter().any(|t| p.starts_with(t)))
}

/// One stack with names: what [`Symboliser::site`] makes of a [`RawSite`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TracedStack {
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
pub(crate) struct Symboliser {
    skip: Vec<String>,
    c_library: Option<CLibrary>,
    /// Per address: its names, and whether it is the C library's code.
    cache: HashMap<usize, (Vec<String>, bool)>,
}

impl Symboliser {
    /// A symboliser skipping [`DEFAULT_SKIP`] and `extra` prefixes.
    pub(crate) fn new(extra: &[String]) -> Symboliser {
        let mut skip: Vec<String> = DEFAULT_SKIP.iter().map(|s| (*s).to_owned()).collect();
        skip.extend(extra.iter().filter(|s| !s.is_empty()).cloned());
        Symboliser {
            skip,
            c_library: CLibrary::find(),
            cache: HashMap::new(),
        }
    }

    /// True when `name` is not user code.
    pub(crate) fn skips(&self, name: &str) -> bool {
        skipped(name, &self.skip)
    }

    /// The names at return address `ip`, innermost (inlined) first, and
    /// whether the code there is the C library's (or replaces it).
    fn names(&mut self, ip: usize) -> &(Vec<String>, bool) {
        let c_library = &self.c_library;
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
            let c_code = c_library.as_ref().is_some_and(|c| c.owns(ip));
            (names, c_code)
        })
    }

    /// Names `raw`'s stack and finds its function.
    pub(crate) fn site(&mut self, raw: &RawSite<'_>) -> TracedStack {
        let mut frames = Vec::new();
        let mut c_code = Vec::new();
        for &ip in raw.frames {
            let (names, c) = self.names(ip);
            frames.extend(names.iter().cloned());
            c_code.extend(std::iter::repeat_n(*c, names.len()));
        }
        let user_frame = frames
            .iter()
            .zip(&c_code)
            .position(|(n, c)| !c && !n.starts_with("0x") && !self.skips(n));
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
    let start = stack.frames.iter().position(|n| !is_tracer(n)).unwrap_or(0);
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
pub(crate) fn group(stacks: impl IntoIterator<Item = TracedStack>) -> Vec<SiteGroup> {
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

    // Names as this crate's tests resolve them (debug builds, rustc 1.95),
    // from the stacks of realfft's odd-length `process` and of libtest.
    const NOT_USER_CODE: &[&str] = &[
        "<allocgate::counting::CountingAlloc<A> as core::alloc::global::GlobalAlloc>::alloc",
        "allocgate::thread_state::counted",
        "backtrace::backtrace::libunwind::trace",
        "__rustc::__rust_alloc",
        "__rustc::__rust_dealloc",
        "alloc::raw_vec::RawVecInner<A>::with_capacity_in",
        "<alloc::raw_vec::RawVecInner>::try_allocate_in",
        "<T as alloc::vec::spec_from_elem::SpecFromElem>::from_elem",
        "alloc::vec::from_elem",
        "<alloc::alloc::Global as core::alloc::Allocator>::deallocate",
        "<alloc::raw_vec::RawVec<T,A> as core::ops::drop::Drop>::drop",
        "core::ptr::drop_in_place<alloc::vec::Vec<num_complex::Complex<f32>>>",
        "core::ops::function::FnMut::call_mut",
        "<fn() -> core::result::Result<(), alloc::string::String> as \
         core::ops::function::FnOnce<()>>::call_once",
        "<alloc::boxed::Box<dyn core::ops::function::FnOnce<(), Output = ()> + \
         core::marker::Send> as core::ops::function::FnOnce<()>>::call_once",
        "<std::sys::thread::unix::Thread>::new::thread_start",
        "test::run_test_in_process::{closure#0}",
        // Written by hand: legacy and v0 forms of std's own impls.
        "<alloc::vec::Vec<T> as core::ops::drop::Drop>::drop",
        "<&T as core::fmt::Display>::fmt",
        "<[f32]>::to_vec",
        "alloc::slice::<impl [T]>::to_vec",
        "<alloc::vec::Vec<app::Voice> as core::clone::Clone>::clone",
        "<&mut app::Voice as core::ops::function::FnMut<(u64,)>>::call_mut",
    ];

    const USER_CODE: &[&str] = &[
        "<realfft::RealToComplexOdd<T> as realfft::RealToComplex<T>>::make_scratch_vec",
        "<realfft::RealToComplexOdd<T> as realfft::RealToComplex<T>>::process",
        "gate::scratch_of_varying_size",
        "gate::an_odd_length_realfft_transform_is_named_at_realfft::{{closure}}",
        // Written by hand: a user's impl of a std trait, a user's trait
        // on a std type or a generic parameter, inherent methods.
        "<mycrate::Voice as core::ops::drop::Drop>::drop",
        "<alloc::vec::Vec<T> as mycrate::Extend2>::push2",
        "<T as mycrate::Process>::process",
        "<mycrate::Voice>::render",
        "<dyn mycrate::Plugin>::process",
        "<<mycrate::A as mycrate::B>::Out as core::clone::Clone>::clone",
    ];

    #[test]
    fn a_frame_is_skipped_when_every_path_its_name_mentions_is_skipped() {
        let s = Symboliser::new(&[]);
        for name in NOT_USER_CODE {
            assert!(s.skips(name), "{name} taken as user code");
        }
        for name in USER_CODE {
            assert!(!s.skips(name), "{name} skipped");
        }
    }

    #[test]
    fn extra_prefixes_skip_a_crate_module_and_its_impls() {
        let s = Symboliser::new(&["mylib::pool::".to_owned()]);
        for name in [
            "mylib::pool::Pool::get",
            "<mylib::pool::Block as core::ops::drop::Drop>::drop",
        ] {
            assert!(s.skips(name), "{name}");
        }
        for name in [
            "mylib::engine::run",
            "<mylib::pool::Block as mylib::Render>::render",
        ] {
            assert!(!s.skips(name), "{name}");
        }
    }

    #[test]
    fn the_paths_of_a_name_are_its_own_or_its_type_and_trait() {
        assert_eq!(owners("app::step::{{closure}}"), ["app::step::{{closure}}"]);
        assert_eq!(
            owners("<alloc::vec::Vec<T,A> as core::ops::drop::Drop>::drop"),
            ["alloc::vec::Vec<T,A>", "core::ops::drop::Drop"]
        );
        assert_eq!(
            owners("<T as alloc::vec::spec_from_elem::SpecFromElem>::from_elem"),
            ["alloc::vec::spec_from_elem::SpecFromElem"]
        );
        assert_eq!(
            owners("<fn() -> u8 as core::ops::function::FnOnce<()>>::call_once"),
            ["core::ops::function::FnOnce<()>"]
        );
        assert!(owners("<[T]>::to_vec").is_empty());
        assert!(is_tracer(
            "<allocgate::counting::CountingAlloc<A> as core::alloc::global::GlobalAlloc>::alloc"
        ));
        assert!(!is_tracer("__rustc::__rust_alloc"));
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
