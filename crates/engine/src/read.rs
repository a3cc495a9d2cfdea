//! Input files: regular files only, read whole up to a cap fitted to
//! their kind.
//!
//! A path is looked at with `stat` before it is opened, so a FIFO with no
//! writer, a device or a directory is refused without being opened (an
//! `open` of a FIFO would wait for a writer forever). It is then opened
//! with `O_NONBLOCK` and looked at again on the open file (`fstat`), so a
//! file swapped for a FIFO in between cannot block either. A file larger
//! than its kind's cap is refused from its size before a byte is read,
//! and the read itself stops one byte past the cap, for a file that grows
//! while it is read.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// What an input file is; each kind has its cap, many times the largest
/// real file of the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputKind {
    /// A HeSuVi WAV preset (`--preset`, a scenario's `preset`).
    Preset,
    /// A scenario TOML file (`--scenario`, `gate --scenarios`).
    Scenario,
    /// A JSON run report (`compare`).
    Report,
    /// A JSON baseline of per-site counts (`gate --baseline`).
    Baseline,
    /// A SOFA (AES69) file (`hrir import-sofa --sofa`).
    Sofa,
}

impl InputKind {
    /// The most bytes read of a file of this kind.
    ///
    /// - preset: 64 MiB. The embedded KEMAR set is 31 KB; a 14-channel
    ///   32-bit impulse response a second long at 192 kHz is 10.8 MB.
    /// - scenario: 4 MiB. The largest shipped scenario is under 1 KB; the
    ///   longest scenario (an hour) with an event every 100 ms is about
    ///   2.7 MB.
    /// - report: 16 MiB. The largest committed report is 107 KB; the
    ///   site trace adds at most its 512 rows, about 150 KB.
    /// - baseline: 16 MiB, a few hundred bytes per site.
    /// - SOFA: 256 MiB. The MIT KEMAR file is 1.2 MB; the densest public
    ///   HRIR sets are tens of MB.
    pub const fn max_bytes(self) -> u64 {
        match self {
            InputKind::Preset => 64 << 20,
            InputKind::Scenario => 4 << 20,
            InputKind::Report | InputKind::Baseline => 16 << 20,
            InputKind::Sofa => 256 << 20,
        }
    }

    /// Its name in messages.
    pub const fn name(self) -> &'static str {
        match self {
            InputKind::Preset => "preset",
            InputKind::Scenario => "scenario",
            InputKind::Report => "report",
            InputKind::Baseline => "baseline",
            InputKind::Sofa => "SOFA file",
        }
    }

    fn too_large(self, what: String) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{what}; a {} is at most {} MiB",
                self.name(),
                self.max_bytes() >> 20
            ),
        )
    }
}

/// The whole of the regular file at `path`, at most `kind`'s cap. Refuses
/// (`InvalidInput`) anything that is not a regular file, or a symlink to
/// one, without blocking; refuses (`InvalidData`) a larger file without
/// reading it.
pub fn read_input(path: &Path, kind: InputKind) -> io::Result<Vec<u8>> {
    regular(&fs::metadata(path)?)?;
    let file = open_nonblocking(path)?;
    let meta = file.metadata()?;
    regular(&meta)?;
    if meta.len() > kind.max_bytes() {
        return Err(kind.too_large(format!("it has {} bytes", meta.len())));
    }
    read_capped(file, kind)
}

/// Everything `reader` yields, or an error (`InvalidData`) once it yields
/// more than `kind`'s cap.
pub fn read_capped(reader: impl Read, kind: InputKind) -> io::Result<Vec<u8>> {
    let cap = kind.max_bytes();
    let mut bytes = Vec::new();
    reader.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(kind.too_large(format!("more than {} MiB", cap >> 20)));
    }
    Ok(bytes)
}

fn regular(meta: &fs::Metadata) -> io::Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {}; expected a regular file", kind(&meta.file_type())),
    ))
}

/// Opens `path` for reading without waiting for a FIFO's writer.
fn open_nonblocking(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// What a file that is not a regular file is, with its article.
pub fn kind(t: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symlink"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests;
