//! What the ring and the set queue ([`super::spsc`]) synchronise with:
//! `std`'s types, or loom's in the unit tests built with
//! `RUSTFLAGS="--cfg loom"`, so the model checker runs their own code
//! (tests in `ring_loom.rs` and `publish_loom.rs`). Only the test build switches:
//! loom is a dev-dependency, and a `--cfg loom` library build is the
//! normal one.
//!
//! The bytes themselves are [`ByteCells`]: `UnsafeCell<u8>`s copied with
//! `copy_nonoverlapping` in a normal build; under loom, one relaxed
//! `AtomicU8` per byte, so that loom can hand the reader a stale byte
//! whenever the index hand-over does not order it (a missing release or
//! acquire then shows as a wrong byte read). Data races on the real cells
//! are Miri's to find (the ring's threaded test runs under Miri).

#[cfg(all(loom, test))]
pub(crate) use loom::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
#[cfg(not(all(loom, test)))]
pub(crate) use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

/// `loom::cell::UnsafeCell` under loom, which checks every access against
/// the happens-before order; otherwise this shim over
/// `std::cell::UnsafeCell` with the same closure-based `with`/`with_mut`,
/// so both builds share the callers' code.
#[cfg(all(loom, test))]
pub(crate) use loom::cell::UnsafeCell;

#[cfg(not(all(loom, test)))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(all(loom, test)))]
impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Runs `f` with a pointer for reading.
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer for writing.
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// A fixed run of bytes shared by one writer and one reader, each
/// touching only a region the indices give it.
pub(crate) struct ByteCells {
    #[cfg(not(all(loom, test)))]
    cells: Box<[std::cell::UnsafeCell<u8>]>,
    #[cfg(all(loom, test))]
    cells: Box<[loom::sync::atomic::AtomicU8]>,
}

impl ByteCells {
    /// `len` zero bytes.
    pub(crate) fn new(len: usize) -> Self {
        ByteCells {
            cells: (0..len).map(|_| Default::default()).collect(),
        }
    }

    /// How many bytes.
    pub(crate) fn len(&self) -> usize {
        self.cells.len()
    }
}

#[cfg(not(all(loom, test)))]
impl ByteCells {
    fn base(&self) -> *mut u8 {
        // `UnsafeCell<u8>` has the layout of `u8`.
        std::cell::UnsafeCell::raw_get(self.cells.as_ptr())
    }

    /// Copies `src` to bytes `at..at + src.len()`.
    ///
    /// # Safety
    ///
    /// No other access to those bytes may run meanwhile.
    pub(crate) unsafe fn copy_in(&self, at: usize, src: &[u8]) {
        assert!(at + src.len() <= self.len());
        // SAFETY: in bounds (checked above); exclusive by the contract.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), self.base().add(at), src.len()) }
    }

    /// Copies bytes `at..at + dst.len()` into `dst`.
    ///
    /// # Safety
    ///
    /// No write to those bytes may run meanwhile.
    pub(crate) unsafe fn copy_out(&self, at: usize, dst: &mut [u8]) {
        assert!(at + dst.len() <= self.len());
        // SAFETY: in bounds (checked above); unwritten by the contract.
        unsafe { std::ptr::copy_nonoverlapping(self.base().add(at), dst.as_mut_ptr(), dst.len()) }
    }
}

#[cfg(all(loom, test))]
impl ByteCells {
    /// As in a normal build; relaxed stores, so only the indices order them.
    ///
    /// # Safety
    ///
    /// None under loom; `unsafe` to keep the normal build's signature.
    pub(crate) unsafe fn copy_in(&self, at: usize, src: &[u8]) {
        for (cell, &b) in self.cells[at..at + src.len()].iter().zip(src) {
            cell.store(b, Ordering::Relaxed);
        }
    }

    /// As in a normal build; relaxed loads.
    ///
    /// # Safety
    ///
    /// None under loom; `unsafe` to keep the normal build's signature.
    pub(crate) unsafe fn copy_out(&self, at: usize, dst: &mut [u8]) {
        for (cell, b) in self.cells[at..at + dst.len()].iter().zip(dst) {
            *b = cell.load(Ordering::Relaxed);
        }
    }
}
