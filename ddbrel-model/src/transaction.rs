//! A TransactWriteItems through the model: conflicts, idempotency, the hold and the commit
//! window.

use std::sync::Arc;

use aws_smithy_runtime_api::client::http::{HttpConnector, SharedHttpConnector};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use serde_json::Value;

use crate::hold::Hold;
use crate::index::Entry;
use crate::throughput::Meter;
use crate::{ItemKey, Kind, Partition, Recorded, Shared, State, Token, reply, staged};

/// A transaction admitted: its number, the items it holds (with their partitions, kept with
/// a commit window), and each action's index entries once applied.
pub(crate) struct Admitted {
    tx: u64,
    holding: Vec<(ItemKey, Option<Partition>)>,
    entries: Vec<(ItemKey, Vec<Entry>)>,
}

impl Shared {
    /// The answer from `token`'s record, if the token is live: the first outcome again, a
    /// mismatch, or in progress. Forgets an expired token.
    fn replay(&self, state: &mut State, token: &str, body: &Value) -> Option<HttpResponse> {
        let now = self.clock.now();
        let window = self.config.idempotency_window;
        let live = state
            .tokens
            .get(token)
            .is_some_and(|e| e.outcome.is_none() || now < e.at + window);
        if !live {
            state.tokens.remove(token);
            return None;
        }
        let entry = state.tokens.get(token)?;
        Some(if entry.body != *body {
            state.stats.mismatches += 1;
            reply::idempotent_mismatch()
        } else if let Some(recorded) = &entry.outcome {
            let r = recorded.response();
            state.stats.replays += 1;
            r
        } else {
            state.stats.in_progress += 1;
            reply::in_progress()
        })
    }

    /// Admits a transaction under the lock, or answers it: from its token's record, with a
    /// conflict (an item held by another transaction), or with
    /// throttling (a bucket its writes, or their index writes, cannot afford).
    fn admit(
        &self,
        items: &[Option<ItemKey>],
        token: &Option<String>,
        body: Value,
        writes: &[Option<(Partition, usize)>],
    ) -> Result<Admitted, Box<HttpResponse>> {
        let now = self.clock.now();
        let mut state = self.lock();
        if let Some(t) = token
            && let Some(answer) = self.replay(&mut state, t, &body)
        {
            return Err(Box::new(answer));
        }
        let conflicting: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, k)| k.as_ref().is_some_and(|k| state.held.contains_key(k)))
            .map(|(i, _)| i)
            .collect();
        if !conflicting.is_empty() {
            state.stats.transaction_conflicts += 1;
            for &i in &conflicting {
                if let Some(k) = &items[i] {
                    *state.conflicts_by_key.entry(k.clone()).or_default() += 1;
                }
            }
            return Err(Box::new(reply::transaction_conflict(
                items.len(),
                &conflicting,
            )));
        }
        let mut entries = Vec::new();
        if self.config.throughput.is_some() {
            let actions = body.get("TransactItems").and_then(Value::as_array);
            let mut per_action: Vec<Vec<(Meter, f64)>> = Vec::new();
            for (i, (item, write)) in items.iter().zip(writes).enumerate() {
                let (operation, action) = actions
                    .and_then(|a| a.get(i))
                    .and_then(Value::as_object)
                    .and_then(|o| o.iter().next())
                    .map_or(("", &Value::Null), |(k, v)| (k.as_str(), v));
                let (costs, after) = match item {
                    Some(item) => {
                        self.write_costs(&state, item, write.as_ref(), 2.0, operation, action)
                    }
                    None => (Vec::new(), None),
                };
                if let (Some(item), Some(after)) = (item, after) {
                    entries.push((item.clone(), after));
                }
                per_action.push(costs);
            }
            let all: Vec<(Meter, f64)> = per_action.iter().flatten().cloned().collect();
            let short = self.take(&mut state, Kind::Write, &all);
            if !short.is_empty() {
                let throttled: Vec<usize> = per_action
                    .iter()
                    .enumerate()
                    .filter(|(_, costs)| costs.iter().any(|(m, _)| short.contains(m)))
                    .map(|(i, _)| i)
                    .collect();
                state.stats.transaction_throttles += 1;
                return Err(Box::new(reply::transaction_throttled(
                    items.len(),
                    &throttled,
                )));
            }
        }
        state.next_tx += 1;
        let tx = state.next_tx;
        let mut holding: Vec<(ItemKey, Option<Partition>)> = Vec::new();
        for k in items.iter().flatten() {
            if state.held.insert(k.clone(), tx).is_none() {
                let partition = match (self.config.commit_window, self.partition_key()) {
                    (Some(_), Some(pk)) => k.partition(pk),
                    _ => None,
                };
                if let Some(p) = &partition {
                    *state.held_partitions.entry(p.clone()).or_default() += 1;
                }
                holding.push((k.clone(), partition));
            }
        }
        if let Some(t) = token {
            state.tokens.insert(
                t.clone(),
                Token {
                    body,
                    at: now,
                    outcome: None,
                },
            );
        }
        state.stats.transactions += 1;
        state.stats.forwarded += 1;
        Ok(Admitted {
            tx,
            holding,
            entries,
        })
    }

    pub(crate) async fn transaction(
        self: &Arc<Self>,
        request: HttpRequest,
        inner: &SharedHttpConnector,
        items: Vec<Option<ItemKey>>,
        token: Option<String>,
        body: Value,
        writes: Vec<Option<(Partition, usize)>>,
    ) -> Result<HttpResponse, ConnectorError> {
        let now = self.clock.now();
        // A read-committed commit: the checks now, the writes over the window.
        let staged = match (self.config.commit_window, self.config.read_committed) {
            (Some(_), true) => staged::checks(&body, &self.config.key_attributes)
                .zip(staged::writes(&body))
                .and_then(|(checks, writes)| {
                    let template = request.try_clone()?;
                    let checks = serde_json::to_vec(&checks).ok()?;
                    Some((checks, writes, template))
                }),
            _ => None,
        };
        let admitted = match self.admit(&items, &token, body, &writes) {
            Ok(a) => a,
            Err(answer) => return Ok(*answer),
        };
        let Admitted {
            tx,
            holding,
            entries,
        } = admitted;
        // From here the hold ends when `hold` is dropped, even if the caller gives up.
        let mut hold = Hold {
            shared: self.clone(),
            tx,
            items: holding,
            token,
            applied: false,
        };
        self.activity.send_modify(|(h, _)| *h += 1);
        let (request, staged) = match staged {
            Some((checks, writes, template)) => {
                match with_body(&template, "TransactWriteItems", checks) {
                    Some(check) => (check, Some((writes, template))),
                    None => (request, None),
                }
            }
            None => (request, None),
        };
        let result = call_recorded(inner, request).await;
        hold.applied = true;
        self.activity.send_modify(|(_, a)| *a += 1);
        let prepared = now + self.config.hold;
        let committed = matches!(&result, Ok((_, Some(r))) if (200..300).contains(&r.status));
        match self.config.commit_window {
            Some(window) if committed => {
                let mut order: Vec<ItemKey> = hold.items.iter().map(|(k, _)| k.clone()).collect();
                if self.config.reverse_visibility {
                    order.reverse();
                }
                let n = u32::try_from(order.len()).unwrap_or(u32::MAX).max(1);
                for (k, item) in (1..=n).zip(&order) {
                    self.clock.sleep_until(prepared + window * k / n).await;
                    if let Some((writes, template)) = &staged {
                        self.apply(inner, template, &items, writes, item).await;
                    }
                    hold.release(item);
                }
                self.clock.sleep_until(prepared + window).await;
            }
            _ => self.clock.sleep_until(prepared).await,
        }
        let (response, recorded) = result?;
        if let Some(r) = recorded.filter(|r| (200..300).contains(&r.status)) {
            hold.record(r);
            self.remember_entries(entries);
        }
        drop(hold);
        Ok(response)
    }
}

impl Shared {
    /// Applies the staged writes of the actions on `item`, one request each.
    async fn apply(
        &self,
        inner: &SharedHttpConnector,
        template: &HttpRequest,
        items: &[Option<ItemKey>],
        writes: &staged::Staged,
        item: &ItemKey,
    ) {
        for (key, write) in items.iter().zip(writes) {
            let Some((op, body)) = write.as_ref().filter(|_| key.as_ref() == Some(item)) else {
                continue;
            };
            let ok = match with_body(template, op, body.clone()) {
                Some(request) => inner
                    .call(request)
                    .await
                    .is_ok_and(|r| r.status().is_success()),
                None => false,
            };
            if !ok {
                self.lock().stats.staged_write_failures += 1;
            }
        }
    }
}

/// A request like `template` (its headers and URI) for `operation` with `body`.
fn with_body(template: &HttpRequest, operation: &str, body: Vec<u8>) -> Option<HttpRequest> {
    let mut r = template.try_clone()?;
    r.headers_mut()
        .insert("x-amz-target", format!("DynamoDB_20120810.{operation}"));
    r.headers_mut()
        .insert("content-length", body.len().to_string());
    *r.body_mut() = SdkBody::from(body);
    Some(r)
}

/// Sends `request` to the engine and keeps a copy of the response, to record under a token.
async fn call_recorded(
    inner: &SharedHttpConnector,
    request: HttpRequest,
) -> Result<(HttpResponse, Option<Recorded>), ConnectorError> {
    let mut response = inner.call(request).await?;
    let bytes = ByteStream::new(response.take_body())
        .collect()
        .await
        .map_err(|e| ConnectorError::io(Box::new(e)))?
        .into_bytes()
        .to_vec();
    let recorded = Recorded {
        status: response.status().as_u16(),
        headers: response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: bytes.clone(),
    };
    *response.body_mut() = SdkBody::from(bytes);
    Ok((response, Some(recorded)))
}
