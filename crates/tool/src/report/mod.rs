//! Reports: a run's [`Aggregates`](crate::metrics::Aggregates), the
//! configuration that produced them and the environment they were measured
//! in, as versioned JSON.
//!
//! - [`Report`] and its sections are plain serde structs; their field names
//!   are the JSON keys, documented key by key in `reports/SCHEMA.md`. The
//!   driver or CLI fills in a [`ReportConfig`], takes
//!   [`Environment::detect`] and an [`Integrity`] verdict, and calls
//!   [`Report::from_aggregates`].
//! - [`write_json`] writes a report atomically (temporary file, sync,
//!   rename); [`read_json`] reads one back and refuses another
//!   [`SCHEMA_VERSION`] with a [`ReportError`] saying so.
//! - [`html::render`] draws two reports, before and after, as one
//!   self-contained HTML page with inline SVG plots.
//! - [`write_hdr_log`] writes the callback-duration histograms as an
//!   HdrHistogram interval log (`allocgate run --hdr-log`), for
//!   HdrHistogram's own tools.

mod attach;
mod blocking;
mod convert;
mod environment;
mod error;
mod file;
mod hdr_log;
pub mod html;
mod integrity;
mod schema;
mod sites;

pub use attach::{AttachReport, CaptureReport, ClientReport, ExitReport};
pub use blocking::{BlockingCalls, blocking_calls, blocking_text};
pub(crate) use convert::summary as latency_report;
pub use environment::Environment;
pub use error::ReportError;
pub use file::{read_json, write_json};
pub use hdr_log::{HdrLogError, encode_hdr_log, hdr_intervals, write_hdr_log};
pub use integrity::{Integrity, Mismatch, Verdict};
pub use schema::MEASURED_RATE_SECONDS;
pub use schema::{
    AllocatorCalls, BackendReport, ByKind, HarnessReport, HazardsReport, KindHistograms,
    KindLatency, KindRates, KindSizeClasses, KindTotals, LatencyBucketRow, LatencyReport,
    LoadReport, MacosRegion, MacosRow, Pacing, PerCallbackRow, PhaseReport, RatesReport, Report,
    ReportConfig, RequestedRow, SCHEMA_VERSION, SiteReport, SizeClassesReport, TimelineBin,
    TotalsReport, site_names,
};
pub use sites::{ENGINE_IDIOMS, engine_sites, site_reports};

#[cfg(test)]
mod tests;
