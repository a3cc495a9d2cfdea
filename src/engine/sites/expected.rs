//! Expected counts (in progress).
