// Every mistake in one declaration is reported in one go.
use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.widget", domain = "PP")]
#[entity(version = 0)]
#[account_scoped]
pub struct Widget {
    #[unique(scope = account, nmae = "serial")]
    pub serial: String,
    #[unique(scope = parent)]
    pub code: String,
    #[serde(rename = "PK")]
    pub key: String,
}

fn main() {}
