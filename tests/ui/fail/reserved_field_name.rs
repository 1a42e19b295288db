use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Widget")]
#[allow(non_snake_case)]
pub struct Widget {
    pub name: String,
    pub _created_at: String,
    pub GSI1PK: String,
}

fn main() {}
