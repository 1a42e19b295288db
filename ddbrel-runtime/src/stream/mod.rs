//! Typed change events from a DynamoDB stream of a ddbrel table (SCHEMA.md §5, §7, §12).
//!
//! Enable a stream of view type `NEW_AND_OLD_IMAGES` on the table, read its records (a Lambda
//! function, Kinesis, or the Streams API) and pass each to [`decode`]: it tells what the
//! write was in the contract's terms.
//!
//! | Record | [`Change`] |
//! |---|---|
//! | Resource | [`Change::Resource`]: created, updated (`_version` moved: the entity changed), bookkeeping only (counts, `_memberOf`, `_conveyingCollections`, the fence `_deleting`: `_version` unchanged), deleted |
//! | ParentChildRelationship | [`Change::ParentChild`]: added with the child, removed with it |
//! | CollectionMembershipRelationship | [`Change::Membership`]: added, removed, or its `_conveysAuthorization` changed, with whether it conveys authorization |
//! | UniqueKeyValue | [`Change::Marker`]: a value claimed or released, its key split into type, constraint, scope and value |
//! | EntitySchema | [`Change::TypeSchema`]: a type registered or its declaration replaced |
//! | anything else | [`Change::Foreign`]: not an error |
//!
//! One operation writes several items in one transaction, and the stream carries one record
//! per item: creating a child gives the child's `Created`, the parent-child edge's `Added`,
//! each marker's `Claimed` and the parent's `Bookkeeping` (`_childCount`). DynamoDB Streams
//! orders the records of one item, not those of different items.
//!
//! [`decode`] leaves a resource's fields raw ([`AnyStored`](crate::AnyStored));
//! [`Change::resource`] decodes both images as an entity type, through its `migrate` hook for
//! an image written at an older schema version. A malformed ddbrel record is
//! [`Error::InvalidItem`](crate::Error::InvalidItem) naming the key and the attribute; a record
//! without the images its event needs is [`Error::InvalidStreamRecord`](crate::Error::InvalidStreamRecord).
//!
//! ```
//! use ddbrel_runtime::records::resource::{ResourceMeta, resource_item};
//! use ddbrel_runtime::stream::{self, Change, ResourceChangeKind, StreamRecord};
//! use ddbrel_runtime::{Entity, Urn, time};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Entity)]
//! #[urn(type = "Docs.Board")]
//! struct Board {
//!     title: String,
//! }
//!
//! // A Resource item as the store writes it, and the same item after a child was created
//! // under it: only `_childCount` moved.
//! let urn = Urn::<Board>::new();
//! let meta = ResourceMeta::created(1, time::now(), None, None, vec![], &[]);
//! let board = Board { title: "Roadmap".into() };
//! let before = resource_item(&urn, &board, &meta)?;
//! let after = resource_item(&urn, &board, &ResourceMeta { child_count: 1, ..meta })?;
//!
//! let created = StreamRecord::from_images(None, Some(before.clone())).unwrap();
//! let typed = stream::decode(&created)?.resource::<Board>()?.unwrap();
//! assert_eq!(typed.kind, ResourceChangeKind::Created);
//! assert_eq!(typed.new.unwrap().data, board);
//!
//! let counted = StreamRecord::from_images(Some(before), Some(after)).unwrap();
//! let Change::Resource(change) = stream::decode(&counted)? else { unreachable!() };
//! assert_eq!(change.kind, ResourceChangeKind::Bookkeeping);
//! assert!(!change.entity_changed());
//! assert_eq!(change.bookkeeping_changed().collect::<Vec<_>>(), ["_childCount"]);
//! # Ok::<(), ddbrel_runtime::Error>(())
//! ```
//!
//! A Lambda handler reads the event's JSON:
//!
//! ```
//! use ddbrel_runtime::stream::{self, Change, MembershipChangeKind, StreamRecord};
//!
//! fn handle(event: &serde_json::Value) -> ddbrel_runtime::Result<()> {
//!     for record in StreamRecord::from_event_json(event)? {
//!         match stream::decode(&record)? {
//!             Change::Resource(r) if r.entity_changed() => println!("{} {:?}", r.urn, r.kind),
//!             Change::Membership(m) if m.conveys_authorization => {
//!                 println!("grants on {} now reach {} ({:?})", m.collection, m.member, m.kind)
//!             }
//!             _ => {}
//!         }
//!     }
//!     Ok(())
//! }
//! # handle(&serde_json::json!({ "Records": [] })).unwrap();
//! ```

mod change;
mod decode;
mod record;

pub use change::{
    BOOKKEEPING_ATTRIBUTES, Change, EdgeChangeKind, ForeignChange, MarkerChange, MarkerChangeKind,
    MembershipChange, MembershipChangeKind, ParentChildChange, ResourceChange, ResourceChangeKind,
    ResourceImage, TypeSchemaChange,
};
pub use record::{StreamEvent, StreamRecord};

use crate::error::Result;

/// Decodes one stream record into the change it carries (see the [module](self) docs).
///
/// Errors: [`Error::InvalidStreamRecord`](crate::Error::InvalidStreamRecord) when the record
/// lacks an image its event needs (the stream must be `NEW_AND_OLD_IMAGES`) or an image's key
/// is not the record's; [`Error::InvalidItem`](crate::Error::InvalidItem) naming the key and
/// the attribute when an image is a ddbrel record that does not follow SCHEMA.md (or its
/// `_type` changed between the images); [`Error::SchemaTooNew`](crate::Error::SchemaTooNew)
/// for a relationship, marker or registry record of a newer layout. A resource image at a
/// newer `_schemaVersion` decodes here (its fields stay raw) and fails in
/// [`Change::resource`].
pub fn decode(record: &StreamRecord) -> Result<Change> {
    decode::decode(record)
}
