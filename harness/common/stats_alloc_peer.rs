//! The agreement check against `stats_alloc`, for a binary whose global
//! allocator is allocgate's counting allocator wrapping
//! `stats_alloc::StatsAlloc<System>`, so both see every call.
//!
//! `stats_alloc` counts process-wide, so its change over a region is the
//! sum over every thread that allocated (the worker's own allocgate scope
//! included). Mapping, per region:
//! - allocations   = allocgate allocations (alloc + alloc_zeroed)
//! - deallocations = allocgate deallocations
//! - reallocations = allocgate reallocations
//! - bytes_allocated   = bytes allocated + bytes grown by reallocations
//! - bytes_deallocated = bytes deallocated + bytes shrunk by reallocations
//! - bytes_reallocated = Σ(new − old) over reallocations
//!
//! (permitted and forbidden calls added up: `stats_alloc` has no notion of
//! permission.)

use stats_alloc::Stats;

use crate::agreement::{self, compare};

/// Runs every agreement workload against `stats_alloc`, reading its
/// figures with `stats`, under the name `peer`.
pub fn run(peer: &str, stats: impl Fn() -> Stats) -> agreement::Tally {
    agreement::run(
        peer,
        |workload| {
            let before = stats();
            let m = workload();
            let after = stats();
            (m, after - before)
        },
        |d: &Stats, ours| {
            let a = ours.all_threads();
            let mut bad = Vec::new();
            let c = |n: u64| i128::from(n);
            compare(
                &mut bad,
                "allocations",
                d.allocations as i128,
                c(a.allocations),
                "alloc + alloc_zeroed",
            );
            compare(
                &mut bad,
                "deallocations",
                d.deallocations as i128,
                c(a.deallocations),
                "dealloc",
            );
            compare(
                &mut bad,
                "reallocations",
                d.reallocations as i128,
                c(a.reallocations),
                "realloc",
            );
            compare(
                &mut bad,
                "bytes_allocated",
                d.bytes_allocated as i128,
                c(a.bytes_allocated) + c(a.realloc_bytes_grown),
                "allocated + realloc growth",
            );
            compare(
                &mut bad,
                "bytes_deallocated",
                d.bytes_deallocated as i128,
                c(a.bytes_deallocated) + c(a.realloc_bytes_shrunk),
                "deallocated + realloc shrinkage",
            );
            compare(
                &mut bad,
                "bytes_reallocated",
                d.bytes_reallocated as i128,
                c(a.realloc_bytes_to) - c(a.realloc_bytes_from),
                "sum of realloc new - old",
            );
            bad
        },
    )
}
