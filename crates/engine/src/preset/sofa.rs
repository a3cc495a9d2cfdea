//! Importing a SOFA (AES69) HRIR file into a HeSuVi 14-channel set: the
//! nearest measurement to each 7.1 speaker, resampled by `sofar`, written as
//! a 32-bit float WAV. This is how the embedded KEMAR default was made.
//! Runs offline and allocates freely.

use std::cell::Cell;
use std::fmt;
use std::io::{self, Seek, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;

use crate::text::count;
use sofar::reader::{Filter, OpenOptions, Sofar};

use crate::read::{InputKind, read_input};

/// Channels in a HeSuVi 14-channel file.
pub const HESUVI_CHANNELS: usize = 14;
/// The rate [`ImportOptions::default`] asks for.
pub const DEFAULT_SAMPLE_RATE: u32 = 48_000;
/// The lowest sample rate accepted, in Hz.
pub const MIN_SAMPLE_RATE: u32 = 8_000;
/// The highest sample rate accepted, in Hz.
pub const MAX_SAMPLE_RATE: u32 = 384_000;
/// The longest per-ear delay a SOFA file may carry before it is refused as
/// corrupt, in seconds. Delays are baked into the taps, so this bounds the
/// memory a bad file can ask for.
const MAX_DELAY_SECONDS: f32 = 1.0;

/// A speaker of the 7.1 layout, as HeSuVi names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Speaker {
    /// Front left (FL), 30° to the left.
    FrontLeft,
    /// Front right (FR), 30° to the right.
    FrontRight,
    /// Front centre (FC), straight ahead.
    Center,
    /// Back left (BL), 150° to the left.
    BackLeft,
    /// Back right (BR), 150° to the right.
    BackRight,
    /// Side left (SL), 90° to the left.
    SideLeft,
    /// Side right (SR), 90° to the right.
    SideRight,
}

impl Speaker {
    /// Every speaker, in the order [`ImportedSet::positions`] lists them.
    pub const ALL: [Speaker; 7] = [
        Speaker::FrontLeft,
        Speaker::FrontRight,
        Speaker::Center,
        Speaker::BackLeft,
        Speaker::BackRight,
        Speaker::SideLeft,
        Speaker::SideRight,
    ];

    /// HeSuVi's short name: "FL", "FR", "FC", "BL", "BR", "SL" or "SR".
    pub fn label(self) -> &'static str {
        match self {
            Speaker::FrontLeft => "FL",
            Speaker::FrontRight => "FR",
            Speaker::Center => "FC",
            Speaker::BackLeft => "BL",
            Speaker::BackRight => "BR",
            Speaker::SideLeft => "SL",
            Speaker::SideRight => "SR",
        }
    }

    /// Where the speaker stands, in degrees of azimuth in the SOFA
    /// convention (positive is the listener's left), at elevation 0.
    pub fn azimuth(self) -> f32 {
        match self {
            Speaker::FrontLeft => 30.0,
            Speaker::FrontRight => -30.0,
            Speaker::Center => 0.0,
            Speaker::BackLeft => 150.0,
            Speaker::BackRight => -150.0,
            Speaker::SideLeft => 90.0,
            Speaker::SideRight => -90.0,
        }
    }

    /// The HeSuVi channels holding this speaker's impulse responses, as
    /// (left-ear channel, right-ear channel).
    pub fn hesuvi_channels(self) -> (usize, usize) {
        match self {
            Speaker::FrontLeft => (0, 1),
            Speaker::FrontRight => (8, 7),
            Speaker::Center => (6, 13),
            Speaker::BackLeft => (4, 5),
            Speaker::BackRight => (12, 11),
            Speaker::SideLeft => (2, 3),
            Speaker::SideRight => (10, 9),
        }
    }
}

/// How to import a SOFA file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// The rate of the produced impulse responses, in Hz; `sofar` resamples
    /// when the file was measured at another rate. Between
    /// [`MIN_SAMPLE_RATE`] and [`MAX_SAMPLE_RATE`].
    pub sample_rate: u32,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            sample_rate: DEFAULT_SAMPLE_RATE,
        }
    }
}

/// The measurement a speaker's impulse responses were taken from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpeakerMeasurement {
    /// The speaker.
    pub speaker: Speaker,
    /// The measurement's index in the SOFA file (its M dimension).
    pub index: usize,
    /// Its azimuth in degrees, SOFA convention (positive is left), -180..=180.
    pub azimuth: f32,
    /// Its elevation in degrees (positive is up).
    pub elevation: f32,
    /// Its distance from the listener, in metres.
    pub distance: f32,
}

/// A HeSuVi 14-channel impulse-response set made from a SOFA file.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedSet {
    /// The rate of the impulse responses, in Hz.
    pub sample_rate: u32,
    /// Fourteen impulse responses of equal length, in HeSuVi channel order
    /// (see [`Speaker::hesuvi_channels`]).
    pub channels: Vec<Vec<f32>>,
    /// The measurement used for each speaker, in [`Speaker::ALL`] order.
    pub positions: Vec<SpeakerMeasurement>,
    /// How many measurements the SOFA file holds.
    pub measurements: usize,
}

impl ImportedSet {
    /// The length of each impulse response, in samples.
    pub fn taps(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

/// Why a SOFA file could not be imported or a set could not be written.
#[derive(Debug)]
#[non_exhaustive]
pub enum SofaError {
    /// The file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The file is not a SOFA file `sofar` can parse.
    NotSofa {
        /// The file.
        path: PathBuf,
        /// What is wrong with it, in words.
        detail: String,
    },
    /// The file parsed as SOFA but cannot give the impulse responses
    /// (resampling failed, no usable measurement, bad delays, ...).
    Unusable {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// The sample rate is outside [`MIN_SAMPLE_RATE`]..=[`MAX_SAMPLE_RATE`].
    SampleRate {
        /// The rate asked for, in Hz.
        rate: u32,
    },
    /// A set to write does not have 14 channels.
    ChannelCount {
        /// How many it has.
        found: usize,
    },
    /// A channel of a set to write is empty or not as long as channel 0.
    ChannelLength {
        /// The channel.
        channel: usize,
        /// Its length, in samples.
        found: usize,
        /// The length of channel 0 (at least 1).
        expected: usize,
    },
    /// A sample of a set is NaN or infinite.
    NonFinite {
        /// The channel.
        channel: usize,
        /// The sample's index in it.
        tap: usize,
    },
    /// The WAV encoder failed (usually an I/O error of the writer).
    Wav(hound::Error),
}

impl fmt::Display for SofaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SofaError::Io { path, source } => {
                write!(f, "cannot read sofa file '{}': {source}", path.display())
            }
            SofaError::NotSofa { path, detail } => write!(
                f,
                "'{}' is not a sofa file: {detail}; expected an aes69 sofa (hdf5) file",
                path.display()
            ),
            SofaError::Unusable { path, detail } => {
                write!(f, "sofa file '{}' is unusable: {detail}", path.display())
            }
            SofaError::SampleRate { rate } => write!(
                f,
                "sample rate {rate} hz is out of range; expected {MIN_SAMPLE_RATE} to \
                 {MAX_SAMPLE_RATE} hz"
            ),
            SofaError::ChannelCount { found } => write!(
                f,
                "impulse-response set has {}; expected {HESUVI_CHANNELS}",
                count(*found, "channel")
            ),
            SofaError::ChannelLength {
                channel,
                found,
                expected,
            } => write!(
                f,
                "channel {channel} has {}; expected {expected} like channel 0",
                count(*found, "tap")
            ),
            SofaError::NonFinite { channel, tap } => write!(
                f,
                "channel {channel} tap {tap} is not a finite number; expected finite samples"
            ),
            SofaError::Wav(e) => write!(f, "cannot write the hesuvi wav: {e}"),
        }
    }
}

impl std::error::Error for SofaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SofaError::Io { source, .. } => Some(source),
            SofaError::Wav(e) => Some(e),
            _ => None,
        }
    }
}

/// Reads the SOFA file at `path` (a regular file of at most
/// [`InputKind::Sofa`]'s cap) and builds a HeSuVi 14-channel set from the
/// measurement nearest to each 7.1 speaker (no interpolation between
/// measurements), resampled by `sofar` to `options.sample_rate`.
///
/// `sofar` scales the whole file so that the frontal measurement's two ears
/// together have an energy of 2 (1 per ear on average); per-measurement delays, if the file has any, are baked in
/// as leading zeros (the MIT KEMAR file has none). Checks the rate before
/// touching the file.
pub fn import(path: &Path, options: &ImportOptions) -> Result<ImportedSet, SofaError> {
    let rate = options.sample_rate;
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&rate) {
        return Err(SofaError::SampleRate { rate });
    }
    let bytes = read_input(path, InputKind::Sofa).map_err(|source| SofaError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    import_bytes(&bytes, path, options)
}

/// [`import`] from the bytes of a SOFA file already in memory; `path` only
/// names it in errors.
pub fn import_bytes(
    bytes: &[u8],
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportedSet, SofaError> {
    let rate = options.sample_rate;
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&rate) {
        return Err(SofaError::SampleRate { rate });
    }
    let unusable = |detail: String| SofaError::Unusable {
        path: path.to_path_buf(),
        detail,
    };
    // sofar's HDF5 parser is hand-written; a file crafted to trip it must
    // end in an error, not a panic of the caller (nor a panic message).
    let not_sofa = |reader_said: Option<&sofar::reader::Error>| SofaError::NotSofa {
        path: path.to_path_buf(),
        detail: unreadable(bytes, reader_said),
    };
    let read = catch_quietly(|| {
        let sofa = open(bytes, rate).map_err(|e| match e {
            sofar::reader::Error::Parse(_) | sofar::reader::Error::InvalidFormat => {
                not_sofa(Some(&e))
            }
            other => unusable(other.to_string()),
        })?;
        nearest_filters(&sofa).map_err(unusable)
    });
    let (filters, positions, measurements) = match read {
        Ok(result) => result?,
        // A file crafted or cut to trip the parser.
        Err(_) => return Err(not_sofa(None)),
    };
    let set = bake(filters, positions, measurements, rate).map_err(unusable)?;
    check(&set)?;
    Ok(set)
}

thread_local! {
    /// Set while [`catch_quietly`] runs on this thread.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` and catches its panic, with the panic hook silent for panics on
/// this thread meanwhile: a truncated file trips a debug assertion in
/// winnow (under sofar) whose message dumps the whole input, and the error
/// returned instead must be the only thing printed. The hook is wrapped
/// once; panics elsewhere, or on this thread later, reach the previous hook.
fn catch_quietly<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    static WRAP: Once = Once::new();
    WRAP.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    result
}

/// The eight bytes every HDF5 file starts with (the HDF5 file format
/// specification, "Format Signature" of the superblock).
const HDF5_SIGNATURE: [u8; 8] = [0x89, b'H', b'D', b'F', b'\r', b'\n', 0x1a, b'\n'];

/// What is wrong with `bytes`, which `sofar` could not read as SOFA (it
/// said `reader_said`, or panicked), in words for the user: empty, not
/// HDF5 at all, shorter than its own superblock says, or HDF5 that is
/// not SOFA or is damaged. `sofar`'s own parse errors are debug dumps of
/// its parser's state, so they are never shown.
fn unreadable(bytes: &[u8], reader_said: Option<&sofar::reader::Error>) -> String {
    if bytes.is_empty() {
        return "the file is empty".to_owned();
    }
    if !bytes.starts_with(&HDF5_SIGNATURE) {
        return "it does not start with the hdf5 signature, so it is not an hdf5 file".to_owned();
    }
    if let Some(declared) = hdf5_declared_len(bytes)
        && declared > bytes.len() as u64
    {
        return format!(
            "it is truncated: its hdf5 superblock declares {}, the file has {}",
            count(declared, "byte"),
            count(bytes.len(), "byte")
        );
    }
    let sofa_said = match reader_said {
        Some(sofar::reader::Error::Parse(inner)) => inner.to_string(),
        _ => String::new(),
    };
    // The variants of sofar's SOFA-level error that are written in words
    // (a missing attribute, array or dimension); its parse errors start
    // with "Parse error" and carry the parser's internals.
    if sofa_said.is_empty() || sofa_said.starts_with("Parse error") {
        "its hdf5 structure is damaged or uses a layout sofar cannot read".to_owned()
    } else {
        let mut said = sofa_said.chars();
        let first = said.next().map(|c| c.to_lowercase().to_string());
        format!(
            "it is hdf5 but not sofa as sofar reads it ({}{})",
            first.unwrap_or_default(),
            said.as_str()
        )
    }
}

/// The length an HDF5 file's superblock declares (its base address plus
/// its end-of-file address), when the superblock's start can be read.
/// Superblock versions 0 and 1 hold the sizes at byte 13 and the
/// addresses from byte 24 (28 in version 1); versions 2 and 3 at 9 and
/// 12; in each the end-of-file address is the third address.
fn hdf5_declared_len(bytes: &[u8]) -> Option<u64> {
    let (size_at, addresses_at) = match *bytes.get(HDF5_SIGNATURE.len())? {
        0 => (13, 24),
        1 => (13, 28),
        2 | 3 => (9, 12),
        _ => return None,
    };
    let width = usize::from(*bytes.get(size_at)?);
    if !matches!(width, 2 | 4 | 8) {
        return None;
    }
    let address = |i: usize| -> Option<u64> {
        let start = addresses_at + i * width;
        let field = bytes.get(start..start + width)?;
        Some(field.iter().rev().fold(0, |a, &b| a << 8 | u64::from(b)))
    };
    address(0)?.checked_add(address(2)?)
}

fn open(bytes: &[u8], rate: u32) -> Result<Sofar, sofar::reader::Error> {
    // Every accepted rate is below 2^24, so the conversion is exact.
    OpenOptions::new().sample_rate(rate as f32).open_data(bytes)
}

/// Each speaker's nearest measurement (filters and positions, in
/// [`Speaker::ALL`] order) and the file's measurement count.
type Nearest = (Vec<Filter>, Vec<SpeakerMeasurement>, usize);

fn nearest_filters(sofa: &Sofar) -> Result<Nearest, String> {
    let taps = sofa.filter_len();
    if taps == 0 {
        return Err("its impulse responses have 0 taps; expected at least 1".to_owned());
    }
    let sources = &sofa.hrtf().source_position.values;
    let mut filters = Vec::with_capacity(Speaker::ALL.len());
    let mut positions = Vec::with_capacity(Speaker::ALL.len());
    for speaker in Speaker::ALL {
        let azimuth = speaker.azimuth().to_radians();
        let query = [azimuth.cos(), azimuth.sin(), 0.0];
        let index = sofa.lookup().find(&query).ok_or_else(|| {
            format!(
                "no measurement found near {} ({}°); expected one per 7.1 speaker",
                speaker.label(),
                speaker.azimuth()
            )
        })?;
        // After opening, sofar holds source positions as cartesian x, y, z.
        let Some(&[x, y, z]) = sources.get(index * 3..index * 3 + 3) else {
            return Err(format!(
                "measurement #{index} has no source position; expected {} positions",
                sofa.num_measurements()
            ));
        };
        let mut filter = Filter::new(taps);
        // Same lookup as above, so this is measurement `index`, unblended.
        sofa.filter_nointerp(query[0], query[1], query[2], &mut filter);
        if filter
            .left
            .iter()
            .chain(filter.right.iter())
            .all(|&s| s == 0.0)
        {
            // sofar's resampler returns zeros for some rate ratios (44100 to
            // 44101, for one); say so rather than write a silent preset.
            return Err(format!(
                "measurement #{index} (for {}) is all zeros at {} hz; expected an impulse \
                 response (if the file is not silent, try a common rate such as 48000)",
                speaker.label(),
                sofa.sample_rate()
            ));
        }
        filters.push(filter);
        positions.push(SpeakerMeasurement {
            speaker,
            index,
            azimuth: y.atan2(x).to_degrees(),
            elevation: z.atan2(x.hypot(y)).to_degrees(),
            distance: (x * x + y * y + z * z).sqrt(),
        });
    }
    Ok((filters, positions, sofa.num_measurements() as usize))
}

/// Lays the filters out in HeSuVi order, each ear's delay turned into
/// leading zeros and every channel padded to the longest.
fn bake(
    filters: Vec<Filter>,
    positions: Vec<SpeakerMeasurement>,
    measurements: usize,
    rate: u32,
) -> Result<ImportedSet, String> {
    let delay_samples = |seconds: f32, index: usize| {
        if seconds.is_finite() && (0.0..=MAX_DELAY_SECONDS).contains(&seconds) {
            Ok((seconds * rate as f32).round() as usize)
        } else {
            Err(format!(
                "measurement #{index} has a delay of {seconds} s; expected 0 to \
                 {MAX_DELAY_SECONDS} s"
            ))
        }
    };
    let mut channels = vec![Vec::new(); HESUVI_CHANNELS];
    for (filter, position) in filters.iter().zip(&positions) {
        let (left, right) = position.speaker.hesuvi_channels();
        for (channel, ir, delay) in [
            (left, &filter.left, filter.ldelay),
            (right, &filter.right, filter.rdelay),
        ] {
            let zeros = delay_samples(delay, position.index)?;
            let out = &mut channels[channel];
            out.resize(zeros, 0.0);
            out.extend_from_slice(ir);
        }
    }
    let taps = channels.iter().map(Vec::len).max().unwrap_or(0);
    channels.iter_mut().for_each(|c| c.resize(taps, 0.0));
    Ok(ImportedSet {
        sample_rate: rate,
        channels,
        positions,
        measurements,
    })
}

/// Checks what [`write_hesuvi_wav`] relies on: the rate, 14 channels of one
/// non-zero length, finite samples.
fn check(set: &ImportedSet) -> Result<(), SofaError> {
    let rate = set.sample_rate;
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&rate) {
        return Err(SofaError::SampleRate { rate });
    }
    if set.channels.len() != HESUVI_CHANNELS {
        return Err(SofaError::ChannelCount {
            found: set.channels.len(),
        });
    }
    let expected = set.taps().max(1);
    for (channel, samples) in set.channels.iter().enumerate() {
        if samples.len() != expected {
            return Err(SofaError::ChannelLength {
                channel,
                found: samples.len(),
                expected,
            });
        }
        if let Some(tap) = samples.iter().position(|s| !s.is_finite()) {
            return Err(SofaError::NonFinite { channel, tap });
        }
    }
    Ok(())
}

/// Writes `set` as a 14-channel, 32-bit float WAV at `set.sample_rate`
/// (hound writes WAVE_FORMAT_EXTENSIBLE for more than two channels). The
/// bytes depend only on the set, so the same set always gives the same file.
/// The set is checked first; nothing is written if it is malformed.
pub fn write_hesuvi_wav<W: Write + Seek>(set: &ImportedSet, w: W) -> Result<(), SofaError> {
    check(set)?;
    let spec = hound::WavSpec {
        channels: HESUVI_CHANNELS as u16,
        sample_rate: set.sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut wav = hound::WavWriter::new(w, spec).map_err(SofaError::Wav)?;
    for tap in 0..set.taps() {
        for channel in &set.channels {
            wav.write_sample(channel[tap]).map_err(SofaError::Wav)?;
        }
    }
    wav.finalize().map_err(SofaError::Wav)
}

#[cfg(test)]
mod tests;
