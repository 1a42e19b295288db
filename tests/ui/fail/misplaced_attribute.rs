use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Widget")]
#[unique]
pub struct Widget {
    #[parent(entities::Account)]
    pub name: String,
    #[unique(fields(name))]
    pub serial: String,
    #[account_scoped(yes)]
    pub code: String,
}

fn main() {}
