use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

pub struct Folder {
    pub name: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Folder.Document")]
#[parent(Folder)]
pub struct Document {
    pub title: String,
}

fn main() {}
