//! `allocgate compare BEFORE.json AFTER.json`: two reports side by side,
//! as markdown on standard output and, on request, markdown, JSON and a
//! self-contained HTML page in files (each written atomically).

use std::path::{Path, PathBuf};

use crate::compare::{
    Comparison, Options, compare, forced_notes, render_json, render_markdown, summary_rows,
};
use crate::files::Outputs;
use crate::report::html::{Page, SummaryRow, render};
use crate::report::{Report, read_json};

use super::run_args::UsageError;

/// The flags of `allocgate compare`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// The report before the change (say reports/latest/prefix.json).
    #[arg(value_name = "BEFORE.json")]
    pub before: PathBuf,
    /// The report after it (say reports/latest/fixed.json).
    #[arg(value_name = "AFTER.json")]
    pub after: PathBuf,
    /// Also write the markdown table to FILE.
    #[arg(long, value_name = "FILE")]
    pub md: Option<PathBuf>,
    /// Write the comparison as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a self-contained HTML page (tables and SVG plots) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Compare even when the runs differ in rate, frames, channels or
    /// length, one ended early, or only one traced sites or read usage:
    /// the differences are stated under the table and every row they
    /// affect is marked in its caveat column.
    #[arg(long)]
    pub force: bool,
}

/// A finished comparison and the files written.
#[derive(Debug)]
pub struct Compared {
    /// The comparison.
    pub comparison: Comparison,
    /// The markdown printed.
    pub markdown: String,
    /// The files written, in the order md, json, html.
    pub written: Vec<PathBuf>,
}

/// Writes `text` to `path` atomically, making its directory first.
pub(crate) fn write(path: &Path, text: &str) -> Result<(), UsageError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| UsageError::new(format!("cannot create '{}': {e}", dir.display())))?;
    }
    crate::files::write_atomically(path, text.as_bytes(), |_| Ok(()))
        .map_err(|e| UsageError::new(format!("cannot write '{}': {e}", path.display())))
}

fn read(path: &Path) -> Result<Report, UsageError> {
    read_json(path).map_err(|e| UsageError::new(e.to_string()))
}

impl CompareArgs {
    /// Checks the files asked for, reads both reports, compares them and
    /// writes the files. Every failure is one line (exit 2): an output
    /// refused, an unreadable or malformed report, runs that cannot be
    /// compared, a file that could not be written.
    pub fn run(&self) -> Result<Compared, UsageError> {
        let mut outputs = Outputs::new();
        for (flag, path) in [
            ("--md", &self.md),
            ("--json", &self.json),
            ("--html", &self.html),
        ] {
            if let Some(p) = path {
                outputs.add(flag, p);
            }
        }
        outputs
            .check()
            .map_err(|e| UsageError::new(e.to_string()))?;
        let before = read(&self.before)?;
        let after = read(&self.after)?;
        let comparison = compare(&before, &after, Options { force: self.force })
            .map_err(|e| UsageError::new(e.to_string()))?;
        let markdown = render_markdown(&comparison);
        let mut written = Vec::new();
        if let Some(p) = &self.md {
            write(p, &markdown)?;
            written.push(p.clone());
        }
        if let Some(p) = &self.json {
            write(p, &render_json(&comparison))?;
            written.push(p.clone());
        }
        if let Some(p) = &self.html {
            write(p, &html_page(&before, &after, &comparison))?;
            written.push(p.clone());
        }
        Ok(Compared {
            comparison,
            markdown,
            written,
        })
    }
}

/// The HTML page for a comparison: the summary table as the markdown
/// shows it (caveats and forced differences included), then the plots
/// and details of both reports.
pub(crate) fn html_page(before: &Report, after: &Report, comparison: &Comparison) -> String {
    let summary = summary_rows(comparison)
        .into_iter()
        .map(|r| SummaryRow {
            label: r.metric,
            before: r.before,
            after: r.after,
            change: r.change,
            caveat: r.caveat,
        })
        .collect();
    render(&Page {
        title: format!(
            "allocgate: {} against {} ({})",
            comparison.before_label, comparison.after_label, comparison.configuration
        ),
        before,
        after,
        summary,
        notes: forced_notes(comparison),
    })
}
