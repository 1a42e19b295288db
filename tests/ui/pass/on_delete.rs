// `on_delete` on a parent and on a collection, each rule spelled out, and its default.
use ddbrel_runtime::{Entity, OnDelete};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account")]
pub struct Account {
    pub name: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Invoice")]
#[parent(Account, on_delete = restrict)]
pub struct Invoice {
    pub number: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Note")]
#[parent(Account, on_delete = cascade,)]
pub struct Note {
    pub text: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Ledger")]
#[parent(Account)]
#[collection(of(Invoice, Note), on_delete = restrict, conveys_authorization = false)]
pub struct Ledger {
    pub name: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Folder")]
#[parent(Account)]
#[collection(of(Note), conveys_authorization = true)]
pub struct Folder {
    pub name: String,
}

fn main() {
    assert_eq!(Invoice::descriptor().on_delete, OnDelete::Restrict);
    assert_eq!(Note::descriptor().on_delete, OnDelete::Cascade);
    assert_eq!(Ledger::descriptor().on_delete, OnDelete::Cascade);
    assert_eq!(Account::descriptor().on_delete, OnDelete::Cascade);
    let ledger = Ledger::descriptor().collection.unwrap();
    assert_eq!(ledger.on_delete, OnDelete::Restrict);
    let folder = Folder::descriptor().collection.unwrap();
    assert_eq!(folder.on_delete, OnDelete::Cascade);
    assert_eq!(OnDelete::Restrict.as_str(), "restrict");
}
