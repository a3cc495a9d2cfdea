//! Reading frames back, defensively: a stream may be cut anywhere (the
//! program was killed while the library wrote) or be something else
//! entirely.

use std::fmt;

use crate::encode::{CALLBACK, CLIENT, DROPS, END, HEADER, SITE};
use crate::message::{Callback, Client, Counts, Drops, End, Header, Message, Role, Site, Usage};
use crate::{MAGIC, MAX_FRAME, VERSION};

/// Why a stream could not be read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Nothing was written: the library was not loaded, or the program
    /// ended before the library wrote its header.
    Empty,
    /// The stream stops inside the frame that starts at `offset`: the
    /// writer was stopped mid-write (the program was killed or crashed).
    Truncated {
        /// Byte offset of the cut frame.
        offset: u64,
    },
    /// The frame at `offset` makes no sense.
    Corrupt {
        /// Byte offset of the frame.
        offset: u64,
        /// What is wrong with it.
        what: &'static str,
    },
    /// The stream does not start with an allocgate header.
    NotAStream,
    /// The stream is of a format version this reader does not know.
    Version {
        /// The stream's version.
        found: u16,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Empty => f.write_str("the stream is empty (nothing was written to it)"),
            ReadError::Truncated { offset } => write!(
                f,
                "the stream stops inside the frame at byte {offset} (the program was stopped while writing it)"
            ),
            ReadError::Corrupt { offset, what } => {
                write!(f, "the frame at byte {offset} is corrupt: {what}")
            }
            ReadError::NotAStream => {
                f.write_str("not an allocgate attach stream (no header at its start)")
            }
            ReadError::Version { found } => {
                write!(f, "stream format version {found}, expected {VERSION}")
            }
        }
    }
}

impl std::error::Error for ReadError {}

/// The frames of a stream, one [`Message`] at a time.
///
/// Yields `Ok` for every frame it can read and then, if the stream does
/// not end exactly after a frame or a frame is corrupt, one `Err`, after
/// which it yields nothing. Frames of unknown kinds are skipped and
/// counted. The first frame must be the header: a stream that starts
/// otherwise gives [`ReadError::NotAStream`] at once.
///
/// [`consumed`](Self::consumed) says how many bytes the frames read so far
/// took, so a reader following a file that is still being written can
/// read again from there when more has arrived.
#[derive(Debug, Clone)]
pub struct Frames<'a> {
    bytes: &'a [u8],
    offset: usize,
    started: bool,
    stopped: bool,
    skipped: u64,
}

impl<'a> Frames<'a> {
    /// The frames of a whole stream, header first.
    pub fn new(bytes: &'a [u8]) -> Frames<'a> {
        Frames {
            bytes,
            offset: 0,
            started: false,
            stopped: false,
            skipped: 0,
        }
    }

    /// The frames of the rest of a stream whose header was already read:
    /// `bytes` starts at a frame boundary (a [`consumed`](Self::consumed)
    /// offset).
    pub fn resume(bytes: &'a [u8]) -> Frames<'a> {
        Frames {
            started: true,
            ..Frames::new(bytes)
        }
    }

    /// Bytes of the whole frames read so far.
    pub fn consumed(&self) -> usize {
        self.offset
    }

    /// Frames of unknown kinds skipped so far.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    fn next_frame(&mut self) -> Option<Result<Message, ReadError>> {
        loop {
            let rest = &self.bytes[self.offset..];
            if rest.is_empty() {
                return (!self.started).then_some(Err(ReadError::Empty));
            }
            let offset = self.offset as u64;
            if rest.len() < 4 {
                return Some(Err(ReadError::Truncated { offset }));
            }
            let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
            if len == 0 || len > MAX_FRAME {
                return Some(Err(if self.started {
                    ReadError::Corrupt {
                        offset,
                        what: "its length is out of range",
                    }
                } else {
                    ReadError::NotAStream
                }));
            }
            let Some(body) = rest.get(4..4 + len as usize) else {
                return Some(Err(if self.started || could_be_header(&rest[4..]) {
                    ReadError::Truncated { offset }
                } else {
                    ReadError::NotAStream
                }));
            };
            let kind = body[0];
            let mut r = Fields {
                bytes: &body[1..],
                offset,
            };
            if !self.started {
                if kind != HEADER {
                    return Some(Err(ReadError::NotAStream));
                }
                self.started = true;
                let header = header(&mut r);
                self.offset += 4 + len as usize;
                return Some(header.map(Message::Header));
            }
            let message = match kind {
                HEADER => Err(r.corrupt("a second header")),
                CLIENT => client(&mut r).map(Message::Client),
                CALLBACK => callback(&mut r).map(Message::Callback),
                DROPS => drops(&mut r).map(Message::Drops),
                SITE => site(&mut r).map(Message::Site),
                END => end(&mut r).map(Message::End),
                _ => {
                    self.skipped += 1;
                    self.offset += 4 + len as usize;
                    continue;
                }
            };
            let message = message.and_then(|m| r.finished().map(|()| m));
            if message.is_ok() {
                self.offset += 4 + len as usize;
            }
            return Some(message);
        }
    }
}

impl Iterator for Frames<'_> {
    type Item = Result<Message, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.stopped {
            return None;
        }
        let item = self.next_frame();
        if matches!(item, Some(Err(_)) | None) {
            self.stopped = true;
        }
        item
    }
}

/// True when `partial`, the start of a first frame's body cut short,
/// agrees with a header as far as it goes.
fn could_be_header(partial: &[u8]) -> bool {
    match partial.split_first() {
        None => true,
        Some((&kind, magic)) => {
            let n = magic.len().min(MAGIC.len());
            kind == HEADER && magic[..n] == MAGIC[..n]
        }
    }
}

/// A frame's fields, read in order.
struct Fields<'a> {
    bytes: &'a [u8],
    offset: u64,
}

impl<'a> Fields<'a> {
    fn corrupt(&self, what: &'static str) -> ReadError {
        ReadError::Corrupt {
            offset: self.offset,
            what,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ReadError> {
        if self.bytes.len() < n {
            return Err(self.corrupt("it ends before its last field"));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn finished(&self) -> Result<(), ReadError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(self.corrupt("it has bytes after its last field"))
        }
    }

    fn u8(&mut self) -> Result<u8, ReadError> {
        Ok(self.take(1)?[0])
    }

    fn bool(&mut self) -> Result<bool, ReadError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.corrupt("a flag is neither 0 nor 1")),
        }
    }

    fn u16(&mut self) -> Result<u16, ReadError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, ReadError> {
        let mut a = [0; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a))
    }

    fn u64(&mut self) -> Result<u64, ReadError> {
        let mut a = [0; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    fn string(&mut self) -> Result<String, ReadError> {
        let len = usize::from(self.u16()?);
        let bytes = self.take(len)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(self.corrupt("a string is not UTF-8")),
        }
    }

    fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<T, ReadError>,
    ) -> Result<Vec<T>, ReadError> {
        let n = usize::from(self.u16()?);
        // Never reserve more than the frame's bytes can hold.
        let mut items = Vec::with_capacity(n.min(self.bytes.len()));
        for _ in 0..n {
            items.push(item(self)?);
        }
        Ok(items)
    }
}

fn header(r: &mut Fields<'_>) -> Result<Header, ReadError> {
    if r.bytes.get(..MAGIC.len()) != Some(&MAGIC[..]) {
        return Err(ReadError::NotAStream);
    }
    r.take(MAGIC.len())?;
    let version = r.u16()?;
    if version != VERSION {
        return Err(ReadError::Version { found: version });
    }
    let pid = r.u32()?;
    let program = r.string()?;
    let blocking_names = r.list(Fields::string)?;
    let queue_capacity = r.u32()?;
    let flags = r.u8()?;
    if flags > 0b111 {
        return Err(r.corrupt("unknown header flags"));
    }
    r.finished()?;
    Ok(Header {
        version,
        pid,
        program,
        blocking_names,
        queue_capacity,
        sites: flags & 1 != 0,
        rusage: flags & 2 != 0,
        children: flags & 4 != 0,
    })
}

fn client(r: &mut Fields<'_>) -> Result<Client, ReadError> {
    Ok(Client {
        slot: r.u16()?,
        role: Role::from_code(r.u8()?),
        name: r.string()?,
        sample_rate: r.u32()?,
        buffer_size: r.u32()?,
    })
}

fn callback(r: &mut Fields<'_>) -> Result<Callback, ReadError> {
    let slot = r.u16()?;
    let index = r.u64()?;
    let frames = r.u32()?;
    let start_ns = r.u64()?;
    let duration_ns = r.u64()?;
    let mut fields = [0; 11];
    for f in &mut fields {
        *f = r.u64()?;
    }
    let sizes = r.list(|r| Ok((r.u64()?, r.u64()?)))?;
    let blocking = r.list(|r| Ok((r.u16()?, r.u64()?)))?;
    let usage = if r.bool()? {
        Some(Usage {
            minor_faults: r.u64()?,
            major_faults: r.u64()?,
            voluntary_switches: r.u64()?,
            involuntary_switches: r.u64()?,
        })
    } else {
        None
    };
    Ok(Callback {
        slot,
        index,
        frames,
        start_ns,
        duration_ns,
        counts: Counts::from_fields(fields),
        sizes,
        blocking,
        usage,
    })
}

fn drops(r: &mut Fields<'_>) -> Result<Drops, ReadError> {
    Ok(Drops {
        slot: r.u16()?,
        dropped: r.u64()?,
    })
}

fn site(r: &mut Fields<'_>) -> Result<Site, ReadError> {
    Ok(Site {
        slot: r.u16()?,
        function: r.string()?,
        size: r.u64()?,
        allocations: r.u64()?,
        deallocations: r.u64()?,
        reallocations: r.u64()?,
        backtrace: r.list(Fields::string)?,
    })
}

fn end(r: &mut Fields<'_>) -> Result<End, ReadError> {
    Ok(End {
        complete: r.bool()?,
    })
}
