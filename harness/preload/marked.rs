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
