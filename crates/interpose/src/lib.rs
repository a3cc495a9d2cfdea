//! Counts the allocations C code makes (`malloc`, `calloc`, `strdup`, a C
//! or C++ library behind a binding), and the C library's locks, waits and
//! sleeps by name, in allocgate's scopes, next to Rust's:
//! [`measure`](allocgate::measure), [`CallbackGate`](allocgate::CallbackGate)
//! and [`assert_no_alloc`](allocgate::assert_no_alloc) then see them. Linux
//! with glibc.
//!
//! # Opting in
//!
//! A test binary (or program) opts in with one line next to its counting
//! allocator:
//!
//! ```toml
//! [dev-dependencies]
//! allocgate = "0.1"
//! allocgate-interpose = "0.1"
//! ```
//!
//! ```rust,ignore
//! // tests/realtime.rs
//! #[global_allocator]
//! static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();
//!
//! allocgate_interpose::install!();
//!
//! #[test]
//! fn c_allocations_are_seen() {
//!     let m = allocgate::measure(|| unsafe { libc::free(libc::malloc(48)) });
//!     assert_eq!(m.stats.counts.allocations, 1);
//! }
//! ```
//!
//! [`install!`] places, in the opting crate's own object file, a load-time
//! constructor (an `.init_array` entry) that refers to every function this
//! crate defines. That reference makes the linker take this crate's
//! `malloc`, `free`, … for the executable ahead of the C library's (the
//! crate is an archive searched before `libc.so`), and, because the C
//! library defines the same names, the linker exports them from the
//! executable, so the dynamic linker binds every caller in the process to
//! them: Rust's `System` allocator, the program's C code, other shared
//! libraries, and the C library's own calls through its procedure linkage
//! table (`strdup` calling `malloc`). The tests check the last case and
//! ask the dynamic linker which `malloc` the process uses; they pass with
//! LLD (Rust's default linker on x86-64 Linux) and with GNU ld. The
//! constructor then calls [`allocgate::c_level::attach`], before `main`.
//!
//! Binaries that do not expand [`install!`] are not affected. A binary
//! that links this crate without expanding it may still have its `malloc`
//! taken over, but then the functions only forward: nothing is counted
//! until [`allocgate::c_level::attach`] runs.
//!
//! # What is counted, and how
//!
//! Each function records one call through [`allocgate::c_level::record`]
//! and forwards to the C library's own entry point, `__libc_malloc`,
//! `__libc_free`, `__libc_calloc`, `__libc_realloc`, `__libc_memalign`,
//! `__libc_valloc` or `__libc_pvalloc`. glibc exports these under fixed
//! names, so no `dlsym` lookup is needed, and no bootstrap allocator for
//! calls made while such a lookup runs.
//!
//! | function | counted as |
//! |---|---|
//! | `malloc(n)` | allocation of `n` bytes |
//! | `calloc(k, n)` | zeroed allocation of `k * n` bytes (the largest `usize` when that overflows) |
//! | `memalign`, `aligned_alloc`, `posix_memalign`, `valloc`, `pvalloc` | allocation of the requested bytes (`posix_memalign` with an invalid alignment fails before the allocator and is not counted) |
//! | `realloc(p, n)`, `reallocarray(p, k, n)` | allocation when `p` is null; deallocation when `n` (or `k * n`) is 0 (glibc frees the block); otherwise reallocation from the block's usable size to `n` (an overflowing `reallocarray` fails before the allocator and is not counted) |
//! | `free(p)` | deallocation of the block's usable size; `free(NULL)` is not counted |
//!
//! Each counted call is also counted under the function called, in
//! [`Stats::c_allocator`](allocgate::Stats::c_allocator), and a failing
//! gate names it: `1 allocation (48 bytes), 0 reallocations, 1
//! deallocation; C allocator calls: 1 x malloc, 1 x free`.
//!
//! The C library does not tell a `free` how large the block was asked to
//! be; the size recorded is `malloc_usable_size`, at least the requested
//! size (56 for a 48-byte `malloc` on 64-bit glibc). Counts and requested
//! bytes are exact; bytes freed by C code are the usable sizes.
//!
//! With site tracing on, a C call's site is named after the first function
//! outside this crate and the C library: the function that called
//! `malloc`, or `strdup` when the C library's `strdup` calls `malloc`.
//!
//! # Blocking calls
//!
//! Each of these counts one call of its
//! [`BlockingCall`](allocgate::BlockingCall), named after the function,
//! through [`allocgate::c_level::record_blocking`], whether the call waits
//! or not (an uncontended lock is still a lock a real-time thread should
//! not take) and whether it succeeds, in
//! [`Stats::blocking`](allocgate::Stats::blocking):
//!
//! | group | functions |
//! |---|---|
//! | locks | `pthread_mutex_lock`, `pthread_mutex_timedlock`, `pthread_mutex_trylock`, `pthread_rwlock_rdlock`, `pthread_rwlock_wrlock`, `pthread_spin_lock` |
//! | waits | `pthread_cond_wait`, `pthread_cond_timedwait`, `sem_wait`, `sem_timedwait`; waiting `futex` operations made through `syscall()` (`FUTEX_WAIT`, `FUTEX_WAIT_BITSET`, `FUTEX_LOCK_PI`, `FUTEX_LOCK_PI2`, `FUTEX_WAIT_REQUEUE_PI`, whatever their private and clock flags), counted as `futex` |
//! | sleeps | `nanosleep`, `clock_nanosleep`, `usleep`, `sleep`, `sched_yield` |
//! | descriptors | `poll`, `ppoll`, `select`, `pselect`, `epoll_wait`, `epoll_pwait` |
//! | files | `open`, `open64`, `openat`, `openat64`, `creat`, `creat64`, `read`, `write`, `pread`, `pread64`, `pwrite`, `pwrite64`, `readv`, `writev`, `close`, `fsync`, `fdatasync` |
//! | streams | `fopen`, `fopen64`, `fclose`, `fread`, `fwrite`, `fflush`, `fputs`, `puts`, `fputc`, `putc`, `putchar`, `fgets`, `printf`, `fprintf`, `vprintf`, `vfprintf`, `dprintf`, `vdprintf` |
//! | `_FORTIFY_SOURCE` variants, under the plain name | `__printf_chk`, `__fprintf_chk`, `__vprintf_chk`, `__vfprintf_chk`, `__dprintf_chk`, `__vdprintf_chk`, `__read_chk`, `__pread_chk`, `__pread64_chk`, `__recv_chk`, `__recvfrom_chk`, `__poll_chk`, `__ppoll_chk`, `__fread_chk`, `__fgets_chk`, `__open_2`, `__open64_2`, `__openat_2`, `__openat64_2` |
//! | sockets | `send`, `sendto`, `sendmsg`, `recv`, `recvfrom`, `recvmsg` |
//! | memory mapping | `mmap`, `mmap64`, `munmap`, `mprotect`, `madvise`, `mremap` |
//!
//! [`CallbackGate::check_hazards`](allocgate::CallbackGate::check_hazards)
//! holds them against a callback and names them in its failure; a gate
//! without hazard checks ignores them. Unlocking, `sem_post`, futex wakes,
//! other system calls made through `syscall()` and the like are not
//! counted. Each call is forwarded unchanged, so `errno` and the result are
//! the C library's: to an alias glibc exports under a default version where
//! there is one (`__read`, `__write`, `__close`, `__open`, `__open64`,
//! `__pread64`, `__pwrite64`, `__poll`, `__select`, `__send`,
//! `__nanosleep`, `__sched_yield`, and the stream functions' `_IO_fopen`,
//! `_IO_fputs`, `_IO_vfprintf`, …), otherwise to the address
//! `dlsym(RTLD_NEXT, …)` returns, looked up when [`install!`]'s or
//! [`link!`]'s constructor runs (a test checks that the lookup allocates
//! nothing and that `RTLD_NEXT` finds the C library's function, not this
//! crate's). `pthread_cond_wait` and `pthread_cond_timedwait` are looked
//! up with `dlvsym` in their `GLIBC_2.3.2` version, the one programs link
//! against, not the compatibility version glibc keeps beside it.
//!
//! Stable Rust cannot define a variadic function, so `open`, `open64`,
//! `openat`, `openat64`, `mremap`, `syscall` and the `printf` family (and
//! its `_FORTIFY_SOURCE` variants) are defined in a small C file the build
//! script compiles (with the `cc` crate, this crate's only build
//! dependency); each calls into this crate to count the call and forwards
//! its arguments itself (`syscall` passes six, as many as a system call
//! takes).
//!
//! A program built with `_FORTIFY_SOURCE` (as distributions build their
//! packages) calls checking variants in place of the plain functions: its
//! `printf` is `__printf_chk`, counted as `printf`; `__read_chk` as
//! `read`; `__open_2` as `open`. Each is forwarded to glibc's own checking
//! function of that name (looked up as above; the `printf` family's to
//! the `va_list` forms, `__vprintf_chk` and so on), so its checks still
//! run.
//!
//! What is not seen:
//! - calls the C library makes to itself: glibc calls its own functions
//!   directly, not through the exported symbols, so `usleep` and `sleep`
//!   count once (not again as the `nanosleep` they use), `printf` and
//!   `fputs` count once (not again as the `write` that flushes them), and
//!   the internal locks of `malloc`, stdio streams, `pthread_cond_wait`'s
//!   mutex re-acquisition, `malloc`'s own `mmap` calls and the dynamic
//!   linker's are not counted (C code's `malloc` is counted as an
//!   allocation, see above);
//! - an uncontended Rust `std::sync::Mutex`, `RwLock` or `Condvar` on
//!   Linux: they are futex words operated on with atomics, so an
//!   uncontended lock calls nothing this layer defines (a test shows it
//!   counts zero); a contended one waits in `syscall(SYS_futex, …)` and is
//!   counted as `futex`. `std::thread::sleep` calls `clock_nanosleep` (Rust 1.95 on glibc),
//!   `std::thread::yield_now` `sched_yield`, `std::fs` and `std::net`
//!   `open64`, `read`, `write`, `close`, `send` and the like: all counted;
//! - the `_FORTIFY_SOURCE` variants not listed above (`__snprintf_chk`,
//!   `__readlink_chk`, …);
//! - blocking calls are counted, not traced: site tracing records stacks
//!   for allocator calls only.
//!
//! A Rust allocation is counted once, by the counting allocator, which
//! knows its layout: while a layer is attached, the counting allocator
//! forwards each call it counts in a mode in which these functions count
//! nothing (see [`allocgate::c_level`]).
//!
//! # Rules the layer keeps
//!
//! - It never allocates, locks or blocks of its own: a call reads one
//!   thread-local byte and, inside a scope, adds to thread-local counters
//!   (and, with site tracing on, captures an allocator call's stack as the
//!   counting allocator does). The one exception is the `dlsym` lookup of
//!   the functions glibc exports under no alias, made once at load time
//!   (or at the first call, for calls made by other libraries' load-time
//!   constructors before [`install!`]'s runs).
//! - Thread-local state has a `const` initialiser and no destructor: it
//!   needs no allocation or registration on first use, and is still valid
//!   in a thread's first calls (the C library allocating while it sets
//!   the thread up) and last ones (destructors freeing after Rust's
//!   thread-locals are gone).
//! - Re-entrancy: calls made while the counting allocator forwards, while
//!   the install probe runs or while a stack is captured (the unwinder may
//!   read files and map memory) are forwarded uncounted; the functions
//!   forwarded to do not call back into this layer, except glibc's own
//!   `malloc` calls, which are C code's allocations.
//! - `free` keeps `errno`: glibc's own `free` keeps it from version 2.33,
//!   and the layer's counting work leaves it alone (`malloc_usable_size`
//!   does not set it, counting is arithmetic, and the stack capture of
//!   site tracing restores it); `posix_memalign`, which reports through
//!   its return value, keeps it too.
//! - Thread cancellation: the blocking functions are `C-unwind`, so a
//!   thread cancelled while it waits in one (a cancellation point such as
//!   `read`, `poll` or `pthread_cond_wait`) unwinds through the layer and
//!   ends as cancelled, as it would in glibc's function; the variadic ones
//!   in C are compiled with unwind tables for the same reason.
//! - Fork: no lock, no shared state beyond one flag and the looked-up
//!   addresses, written at load time;
//!   a child starts with a copy of the forking thread's counters, and
//!   glibc's `fork` keeps its own allocator consistent.
//! - Outside a scope: one thread-local read, then the forwarded call.
//!
//! # Peers
//!
//! RealtimeSanitizer (LLVM compiler-rt) intercepts the same family with the
//! sanitizers' interceptor machinery, which finds the real functions with
//! `dlsym` and serves allocations made before it is ready from an internal
//! allocator; it reports the first offending call and stops, where
//! allocgate counts every call per scope. heaptrack's preload library
//! also resolves the real functions with `dlsym` and needs a fallback for
//! the `calloc` that `dlsym` itself makes, and keeps a thread-local
//! recursion guard. bytehound calls the `__libc_*` entry points, as this
//! crate does.
//!
//! # Not covered yet
//!
//! `malloc_usable_size`, C23's `free_sized` and `free_aligned_sized`, the
//! C++ operators (they reach `malloc` and are counted there, under
//! `malloc`, and a traced site is named after the C++ runtime's operator,
//! not its caller); the timed and try forms of the read-write lock,
//! `pthread_mutex_clocklock`, `pthread_cond_clockwait` and
//! `sem_clockwait`; other file and process calls RealtimeSanitizer also
//! reports (`fcntl`, `ioctl`, `lseek`, `stat`, `unlink`, `mkdir`, `socket`,
//! `connect`, `pthread_create`, `fork`, …; the list, and why each group is
//! or is not covered, is in the guide's `docs/c-level.md`); programs not
//! linked against this crate (a preloaded shared library); macOS.

#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod alloc;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod blocking;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod errno;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod fortify;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod io;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod real;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod stdio;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod variadic;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub use alloc::{
    aligned_alloc, calloc, free, malloc, memalign, posix_memalign, pvalloc, realloc, reallocarray,
    valloc,
};
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub use blocking::{
    clock_nanosleep, nanosleep, pthread_cond_timedwait, pthread_cond_wait, pthread_mutex_lock,
    pthread_mutex_timedlock, pthread_mutex_trylock, pthread_rwlock_rdlock, pthread_rwlock_wrlock,
    pthread_spin_lock, sched_yield, sem_timedwait, sem_wait, sleep, usleep,
};
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub use fortify::{
    __fgets_chk, __fread_chk, __open_2, __open64_2, __openat_2, __openat64_2, __poll_chk,
    __ppoll_chk, __pread_chk, __pread64_chk, __read_chk, __recv_chk, __recvfrom_chk,
};
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub use io::{
    close, creat, creat64, epoll_pwait, epoll_wait, fdatasync, fsync, madvise, mmap, mmap64,
    mprotect, munmap, poll, ppoll, pread, pread64, pselect, pwrite, pwrite64, read, readv, recv,
    recvfrom, recvmsg, select, send, sendmsg, sendto, write, writev,
};
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[doc(hidden)]
pub use real::forwarded_address;
/// How the allocation functions count a call, for a library that defines
/// glibc's `__libc_malloc` family as well (the preload library behind
/// `allocgate attach`). Not for direct use.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[doc(hidden)]
pub mod count {
    pub use crate::alloc::{
        record_alloc_of as alloc, record_free as free, record_realloc as realloc,
    };
}
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub use stdio::{
    fclose, fflush, fgets, fopen, fopen64, fputc, fputs, fread, fwrite, putc, putchar, puts,
};

/// Opts the program this line is compiled into in: this crate's
/// allocation and blocking functions replace the C library's for the whole
/// process, and C code's calls to them are counted in allocgate's scopes
/// (see the crate docs). Write it once, at the top level of one file of the binary.
/// Linux with glibc only.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[macro_export]
macro_rules! install {
    () => {
        const _: () = {
            // Run by the dynamic loader before `main`, from the opting
            // crate's own object file, which the linker always keeps.
            #[used]
            #[unsafe(link_section = ".init_array")]
            static ALLOCGATE_INTERPOSE_INSTALL: extern "C" fn() = $crate::__install;
        };
    };
}

/// Like [`install!`], but counting starts only when the program calls
/// [`attach`]: until then the functions forward to the C library and count
/// nothing (one thread-local read each). For a program that decides at run
/// time, as `allocgate run --c-level` does.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[macro_export]
macro_rules! link {
    () => {
        const _: () = {
            #[used]
            #[unsafe(link_section = ".init_array")]
            static ALLOCGATE_INTERPOSE_LINK: extern "C" fn() = $crate::__link;
        };
    };
}

/// Starts counting C-level calls in allocgate's scopes, from the next scope
/// each thread opens. For a program that expanded [`link!`]; [`install!`]
/// calls it at load time. Calling it again does nothing more.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn attach() {
    real::resolve_all();
    allocgate::c_level::attach();
}

/// What [`link!`] runs at load time: keeps every definition and looks up
/// the C library's blocking functions. Not for direct use.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[doc(hidden)]
pub extern "C" fn __link() {
    alloc::keep_definitions();
    blocking::keep_definitions();
    fortify::keep_definitions();
    io::keep_definitions();
    stdio::keep_definitions();
    variadic::keep_definitions();
    real::resolve_all();
}

/// What [`install!`] runs at load time: [`__link`], then [`attach`]. Not
/// for direct use.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[doc(hidden)]
pub extern "C" fn __install() {
    __link();
    attach();
}
