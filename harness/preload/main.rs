//! `liballocgate_preload.so` inside programs: C fixture clients with a
//! known pattern per cycle, jackd2's example clients and a marked-callback
//! program run under it (`LD_PRELOAD`) against dummy-driver JACK servers
//! the tests start; the stream each one wrote is read back and every
//! callback checked.
//!
//! Needs `jackd` and `jack_lsp` (jackd2) and a C compiler with JACK's
//! headers (`cc`, libjack-jackd2-dev): without them the tests say so and
//! pass, except with `CI=true`, where they fail.
//!
//! The library under test is the one `cargo test` builds for this
//! package, `target/<profile>/deps/liballocgate_preload.so` (see
//! `shared::library`).

mod exports;
mod fixtures;
mod marked;
mod own_allocator;
mod real_clients;
mod rig;
mod shared;
