//! A child forked while the parent has a scope open and another thread
//! allocates: the layer holds no lock and no shared state a fork could
//! leave inconsistent, and the child measures its own calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use allocgate::{BlockingCall, measure};

use crate::dev_null;

/// Forks; the child runs `child` and exits with its status, the parent
/// waits and returns it.
fn in_child(child: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child only runs `child`, then `_exit`s without returning
    // into the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let status = child();
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(status) };
    }
    let mut status = 0;
    // SAFETY: our own child and a valid status pointer.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child status {status:#x}");
    libc::WEXITSTATUS(status)
}

#[test]
fn a_child_forked_inside_a_scope_counts_its_own_calls() {
    let stop = Arc::new(AtomicBool::new(false));
    let allocator = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: a fresh block, freed once.
                unsafe { libc::free(std::hint::black_box(libc::malloc(64))) };
                drop(std::hint::black_box(vec![0u8; 100]));
            }
        })
    };
    let mut status = -1;
    let parent = measure(|| {
        status = in_child(|| {
            let mut mutex = libc::PTHREAD_MUTEX_INITIALIZER;
            // SAFETY: a fresh block freed once; a local mutex.
            let m = measure(|| unsafe {
                libc::free(std::hint::black_box(libc::malloc(32)));
                libc::pthread_mutex_lock(&mut mutex);
                libc::pthread_mutex_unlock(&mut mutex);
            });
            // Each figure is 0 to 3 when right: two bits each.
            let c = m.stats.counts;
            let locks = m.stats.blocking.get(BlockingCall::MutexLock);
            (c.allocations.min(3) | c.deallocations.min(3) << 2 | locks.min(3) << 4) as i32
        });
    });
    stop.store(true, Ordering::Relaxed);
    allocator.join().unwrap();
    assert_eq!(status, 1 | 1 << 2 | 1 << 4, "allocations, frees, locks");
    // The child's calls are its own: nothing of them shows in the parent.
    assert_eq!(parent.stats.blocking.get(BlockingCall::MutexLock), 0);
}

#[test]
fn standard_output_calls_are_counted_in_a_child_writing_to_dev_null() {
    // puts and putchar always print: a child with its standard output on
    // /dev/null makes them without touching the test's output.
    let status = in_child(|| {
        let null = dev_null(libc::O_WRONLY);
        // SAFETY: replaces this child's standard output.
        unsafe { libc::dup2(null, 1) };
        // SAFETY: NUL-terminated text and a matching format.
        let m = measure(|| unsafe {
            libc::puts(c"to /dev/null".as_ptr());
            libc::putchar(i32::from(b'x'));
            libc::printf(c"%d\n".as_ptr(), 7);
        });
        let b = m.stats.blocking;
        let counts = [
            BlockingCall::Puts,
            BlockingCall::Putchar,
            BlockingCall::Printf,
        ]
        .map(|c| b.get(c).min(3));
        (counts[0]
            | counts[1] << 2
            | counts[2] << 4
            | (b.total() - counts.iter().sum::<u64>()).min(3) << 6) as i32
    });
    assert_eq!(status, 1 | 1 << 2 | 1 << 4, "puts, putchar, printf, others");
}
