//! Throughput: token buckets refilled in model time.

use std::time::Duration;

use crate::{Partition, Shared, State};

/// A token bucket, refilled in model time.
#[derive(Debug)]
pub(crate) struct Bucket {
    units: f64,
    at: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Read,
    Write,
}

/// Write capacity units for `size` bytes: 1 per KB, rounded up, at least 1.
pub(crate) fn write_units(size: usize) -> f64 {
    size.div_ceil(1024).max(1) as f64
}

impl Shared {
    /// Takes `costs` (units per partition, summed where a partition repeats) from the `kind`
    /// buckets if every one of them holds enough, and returns the partitions that do not
    /// (taking nothing then). Takes nothing and returns nothing without
    /// [`ModelConfig::throughput`].
    pub(crate) fn take(
        &self,
        state: &mut State,
        kind: Kind,
        costs: &[(Partition, f64)],
    ) -> Vec<Partition> {
        let Some(limits) = &self.config.throughput else {
            return Vec::new();
        };
        let rate = match kind {
            Kind::Read => limits.read_units_per_s,
            Kind::Write => limits.write_units_per_s,
        };
        let capacity = rate * limits.burst.as_secs_f64();
        let now = self.clock.now();
        let mut total: Vec<(Partition, f64)> = Vec::new();
        for (p, c) in costs {
            match total.iter_mut().find(|(q, _)| q == p) {
                Some((_, t)) => *t += c,
                None => total.push((p.clone(), *c)),
            }
        }
        let mut short = Vec::new();
        for (p, cost) in &total {
            let bucket = state.buckets.entry((p.clone(), kind)).or_insert(Bucket {
                units: capacity,
                at: now,
            });
            let elapsed = now.saturating_sub(bucket.at).as_secs_f64();
            bucket.units = (bucket.units + elapsed * rate).min(capacity);
            bucket.at = bucket.at.max(now);
            // A small tolerance for the float arithmetic of the refill.
            if bucket.units + 1e-9 < *cost {
                short.push(p.clone());
            }
        }
        if short.is_empty() {
            for (p, cost) in &total {
                if let Some(b) = state.buckets.get_mut(&(p.clone(), kind)) {
                    b.units -= cost;
                }
            }
        }
        short
    }
}
