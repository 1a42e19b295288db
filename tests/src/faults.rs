//! Fault injection in the SDK client, against the real engine.
//!
//! Two kinds:
//! - **Crashes** ([`FaultInjector::arm`]): the process "dies" at the k-th request: in
//!   [`FaultMode::BeforeSend`] that request and every later one fail before being sent; in
//!   [`FaultMode::AfterResponse`] the k-th request is applied but its response is lost, and
//!   every later one fails. Nothing after the crash reaches the table, as with a dead process.
//! - **Transient faults** ([`FaultInjector::inject`]): what DynamoDB does under load and that no
//!   local engine reproduces: throttling and HTTP 500 (not applied), HTTP 500 after the write
//!   was applied, TransactionConflict, and BatchWriteItem / BatchGetItem leaving part of the
//!   batch unprocessed. A request that must not be applied is re-targeted at an unknown
//!   operation before it is sent (the engine rejects it and changes nothing) and its response
//!   replaced by the injected error.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::operation::batch_get_item::{BatchGetItemInput, BatchGetItemOutput};
use aws_sdk_dynamodb::operation::batch_write_item::{BatchWriteItemInput, BatchWriteItemOutput};
use aws_sdk_dynamodb::types::{KeysAndAttributes, WriteRequest};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeSerializationInterceptorContextMut,
    BeforeTransmitInterceptorContextMut, FinalizerInterceptorContextMut,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;

/// How a crash strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultMode {
    /// The k-th request and all later ones are never sent.
    BeforeSend,
    /// The k-th request is applied, its response lost; all later ones are never sent.
    AfterResponse,
}

/// A transient fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 400 ThrottlingException; not applied.
    Throttle,
    /// HTTP 500; not applied.
    ServerError,
    /// HTTP 500 after the request was applied.
    ServerErrorAfterApply,
    /// TransactionCanceledException with reason TransactionConflict; not applied.
    TransactionConflict,
    /// TransactionConflictException: a single-item write on an item a transaction holds; not
    /// applied.
    ItemConflict,
    /// BatchWriteItem / BatchGetItem: the second half of the batch is not applied and comes
    /// back as UnprocessedItems / UnprocessedKeys.
    Unprocessed,
    /// 400 ContinuousBackupsUnavailableException (DynamoDB's answer to enabling point-in-time
    /// recovery too soon after a table is created); not applied.
    BackupsUnavailable,
}

#[derive(Debug, Clone)]
struct Rule {
    operation: String,
    /// Strike the n-th matching request (1-based) ...
    from: u64,
    /// ... and this many in a row.
    count: u64,
    fault: Fault,
}

#[derive(Debug, Default)]
struct State {
    // Crash.
    seen: u64,
    crash_at: u64,
    mode: Option<FaultMode>,
    crashed: bool,
    // Transient faults.
    rules: Vec<Rule>,
    attempts: HashMap<String, u64>,
    executions: HashMap<String, u64>,
    injected: u64,
}

/// The part of a batch held back from one call, kept in that call's config bag.
#[derive(Debug, Clone)]
enum Stash {
    Writes(String, Vec<WriteRequest>),
    Keys(String, KeysAndAttributes),
}
impl aws_smithy_types::config_bag::Storable for Stash {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

/// The injector: install on the client (see `TestEnv`), then arm or inject.
#[derive(Debug, Clone, Default)]
pub struct FaultInjector {
    state: Arc<Mutex<State>>,
}

/// The fault chosen for the current attempt, carried in the config bag.
#[derive(Debug, Clone, Copy)]
struct Chosen(Option<Fault>);
impl aws_smithy_types::config_bag::Storable for Chosen {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

const NOWHERE: &str = "DynamoDB_20120810.DdbrelInjectedFault";

fn op_name(cfg: &ConfigBag) -> String {
    cfg.load::<Metadata>()
        .map(|m| m.name().to_string())
        .unwrap_or_default()
}

impl FaultInjector {
    /// An injector that does nothing until armed.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Crashes at the k-th request from now (1-based).
    pub fn arm(&self, k: u64, mode: FaultMode) {
        let mut s = self.lock();
        s.seen = 0;
        s.crash_at = k;
        s.mode = Some(mode);
        s.crashed = false;
    }

    /// Stops every fault: crashes and rules.
    pub fn disarm(&self) {
        let mut s = self.lock();
        s.crash_at = 0;
        s.mode = None;
        s.crashed = false;
        s.rules.clear();
    }

    /// Injects `fault` into the `from`-th `operation` request from now (1-based) and the
    /// `count - 1` following ones. Transient faults count attempts (an SDK retry is another
    /// attempt), except [`Fault::Unprocessed`], which counts calls.
    pub fn inject(&self, operation: &str, from: u64, count: u64, fault: Fault) {
        let mut s = self.lock();
        s.attempts.remove(operation);
        s.executions.remove(operation);
        s.rules.push(Rule {
            operation: operation.to_string(),
            from,
            count,
            fault,
        });
    }

    /// How many transient faults were injected so far.
    pub fn injected(&self) -> u64 {
        self.lock().injected
    }

    fn rule_for(s: &mut State, op: &str, n: u64, batch: bool) -> Option<Fault> {
        let hit = s.rules.iter().find(|r| {
            r.operation == op
                && n >= r.from
                && n < r.from + r.count
                && (r.fault == Fault::Unprocessed) == batch
        });
        let fault = hit.map(|r| r.fault);
        if fault.is_some() {
            s.injected += 1;
        }
        fault
    }
}

fn error_body(kind: &str, extra: &str) -> String {
    format!(
        r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{kind}","message":"injected by ddbrel-tests"{extra}}}"#
    )
}

impl Intercept for FaultInjector {
    fn name(&self) -> &'static str {
        "ddbrel-tests::FaultInjector"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = op_name(cfg);
        let mut s = self.lock();
        let n = {
            let e = s.executions.entry(op.clone()).or_insert(0);
            *e += 1;
            *e
        };
        if Self::rule_for(&mut s, &op, n, true).is_none() {
            return Ok(());
        }
        let input = context.input_mut();
        if let Some(i) = input.downcast_mut::<BatchWriteItemInput>()
            && let Some(items) = i.request_items.as_mut()
            && let Some((table, reqs)) = items.iter_mut().next()
            && reqs.len() > 1
        {
            let keep = reqs.len() / 2;
            let rest = reqs.split_off(keep);
            cfg.interceptor_state()
                .store_put(Stash::Writes(table.clone(), rest));
        } else if let Some(i) = input.downcast_mut::<BatchGetItemInput>()
            && let Some(items) = i.request_items.as_mut()
            && let Some((table, ka)) = items.iter_mut().next()
            && ka.keys.len() > 1
        {
            let keep = ka.keys.len() / 2;
            let rest = ka.keys.split_off(keep);
            let mut stashed = ka.clone();
            stashed.keys = rest;
            cfg.interceptor_state()
                .store_put(Stash::Keys(table.clone(), stashed));
        }
        Ok(())
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = op_name(cfg);
        let mut s = self.lock();
        // Crash.
        if s.crash_at > 0 {
            s.seen += 1;
            if s.crashed {
                return Err("injected crash: the process is gone".into());
            }
            if s.seen == s.crash_at {
                s.crashed = true;
                if s.mode == Some(FaultMode::BeforeSend) {
                    return Err("injected crash before sending".into());
                }
                cfg.interceptor_state().store_put(Chosen(None));
                return Ok(()); // AfterResponse: sent; the response is dropped below
            }
        }
        let n = {
            let e = s.attempts.entry(op.clone()).or_insert(0);
            *e += 1;
            *e
        };
        let fault = Self::rule_for(&mut s, &op, n, false);
        cfg.interceptor_state().store_put(Chosen(fault));
        if matches!(
            fault,
            Some(
                Fault::Throttle
                    | Fault::ServerError
                    | Fault::TransactionConflict
                    | Fault::ItemConflict
                    | Fault::BackupsUnavailable
            )
        ) {
            // Not applied: send it where the engine changes nothing.
            context
                .request_mut()
                .headers_mut()
                .insert("x-amz-target", NOWHERE);
        }
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        {
            let s = self.lock();
            if s.crashed && s.mode == Some(FaultMode::AfterResponse) {
                return Err("injected crash: the response was lost".into());
            }
        }
        let fault = cfg.load::<Chosen>().and_then(|c| c.0);
        let (status, body) = match fault {
            Some(Fault::Throttle) => (400, error_body("ThrottlingException", "")),
            Some(Fault::ServerError | Fault::ServerErrorAfterApply) => {
                (500, error_body("InternalServerError", ""))
            }
            Some(Fault::ItemConflict) => (400, error_body("TransactionConflictException", "")),
            Some(Fault::BackupsUnavailable) => {
                (400, error_body("ContinuousBackupsUnavailableException", ""))
            }
            Some(Fault::TransactionConflict) => (
                400,
                error_body(
                    "TransactionCanceledException",
                    r#","CancellationReasons":[{"Code":"TransactionConflict","Message":"injected"}]"#,
                ),
            ),
            _ => return Ok(()),
        };
        let resp = context.response_mut();
        *resp.status_mut() = status.try_into().map_err(|_| "bad status")?;
        resp.headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        resp.headers_mut().remove("x-amz-crc32");
        *resp.body_mut() = SdkBody::from(body);
        Ok(())
    }

    fn modify_before_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(stash) = cfg.load::<Stash>().cloned() else {
            return Ok(());
        };
        let Some(Ok(output)) = context.output_or_error_mut() else {
            return Ok(());
        };
        if let Stash::Writes(table, rest) = stash.clone()
            && let Some(o) = output.downcast_mut::<BatchWriteItemOutput>()
        {
            o.unprocessed_items
                .get_or_insert_with(HashMap::new)
                .entry(table)
                .or_default()
                .extend(rest);
        }
        if let Stash::Keys(table, rest) = stash
            && let Some(o) = output.downcast_mut::<BatchGetItemOutput>()
        {
            let map = o.unprocessed_keys.get_or_insert_with(HashMap::new);
            match map.get_mut(&table) {
                Some(ka) => ka.keys.extend(rest.keys),
                None => {
                    map.insert(table, rest);
                }
            }
        }
        Ok(())
    }
}
