//! allocgate agrees with `assert_no_alloc` (counting, not aborting) on the
//! same calls.
//!
//! allocgate's counting allocator wraps `assert_no_alloc::AllocDisabler`,
//! built with `warn_debug`/`warn_release` so a violation is counted instead
//! of aborting. Each region is one `assert_no_alloc` closure around one
//! allocgate scope. `assert_no_alloc` counts per thread, only inside its
//! closure, and only outside `permit_alloc`. `AllocDisabler` implements
//! only `alloc` and `dealloc`, so its default `alloc_zeroed` checks once and
//! its default `realloc` (alloc + copy + free) checks twice. Mapping:
//! - violations = allocations + deallocations + 2 × reallocations, all of
//!   them allocgate's forbidden (not permitted) calls on the main thread.

#[path = "common/agreement.rs"]
mod agreement;

use agreement::compare;
use allocgate::CountingAlloc;
use assert_no_alloc::AllocDisabler;

#[global_allocator]
static GLOBAL: CountingAlloc<AllocDisabler> = CountingAlloc::new(AllocDisabler);

fn main() {
    agreement::run(
        "agree_assert_no_alloc",
        |workload| {
            let before = assert_no_alloc::violation_count();
            let m = assert_no_alloc::assert_no_alloc(workload);
            let after = assert_no_alloc::violation_count();
            (m, i128::from(after) - i128::from(before))
        },
        |violations: &i128, ours| {
            let f = &ours.main.counts;
            let mut bad = Vec::new();
            compare(
                &mut bad,
                "violations",
                *violations,
                i128::from(f.allocations + f.deallocations + 2 * f.reallocations),
                "allocations + deallocations + 2 x reallocations, this thread, not permitted",
            );
            bad
        },
    )
    .finish();
}
