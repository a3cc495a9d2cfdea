//! The gate's verdict on an attached run (`--gate`): no allocator call
//! and no blocking call in any audio-cycle callback past its slot's
//! warm-up, and no callback left unmeasured. Held to a baseline, the
//! allocations are the ratchet's to judge instead.

use std::fmt;

use crate::report::{ClientReport, Report, blocking_text};
use allocgate_engine::text::{allocator_calls, count};

/// One way an attached run failed the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachFailure {
    /// Steady-state callbacks of a slot touched the allocator.
    Allocator {
        /// The slot, as named in messages.
        client: String,
        /// Callbacks that did.
        callbacks: u64,
        /// The first one's index.
        first: Option<u64>,
        /// Their calls, worded.
        calls: String,
    },
    /// Steady-state callbacks of a slot made blocking calls.
    Blocking {
        /// The slot.
        client: String,
        /// Callbacks that did.
        callbacks: u64,
        /// The first one's index.
        first: Option<u64>,
        /// Their calls by name.
        calls: String,
    },
    /// A slot's queue dropped records: callbacks that ran unchecked.
    Dropped {
        /// The slot.
        client: String,
        /// Records dropped.
        dropped: u64,
    },
}

impl fmt::Display for AttachFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first = |i: &Option<u64>| match i {
            Some(i) => format!(", the first at callback {i}"),
            None => String::new(),
        };
        match self {
            AttachFailure::Allocator {
                client,
                callbacks,
                first: i,
                calls,
            } => write!(
                f,
                "{client}: {} past the warm-up touched the allocator ({calls}){}",
                count(*callbacks, "callback"),
                first(i)
            ),
            AttachFailure::Blocking {
                client,
                callbacks,
                first: i,
                calls,
            } => write!(
                f,
                "{client}: {} past the warm-up made blocking calls ({calls}){}",
                count(*callbacks, "callback"),
                first(i)
            ),
            AttachFailure::Dropped { client, dropped } => write!(
                f,
                "{client}: {} dropped (a full queue), so as many callbacks ran unchecked",
                count(*dropped, "record")
            ),
        }
    }
}

/// A slot as messages name it: `jack-process 'simple' (pid 12, slot 0)`.
pub fn client_label(c: &ClientReport) -> String {
    if c.name.is_empty() {
        format!("{} (pid {}, slot {})", c.role, c.pid, c.slot)
    } else {
        format!("{} '{}' (pid {}, slot {})", c.role, c.name, c.pid, c.slot)
    }
}

/// What the gate holds against an attached run: every cycle slot's
/// steady-state allocator calls (unless `allocations_held` says a
/// baseline judges them), its blocking calls, and its dropped records.
/// Empty: it passed.
pub fn failures(report: &Report, allocations_held: bool) -> Vec<AttachFailure> {
    let mut why = Vec::new();
    let Some(attach) = &report.attach else {
        return why;
    };
    for c in attach.clients.iter().filter(|c| c.cycle) {
        let s = &c.steady_state;
        if !allocations_held && s.callbacks_touching_allocator > 0 {
            why.push(AttachFailure::Allocator {
                client: client_label(c),
                callbacks: s.callbacks_touching_allocator,
                first: c.first_allocating_callback,
                calls: allocator_calls(s.allocations, s.deallocations, s.reallocations),
            });
        }
        let blocking = s.callbacks_blocking.unwrap_or(0);
        if blocking > 0 || c.first_blocking_callback.is_some() {
            let mut calls = s
                .blocking_calls
                .as_ref()
                .map_or_else(|| "none".to_owned(), blocking_text);
            if c.unknown_blocking_calls > 0 {
                calls.push_str(&format!(
                    ", {} under names this build does not know",
                    c.unknown_blocking_calls
                ));
            }
            why.push(AttachFailure::Blocking {
                client: client_label(c),
                callbacks: blocking,
                first: c.first_blocking_callback,
                calls,
            });
        }
        if c.dropped > 0 {
            why.push(AttachFailure::Dropped {
                client: client_label(c),
                dropped: c.dropped,
            });
        }
    }
    why
}
