use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "system.account.job_collection")]
pub struct JobCollection {
    pub name: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System..Widget")]
pub struct Widget {
    pub name: String,
}

fn main() {}
