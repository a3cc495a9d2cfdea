//! Callback durations as an HdrHistogram interval log (`allocgate run
//! --hdr-log FILE`), for the usual HdrHistogram tools (the Java
//! implementation's `HistogramLogProcessor`, HistogramLogAnalyzer, the
//! `hdrhistogram` crate's [`IntervalLogIterator`]).
//!
//! The log holds one interval per tag, each spanning the whole run (start
//! timestamp 0, length the run's duration): `input` and `output` for every
//! callback of the kind, and, when they are not empty, `input-allocated`,
//! `input-clean`, `output-allocated` and `output-clean` for the callbacks
//! that made at least one allocator call and those that made none. Values
//! are nanoseconds, and the histograms are the ones the report's
//! `latency` percentiles come from, so a reader finds the same
//! percentiles (the report's are clamped to the exact minimum and
//! maximum, which the histogram only knows to within its precision).
//!
//! The histograms are V2-encoded and deflate-compressed, as the Java
//! `HistogramLogWriter` writes them and its `HistogramLogReader` expects
//! them; the max column is in milliseconds (the divisor recorded in the
//! log's header), as Java's writer puts it.
//!
//! [`IntervalLogIterator`]: hdrhistogram::serialization::interval_log::IntervalLogIterator

use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializeError;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{
    IntervalLogWriterBuilder, IntervalLogWriterError, Tag,
};

use crate::metrics::{Aggregates, KindFigures, Phase};

use crate::files::write_atomically;

/// Tags of a kind's intervals: every callback, those that touched the
/// allocator, those that did not.
const INPUT_TAGS: [&str; 3] = ["input", "input-allocated", "input-clean"];
const OUTPUT_TAGS: [&str; 3] = ["output", "output-allocated", "output-clean"];

/// What the max column is divided by: nanoseconds to milliseconds, the
/// Java writer's default unit ratio.
const MAX_VALUE_DIVISOR: f64 = 1e6;

/// Why an HdrHistogram log could not be made or written.
#[derive(Debug)]
pub enum HdrLogError {
    /// The log's header or an interval could not be encoded.
    Encode {
        /// The interval's tag; `None` for the header.
        tag: Option<&'static str>,
        /// What the `hdrhistogram` crate reported.
        source: IntervalLogWriterError<V2DeflateSerializeError>,
    },
    /// The file could not be written (an existing one is left as it was).
    Write {
        /// The log's path.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
}

impl fmt::Display for HdrLogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HdrLogError::Encode { tag: None, source } => {
                write!(f, "cannot begin the HdrHistogram log: {source}")
            }
            HdrLogError::Encode {
                tag: Some(tag),
                source,
            } => write!(f, "cannot encode the '{tag}' histogram: {source}"),
            HdrLogError::Write { path, source } => write!(
                f,
                "cannot write HdrHistogram log '{}': {source}",
                path.display()
            ),
        }
    }
}

impl Error for HdrLogError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            HdrLogError::Encode { source, .. } => Some(source),
            HdrLogError::Write { source, .. } => Some(source),
        }
    }
}

/// The intervals of a run's log, in the order written: each tag with its
/// histogram of durations in nanoseconds. `input` and `output` are always
/// there; the split by allocator use only when not empty.
pub fn hdr_intervals(all: &Phase) -> Vec<(&'static str, &Histogram<u64>)> {
    let mut intervals = Vec::with_capacity(6);
    for (tags, k) in [(INPUT_TAGS, &all.input), (OUTPUT_TAGS, &all.output)] {
        let KindFigures {
            latency,
            latency_allocated,
            latency_not_allocated,
            ..
        } = k;
        intervals.push((tags[0], latency.histogram()));
        for (tag, l) in [
            (tags[1], latency_allocated),
            (tags[2], latency_not_allocated),
        ] {
            if l.count() > 0 {
                intervals.push((tag, l.histogram()));
            }
        }
    }
    intervals
}

/// The interval log of a run's callback durations (see the module
/// documentation): [`hdr_intervals`] of the whole run, each from 0 for
/// `a.duration`.
pub fn encode_hdr_log(a: &Aggregates) -> Result<Vec<u8>, HdrLogError> {
    let mut bytes = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    let mut log = IntervalLogWriterBuilder::new()
        .add_comment(&format!(
            "[Logged with allocgate {}]",
            env!("CARGO_PKG_VERSION")
        ))
        .add_comment("[Histogram log format version 1.3]")
        .add_comment(
            "[allocgate: callback durations in nanoseconds; each interval spans the whole run]",
        )
        .with_max_value_divisor(MAX_VALUE_DIVISOR)
        .begin_log_with(&mut bytes, &mut serializer)
        .map_err(|e| HdrLogError::Encode {
            tag: None,
            source: IntervalLogWriterError::IoError(e),
        })?;
    for (tag, histogram) in hdr_intervals(&a.all) {
        log.write_histogram(histogram, Duration::ZERO, a.duration, Tag::new(tag))
            .map_err(|source| HdrLogError::Encode {
                tag: Some(tag),
                source,
            })?;
    }
    Ok(bytes)
}

/// Writes [`encode_hdr_log`] of `a` to `path`, atomically (a temporary
/// file in the same directory, renamed over `path`): a reader sees the
/// old log or the new one, and on failure an existing log is left as it
/// was.
pub fn write_hdr_log(path: impl AsRef<Path>, a: &Aggregates) -> Result<(), HdrLogError> {
    let path = path.as_ref();
    let bytes = encode_hdr_log(a)?;
    write_atomically(path, &bytes, |_| Ok(())).map_err(|source| HdrLogError::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    use super::*;
    use crate::metrics::Record;
    use crate::metrics::{Aggregator, Latency};
    use allocgate::Counts;
    use allocgate_engine::scratch::TestDir;
    use allocgate_engine::sites::CallbackKind;

    /// A short run's worth of callbacks: 480 of each kind, durations from
    /// 300 ns to past 2 ms (so most land in buckets wider than 1 ns), and
    /// every tenth output callback allocating and taking longer.
    fn aggregates() -> Aggregates {
        let mut agg = Aggregator::new();
        for i in 0..480u64 {
            for kind in [CallbackKind::Input, CallbackKind::Output] {
                let allocating = kind == CallbackKind::Output && i % 10 == 3;
                let wall_ns = 300 + i * i * 9 + if allocating { 40_000 + i * 7 } else { 0 };
                agg.record(
                    &Record::new(kind)
                        .with_index(i)
                        .with_device_time(i * 480)
                        .with_frames(480, 10_000_000)
                        .with_wall_ns(wall_ns)
                        .with_counts(Counts {
                            allocations: u64::from(allocating),
                            ..Counts::new()
                        })
                        .with_warm_up(i < 4),
                );
            }
        }
        agg.finish(Duration::from_millis(4_800))
    }

    /// Every interval of `log`, through the `hdrhistogram` crate's reader:
    /// tag, start, length and the histogram decoded.
    fn read_back(log: &[u8]) -> Vec<(String, Duration, Duration, Histogram<u64>)> {
        let mut deserializer = Deserializer::new();
        IntervalLogIterator::new(log)
            .map(|entry| match entry.expect("the log parses") {
                LogEntry::Interval(i) => {
                    let bytes = STANDARD
                        .decode(i.encoded_histogram())
                        .expect("the histogram is base64");
                    let h: Histogram<u64> = deserializer
                        .deserialize(&mut Cursor::new(bytes))
                        .expect("the histogram decodes");
                    let tag = i.tag().expect("every interval is tagged").as_str();
                    (tag.to_owned(), i.start_timestamp(), i.duration(), h)
                }
                LogEntry::StartTime(_) | LogEntry::BaseTime(_) => {
                    panic!("the log has no StartTime or BaseTime")
                }
            })
            .collect()
    }

    /// Count, extremes and the report's four percentiles.
    fn figures(h: &Histogram<u64>) -> [u64; 7] {
        [
            h.len(),
            h.min(),
            h.max(),
            h.value_at_quantile(0.50),
            h.value_at_quantile(0.90),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
        ]
    }

    #[test]
    fn the_log_read_back_has_the_percentiles_of_the_histograms_written() {
        let a = aggregates();
        let log = encode_hdr_log(&a).unwrap();
        let read = read_back(&log);
        let written = hdr_intervals(&a.all);
        assert_eq!(
            read.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
            [
                "input",
                "input-clean",
                "output",
                "output-allocated",
                "output-clean"
            ],
            "no input callback allocated: no input-allocated interval"
        );
        assert_eq!(read.len(), written.len());
        for ((tag, start, length, h), (want_tag, want)) in read.iter().zip(&written) {
            assert_eq!(tag, want_tag);
            assert_eq!((*start, *length), (Duration::ZERO, a.duration), "{tag}");
            assert_eq!(figures(h), figures(want), "{tag}");
            assert_eq!(h, *want, "{tag}: every bucket");
        }
        assert_eq!(read[0].3.len(), 480);
        assert_eq!(read[3].3.len(), 48);
    }

    #[test]
    fn the_log_read_back_gives_the_reports_latency_figures() {
        let a = aggregates();
        let read = read_back(&encode_hdr_log(&a).unwrap());
        let by_tag = |t: &str| &read.iter().find(|r| r.0 == t).expect(t).3;
        let cases: [(&str, &Latency); 5] = [
            ("input", &a.all.input.latency),
            ("input-clean", &a.all.input.latency_not_allocated),
            ("output", &a.all.output.latency),
            ("output-allocated", &a.all.output.latency_allocated),
            ("output-clean", &a.all.output.latency_not_allocated),
        ];
        for (tag, latency) in cases {
            let h = by_tag(tag);
            let s = latency.summary();
            // The report clamps the histogram's answers to the exact
            // extremes; a reader of the log applying the same clamp gets
            // the report's figures, and its extremes are the same values
            // to within the histogram's precision.
            let at = |q: f64| h.value_at_quantile(q).clamp(s.min_ns, s.max_ns);
            assert_eq!(
                [h.len(), at(0.50), at(0.90), at(0.99), at(0.999)],
                [s.count, s.p50_ns, s.p90_ns, s.p99_ns, s.p999_ns],
                "{tag}"
            );
            assert!(h.equivalent(h.min(), s.min_ns), "{tag}: min {}", s.min_ns);
            assert!(h.equivalent(h.max(), s.max_ns), "{tag}: max {}", s.max_ns);
        }
    }

    #[test]
    fn the_log_has_the_java_header_and_its_max_column_in_milliseconds() {
        let a = aggregates();
        let log = String::from_utf8(encode_hdr_log(&a).unwrap()).unwrap();
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines[1], "#[Histogram log format version 1.3]");
        assert!(log.contains("#[MaxValueDivisor: 1000000.000]\n"), "{log}");
        let max_ms = a.all.output.latency.histogram().max() as f64 / 1e6;
        let output = lines
            .iter()
            .find(|l| l.starts_with("Tag=output,"))
            .expect("the output interval");
        assert!(
            output.starts_with(&format!("Tag=output,0.000,4.800,{max_ms:.3},")),
            "{output}"
        );
    }

    #[test]
    fn an_empty_run_logs_its_two_kinds_empty() {
        let a = Aggregator::new().finish(Duration::ZERO);
        let read = read_back(&encode_hdr_log(&a).unwrap());
        assert_eq!(
            read.iter()
                .map(|r| (r.0.as_str(), r.3.len()))
                .collect::<Vec<_>>(),
            [("input", 0), ("output", 0)]
        );
    }

    #[test]
    fn the_log_is_written_atomically_and_an_unwritable_path_says_which() {
        let dir = TestDir::new("hdr-log");
        let path = dir.path().join("latency.hlog");
        let a = aggregates();
        write_hdr_log(&path, &a).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), encode_hdr_log(&a).unwrap());
        assert_eq!(dir.entries(), ["latency.hlog"], "no temporary file left");
        let bad = dir.path().join("missing/latency.hlog");
        let e = write_hdr_log(&bad, &a).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "cannot write HdrHistogram log '{}'",
                bad.display()
            )),
            "{e}"
        );
    }
}
