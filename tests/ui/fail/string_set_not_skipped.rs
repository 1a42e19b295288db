// A `StringSet` field must be skipped when empty and default when absent: DynamoDB stores no
// empty set.
use ddbrel_runtime::{Entity, StringSet};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "Test.Tagged")]
struct Tagged {
    tags: StringSet,
    #[serde(default)]
    labels: ddbrel_runtime::StringSet,
    #[serde(default, skip_serializing_if = "StringSet::is_empty")]
    fine: StringSet,
}

fn main() {}
