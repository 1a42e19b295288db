use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Boxed")]
pub struct Boxed<T> {
    pub value: T,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Borrowed")]
pub struct Borrowed<'a> {
    pub name: &'a str,
}

fn main() {}
