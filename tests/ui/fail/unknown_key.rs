use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(typ = "System.Widget")]
#[entity(verison = 2)]
pub struct Widget {
    #[unique(scop = global)]
    pub serial: String,
    #[unique(scope = everywhere)]
    pub code: String,
}

fn main() {}
