// Only `#[account_scoped]` types can be queried by account; `Account` is not one.
use ddbrel_runtime::{Order, PageRequest, Store, Urn};
use entities::{Account, User};

fn query(store: &Store, account: &Urn<Account>) {
    let _ = store.by_account::<User>(account, Order::OldestFirst, PageRequest::all());
    let _ = store.by_account::<Account>(account, Order::OldestFirst, PageRequest::all());
}

fn main() {}
