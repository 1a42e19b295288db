use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Widget")]
#[serde(rename_all = "camelCase")]
pub struct Widget {
    pub display_name: String,
    #[serde(rename = "displayName")]
    pub label: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Gadget")]
#[serde(tag = "kind")]
pub struct Gadget {
    pub kind: String,
}

fn main() {}
