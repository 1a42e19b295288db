use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Shape")]
pub enum Shape {
    Circle { radius: u32 },
    Square { side: u32 },
}

fn main() {}
