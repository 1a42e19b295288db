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
    let mut codes = Vec::with_capacity(actions);
    let reasons: Vec<Value> = (0..actions)
        .map(|i| {
            if conflicting.contains(&i) {
                codes.push("TransactionConflict");
                json!({"Code": "TransactionConflict", "Message": ONGOING})
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
