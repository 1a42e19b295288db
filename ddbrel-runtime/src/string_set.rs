//! [`StringSet`]: a field stored as a DynamoDB string set, so that a patch can add and remove
//! elements without reading the item.

use std::collections::BTreeSet;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A set of strings stored as a DynamoDB string set (`SS`), not a list: two writers adding
/// elements with [`Patch::add_elements`](crate::Patch::add_elements) both keep theirs, with no
/// read and no version.
///
/// DynamoDB stores no empty set (removing the last element removes the attribute), so the
/// derive requires the field to be declared
/// `#[serde(default, skip_serializing_if = "StringSet::is_empty")]`: an empty set is not
/// written, and an absent attribute reads as an empty set.
///
/// ```
/// use ddbrel_runtime::{Entity, StringSet};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
/// #[urn(type = "Docs.Page")]
/// struct Page {
///     title: String,
///     #[serde(default, skip_serializing_if = "StringSet::is_empty")]
///     tags: StringSet,
/// }
///
/// let page = Page { title: "Home".into(), tags: ["a", "b"].into_iter().collect() };
/// assert!(page.tags.contains("a"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StringSet(BTreeSet<String>);

impl StringSet {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        StringSet(BTreeSet::new())
    }

    /// Whether the set has no element (then the field is not stored).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether `value` is an element.
    #[must_use]
    pub fn contains(&self, value: &str) -> bool {
        self.0.contains(value)
    }

    /// Adds `value`; `false` if it was there already.
    pub fn insert(&mut self, value: impl Into<String>) -> bool {
        self.0.insert(value.into())
    }

    /// Removes `value`; `false` if it was not there.
    pub fn remove(&mut self, value: &str) -> bool {
        self.0.remove(value)
    }

    /// The elements, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The elements as a `BTreeSet`.
    #[must_use]
    pub fn into_inner(self) -> BTreeSet<String> {
        self.0
    }
}

impl<S: Into<String>> FromIterator<S> for StringSet {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        StringSet(iter.into_iter().map(Into::into).collect())
    }
}

impl IntoIterator for StringSet {
    type Item = String;
    type IntoIter = std::collections::btree_set::IntoIter<String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl From<BTreeSet<String>> for StringSet {
    fn from(set: BTreeSet<String>) -> Self {
        StringSet(set)
    }
}

impl Serialize for StringSet {
    /// An `SS` through serde_dynamo (a list in other formats); an empty set, which DynamoDB
    /// cannot store, as null (the derive makes the field skipped when empty, so this is only
    /// reached through a serializer of the caller's own).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_empty() {
            return serializer.serialize_none();
        }
        serde_dynamo::string_set::serialize(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for StringSet {
    /// From a set or a list of strings; null reads as empty.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(StringSet(
            Option::<BTreeSet<String>>::deserialize(deserializer)?.unwrap_or_default(),
        ))
    }
}
