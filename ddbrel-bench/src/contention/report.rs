//! What the writers of a scenario did, and its row.

use std::collections::BTreeMap;
use std::time::Duration;

use ddbrel_runtime::Error;
use serde_json::json;

use super::HOLD;

/// What the writers of one scenario did inside the window.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) attempts: u64,
    pub(crate) committed: u64,
    pub(crate) failed: u64,
    /// Failures by kind (the error's variant and, for service errors, the code).
    pub(crate) failures: BTreeMap<String, u64>,
    /// Model-time latency of each committed operation.
    pub(crate) latencies: Vec<Duration>,
}

impl Tally {
    pub(crate) fn record(
        &mut self,
        started: Duration,
        ended: Duration,
        outcome: Result<(), Error>,
    ) {
        match outcome {
            Ok(()) => {
                self.committed += 1;
                self.latencies.push(ended.saturating_sub(started));
            }
            Err(e) => {
                self.failed += 1;
                *self.failures.entry(kind(&e)).or_default() += 1;
            }
        }
    }
}

/// A short name for an error: the variant, and the service's code when there is one.
pub(crate) fn kind(e: &Error) -> String {
    let text = e.to_string();
    let code = [
        "TransactionConflictException",
        "TransactionCanceledException",
        "TransactionInProgressException",
        "IdempotentParameterMismatchException",
    ]
    .into_iter()
    .find(|c| format!("{e:?}").contains(c));
    let variant = format!("{e:?}")
        .split([' ', '{', '('])
        .next()
        .unwrap_or("")
        .to_string();
    match code {
        Some(c) => format!("{variant}:{c}"),
        None if variant.is_empty() => text,
        None => variant,
    }
}

/// One row of the table.
pub struct Row {
    pub(crate) scenario: &'static str,
    pub(crate) writers: usize,
    pub(crate) tally: Tally,
    pub(crate) conflicts: u64,
    /// Requests refused for want of throughput (single requests and transactions).
    pub(crate) throttled: u64,
    /// The buckets that refused most, and how often.
    pub(crate) hottest_meters: Vec<(String, u64)>,
    pub(crate) model_seconds: f64,
    pub(crate) scale: f64,
    pub(crate) hottest: Vec<(String, u64)>,
    pub(crate) note: String,
}

impl Row {
    pub(crate) fn goodput(&self) -> f64 {
        self.tally.committed as f64 / self.model_seconds
    }

    pub(crate) fn percentile(&self, p: f64) -> f64 {
        let mut l = self.tally.latencies.clone();
        if l.is_empty() {
            return 0.0;
        }
        l.sort();
        let i = ((l.len() as f64 - 1.0) * p).round() as usize;
        l[i.min(l.len() - 1)].as_secs_f64() * 1000.0
    }

    /// The row as one JSON object.
    pub fn json(&self) -> serde_json::Value {
        json!({
            "scenario": self.scenario,
            "writers": self.writers,
            "attempts": self.tally.attempts,
            "committed": self.tally.committed,
            "conflicts": self.conflicts,
            "failed": self.tally.failed,
            "goodput_per_s": (self.goodput() * 10.0).round() / 10.0,
            "p50_ms": (self.percentile(0.5) * 10.0).round() / 10.0,
            "p99_ms": (self.percentile(0.99) * 10.0).round() / 10.0,
            "hottest_keys": self.hottest.iter().map(|(k, n)| json!({"key": k, "conflicts": n})).collect::<Vec<_>>(),
            "throttled": self.throttled,
            "hottest_meters": self.hottest_meters.iter().map(|(k, n)| json!({"meter": k, "throttled": n})).collect::<Vec<_>>(),
            "failures": self.tally.failures,
            "model_seconds": self.model_seconds,
            "time_scale": self.scale,
            "hold_ms": HOLD.as_secs_f64() * 1000.0,
            "note": self.note,
        })
    }

    /// The row as a line of the markdown table.
    pub fn text(&self) -> String {
        let hottest = self
            .hottest
            .first()
            .map(|(k, n)| format!("{} ({n})", short(k)))
            .unwrap_or_else(|| "-".into());
        let mut note = self.note.clone();
        if let Some((meter, n)) = self.hottest_meters.first() {
            if !note.is_empty() {
                note.push_str("; ");
            }
            let (kind, rest) = meter.split_once(' ').unwrap_or(("", meter));
            let value = rest.rsplit('/').next().unwrap_or(rest);
            note.push_str(&format!(
                "most throttled: {kind} {} ({n})",
                short(&format!("/{value}"))
            ));
        }
        if !self.tally.failures.is_empty() {
            let f: Vec<String> = self
                .tally
                .failures
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect();
            if !note.is_empty() {
                note.push_str("; ");
            }
            note.push_str(&format!("failed: {}", f.join(", ")));
        }
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} | {:.1} | {:.1} | {} | {} |",
            self.scenario,
            self.writers,
            self.tally.attempts,
            self.tally.committed,
            self.conflicts,
            self.throttled,
            self.tally.failed,
            self.goodput(),
            self.percentile(0.5),
            self.percentile(0.99),
            hottest,
            note,
        )
    }
}

/// A key as `Type…last 6 of the id`, readable in a table.
pub(crate) fn short(key: &str) -> String {
    let urn = key.split('/').nth(1).unwrap_or(key);
    let ty = urn
        .split("::")
        .next()
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or("");
    let id = urn.rsplit("::").next().unwrap_or("");
    let tail = &id[id.len().saturating_sub(6)..];
    format!("{ty}…{tail}")
}
