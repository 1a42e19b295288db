//! DynamoDB's error responses, as DynamoDB sends them: HTTP 400, `Content-Type:
//! application/x-amz-json-1.0`, a JSON body with `__type` (the shape, prefixed
//! `com.amazonaws.dynamodb.v20120810#`) and the message, an `x-amzn-RequestId` and the body's
//! CRC32 in `x-amz-crc32`. The SDK parses them as it would a response from AWS.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};

/// The prefix DynamoDB puts before an error shape's name in `__type`.
pub const TYPE_PREFIX: &str = "com.amazonaws.dynamodb.v20120810#";

/// DynamoDB's message for an item held by an ongoing transaction.
pub const ONGOING: &str = "Transaction is ongoing for the item";

/// A response with `status` and a JSON `body`, with DynamoDB's headers.
pub fn json_response(status: u16, body: &Value) -> HttpResponse {
    let text = body.to_string();
    response(status, text.into_bytes(), None)
}

/// A response with `status` and raw bytes (a recorded engine response, replayed), with
/// DynamoDB's headers; `content_type` defaults to `application/x-amz-json-1.0`.
pub fn response(status: u16, bytes: Vec<u8>, content_type: Option<&str>) -> HttpResponse {
    static REQUESTS: AtomicU64 = AtomicU64::new(0);
    let n = REQUESTS.fetch_add(1, Ordering::Relaxed);
    let crc = crc32fast::hash(&bytes);
    let len = bytes.len();
    // StatusCode refuses only values outside 100..=999, which the clamp rules out.
    let status = StatusCode::try_from(status.clamp(100, 999)).expect("a status in 100..=999");
    let mut r = HttpResponse::new(status, SdkBody::from(bytes));
    let h = r.headers_mut();
    h.insert(
        "content-type",
        content_type
            .unwrap_or("application/x-amz-json-1.0")
            .to_string(),
    );
    h.insert("content-length", len.to_string());
    h.insert("x-amzn-requestid", format!("MODEL{n:047}"));
    h.insert("x-amz-crc32", crc.to_string());
    r
}

/// `TransactionCanceledException` for a transaction of `actions` actions, the actions at
/// `conflicting` cancelled with `TransactionConflict` and the others `None`. DynamoDB's own
/// shape: `CancellationReasons` and a capitalised `Message` listing the codes.
pub fn transaction_conflict(actions: usize, conflicting: &[usize]) -> HttpResponse {
    cancelled(actions, conflicting, "TransactionConflict", ONGOING)
}

/// DynamoDB's message for a request over a partition's throughput.
pub const THROTTLED: &str = "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html";

/// `TransactionCanceledException` for a transaction of `actions` actions, the actions at
/// `throttled` cancelled with `ThrottlingError` and the others `None`.
pub fn transaction_throttled(actions: usize, throttled: &[usize]) -> HttpResponse {
    cancelled(actions, throttled, "ThrottlingError", THROTTLED)
}

/// `ProvisionedThroughputExceededException`: a single request over its partition's
/// throughput.
pub fn throughput_exceeded() -> HttpResponse {
    error(
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
    )
}

/// `ProvisionedThroughputExceededException`: a single write whose index writes are over an
/// index partition's throughput (DynamoDB throttles the base-table writes that feed an index
/// that cannot keep up).
pub fn index_throughput_exceeded() -> HttpResponse {
    error(
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for one or more global secondary indexes of the table was exceeded. Consider increasing your provisioning level for the under-provisioned global secondary indexes with the UpdateTable API",
    )
}

/// `TransactionCanceledException`: the actions at `at` cancelled with `code` and `message`,
/// the others `None`.
fn cancelled(actions: usize, at: &[usize], code: &'static str, message: &str) -> HttpResponse {
    let mut codes = Vec::with_capacity(actions);
    let reasons: Vec<Value> = (0..actions)
        .map(|i| {
            if at.contains(&i) {
                codes.push(code);
                json!({"Code": code, "Message": message})
            } else {
                codes.push("None");
                json!({"Code": "None"})
            }
        })
        .collect();
    json_response(
        400,
        &json!({
            "__type": format!("{TYPE_PREFIX}TransactionCanceledException"),
            "CancellationReasons": reasons,
            "Message": format!(
                "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                codes.join(", ")
            ),
        }),
    )
}

/// An error of shape `name` with `message` (lower-case `message`, as DynamoDB sends it for
/// every error but `TransactionCanceledException`).
pub fn error(name: &str, message: &str) -> HttpResponse {
    json_response(
        400,
        &json!({"__type": format!("{TYPE_PREFIX}{name}"), "message": message}),
    )
}

/// `TransactionConflictException`: a single-item write on an item an ongoing transaction
/// holds.
pub fn single_write_conflict() -> HttpResponse {
    error("TransactionConflictException", ONGOING)
}

/// `IdempotentParameterMismatchException`: a ClientRequestToken reused with another request.
pub fn idempotent_mismatch() -> HttpResponse {
    error(
        "IdempotentParameterMismatchException",
        "The request uses the same client token as a previous, but non-identical request.",
    )
}

/// `TransactionInProgressException`: a ClientRequestToken whose first request is still
/// running.
pub fn in_progress() -> HttpResponse {
    error(
        "TransactionInProgressException",
        "The transaction with the given request token is already in progress.",
    )
}
