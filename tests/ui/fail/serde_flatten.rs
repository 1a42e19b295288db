use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct Audit {
    pub created_by: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Widget")]
pub struct Widget {
    pub name: String,
    #[serde(flatten)]
    pub audit: Audit,
}

fn main() {}
