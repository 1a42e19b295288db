//! The table's DynamoDB stream, read through the embedded engine's Streams API (DynamoDB
//! Streams' JSON protocol over plain HTTP), for tests of change events.

use aws_sdk_dynamodb::types::{StreamSpecification, StreamViewType};
use ddbrel_runtime::stream::{self, Change, StreamRecord};
use serde_json::{Value, json};

use entities::{Account, Plan, User};

use crate::TestEnv;

/// The account the stream tests create (its slug is a unique value, so its marker shows up).
pub fn acme() -> Account {
    Account {
        name: "Acme".into(),
        slug: "Acme".into(),
        plan: Plan::Free,
    }
}

/// The user the stream tests create (its email is unique per account).
pub fn ann() -> User {
    User {
        email: "Ann@Example.com".into(),
        display_name: "Ann".into(),
    }
}

/// The table's stream, read through the engine's Streams API over plain HTTP.
pub struct Stream {
    addr: String,
    iterator: String,
}

impl Stream {
    /// Enables a `NEW_AND_OLD_IMAGES` stream on the env's table and opens it at its start.
    /// The Streams API is called on the env's endpoint, as the embedded engine serves it.
    pub async fn open(env: &TestEnv) -> Stream {
        let spec = StreamSpecification::builder()
            .stream_enabled(true)
            .stream_view_type(StreamViewType::NewAndOldImages)
            .build()
            .unwrap();
        let out = env
            .raw
            .update_table()
            .table_name(env.store.table())
            .stream_specification(spec)
            .send()
            .await
            .expect("enable the stream");
        let arn = out
            .table_description()
            .and_then(|t| t.latest_stream_arn())
            .expect("the stream's ARN")
            .to_string();
        let addr = env.endpoint.trim_start_matches("http://").to_string();
        let described = call(&addr, "DescribeStream", json!({ "StreamArn": arn })).await;
        let shard = described["StreamDescription"]["Shards"][0]["ShardId"]
            .as_str()
            .expect("a shard")
            .to_string();
        let it = call(
            &addr,
            "GetShardIterator",
            json!({ "StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON" }),
        )
        .await;
        Stream {
            addr,
            iterator: it["ShardIterator"].as_str().unwrap().to_string(),
        }
    }

    /// The records written since the last call, from the JSON the engine sends; each also
    /// checked to round-trip through `StreamRecord::to_json`.
    pub async fn records(&mut self) -> Vec<StreamRecord> {
        let page = call(
            &self.addr,
            "GetRecords",
            json!({ "ShardIterator": self.iterator }),
        )
        .await;
        self.iterator = page["NextShardIterator"].as_str().unwrap().to_string();
        let records = StreamRecord::from_event_json(&page).expect("the records parse");
        for r in &records {
            let again = StreamRecord::from_json(&r.to_json()).expect("its JSON form parses");
            assert_eq!(&again, r, "the JSON form round-trips");
        }
        records
    }

    /// The changes written since the last call, decoded.
    pub async fn changes(&mut self) -> Vec<Change> {
        self.records()
            .await
            .iter()
            .map(|r| stream::decode(r).unwrap_or_else(|e| panic!("{r:?}: {e}")))
            .collect()
    }
}

async fn call(addr: &str, operation: &str, body: Value) -> Value {
    let (addr, operation) = (addr.to_string(), operation.to_string());
    tokio::task::spawn_blocking(move || post(&addr, &operation, &body))
        .await
        .unwrap()
}

/// One DynamoDB Streams API request (the engine checks that auth headers are present, not
/// what they sign).
fn post(addr: &str, operation: &str, body: &Value) -> Value {
    use std::io::{Read, Write};
    let body = body.to_string();
    let mut conn = std::net::TcpStream::connect(addr).expect("connect to the engine");
    write!(
        conn,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Target: DynamoDBStreams_20120810.{operation}\r\nX-Amz-Date: 20260101T000000Z\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, \
         SignedHeaders=host;x-amz-date;x-amz-target, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    let (head, mut rest) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "{operation}: {head}\n{rest}"
    );
    let mut payload = String::new();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        loop {
            let (size, tail) = rest.split_once("\r\n").unwrap();
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            payload.push_str(&tail[..size]);
            rest = &tail[size + 2..];
        }
    } else {
        payload.push_str(rest);
    }
    serde_json::from_str(&payload).expect("a JSON body")
}
