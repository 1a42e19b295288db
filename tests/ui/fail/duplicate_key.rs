use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Widget", domain = "pp", domain = "qq")]
#[urn(type = "System.Gadget")]
pub struct Widget {
    #[unique(case_insensitive, case_insensitive)]
    pub serial: String,
}

fn main() {}
