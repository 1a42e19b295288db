use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account")]
pub struct Account {
    pub name: String,
}

// `on_delete` given twice, on a parent and on a collection.
#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Invoice")]
#[parent(Account, on_delete = restrict, on_delete = cascade)]
pub struct Invoice {
    pub number: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Ledger")]
#[parent(Account)]
#[collection(of(Invoice), on_delete = restrict, conveys_authorization = false, on_delete = restrict)]
pub struct Ledger {
    pub name: String,
}

fn main() {}
