// Each parent type is listed once; two types with the same name would give the parent enum
// two variants of one name.
use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

mod other {
    use ddbrel_runtime::Entity;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Entity)]
    #[urn(type = "Other.Workspace")]
    pub struct Workspace {
        pub name: String,
    }
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "Docs.Workspace")]
pub struct Workspace {
    pub name: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "Docs.Workspace.Folder")]
#[parent(Workspace, Self, Folder)]
pub struct Folder {
    pub name: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "Docs.Workspace.Doc")]
#[parent(Workspace, other::Workspace)]
pub struct Doc {
    pub title: String,
}

fn main() {}
