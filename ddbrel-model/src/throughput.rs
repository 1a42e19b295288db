//! Throughput: token buckets refilled in model time, one per meter (a table partition, an
//! item, an index partition) and kind (read, write).

use std::fmt;
use std::time::Duration;

use crate::index::IndexPartition;
use crate::{ItemKey, Partition, Shared, State, Throughput};

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

/// What a bucket meters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Meter {
    /// A partition key value of the table.
    Partition(Partition),
    /// One item.
    Item(ItemKey),
    /// A partition key value of a global secondary index.
    Index(IndexPartition),
}

impl fmt::Display for Meter {
    /// `partition table/value`, `item table/key`, `index table/index/value`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Meter::Partition(p) => {
                let text = serde_json::from_str::<serde_json::Value>(&p.value)
                    .ok()
                    .and_then(|v| {
                        v.as_object()
                            .and_then(|o| o.values().next())
                            .and_then(|s| s.as_str().map(str::to_string))
                    })
                    .unwrap_or_else(|| p.value.clone());
                write!(f, "partition {}/{}", p.table, text)
            }
            Meter::Item(k) => write!(f, "item {k}"),
            Meter::Index(p) => write!(f, "index {p}"),
        }
    }
}

impl Meter {
    /// The meter's refill rate (units per second) for `kind`.
    fn rate(&self, limits: &Throughput, kind: Kind) -> f64 {
        match (self, kind) {
            (Meter::Partition(_), Kind::Read) => limits.read_units_per_s,
            (Meter::Partition(_), Kind::Write) => limits.write_units_per_s,
            (Meter::Item(_), Kind::Read) => limits.item_read_units_per_s,
            (Meter::Item(_), Kind::Write) => limits.item_write_units_per_s,
            (Meter::Index(_), Kind::Read) => limits.index_read_units_per_s,
            (Meter::Index(_), Kind::Write) => limits.index_write_units_per_s,
        }
    }
}

/// Write capacity units for `size` bytes: 1 per KB, rounded up, at least 1.
pub(crate) fn write_units(size: usize) -> f64 {
    size.div_ceil(1024).max(1) as f64
}

impl Shared {
    /// Takes `costs` (charges per meter, one per write or read) from the `kind` buckets if
    /// every one of them can afford the request, and returns the meters that cannot (taking
    /// nothing then, and counting the refusal against each). A bucket affords a request when
    /// it holds its largest single charge (at most the bucket's capacity); it is then charged
    /// the sum, and may go into debt, which its refill pays off before it affords anything
    /// again. So a partition admits a large transaction as it admits each of its writes, and
    /// then refuses others until its rate has caught up; an index partition in debt throttles
    /// the writes that feed it until it has caught up. Takes nothing and returns nothing
    /// without [`crate::ModelConfig::throughput`].
    pub(crate) fn take(&self, state: &mut State, kind: Kind, costs: &[(Meter, f64)]) -> Vec<Meter> {
        let Some(limits) = &self.config.throughput else {
            return Vec::new();
        };
        let now = self.clock.now();
        // Per meter: (sum, largest single charge).
        let mut total: Vec<(Meter, f64, f64)> = Vec::new();
        for (m, c) in costs {
            match total.iter_mut().find(|(q, _, _)| q == m) {
                Some((_, t, most)) => {
                    *t += c;
                    *most = most.max(*c);
                }
                None => total.push((m.clone(), *c, *c)),
            }
        }
        let mut short = Vec::new();
        for (m, _, most) in &total {
            let rate = m.rate(limits, kind);
            if rate.is_infinite() {
                continue;
            }
            let capacity = rate * limits.burst.as_secs_f64();
            let need = most.min(capacity);
            let bucket = state.buckets.entry((m.clone(), kind)).or_insert(Bucket {
                units: capacity,
                at: now,
            });
            let elapsed = now.saturating_sub(bucket.at).as_secs_f64();
            bucket.units = (bucket.units + elapsed * rate).min(capacity);
            bucket.at = bucket.at.max(now);
            // A small tolerance for the float arithmetic of the refill.
            if bucket.units + 1e-9 < need {
                short.push(m.clone());
            }
        }
        if short.is_empty() {
            for (m, sum, _) in &total {
                if let Some(b) = state.buckets.get_mut(&(m.clone(), kind)) {
                    b.units -= sum;
                }
            }
        } else {
            for m in &short {
                *state.throttles_by_meter.entry(m.clone()).or_default() += 1;
            }
        }
        short
    }
}
