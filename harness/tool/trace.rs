//! Site tracing under the counting allocator: every site switched on alone
//! is traced to its own function with exactly its formula's counts, the
//! tracer adds no counted call and makes no nested one, tracing off
//! records nothing, and `allocgate run --trace-sites` names the `prefix`
//! and `seed` variants' sites.

use std::hint::black_box;

use allocgate::measure;
use allocgate::trace::{SiteGroup, SiteTable, trace};
use allocgate_engine::sites::{CallbackKind, SCALE_ARRAY_BYTES, Site, SiteSet, abl_bytes};
use allocgate_tool::report::{MacosRegion, Report, engine_sites};
use allocgate_tool::run::execute;

use crate::cli::{args, callbacks};
use crate::sites::run_session;

/// Sums of each call kind over the groups `keep` selects.
fn sums(groups: &[SiteGroup], keep: impl Fn(&SiteGroup) -> bool) -> (u64, u64, u64) {
    groups
        .iter()
        .filter(|g| keep(g))
        .fold((0, 0, 0), |(a, d, r), g| {
            (a + g.allocations, d + g.deallocations, r + g.reallocations)
        })
}

#[test]
fn each_site_alone_is_traced_to_its_own_function_with_its_formula_totals() {
    for site in Site::ALL {
        for channels in [2, 8, 12] {
            let mut table = SiteTable::new();
            let expect = trace(&mut table, || run_session(SiteSet::only(site), channels));
            let e = expect.total;
            let what = format!("{site} at {channels} ch");
            assert_eq!(
                (table.nested(), table.overflowed(), table.truncated()),
                (0, 0, 0),
                "{what}"
            );
            // Every counted call in the session was recorded once.
            assert_eq!(
                table.calls(),
                e.allocations + e.deallocations + e.reallocations,
                "{what}: calls traced vs the formulas"
            );
            let groups = engine_sites(&table, &[]);
            let mine = sums(&groups, |g| g.function == site.function());
            let all = sums(&groups, |_| true);
            // Every allocation and reallocation is the site function's; a
            // free happens where the block is dropped (the caller, for
            // most sites), so only the total is checked for frees.
            assert_eq!(
                (mine.0, mine.2),
                (e.allocations, e.reallocations),
                "{what}: allocations and reallocations under {} in {groups:#?}",
                site.function()
            );
            assert_eq!(
                all,
                (e.allocations, e.deallocations, e.reallocations),
                "{what}"
            );
            if site == Site::DropOnAudioThread {
                assert_eq!(mine.1, e.deallocations, "{what}: frees in {groups:#?}");
            }
            let tag = site.callback().trace_tag();
            assert!(groups.iter().all(|g| g.tag == tag), "{what}: {groups:#?}");
            if !site.calls_allocator() {
                assert!(table.is_empty(), "{what}");
            } else {
                assert!(e.allocations + e.deallocations > 0, "{what}: vacuous");
            }
        }
    }
}

#[test]
fn the_tracer_adds_no_counted_call_and_makes_no_nested_one() {
    let work = || drop(black_box(Box::new([7u8; SCALE_ARRAY_BYTES])));
    let plain = measure(work).stats;
    let mut table = SiteTable::new();
    // Several rounds: the unwinder's first walk of a thread is when it
    // would set up caches, if it ever allocated.
    for _ in 0..3 {
        let traced = trace(&mut table, || measure(work)).stats;
        assert_eq!(traced, plain, "tracing changed what the scope counted");
    }
    assert_eq!(
        (plain.counts.allocations, plain.counts.deallocations),
        (1, 1)
    );
    assert_eq!(table.calls(), 6);
    assert_eq!(table.nested(), 0, "the unwinder called the allocator");
    let groups = engine_sites(&table, &[]);
    assert_eq!(groups.len(), 1, "{groups:#?}");
    assert_eq!((groups[0].allocations, groups[0].deallocations), (3, 3));
    assert_eq!(groups[0].size, SCALE_ARRAY_BYTES);
    assert!(
        groups[0].function.starts_with("tool::trace::"),
        "{groups:#?}"
    );
}

#[test]
fn nothing_is_recorded_without_tracing_or_outside_a_scope() {
    let mut table = SiteTable::with_rows(4);
    let work = || drop(black_box(vec![1u64; 3]));
    // Tracing off: the table is not even reachable.
    measure(work);
    // Tracing on, but no scope open: nothing is counted, so nothing traced.
    trace(&mut table, work);
    // Tracing ended: a later scope records nothing.
    measure(work);
    assert!(table.is_empty());
    assert_eq!((table.len(), table.nested()), (0, 0));
}

/// A traced run of `flags` through `allocgate run`'s library entry.
fn traced_run(flags: &[&str]) -> Report {
    let mut all = vec![
        "--trace-sites",
        "--no-integrity",
        "--out",
        "/nonexistent/unused.json",
    ];
    all.extend_from_slice(flags);
    let config = args(&all).validate().expect("valid flags");
    let run = execute(&config, &mut |_| {}).expect("the run completes");
    let t = run.trace.expect("traced");
    assert_eq!((t.nested, t.overflowed, t.truncated), (0, 0, 0));
    run.report
}

#[test]
fn the_prefix_trace_names_the_block_step_with_36_byte_requests_in_the_48_byte_class() {
    let seconds = 0.25;
    let r = traced_run(&["--variant", "prefix", "--seconds", "0.25"]);
    // 48 kHz / 512, no drift: every output callback renders one block
    // with 8 renderers, 16 engines, each making two scale arrays.
    let outputs = callbacks(seconds, 48_000, 512);
    assert_eq!(r.totals.callbacks.output, outputs);
    let step = r
        .sites
        .iter()
        .find(|s| s.function == "allocgate_engine::convolver::Convolver::process_block")
        .unwrap_or_else(|| panic!("no block step row in {:#?}", r.sites));
    assert_eq!(
        (step.size, step.class_bytes, step.class),
        (36, Some(48), Some(MacosRegion::Tiny))
    );
    assert_eq!(step.kind, "output");
    assert_eq!(step.site.as_deref(), Some("scale-array"));
    assert_eq!(
        (step.count, step.deallocations),
        (32 * outputs, 32 * outputs)
    );
    assert_eq!(step.per_callback, 32.0);
    assert!(
        step.backtrace.iter().any(|f| f == &step.function),
        "{:#?}",
        step.backtrace
    );
    // One debug line per engine on each of its first two block steps.
    let debug = r
        .sites
        .iter()
        .find(|s| s.site.as_deref() == Some("debug-print"))
        .expect("a debug-print row");
    assert_eq!((debug.size, debug.count), (128, 2 * 16));
    assert_eq!(r.sites.len(), 2, "{:#?}", r.sites);
    assert_eq!(
        r.sites.iter().map(|s| s.count).sum::<u64>(),
        r.totals.allocations
    );
}

#[test]
fn the_seed_trace_names_the_input_callbacks_three_sites() {
    let r = traced_run(&["--variant", "seed", "--seconds", "0.1"]);
    let inputs = r.totals.callbacks.input;
    assert!(inputs > 0);
    let row = |site: Site| {
        r.sites
            .iter()
            .filter(|s| s.function == site.function() && s.count > 0)
            .collect::<Vec<_>>()
    };
    let abl = row(Site::Abl);
    let ptrs = row(Site::PtrArray);
    let channels = row(Site::ChannelBuffers);
    // 8 channels: one list of 8 + 16·8 bytes; a pointer array of 4 slots
    // (32 bytes) grown once to 8 (64); 8 buffers of 512 × 4 bytes.
    assert_eq!(
        (abl.len(), abl[0].size, abl[0].count),
        (1, abl_bytes(8) as u64, inputs)
    );
    assert_eq!((ptrs.len(), ptrs[0].size, ptrs[0].count), (1, 32, inputs));
    assert_eq!(
        (channels.len(), channels[0].size, channels[0].count),
        (1, 2048, 8 * inputs)
    );
    let grown = r
        .sites
        .iter()
        .find(|s| s.function == Site::PtrArray.function() && s.reallocations > 0)
        .expect("the pointer array's growth");
    assert_eq!((grown.size, grown.reallocations), (64, inputs));
    let functions: std::collections::BTreeSet<&str> = r
        .sites
        .iter()
        .filter(|s| s.count > 0)
        .map(|s| s.function.as_str())
        .collect();
    assert_eq!(functions.len(), 3, "{functions:?}");
    assert!(r.sites.iter().all(|s| s.kind == CallbackKind::Input.name()));
}
