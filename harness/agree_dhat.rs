//! allocgate agrees with `dhat` (heap testing mode) on the same calls.
//!
//! allocgate's counting allocator wraps `dhat::Alloc`. dhat's bookkeeping
//! allocates through the global allocator, which is allocgate's: those
//! nested calls must not be counted (the re-entrancy guard), or the figures
//! below would not match. dhat counts process-wide. Mapping, per region:
//! - total_blocks = allocations + reallocations (dhat counts a realloc as
//!   one more block)
//! - total_bytes  = bytes allocated + Σ realloc new sizes (the full new size)
//! - curr_blocks  = allocations − deallocations
//! - curr_bytes   = net live bytes (allocated − freed + Σ(new − old))
//!
//! (permitted and forbidden calls added up.)

#[path = "common/agreement.rs"]
mod agreement;

use agreement::compare;
use allocgate::CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc<dhat::Alloc> = CountingAlloc::new(dhat::Alloc);

struct Delta {
    total_blocks: i128,
    total_bytes: i128,
    curr_blocks: i128,
    curr_bytes: i128,
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    agreement::run(
        "agree_dhat",
        |workload| {
            let before = dhat::HeapStats::get();
            let m = workload();
            let after = dhat::HeapStats::get();
            let delta = Delta {
                total_blocks: i128::from(after.total_blocks) - i128::from(before.total_blocks),
                total_bytes: i128::from(after.total_bytes) - i128::from(before.total_bytes),
                curr_blocks: after.curr_blocks as i128 - before.curr_blocks as i128,
                curr_bytes: after.curr_bytes as i128 - before.curr_bytes as i128,
            };
            (m, delta)
        },
        |d: &Delta, ours| {
            let a = ours.all_threads();
            let c = |n: u64| i128::from(n);
            let mut bad = Vec::new();
            compare(
                &mut bad,
                "total_blocks",
                d.total_blocks,
                c(a.allocations) + c(a.reallocations),
                "allocations + reallocations",
            );
            compare(
                &mut bad,
                "total_bytes",
                d.total_bytes,
                c(a.bytes_allocated) + c(a.realloc_bytes_to),
                "allocated + realloc new sizes",
            );
            compare(
                &mut bad,
                "curr_blocks",
                d.curr_blocks,
                c(a.allocations) - c(a.deallocations),
                "allocations - deallocations",
            );
            compare(
                &mut bad,
                "curr_bytes",
                d.curr_bytes,
                a.net_bytes(),
                "net live bytes",
            );
            bad
        },
    )
    .finish();
}
