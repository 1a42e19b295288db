use std::collections::HashMap;

use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct Address {
    pub street: String,
    pub city: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Place")]
pub struct Place {
    #[unique]
    pub latitude: f64,
    #[unique]
    pub tags: Vec<String>,
    #[unique]
    pub address: Address,
    #[unique]
    pub attributes: HashMap<String, String>,
}

fn main() {}
