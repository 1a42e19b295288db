use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Widget")]
pub struct Widget {
    #[serde(rename = "SK")]
    pub sort_key: String,
    #[serde(rename = "_version")]
    pub version: u32,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Gadget")]
#[serde(rename_all = "UPPERCASE")]
pub struct Gadget {
    pub pk: String,
}

fn main() {}
