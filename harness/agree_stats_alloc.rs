//! allocgate agrees with `stats_alloc` on the same calls: allocgate's
//! counting allocator wraps `stats_alloc::StatsAlloc<System>`, and each
//! workload's figures map onto `stats_alloc`'s as
//! `common/stats_alloc_peer.rs` states.

#[path = "common/agreement.rs"]
mod agreement;
#[path = "common/stats_alloc_peer.rs"]
mod stats_alloc_peer;

use std::alloc::System;

use allocgate::CountingAlloc;
use stats_alloc::StatsAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc<StatsAlloc<System>> = CountingAlloc::new(StatsAlloc::system());

fn main() {
    stats_alloc_peer::run("agree_stats_alloc", || GLOBAL.inner().stats()).finish();
}
