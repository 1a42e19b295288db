// Listing children needs the child type's declared parent: `Job`'s parent is `JobCollection`,
// not `Account`, and `Account` has no parent at all.
use ddbrel_runtime::{PageRequest, Store};
use entities::{Account, Job};

fn list(store: &Store) {
    let account = Account::new_urn();
    let _ = store.children::<Job>(&account, PageRequest::all());
    let _ = store.children::<Account>(&account, PageRequest::all());
}

fn main() {}
