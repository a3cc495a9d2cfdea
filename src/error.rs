//! Why a measurement could not be made.

use std::fmt;

/// Why a measurement could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The counting allocator is not this process's global allocator, so
    /// every figure would read zero whatever the code does.
    NotInstalled,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotInstalled => write!(
                f,
                "allocgate's counting allocator is not the global allocator, so nothing \
                 would be counted and every check would pass vacuously; add \
                 `#[global_allocator] static ALLOC: allocgate::CountingAlloc = \
                 allocgate::CountingAlloc::system();` to this binary or test target"
            ),
        }
    }
}

impl std::error::Error for Error {}
