use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
pub struct Widget {
    pub name: String,
}

fn main() {}
