use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Widget")]
pub struct Widget(pub String, pub u32);

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Marker")]
pub struct Marker;

fn main() {}
