//! A whole stream read at once, gathered per slot.

use std::collections::BTreeMap;
use std::path::Path;

use crate::decode::{Frames, ReadError};
use crate::message::{Callback, Client, End, Header, Message};

/// Everything a stream holds, and whether it was read to a clean end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The stream's header.
    pub header: Header,
    /// Every slot, in slot order, as last described.
    pub clients: Vec<Client>,
    /// Every invocation recorded, in the order written (per slot, in
    /// index order).
    pub callbacks: Vec<Callback>,
    /// Records dropped per slot (slots that dropped none are absent).
    pub drops: BTreeMap<u16, u64>,
    /// Allocator calls per slot, site and size, added up over the stream.
    pub sites: Vec<SiteTotal>,
    /// The end frame, when the program exited normally.
    pub end: Option<End>,
    /// Why reading stopped before the stream's end, if it did: what was
    /// read before is kept.
    pub problem: Option<ReadError>,
    /// Frames of kinds this reader does not know, skipped.
    pub skipped: u64,
}

/// Allocator calls of one size at one site of one slot, over a whole
/// stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteTotal {
    /// The slot.
    pub slot: u16,
    /// The first function outside the C library and allocgate.
    pub function: String,
    /// Bytes per call.
    pub size: u64,
    /// Allocations.
    pub allocations: u64,
    /// Deallocations.
    pub deallocations: u64,
    /// Reallocations.
    pub reallocations: u64,
    /// The first backtrace reported for it.
    pub backtrace: Vec<String>,
}

impl SiteTotal {
    /// Calls of every kind.
    pub fn calls(&self) -> u64 {
        self.allocations
            .saturating_add(self.deallocations)
            .saturating_add(self.reallocations)
    }

    /// Bytes of those calls: calls times size.
    pub fn bytes(&self) -> u64 {
        self.calls().saturating_mul(self.size)
    }
}

impl Capture {
    /// Reads a stream. Fails only when not even its header can be read;
    /// otherwise keeps every frame before the first one it cannot read,
    /// and says why in [`problem`](Self::problem).
    pub fn read(bytes: &[u8]) -> Result<Capture, ReadError> {
        let mut frames = Frames::new(bytes);
        let header = match frames.next() {
            Some(Ok(Message::Header(h))) => h,
            Some(Err(e)) => return Err(e),
            Some(Ok(_)) | None => return Err(ReadError::NotAStream),
        };
        let mut capture = Capture {
            header,
            clients: Vec::new(),
            callbacks: Vec::new(),
            drops: BTreeMap::new(),
            sites: Vec::new(),
            end: None,
            problem: None,
            skipped: 0,
        };
        let mut clients = BTreeMap::new();
        let mut sites: BTreeMap<(u16, String, u64), SiteTotal> = BTreeMap::new();
        for frame in frames.by_ref() {
            match frame {
                Ok(Message::Header(_)) => {}
                Ok(Message::Client(c)) => {
                    clients.insert(c.slot, c);
                }
                Ok(Message::Callback(c)) => capture.callbacks.push(c),
                Ok(Message::Drops(d)) => {
                    capture.drops.insert(d.slot, d.dropped);
                }
                Ok(Message::Site(s)) => {
                    let total = sites
                        .entry((s.slot, s.function.clone(), s.size))
                        .or_insert_with(|| SiteTotal {
                            slot: s.slot,
                            function: s.function,
                            size: s.size,
                            allocations: 0,
                            deallocations: 0,
                            reallocations: 0,
                            backtrace: s.backtrace,
                        });
                    total.allocations = total.allocations.saturating_add(s.allocations);
                    total.deallocations = total.deallocations.saturating_add(s.deallocations);
                    total.reallocations = total.reallocations.saturating_add(s.reallocations);
                }
                Ok(Message::End(e)) => capture.end = Some(e),
                Err(e) => capture.problem = Some(e),
            }
        }
        capture.skipped = frames.skipped();
        capture.clients = clients.into_values().collect();
        capture.sites = sites.into_values().collect();
        Ok(capture)
    }

    /// Reads the stream in the file at `path` (see [`read`](Self::read)).
    /// The outer error is the file's, the inner the stream's.
    pub fn read_file(path: &Path) -> std::io::Result<Result<Capture, ReadError>> {
        Ok(Capture::read(&std::fs::read(path)?))
    }

    /// True when the program exited normally, every record collected was
    /// written and the whole stream was read.
    pub fn is_complete(&self) -> bool {
        self.problem.is_none() && self.end.is_some_and(|e| e.complete)
    }

    /// The slot's description, if the stream has one.
    pub fn client(&self, slot: u16) -> Option<&Client> {
        self.clients.iter().find(|c| c.slot == slot)
    }

    /// The invocations of one slot, in index order.
    pub fn callbacks_of(&self, slot: u16) -> impl Iterator<Item = &Callback> + '_ {
        self.callbacks.iter().filter(move |c| c.slot == slot)
    }

    /// Records one slot's queue dropped.
    pub fn dropped(&self, slot: u16) -> u64 {
        self.drops.get(&slot).copied().unwrap_or(0)
    }

    /// A callback's blocking calls by name, as the header names them
    /// (counts naming no header entry are left out; the reader of a
    /// stream it wrote itself never meets one).
    pub fn blocking<'a>(
        &'a self,
        callback: &'a Callback,
    ) -> impl Iterator<Item = (&'a str, u64)> + 'a {
        callback.blocking.iter().filter_map(|&(i, n)| {
            self.header
                .blocking_names
                .get(usize::from(i))
                .map(|name| (name.as_str(), n))
        })
    }
}
