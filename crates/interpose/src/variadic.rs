//! The Rust side of the functions defined in C (`variadic.c`): `open`,
//! `open64`, `openat`, `openat64`, `mremap`, `syscall` and the `printf`
//! family, whose last arguments are variadic. Stable Rust cannot define a
//! variadic function, so a small C file, compiled by the build script,
//! defines them; each calls one of the functions below to count the call
//! (and, for a function glibc exports under no alias, to get the address
//! to forward to), then forwards its arguments itself.
//!
//! `syscall` is counted only for the `futex` operations that wait (see
//! [`futex_waits`]); every other system call, and futex wakes, are
//! forwarded uncounted.

use std::ffi::{c_int, c_long, c_void};

use allocgate::BlockingCall;
use allocgate::c_level::record_blocking;

use crate::real::{real, syscall};

/// Defines a function the C side calls to count `$call`.
macro_rules! count {
    ($entry:ident = $call:ident) => {
        #[unsafe(no_mangle)]
        extern "C" fn $entry() {
            record_blocking(BlockingCall::$call);
        }
    };
}

/// Defines a function the C side calls to count `$call` and get the C
/// library's `$target`.
macro_rules! forward {
    ($entry:ident = $call:ident, $target:ident) => {
        #[unsafe(no_mangle)]
        extern "C" fn $entry() -> usize {
            record_blocking(BlockingCall::$call);
            real(BlockingCall::$target)
        }
    };
}

count!(allocgate_interpose_count_open = Open);
count!(allocgate_interpose_count_open64 = Open64);
count!(allocgate_interpose_count_printf = Printf);
count!(allocgate_interpose_count_fprintf = Fprintf);
count!(allocgate_interpose_count_vprintf = Vprintf);
count!(allocgate_interpose_count_vfprintf = Vfprintf);
forward!(allocgate_interpose_forward_openat = OpenAt, OpenAt);
forward!(allocgate_interpose_forward_openat64 = OpenAt64, OpenAt64);
forward!(allocgate_interpose_forward_mremap = Mremap, Mremap);
forward!(allocgate_interpose_forward_dprintf = Dprintf, Vdprintf);
forward!(allocgate_interpose_forward_vdprintf = Vdprintf, Vdprintf);

/// Counts a `syscall` whose number is `SYS_futex` and whose operation
/// (its second argument) waits, and returns the C library's `syscall`.
#[unsafe(no_mangle)]
extern "C" fn allocgate_interpose_forward_syscall(number: c_long, op: c_long) -> usize {
    // A futex operation is an `int`: the upper half of the register is not
    // part of it.
    if number == libc::SYS_futex && futex_waits(op as c_int) {
        record_blocking(BlockingCall::Futex);
    }
    syscall()
}

/// `FUTEX_LOCK_PI2` (Linux 5.14), not in every libc release.
const FUTEX_LOCK_PI2: c_int = 13;

/// Whether a futex operation can put the calling thread to sleep:
/// `FUTEX_WAIT`, `FUTEX_WAIT_BITSET`, `FUTEX_LOCK_PI`, `FUTEX_LOCK_PI2`
/// and `FUTEX_WAIT_REQUEUE_PI`, with or without `FUTEX_PRIVATE_FLAG` and
/// `FUTEX_CLOCK_REALTIME`. Wakes, requeues, `FUTEX_TRYLOCK_PI` and
/// `FUTEX_UNLOCK_PI` return without waiting for another thread.
pub(crate) fn futex_waits(op: c_int) -> bool {
    let command = op & !(libc::FUTEX_PRIVATE_FLAG | libc::FUTEX_CLOCK_REALTIME);
    matches!(
        command,
        libc::FUTEX_WAIT
            | libc::FUTEX_WAIT_BITSET
            | libc::FUTEX_LOCK_PI
            | FUTEX_LOCK_PI2
            | libc::FUTEX_WAIT_REQUEUE_PI
    )
}

unsafe extern "C" {
    /// The C definitions' addresses (`variadic.c`).
    static allocgate_interpose_variadic: [*const c_void; 18];
}

/// Refers to the C definitions (see
/// [`alloc::keep_definitions`](crate::alloc)): the reference makes the
/// linker take their object file.
pub(crate) fn keep_definitions() {
    // Only the table's address is taken, not its contents read.
    std::hint::black_box(&raw const allocgate_interpose_variadic);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn futex_waits_are_told_from_wakes_whatever_the_flags() {
        let waits = [
            libc::FUTEX_WAIT,
            libc::FUTEX_WAIT_BITSET,
            libc::FUTEX_LOCK_PI,
            FUTEX_LOCK_PI2,
            libc::FUTEX_WAIT_REQUEUE_PI,
        ];
        let others = [
            libc::FUTEX_WAKE,
            libc::FUTEX_FD,
            libc::FUTEX_REQUEUE,
            libc::FUTEX_CMP_REQUEUE,
            libc::FUTEX_WAKE_OP,
            libc::FUTEX_UNLOCK_PI,
            libc::FUTEX_TRYLOCK_PI,
            libc::FUTEX_WAKE_BITSET,
            libc::FUTEX_CMP_REQUEUE_PI,
        ];
        for flags in [
            0,
            libc::FUTEX_PRIVATE_FLAG,
            libc::FUTEX_CLOCK_REALTIME,
            libc::FUTEX_PRIVATE_FLAG | libc::FUTEX_CLOCK_REALTIME,
        ] {
            for op in waits {
                assert!(futex_waits(op | flags), "{op} | {flags}");
            }
            for op in others {
                assert!(!futex_waits(op | flags), "{op} | {flags}");
            }
        }
    }
}
