// A type with several parent types is created and listed under any of them, and under
// nothing else: the error names the type and the parent passed.
use ddbrel_runtime::{Entity, PageRequest, Store, Stored};
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize, Entity)]
#[urn(type = "Docs")]
pub struct Org {
    pub name: String,
}

#[derive(Clone, Serialize, Deserialize, Entity)]
#[urn(type = "Docs.Workspace")]
#[parent(Org)]
pub struct Workspace {
    pub name: String,
}

#[derive(Clone, Serialize, Deserialize, Entity)]
#[urn(type = "Docs.Workspace.Folder")]
#[parent(Workspace, Folder)]
pub struct Folder {
    pub name: String,
}

async fn create(store: &Store, org: &Stored<Org>, folder: Folder) {
    let _ = store.create_child(org, folder).await;
    let _ = store.children::<Folder>(&org.urn, PageRequest::all()).await;
}

fn main() {}
