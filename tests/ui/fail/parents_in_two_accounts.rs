// An account-scoped type takes its account from its parent: every parent type must place it
// in the same account type (here an Org's and a Team's).
use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "Org")]
pub struct Org {
    pub name: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "Team")]
pub struct Team {
    pub name: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "Org.Project")]
#[parent(Org, Team)]
#[account_scoped]
pub struct Project {
    pub name: String,
}

fn main() {}
