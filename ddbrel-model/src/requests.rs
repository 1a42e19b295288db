//! The requests other than TransactWriteItems: single writes, reads, TransactGetItems and
//! index Queries, with their throughput and conflicts; and what a write costs.

use aws_smithy_runtime_api::client::http::SharedHttpConnector;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use serde_json::Value;

use crate::index::{self, Entry, IndexPartition};
use crate::shape::{self, Read, Shape};
use crate::throughput::{Meter, write_units};
use crate::{ItemKey, Kind, Partition, Shared, State, reply};

/// The units of one item read: 1 strongly consistent, 0.5 eventually consistent.
fn read_units(read: &Read) -> f64 {
    if read.consistent { 1.0 } else { 0.5 }
}

/// The meters one read draws on: its partition and, for an item read, the item.
fn read_meters(read: &Read, units: f64) -> Vec<(Meter, f64)> {
    let mut costs = vec![(Meter::Partition(read.partition.clone()), units)];
    if let Some(item) = &read.item {
        costs.push((Meter::Item(item.clone()), units));
    }
    costs
}

impl Shared {
    /// The meters a write of `item` draws on and the units it draws — its partition and the
    /// item at `factor` times its write units, the index partitions it writes at theirs — and
    /// the item's index entries once it is applied (`None`: unchanged or not tracked). Nothing
    /// without [`crate::ModelConfig::throughput`].
    pub(crate) fn write_costs(
        &self,
        state: &State,
        item: &ItemKey,
        write: Option<&(Partition, usize)>,
        factor: f64,
        operation: &str,
        request: &Value,
    ) -> (Vec<(Meter, f64)>, Option<Vec<Entry>>) {
        if self.config.throughput.is_none() {
            return (Vec::new(), None);
        }
        let mut costs = Vec::new();
        if let Some((partition, size)) = write {
            let units = factor * write_units(*size);
            costs.push((Meter::Partition(partition.clone()), units));
            costs.push((Meter::Item(item.clone()), units));
        }
        let Some(indexes) = state.indexes.get(&item.table).filter(|i| !i.is_empty()) else {
            return (costs, None);
        };
        let before = state.entries.get(item).map(Vec::as_slice).unwrap_or(&[]);
        let effect = index::effect(
            &item.table,
            indexes,
            &self.config.key_attributes,
            before,
            operation,
            request,
        );
        costs.extend(
            effect
                .writes
                .into_iter()
                .map(|(p, size)| (Meter::Index(p), write_units(size))),
        );
        (costs, effect.after)
    }

    /// Records the index entries of items whose writes were applied.
    pub(crate) fn remember_entries(&self, entries: Vec<(ItemKey, Vec<Entry>)>) {
        if entries.is_empty() {
            return;
        }
        let mut state = self.lock();
        for (item, after) in entries {
            if after.is_empty() {
                state.entries.remove(&item);
            } else {
                state.entries.insert(item, after);
            }
        }
    }

    /// A request in pass-through mode ([`crate::Model::set_pass_through`]): sent on at once;
    /// a table's indexes and an item's index entries learned from what succeeds.
    pub(crate) async fn pass(
        &self,
        request: HttpRequest,
        inner: &SharedHttpConnector,
        shape: Shape,
    ) -> Result<HttpResponse, ConnectorError> {
        let learned: Vec<(ItemKey, Vec<Entry>)> = {
            let state = self.lock();
            match &shape {
                Shape::SingleWrite {
                    item,
                    operation,
                    request: body,
                    ..
                } => self
                    .write_costs(&state, item, None, 1.0, operation, body)
                    .1
                    .map(|after| (item.clone(), after))
                    .into_iter()
                    .collect(),
                Shape::Transaction { items, body, .. } => {
                    let actions = body.get("TransactItems").and_then(Value::as_array);
                    items
                        .iter()
                        .enumerate()
                        .filter_map(|(i, item)| {
                            let item = item.as_ref()?;
                            let (operation, action) =
                                actions?.get(i)?.as_object()?.iter().next()?;
                            let after = self
                                .write_costs(&state, item, None, 1.0, operation, action)
                                .1?;
                            Some((item.clone(), after))
                        })
                        .collect()
                }
                _ => Vec::new(),
            }
        };
        let response = self.forward(request, inner).await?;
        if response.status().is_success() {
            if let Shape::CreateTable { table, indexes } = shape {
                self.lock().indexes.insert(table, indexes);
            }
            self.remember_entries(learned);
        }
        Ok(response)
    }

    /// A PutItem, UpdateItem or DeleteItem: refused if a transaction holds its item, or if a
    /// bucket it (or its index writes) draws on is short; its index entries recorded once the
    /// engine applied it.
    pub(crate) async fn single_write(
        &self,
        request: HttpRequest,
        inner: &SharedHttpConnector,
        item: ItemKey,
        write: Option<(Partition, usize)>,
        operation: &str,
        body: &Value,
    ) -> Result<HttpResponse, ConnectorError> {
        let after = {
            let mut state = self.lock();
            if state.held.contains_key(&item) {
                state.stats.single_write_conflicts += 1;
                *state.conflicts_by_key.entry(item).or_default() += 1;
                return Ok(reply::single_write_conflict());
            }
            let (costs, after) =
                self.write_costs(&state, &item, write.as_ref(), 1.0, operation, body);
            let short = self.take(&mut state, Kind::Write, &costs);
            if !short.is_empty() {
                state.stats.throttled += 1;
                let index_only = short.iter().all(|m| matches!(m, Meter::Index(_)));
                return Ok(if index_only {
                    reply::index_throughput_exceeded()
                } else {
                    reply::throughput_exceeded()
                });
            }
            *state.writing.entry(item.clone()).or_default() += 1;
            after
        };
        let writing = Writing {
            shared: self,
            item: item.clone(),
        };
        let response = self.forward(request, inner).await;
        drop(writing);
        let response = response?;
        if let Some(after) = after
            && response.status().is_success()
        {
            self.remember_entries(vec![(item, after)]);
        }
        Ok(response)
    }

    /// A GetItem, BatchGetItem or table Query: with a commit window (not read-committed), it
    /// first waits for the items it reads to become visible; refused if a bucket is short.
    pub(crate) async fn read(
        &self,
        request: HttpRequest,
        inner: &SharedHttpConnector,
        reads: Vec<Read>,
    ) -> Result<HttpResponse, ConnectorError> {
        if self.config.commit_window.is_some() && !self.config.read_committed {
            self.until_visible(&reads).await;
        }
        {
            let mut state = self.lock();
            let costs: Vec<(Meter, f64)> = reads
                .iter()
                .flat_map(|r| read_meters(r, read_units(r)))
                .collect();
            if !self.take(&mut state, Kind::Read, &costs).is_empty() {
                state.stats.throttled += 1;
                return Ok(reply::throughput_exceeded());
            }
        }
        self.forward(request, inner).await
    }

    /// A Query of a global secondary index: 0.5 RCU from the index partition its key
    /// condition names (when the model knows the index), refused if that bucket is short.
    pub(crate) async fn index_query(
        &self,
        request: HttpRequest,
        inner: &SharedHttpConnector,
        table: &str,
        index: &str,
        body: &Value,
    ) -> Result<HttpResponse, ConnectorError> {
        {
            let mut state = self.lock();
            let partition_key = state
                .indexes
                .get(table)
                .and_then(|ixs| ixs.iter().find(|ix| ix.name == index))
                .map(|ix| ix.partition_key.clone());
            let value = partition_key.and_then(|pk| shape::key_condition_value(body, &pk));
            if let Some(value) = value {
                let meter = Meter::Index(IndexPartition {
                    table: table.to_string(),
                    index: index.to_string(),
                    value,
                });
                if !self
                    .take(&mut state, Kind::Read, &[(meter, 0.5)])
                    .is_empty()
                {
                    state.stats.throttled += 1;
                    return Ok(reply::throughput_exceeded());
                }
            }
        }
        self.forward(request, inner).await
    }

    /// A TransactGetItems: cancelled with `TransactionConflict` at the items a
    /// TransactWriteItems holds or a single write in flight writes ("a conflicting operation
    /// is in the process of updating an item to be read"); otherwise it reads its items at 2
    /// RCU each. Nothing waits for it: no write conflicts with a read transaction.
    pub(crate) async fn transact_get(
        &self,
        request: HttpRequest,
        inner: &SharedHttpConnector,
        items: Vec<Option<ItemKey>>,
        reads: Vec<Read>,
    ) -> Result<HttpResponse, ConnectorError> {
        {
            let mut state = self.lock();
            let conflicting: Vec<usize> = items
                .iter()
                .enumerate()
                .filter(|(_, k)| {
                    k.as_ref().is_some_and(|k| {
                        state.held.contains_key(k) || state.writing.contains_key(k)
                    })
                })
                .map(|(i, _)| i)
                .collect();
            if !conflicting.is_empty() {
                state.stats.read_transaction_conflicts += 1;
                for &i in &conflicting {
                    if let Some(k) = &items[i] {
                        *state.conflicts_by_key.entry(k.clone()).or_default() += 1;
                    }
                }
                return Ok(reply::transaction_conflict(items.len(), &conflicting));
            }
            let costs: Vec<(Meter, f64)> = reads.iter().flat_map(|r| read_meters(r, 2.0)).collect();
            let short = self.take(&mut state, Kind::Read, &costs);
            if !short.is_empty() {
                let throttled: Vec<usize> = items
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| {
                        k.as_ref().is_some_and(|k| {
                            short
                                .iter()
                                .any(|m| meters_item(m, k, self.partition_key()))
                        })
                    })
                    .map(|(i, _)| i)
                    .collect();
                state.stats.transaction_throttles += 1;
                return Ok(reply::transaction_throttled(items.len(), &throttled));
            }
        }
        self.forward(request, inner).await
    }
}

/// Whether `meter` meters `item`: the item itself, or its partition (`partition_key` naming
/// the partition key attribute).
fn meters_item(meter: &Meter, item: &ItemKey, partition_key: Option<&str>) -> bool {
    match meter {
        Meter::Item(k) => k == item,
        Meter::Partition(p) => partition_key.and_then(|pk| item.partition(pk)).as_ref() == Some(p),
        Meter::Index(_) => false,
    }
}

/// A single write in flight: its item counts as being written until this is dropped.
struct Writing<'a> {
    shared: &'a Shared,
    item: ItemKey,
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        if let Some(n) = state.writing.get_mut(&self.item) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                state.writing.remove(&self.item);
            }
        }
    }
}
