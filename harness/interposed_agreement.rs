//! With the C-level layer installed, allocgate still agrees with its peers:
//! - the Rust agreement workloads give the same figures as without the
//!   layer, against `stats_alloc` and against each workload's prediction
//!   (a Rust allocation is counted once, by the counting allocator, not a
//!   second time by the layer's `malloc` it reaches through `System`);
//! - C calls (`malloc`, `calloc`, `realloc`, `strdup`, `posix_memalign`,
//!   `free`) counted in a scope equal valgrind DHAT's blocks for the same
//!   calls, measured in one run under valgrind (skipped without valgrind,
//!   except with `CI=true`, where it fails);
//! - a traced C call's site is named after the function that made it, not
//!   after the layer's `malloc` or the C library's `strdup`.
//!
//! No libtest (`harness = false`): `stats_alloc` counts process-wide, so no
//! test-runner thread may allocate during a region.

#[path = "common/agreement.rs"]
mod agreement;
#[path = "common/stats_alloc_peer.rs"]
mod stats_alloc_peer;

use std::alloc::System;
use std::ffi::CStr;
use std::hint::black_box;
use std::process::Command;

use allocgate::{CallbackGate, CountingAlloc, Counts};
use stats_alloc::StatsAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc<StatsAlloc<System>> = CountingAlloc::new(StatsAlloc::system());

allocgate_interpose::install!();

/// Set in the environment of this binary's own run under valgrind.
const DHAT_CHILD: &str = "ALLOCGATE_INTERPOSED_DHAT_CHILD";

fn main() {
    if std::env::var_os(DHAT_CHILD).is_some() {
        dhat_child();
        return;
    }
    assert!(
        allocgate::c_level::is_attached(),
        "install!() attaches the layer before main"
    );
    let mut tally = stats_alloc_peer::run("interposed_agreement", || GLOBAL.inner().stats());

    for (name, check) in [
        (
            "c_calls_agree_with_valgrind_dhat",
            c_calls_agree_with_valgrind_dhat as fn() -> Outcome,
        ),
        (
            "a_c_calls_site_is_named_after_its_caller",
            a_c_calls_site_is_named_after_its_caller,
        ),
    ] {
        match check() {
            Outcome::Passed => {
                tally.passed += 1;
                println!("interposed_agreement::{name} ... ok");
            }
            Outcome::Skipped(why) => {
                tally.skipped += 1;
                println!("interposed_agreement::{name} ... skipped: {why}");
            }
            Outcome::Failed(bad) => {
                tally.failed += 1;
                println!("interposed_agreement::{name} ... FAILED");
                for b in bad {
                    println!("    {b}");
                }
            }
        }
    }
    tally.finish();
}

enum Outcome {
    Passed,
    Skipped(String),
    Failed(Vec<String>),
}

impl Outcome {
    fn of(bad: Vec<String>) -> Outcome {
        if bad.is_empty() {
            Outcome::Passed
        } else {
            Outcome::Failed(bad)
        }
    }
}

fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

// ---- C calls against valgrind DHAT ----

const MALLOCS: u64 = 5;
const MALLOC_SIZE: usize = 48;
const CALLOC_COUNT: usize = 16;
const CALLOC_SIZE: usize = 10;
/// A `realloc` from a block of this size ...
const REALLOC_FROM: usize = 48;
/// ... to this one, beyond the first block's usable size, so that the C
/// library (and DHAT) move it to a new block.
const REALLOC_TO: usize = 4096;
const DUPLICATED: &CStr = c"a string the C library copies";
const ALIGN: usize = 64;
const ALIGNED_SIZE: usize = 200;

/// The C calls measured by both tools: every block freed before the end.
#[inline(never)]
fn c_calls_in_a_dhat_region() {
    // SAFETY: every block comes from the C allocator and is freed once;
    // `realloc` gets a live block and its result replaces it.
    unsafe {
        for _ in 0..MALLOCS {
            libc::free(black_box(libc::malloc(MALLOC_SIZE)));
        }
        libc::free(black_box(libc::calloc(CALLOC_COUNT, CALLOC_SIZE)));
        let p = black_box(libc::malloc(REALLOC_FROM));
        let p = libc::realloc(p, REALLOC_TO);
        assert!(!p.is_null());
        libc::free(black_box(p));
        libc::free(black_box(libc::strdup(DUPLICATED.as_ptr())).cast());
        let mut aligned = std::ptr::null_mut();
        assert_eq!(libc::posix_memalign(&mut aligned, ALIGN, ALIGNED_SIZE), 0);
        libc::free(black_box(aligned));
    }
}

/// allocgate's counts of [`c_calls_in_a_dhat_region`] from the code: one
/// allocation per `malloc`, `calloc`, `strdup` and `posix_memalign`, one
/// reallocation, and every block freed.
fn predicted() -> Counts {
    let allocations = MALLOCS + 4;
    let mut c = Counts::new();
    c.allocations = allocations;
    c.deallocations = allocations;
    c.reallocations = 1;
    c.bytes_allocated = MALLOCS * MALLOC_SIZE as u64
        + (CALLOC_COUNT * CALLOC_SIZE) as u64
        + REALLOC_FROM as u64
        + DUPLICATED.to_bytes_with_nul().len() as u64
        + ALIGNED_SIZE as u64;
    c.realloc_bytes_to = REALLOC_TO as u64;
    c
}

/// The figures the child prints, in this order.
const FIGURES: [&str; 5] = [
    "allocations",
    "deallocations",
    "reallocations",
    "bytes_allocated",
    "realloc_bytes_to",
];

fn figures(c: &Counts) -> [u64; 5] {
    [
        c.allocations,
        c.deallocations,
        c.reallocations,
        c.bytes_allocated,
        c.realloc_bytes_to,
    ]
}

/// Under valgrind: measures the C calls in a scope and prints allocgate's
/// figures on one line.
fn dhat_child() {
    let m = allocgate::measure(c_calls_in_a_dhat_region);
    let mut all = m.stats.counts;
    all.merge(&m.stats.permitted);
    let line: Vec<String> = figures(&all).iter().map(u64::to_string).collect();
    println!("allocgate {}", line.join(" "));
}

/// One run of this binary under valgrind's DHAT: the layer counts each C
/// call in allocgate's scope and forwards it to glibc's `__libc_*` entry
/// point, which valgrind redirects to DHAT's allocator (it replaces the C
/// library's `malloc` by address, and `__libc_malloc` is the same
/// function), so both tools see the same calls in the same run. By
/// default valgrind would also replace the `malloc` this executable
/// exports, the layer's, and allocgate would see nothing:
/// `--soname-synonyms=somalloc=nouserintercepts` keeps its replacements to
/// the C library's and the C++ runtime's. DHAT's
/// region is every allocation stack that passes through
/// `c_calls_in_a_dhat_region`, allocgate's is a scope around that call.
/// Mapping:
/// - total blocks (`tbk`) = allocations + reallocations (each reallocation
///   here grows its block, which DHAT counts as a new block)
/// - total bytes (`tb`) = bytes allocated + reallocations' new sizes
/// - blocks live at exit (`ebk`) = allocations − deallocations
fn c_calls_agree_with_valgrind_dhat() -> Outcome {
    if let Err(e) = Command::new("valgrind").arg("--version").output() {
        assert!(
            !on_ci(),
            "valgrind is not runnable ({e}) and CI=true: CI must install valgrind"
        );
        return Outcome::Skipped(format!("valgrind is not runnable here ({e})"));
    }
    let out_file = std::env::temp_dir().join(format!(
        "allocgate-interposed-dhat-{}.json",
        std::process::id()
    ));
    let exe = std::env::current_exe().expect("this test's own path");
    let run = Command::new("valgrind")
        .arg("--tool=dhat")
        .arg("--soname-synonyms=somalloc=nouserintercepts")
        .arg(format!("--dhat-out-file={}", out_file.display()))
        .arg(&exe)
        .env(DHAT_CHILD, "1")
        .output()
        .expect("valgrind runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let dhat = std::fs::read_to_string(&out_file);
    let _ = std::fs::remove_file(&out_file);
    if !run.status.success() {
        return Outcome::Failed(vec![format!(
            "valgrind exited with {}: {}",
            run.status,
            String::from_utf8_lossy(&run.stderr)
        )]);
    }
    let ours = match parse_child(&stdout) {
        Some(f) => f,
        None => return Outcome::Failed(vec![format!("no allocgate line in {stdout:?}")]),
    };
    let dhat = match dhat.map(|text| dhat_region(&text, "c_calls_in_a_dhat_region")) {
        Ok(Ok(region)) => region,
        Ok(Err(e)) => return Outcome::Failed(vec![e]),
        Err(e) => {
            return Outcome::Failed(vec![format!("{}: {e}", out_file.display())]);
        }
    };

    let mut bad = Vec::new();
    for ((what, counted), expected) in FIGURES.iter().zip(ours).zip(figures(&predicted())) {
        if counted != expected {
            bad.push(format!(
                "allocgate {what}: predicted {expected}, counted {counted}"
            ));
        }
    }
    let [allocations, deallocations, reallocations, bytes, realloc_to] = ours.map(i128::from);
    let c = &mut bad;
    agreement::compare(
        c,
        "total blocks",
        dhat.blocks,
        allocations + reallocations,
        "allocations + reallocations",
    );
    agreement::compare(
        c,
        "total bytes",
        dhat.bytes,
        bytes + realloc_to,
        "allocated + realloc new sizes",
    );
    agreement::compare(
        c,
        "blocks at exit",
        dhat.blocks_at_exit,
        allocations - deallocations,
        "allocations - deallocations",
    );
    if dhat.blocks == 0 {
        bad.push("DHAT saw no block in the region: the region was not found".to_owned());
    }
    Outcome::of(bad)
}

fn parse_child(stdout: &str) -> Option<[u64; 5]> {
    let line = stdout.lines().find_map(|l| l.strip_prefix("allocgate "))?;
    let values: Vec<u64> = line
        .split(' ')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    values.try_into().ok()
}

/// DHAT's figures summed over the allocation stacks that pass through a
/// function.
#[derive(Debug, Default)]
struct DhatRegion {
    blocks: i128,
    bytes: i128,
    blocks_at_exit: i128,
}

/// Sums DHAT's program points (`pps`) whose stack names `function` in
/// its frame table (`ftbl`). DHAT's output is JSON with one number per key
/// in each program point and no strings before the frame table, which is
/// all this reads.
fn dhat_region(text: &str, function: &str) -> Result<DhatRegion, String> {
    let (points, frames) = text
        .split_once("\"ftbl\":")
        .ok_or("no frame table (\"ftbl\") in DHAT's output")?;
    let frames = json_strings(frames);
    let in_region: Vec<bool> = frames.iter().map(|f| f.contains(function)).collect();
    if !in_region.contains(&true) {
        return Err(format!("no DHAT frame names {function}"));
    }
    let (_, points) = points
        .split_once("\"pps\":")
        .ok_or("no program points (\"pps\") in DHAT's output")?;
    let mut region = DhatRegion::default();
    for point in points.split('{').skip(1) {
        let point = point.split('}').next().unwrap_or("");
        let fs = json_list(point, "fs").ok_or_else(|| format!("no \"fs\" in {point:?}"))?;
        if !fs.iter().any(|&i| in_region.get(i as usize) == Some(&true)) {
            continue;
        }
        let number = |key: &str| -> Result<i128, String> {
            json_number(point, key).ok_or_else(|| format!("no {key:?} in {point:?}"))
        };
        region.blocks += number("tbk")?;
        region.bytes += number("tb")?;
        region.blocks_at_exit += number("ebk")?;
    }
    Ok(region)
}

/// The number after `"key":` in `object`.
fn json_number(object: &str, key: &str) -> Option<i128> {
    let (_, rest) = object.split_once(&format!("\"{key}\":"))?;
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The list of numbers after `"key":` in `object`.
fn json_list(object: &str, key: &str) -> Option<Vec<u64>> {
    let (_, rest) = object.split_once(&format!("\"{key}\":"))?;
    let (list, _) = rest.trim_start().strip_prefix('[')?.split_once(']')?;
    list.split(',')
        .map(|n| n.trim().parse().ok())
        .collect::<Option<_>>()
}

/// The JSON strings in `text`, in order, with `\"` and `\\` unescaped.
fn json_strings(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while chars.by_ref().any(|c| c == '"') {
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => s.extend(chars.next()),
                c => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

// ---- site naming ----

const SITE_INVOCATIONS: u64 = 3;

/// A callback's own function, calling the C library twice per invocation:
/// a `strdup` (which calls `malloc` inside the C library) and a `malloc`,
/// each freed.
#[inline(never)]
fn c_calling_callback() {
    // SAFETY: fresh blocks from the C allocator, each freed once.
    unsafe {
        libc::free(black_box(libc::strdup(DUPLICATED.as_ptr())).cast());
        libc::free(black_box(libc::malloc(MALLOC_SIZE)));
    }
}

fn a_c_calls_site_is_named_after_its_caller() -> Outcome {
    let run = CallbackGate::new("c-sites")
        .trace_sites()
        .run(SITE_INVOCATIONS, |_| c_calling_callback())
        .expect("a traced gate runs");
    let mut bad = Vec::new();
    let sites = run.sites();
    for site in sites {
        if !site.function.ends_with("::c_calling_callback") {
            bad.push(format!(
                "site named {:?}, expected c_calling_callback (backtrace {:?})",
                site.function, site.backtrace
            ));
        }
    }
    let calls: u64 = sites.iter().map(|s| s.calls()).sum();
    // Two allocations and two frees per invocation.
    let expected = 4 * SITE_INVOCATIONS;
    if calls != expected {
        bad.push(format!("sites hold {calls} calls, expected {expected}"));
    }
    let total = run.total();
    if total.allocations + total.deallocations != expected {
        bad.push(format!(
            "the gate counted {total:?}, expected {expected} calls"
        ));
    }
    Outcome::of(bad)
}
