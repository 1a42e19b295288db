use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Widget")]
#[parent(entities::Account)]
pub struct Widget {
    #[unique(scope = account)]
    pub serial: String,
}

fn main() {}
