//! The retry policy: full-jitter exponential backoff for what DynamoDB asks to be retried.

use std::time::Duration;

/// How ddbrel retries what DynamoDB asks to be retried (transaction conflicts, unprocessed
/// batch items), on top of the SDK's own retries of throttling and 5xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first backoff.
    pub base: Duration,
    /// The largest backoff.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base: Duration::from_millis(25),
            cap: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// Full-jitter exponential backoff for the given attempt (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap);
        let millis = exp.as_millis().max(1) as u64;
        Duration::from_millis(fastrand::u64(0..=millis))
    }
}
