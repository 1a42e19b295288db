// A type with several parent types, one of them itself: created under either, its parent
// matched on, its children listed under either or under the enum.
use ddbrel_runtime::{Entity, PageRequest, Store, Stored, Urn};
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize, Entity)]
#[urn(type = "Docs.Workspace")]
pub struct Workspace {
    pub name: String,
}

#[derive(Clone, Serialize, Deserialize, Entity)]
#[urn(type = "Docs.Workspace.Folder")]
#[parent(Workspace, Self, on_delete = cascade)]
pub struct Folder {
    #[unique(scope = parent)]
    pub name: String,
}

#[allow(dead_code)]
async fn walk(store: &Store, ws: &Stored<Workspace>) -> ddbrel_runtime::Result<()> {
    let a = store.create_child(ws, Folder { name: "a".into() }).await?;
    let b = store.create_child(&a, Folder { name: "b".into() }).await?;
    let parent: FolderParent = store.parent_of(&b.urn).await?;
    let _: &Urn<Folder> = match &parent {
        FolderParent::Workspace(_) => unreachable!(),
        FolderParent::Folder(f) => f,
    };
    store.children::<Folder>(&parent, PageRequest::all()).await?;
    store.children::<Folder>(&ws.urn, PageRequest::all()).await?;
    Folder::find_by_name(store, &FolderParent::from(ws.urn.clone()), "a").await?;
    Folder::find_by_name(store, &a.urn, "b").await?;
    Ok(())
}

fn main() {}
