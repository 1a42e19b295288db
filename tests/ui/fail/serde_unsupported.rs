use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Name")]
#[serde(transparent)]
pub struct Name {
    pub value: String,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Wire {
    pub name: String,
}

#[derive(Clone, Serialize, Deserialize, Entity)]
#[urn(type = "System.Widget")]
#[serde(into = "Wire")]
pub struct Widget {
    pub name: String,
}

impl From<Widget> for Wire {
    fn from(w: Widget) -> Wire {
        Wire { name: w.name }
    }
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Tagged")]
#[serde(tag = "_kind")]
pub struct Tagged {
    pub name: String,
}

fn main() {}
