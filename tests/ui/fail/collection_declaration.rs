use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Widget")]
pub struct Widget {
    pub name: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Drawer")]
#[collection(of(Widget))]
pub struct Drawer {
    pub name: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Shelf")]
#[collection(of(Widget, Widget), conveys_authorization = yes)]
pub struct Shelf {
    pub name: String,
}

fn main() {}
