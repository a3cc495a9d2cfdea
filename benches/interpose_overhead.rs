//! What the C-level layer costs a C caller: `malloc(48)` + `free` through
//! the layer against glibc's own `__libc_malloc` + `__libc_free`, outside a
//! scope and inside one, and a `pthread_mutex_lock` + `unlock` pair through
//! the layer against glibc's.
//!
//! `cargo bench -p allocgate-interpose --bench interpose_overhead`
//!
//! Every function is called through a pointer from `dlsym`, the way a
//! shared library's call reaches it through its procedure linkage table:
//! the layer's `malloc` is what `RTLD_DEFAULT` finds (the process's
//! `malloc`), glibc's are its exported `__libc_malloc` and `__libc_free`
//! and, for the lock, what `RTLD_NEXT` finds after this executable.
//! `pthread_mutex_unlock` is not intercepted: both pairs use glibc's.
//!
//! Every sample of a case is paired with a sample of the same length of
//! glibc's calls, taken right before or right after it (alternating), so
//! each ratio printed at the end compares two measurements taken side by
//! side. Inside a scope, each sample checks that the scope counted every
//! call.

use std::ffi::{CStr, c_int, c_void};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use allocgate::{BlockingCall, CountingAlloc};
use criterion::Criterion;

#[path = "common/side_by_side.rs"]
mod side_by_side;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::system();

allocgate_interpose::install!();

type Malloc = unsafe extern "C" fn(usize) -> *mut c_void;
type Free = unsafe extern "C" fn(*mut c_void);
type Lock = unsafe extern "C" fn(*mut libc::pthread_mutex_t) -> c_int;

const SIZE: usize = 48;

/// The function `name` resolves to in `handle`'s search.
fn lookup<F: Copy>(handle: *mut c_void, name: &CStr) -> F {
    assert_eq!(size_of::<F>(), size_of::<*mut c_void>());
    // SAFETY: a NUL-terminated name; RTLD_DEFAULT and RTLD_NEXT search the
    // loaded objects.
    let f = unsafe { libc::dlsym(handle, name.as_ptr()) };
    assert!(!f.is_null(), "{name:?} not found");
    // SAFETY: a non-null address of the function `name`, whose C signature
    // `F` states (checked to be pointer-sized above).
    unsafe { std::mem::transmute_copy(&f) }
}

/// The pair of functions one case calls.
#[derive(Clone, Copy)]
struct AllocPair {
    malloc: Malloc,
    free: Free,
}

#[derive(Clone, Copy)]
struct LockPair {
    lock: Lock,
    unlock: Lock,
}

fn alloc_free_loop(f: AllocPair, iters: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        // SAFETY: a fresh block, freed once by the same allocator.
        unsafe {
            let p = black_box((f.malloc)(SIZE));
            (f.free)(p);
        }
    }
    start.elapsed()
}

struct SharedMutex(std::cell::UnsafeCell<libc::pthread_mutex_t>);
// SAFETY: only the bench's one thread locks it.
unsafe impl Sync for SharedMutex {}
static MUTEX: SharedMutex =
    SharedMutex(std::cell::UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER));

fn lock_unlock_loop(f: LockPair, iters: u64) -> Duration {
    let m = MUTEX.0.get();
    let start = Instant::now();
    for _ in 0..iters {
        // SAFETY: an initialised mutex, locked and unlocked by this thread.
        unsafe {
            (f.lock)(black_box(m));
            (f.unlock)(black_box(m));
        }
    }
    start.elapsed()
}

static GLIBC_FIRST: AtomicBool = AtomicBool::new(false);

/// Runs `own` and `glibc` for the same iterations, in alternating order,
/// records both, and returns `own`'s time.
fn paired(
    case: &'static str,
    iters: u64,
    own: impl FnOnce() -> Duration,
    glibc: impl FnOnce() -> Duration,
) -> Duration {
    let glibc_first = !GLIBC_FIRST.fetch_xor(true, Ordering::Relaxed);
    let (own, glibc) = if glibc_first {
        let g = glibc();
        (own(), g)
    } else {
        let o = own();
        (o, glibc())
    };
    side_by_side::record(case, own, glibc, iters);
    own
}

fn bench(c: &mut Criterion) {
    let layer = AllocPair {
        malloc: lookup(libc::RTLD_DEFAULT, c"malloc"),
        free: lookup(libc::RTLD_DEFAULT, c"free"),
    };
    assert_eq!(
        layer.malloc as usize,
        allocgate_interpose::malloc as *const () as usize,
        "the process's malloc is the layer's"
    );
    let glibc = AllocPair {
        malloc: lookup(libc::RTLD_DEFAULT, c"__libc_malloc"),
        free: lookup(libc::RTLD_DEFAULT, c"__libc_free"),
    };
    let unlock = lookup(libc::RTLD_DEFAULT, c"pthread_mutex_unlock");
    let layer_lock = LockPair {
        lock: lookup(libc::RTLD_DEFAULT, c"pthread_mutex_lock"),
        unlock,
    };
    assert_eq!(
        layer_lock.lock as usize,
        allocgate_interpose::pthread_mutex_lock as *const () as usize,
        "the process's pthread_mutex_lock is the layer's"
    );
    let glibc_lock = LockPair {
        lock: lookup(libc::RTLD_NEXT, c"pthread_mutex_lock"),
        unlock,
    };
    assert_ne!(layer_lock.lock as usize, glibc_lock.lock as usize);

    let mut g = c.benchmark_group("interpose_overhead");
    g.bench_function("malloc_free_outside_scope", |b| {
        b.iter_custom(|iters| {
            paired(
                "malloc + free, outside a scope",
                iters,
                || alloc_free_loop(layer, iters),
                || alloc_free_loop(glibc, iters),
            )
        })
    });
    g.bench_function("malloc_free_inside_scope", |b| {
        b.iter_custom(|iters| {
            paired(
                "malloc + free, inside a scope",
                iters,
                || {
                    let m = allocgate::measure(|| alloc_free_loop(layer, iters));
                    // The scope really counted every call.
                    assert_eq!(m.stats.counts.allocations, iters);
                    assert_eq!(m.stats.counts.deallocations, iters);
                    m.value
                },
                || alloc_free_loop(glibc, iters),
            )
        })
    });
    g.bench_function("mutex_lock_unlock_outside_scope", |b| {
        b.iter_custom(|iters| {
            paired(
                "pthread_mutex_lock + unlock, outside a scope",
                iters,
                || lock_unlock_loop(layer_lock, iters),
                || lock_unlock_loop(glibc_lock, iters),
            )
        })
    });
    g.bench_function("mutex_lock_unlock_inside_scope", |b| {
        b.iter_custom(|iters| {
            paired(
                "pthread_mutex_lock + unlock, inside a scope",
                iters,
                || {
                    let m = allocgate::measure(|| lock_unlock_loop(layer_lock, iters));
                    assert_eq!(m.stats.blocking.get(BlockingCall::MutexLock), iters);
                    m.value
                },
                || lock_unlock_loop(glibc_lock, iters),
            )
        })
    });
    g.finish();
}

fn main() {
    assert!(
        allocgate::c_level::is_attached(),
        "install!() attached the layer"
    );
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    bench(&mut c);
    c.final_summary();

    side_by_side::print_table(
        "| case | layer, ns (median) | glibc, paired (ns) | ratio to glibc (median of per-sample ratios) |",
    );
}
