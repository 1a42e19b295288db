use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "Widget")]
#[parent(entities::Account)]
pub struct Widget {
    pub name: String,
}

fn main() {}
