use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Widget")]
#[entity(version = 0)]
pub struct Widget {
    pub name: String,
}

fn main() {}
