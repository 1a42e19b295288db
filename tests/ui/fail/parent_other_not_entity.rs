// A parent type after the first that is not an entity is reported once, at its name.
use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "Docs.Workspace")]
pub struct Workspace {
    pub name: String,
}

pub struct Shelf {
    pub name: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "Docs.Workspace.Doc")]
#[parent(Workspace, Shelf)]
pub struct Doc {
    pub title: String,
}

fn main() {}
