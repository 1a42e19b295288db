use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Widget")]
pub struct Widget {
    #[unique(scope = parent)]
    pub serial: String,
}

fn main() {}
