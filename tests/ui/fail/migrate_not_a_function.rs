// `migrate` names a function `fn(u32, &mut Item) -> Result<()>`.
use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

fn wrong(_from: u32) {}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "Test.Evolving")]
#[entity(version = 2, migrate = wrong)]
pub struct Evolving {
    pub name: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "Test.Evolving2")]
#[entity(version = 2, migrate = "not a path")]
pub struct Evolving2 {
    pub name: String,
}

fn main() {}
