//! Progress bars for long-running commands (cascades, export, import).

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar of `len` steps labelled `what`, on stderr.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}
