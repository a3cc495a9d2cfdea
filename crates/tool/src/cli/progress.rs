//! The progress bar of long runs, on standard error: hidden for the first
//! second of wall time (short runs print nothing), and never drawn when
//! standard error is not a terminal.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::drive::outcome::Progress;

/// Wall time before the bar appears.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);

/// A bar in simulated milliseconds.
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
    started: Instant,
    shown: bool,
}

impl Bar {
    /// A hidden bar labelled `label`, for runs in simulated time.
    pub fn new(label: &str) -> Bar {
        Bar::with_time(label, "simulated")
    }

    /// A hidden bar labelled `label`, for runs on real devices (their
    /// time is played, not simulated).
    pub fn played(label: &str) -> Bar {
        Bar::with_time(label, "played")
    }

    fn with_time(label: &str, time: &str) -> Bar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let template = format!(
            "{{prefix}} [{{bar:32}}] {{msg}} {time}, {{elapsed}} elapsed, about {{eta}} left"
        );
        let style = ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label.to_owned());
        Bar {
            bar,
            started: Instant::now(),
            shown: false,
        }
    }

    /// Moves the bar to `p`, showing it once a second has passed.
    pub fn update(&mut self, p: &Progress) {
        if !self.shown && self.started.elapsed() >= SHOW_AFTER {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
        let total = u64::try_from(p.total.as_millis()).unwrap_or(u64::MAX);
        let done = u64::try_from(p.simulated.as_millis()).unwrap_or(u64::MAX);
        self.bar.set_length(total.max(1));
        self.bar.set_position(done.min(total));
        self.bar.set_message(format!(
            "{:.1} s of {:.1} s",
            p.simulated.as_secs_f64(),
            p.total.as_secs_f64()
        ));
    }

    /// Moves the bar to `p` under a new label.
    pub fn update_labelled(&mut self, label: &str, p: &Progress) {
        self.bar.set_prefix(label.to_owned());
        self.update(p);
    }

    /// Removes the bar from the terminal.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}
