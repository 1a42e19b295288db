use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account")]
pub struct Account {
    pub name: String,
}

// An unknown rule, on a parent and on a collection.
#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Invoice")]
#[parent(Account, on_delete = set_null)]
pub struct Invoice {
    pub number: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Ledger")]
#[parent(Account)]
#[collection(of(Invoice), conveys_authorization = false, on_delete = forbid)]
pub struct Ledger {
    pub name: String,
}

// A rule written as a string, and a key that is not `on_delete`.
#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Note")]
#[parent(Account, on_delete = "restrict")]
pub struct Note {
    pub text: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Memo")]
#[parent(Account, ondelete = restrict)]
pub struct Memo {
    pub text: String,
}

fn main() {}
