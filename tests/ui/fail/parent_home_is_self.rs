// The first type in `#[parent(..)]` is the home parent, whose URN type the child's extends:
// it cannot be the type itself.
use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "Docs.Workspace")]
pub struct Workspace {
    pub name: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "Docs.Workspace.Folder")]
#[parent(Folder, Workspace)]
pub struct Folder {
    pub name: String,
}

fn main() {}
