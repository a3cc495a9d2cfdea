//! Writing messages as frames.

use crate::message::{Callback, Client, Drops, End, Header, Message, Site};
use crate::{MAGIC, MAX_FRAME};

/// Frame kinds.
pub(crate) const HEADER: u8 = 1;
pub(crate) const CLIENT: u8 = 2;
pub(crate) const CALLBACK: u8 = 3;
pub(crate) const DROPS: u8 = 4;
pub(crate) const SITE: u8 = 5;
pub(crate) const END: u8 = 6;

/// Longest string written: longer ones are cut at a character boundary.
pub(crate) const MAX_STRING: usize = 1024;

/// Most items of a list written: further ones are left out.
pub(crate) const MAX_LIST: usize = 256;

/// Appends `message` to `out` as one frame. Strings longer than 1024
/// bytes are cut and lists longer than 256 items shortened, so a frame
/// always fits within [`MAX_FRAME`].
pub fn encode(message: &Message, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    match message {
        Message::Header(h) => header(h, out),
        Message::Client(c) => client(c, out),
        Message::Callback(c) => callback(c, out),
        Message::Drops(d) => drops(d, out),
        Message::Site(s) => site(s, out),
        Message::End(e) => end(e, out),
    }
    let len = out.len() - start - 4;
    debug_assert!(len as u64 <= u64::from(MAX_FRAME));
    out[start..start + 4].copy_from_slice(&(len as u32).to_le_bytes());
}

fn header(h: &Header, out: &mut Vec<u8>) {
    out.push(HEADER);
    out.extend_from_slice(&MAGIC);
    u16_(out, h.version);
    u32_(out, h.pid);
    string(out, &h.program);
    list(out, &h.blocking_names, |out, n| string(out, n));
    u32_(out, h.queue_capacity);
    out.push(u8::from(h.sites) | u8::from(h.rusage) << 1 | u8::from(h.children) << 2);
}

fn client(c: &Client, out: &mut Vec<u8>) {
    out.push(CLIENT);
    u16_(out, c.slot);
    out.push(c.role.code());
    string(out, &c.name);
    u32_(out, c.sample_rate);
    u32_(out, c.buffer_size);
}

fn callback(c: &Callback, out: &mut Vec<u8>) {
    out.push(CALLBACK);
    u16_(out, c.slot);
    u64_(out, c.index);
    u32_(out, c.frames);
    u64_(out, c.start_ns);
    u64_(out, c.duration_ns);
    for f in c.counts.fields() {
        u64_(out, f);
    }
    list(out, &c.sizes, |out, &(size, n)| {
        u64_(out, size);
        u64_(out, n);
    });
    list(out, &c.blocking, |out, &(name, n)| {
        u16_(out, name);
        u64_(out, n);
    });
    match c.usage {
        None => out.push(0),
        Some(u) => {
            out.push(1);
            for f in [
                u.minor_faults,
                u.major_faults,
                u.voluntary_switches,
                u.involuntary_switches,
            ] {
                u64_(out, f);
            }
        }
    }
}

fn drops(d: &Drops, out: &mut Vec<u8>) {
    out.push(DROPS);
    u16_(out, d.slot);
    u64_(out, d.dropped);
}

fn site(s: &Site, out: &mut Vec<u8>) {
    out.push(SITE);
    u16_(out, s.slot);
    string(out, &s.function);
    u64_(out, s.size);
    u64_(out, s.allocations);
    u64_(out, s.deallocations);
    u64_(out, s.reallocations);
    list(out, &s.backtrace, |out, f| string(out, f));
}

fn end(e: &End, out: &mut Vec<u8>) {
    out.push(END);
    out.push(u8::from(e.complete));
}

fn u16_(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u32_(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u64_(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn string(out: &mut Vec<u8>, s: &str) {
    let mut end = s.len().min(MAX_STRING);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    u16_(out, end as u16);
    out.extend_from_slice(&s.as_bytes()[..end]);
}

fn list<T>(out: &mut Vec<u8>, items: &[T], mut each: impl FnMut(&mut Vec<u8>, &T)) {
    let items = &items[..items.len().min(MAX_LIST)];
    u16_(out, items.len() as u16);
    for item in items {
        each(out, item);
    }
}
