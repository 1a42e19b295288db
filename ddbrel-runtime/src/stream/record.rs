//! The input of [`super::decode`]: one DynamoDB Streams record, as the SDK's types hold it or
//! as the JSON form Lambda, Kinesis and the Streams API's `GetRecords` deliver.

use serde_json::{Map, Value, json};

use crate::Item;
use crate::error::{Error, Result};
use crate::records::attrs::key_of;
use crate::records::json::{from_dynamodb_json, to_dynamodb_json};
use crate::schema::{PK, SK};

/// What happened to the item: the record's `eventName`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamEvent {
    /// `INSERT`: the item did not exist before; the record carries the new image.
    Insert,
    /// `MODIFY`: the item existed and was written; the record carries both images.
    Modify,
    /// `REMOVE`: the item was deleted; the record carries the old image.
    Remove,
}

impl StreamEvent {
    /// The `eventName` as DynamoDB Streams spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamEvent::Insert => "INSERT",
            StreamEvent::Modify => "MODIFY",
            StreamEvent::Remove => "REMOVE",
        }
    }

    /// Parses an `eventName`.
    pub fn parse(name: &str) -> Option<StreamEvent> {
        Some(match name {
            "INSERT" => StreamEvent::Insert,
            "MODIFY" => StreamEvent::Modify,
            "REMOVE" => StreamEvent::Remove,
            _ => return None,
        })
    }
}

/// One DynamoDB Streams record of a ddbrel table: the event, the item's key and its images.
///
/// [`super::decode`] needs the images a stream of view type `NEW_AND_OLD_IMAGES` carries:
/// the new image for `INSERT`, both for `MODIFY`, the old one for `REMOVE`.
///
/// ```
/// use ddbrel_runtime::stream::{StreamEvent, StreamRecord};
///
/// // As a Lambda function receives it (one element of `Records`).
/// let json = serde_json::json!({
///     "eventName": "INSERT",
///     "dynamodb": {
///         "Keys": { "PK": { "S": "k" }, "SK": { "S": "k" } },
///         "NewImage": { "PK": { "S": "k" }, "SK": { "S": "k" }, "n": { "N": "3" } },
///         "StreamViewType": "NEW_AND_OLD_IMAGES"
///     }
/// });
/// let record = StreamRecord::from_json(&json)?;
/// assert_eq!(record.event, StreamEvent::Insert);
/// assert!(record.old_image.is_none());
/// assert_eq!(StreamRecord::from_json(&record.to_json())?, record);
/// # Ok::<(), ddbrel_runtime::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    /// What happened to the item.
    pub event: StreamEvent,
    /// The item's primary key (`PK`, `SK`).
    pub keys: Item,
    /// The item before the write (`MODIFY`, `REMOVE`).
    pub old_image: Option<Item>,
    /// The item after the write (`INSERT`, `MODIFY`).
    pub new_image: Option<Item>,
}

impl StreamRecord {
    /// The record a stream of view type `NEW_AND_OLD_IMAGES` carries for an item that went
    /// from `old` to `new` (`None`: absent), with its key taken from the images' `PK` and
    /// `SK`. `None` when both are absent. For tools that replay changes from snapshots.
    pub fn from_images(old: Option<Item>, new: Option<Item>) -> Option<StreamRecord> {
        let event = match (&old, &new) {
            (None, None) => return None,
            (None, Some(_)) => StreamEvent::Insert,
            (Some(_), Some(_)) => StreamEvent::Modify,
            (Some(_), None) => StreamEvent::Remove,
        };
        let keys = new
            .as_ref()
            .or(old.as_ref())
            .map(|item| {
                item.iter()
                    .filter(|(k, _)| *k == PK || *k == SK)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Some(StreamRecord {
            event,
            keys,
            old_image: old,
            new_image: new,
        })
    }

    /// Parses one record in the DynamoDB Streams JSON form: `{"eventName": "INSERT" |
    /// "MODIFY" | "REMOVE", "dynamodb": {"Keys": {..}, "NewImage": {..}, "OldImage": {..},
    /// ..}, ..}`, attribute values in DynamoDB-JSON (binary as base64). Other members
    /// (`eventID`, `SequenceNumber`, ...) are ignored. The error,
    /// [`Error::InvalidStreamRecord`], names the record and the JSON path at fault.
    pub fn from_json(value: &Value) -> Result<StreamRecord> {
        let obj = value
            .as_object()
            .ok_or_else(|| invalid("<record>", "a stream record must be a JSON object"))?;
        let id = match obj.get("eventID").and_then(Value::as_str) {
            Some(id) => format!("eventID {id}"),
            None => "<record>".to_string(),
        };
        let ddb = obj
            .get("dynamodb")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid(&id, "dynamodb is missing or not an object"))?;
        let keys =
            image(ddb, "Keys", &id)?.ok_or_else(|| invalid(&id, "dynamodb.Keys is missing"))?;
        let at = key_of(&keys);
        let event = match obj.get("eventName") {
            Some(Value::String(name)) => StreamEvent::parse(name).ok_or_else(|| {
                invalid(
                    &at,
                    format!("eventName {name:?} is not INSERT, MODIFY or REMOVE"),
                )
            })?,
            _ => return Err(invalid(&at, "eventName is missing or not a string")),
        };
        Ok(StreamRecord {
            event,
            old_image: image(ddb, "OldImage", &at)?,
            new_image: image(ddb, "NewImage", &at)?,
            keys,
        })
    }

    /// Parses every record of a batch in the JSON form: an object with a `Records` array (a
    /// Lambda event from a DynamoDB stream, or a `GetRecords` response), each element as
    /// [`StreamRecord::from_json`] takes it.
    pub fn from_event_json(value: &Value) -> Result<Vec<StreamRecord>> {
        value
            .get("Records")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("<event>", "Records is missing or not an array"))?
            .iter()
            .map(StreamRecord::from_json)
            .collect()
    }

    /// The record in the JSON form [`StreamRecord::from_json`] reads, with `StreamViewType`
    /// `NEW_AND_OLD_IMAGES`.
    pub fn to_json(&self) -> Value {
        let mut ddb = Map::new();
        ddb.insert("Keys".into(), to_dynamodb_json(&self.keys));
        if let Some(new) = &self.new_image {
            ddb.insert("NewImage".into(), to_dynamodb_json(new));
        }
        if let Some(old) = &self.old_image {
            ddb.insert("OldImage".into(), to_dynamodb_json(old));
        }
        ddb.insert("StreamViewType".into(), json!("NEW_AND_OLD_IMAGES"));
        json!({ "eventName": self.event.as_str(), "dynamodb": ddb })
    }

    /// A readable form of the record's key, for errors.
    pub(crate) fn key_text(&self) -> String {
        key_of(&self.keys)
    }
}

fn image(ddb: &Map<String, Value>, name: &str, at: &str) -> Result<Option<Item>> {
    match ddb.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => from_dynamodb_json(v)
            .map(Some)
            .map_err(|e| invalid(at, format!("dynamodb.{name}: {e}"))),
    }
}

pub(crate) fn invalid(record: &str, reason: impl Into<String>) -> Error {
    Error::InvalidStreamRecord {
        record: record.to_string(),
        reason: reason.into(),
    }
}
