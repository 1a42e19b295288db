use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Widget")]
#[unique(fields(name, cache_key), name = "name_cache")]
pub struct Widget {
    pub name: String,
    #[unique]
    #[serde(skip)]
    pub cache_key: String,
}

fn main() {}
