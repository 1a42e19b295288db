use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Widget")]
pub struct Widget {
    pub name: String,
    #[unique]
    #[serde(skip)]
    pub cache_key: String,
    #[serde(rename = "name")]
    pub label: String,
}

fn main() {}
