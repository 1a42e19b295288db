use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Widget")]
pub struct Widget {
    pub name: String,
}

pub struct Gadget {
    pub name: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Drawer")]
#[collection(of(Widget, Gadget), conveys_authorization = false)]
pub struct Drawer {
    pub name: String,
}

fn main() {}
