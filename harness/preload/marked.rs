//! Callbacks marked by hand with include/allocgate.h (fixtures/marked.c).

use allocgate_wire::Role;

use crate::rig::{compile, read, run_under, scratch};

/// ROUNDS in marked.c.
const ROUNDS: u64 = 50;

#[test]
fn marked_callbacks_are_measured_under_the_preload_and_cost_nothing_without() {
    let dir = scratch("marked");
    let Some(exe) = compile("marked", &["marked.c"], &dir.join("marked"), false) else {
        return;
    };
    // Without the library: the marks do nothing.
    let plain = std::process::Command::new(&exe).output().expect("runs");
    assert!(plain.status.success());
    assert_eq!(
        String::from_utf8_lossy(&plain.stdout),
        "marked without the preload\n"
    );

    let stream = dir.join("stream");
    let o = run_under(&exe, &[], None, &stream, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "marked with the preload\n"
    );
    let c = read(&stream);
    assert!(c.is_complete());
    assert_eq!(c.clients.len(), 1, "{:?}", c.clients);
    assert_eq!(c.clients[0].role, Role::Manual);
    let calls: Vec<_> = c.callbacks_of(c.clients[0].slot).collect();
    assert_eq!(calls.len() as u64, ROUNDS);
    for (i, call) in calls.iter().enumerate() {
        let i = i as u64;
        assert_eq!(call.index, i);
        let a = u64::from(i.is_multiple_of(2));
        assert_eq!(
            (
                call.counts.allocations,
                call.counts.bytes_allocated,
                call.counts.deallocations
            ),
            (a, 100 * a, a),
            "invocation {i}"
        );
        let locks: u64 = c
            .blocking(call)
            .filter(|(n, _)| *n == "pthread_mutex_lock")
            .map(|(_, k)| k)
            .sum();
        assert_eq!(locks, u64::from(i.is_multiple_of(3)), "invocation {i}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_full_queue_drops_whole_records_and_the_rest_keep_their_own_figures() {
    // 200 000 invocations back to back (about a microsecond each) into a
    // 16-record queue emptied every 5 ms: most are dropped.
    const MANY: u64 = 200_000;
    let dir = scratch("marked-drops");
    let Some(exe) = compile("marked-drops", &["marked.c"], &dir.join("marked"), false) else {
        return;
    };
    let stream = dir.join("stream");
    let o = run_under(
        &exe,
        &[&MANY.to_string()],
        None,
        &stream,
        &[(allocgate_wire::env::QUEUE, "16")],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let c = read(&stream);
    assert!(c.is_complete());
    let slot = c.clients[0].slot;
    let calls: Vec<_> = c.callbacks_of(slot).collect();
    let dropped = c.dropped(slot);
    assert!(dropped > 0, "{} written, none dropped", calls.len());
    assert_eq!(calls.len() as u64 + dropped, MANY);
    // Indices rise with gaps where records were dropped, and each record
    // written carries its own invocation's figures: allocating ones
    // (even), locking ones (multiples of 3) and clean ones alike.
    assert!(calls.windows(2).all(|w| w[0].index < w[1].index));
    for call in &calls {
        let i = call.index;
        let a = u64::from(i.is_multiple_of(2));
        assert_eq!(
            (call.counts.allocations, call.counts.bytes_allocated),
            (a, 100 * a),
            "invocation {i}"
        );
        let locks: u64 = c.blocking(call).map(|(_, k)| k).sum();
        assert_eq!(locks, u64::from(i.is_multiple_of(3)), "invocation {i}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
