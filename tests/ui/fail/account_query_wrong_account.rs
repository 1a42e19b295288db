// An account query takes the URN of the type's account: a Job's account is an Account, so the
// URN of a JobCollection, or an untyped URN, does not compile (it would find nothing).
use ddbrel_runtime::{AnyUrn, Order, PageRequest, Store, Urn};
use entities::{Account, Job, JobCollection, User};

async fn query(store: &Store, account: &Urn<Account>, col: &Urn<JobCollection>, any: &AnyUrn) {
    let _ = store.by_account::<Job>(account, Order::OldestFirst, PageRequest::all());
    let _ = store.by_account::<Job>(col, Order::OldestFirst, PageRequest::all());
    let _ = store.by_account::<Job>(any, Order::OldestFirst, PageRequest::all());
    let _ = User::find_by_email(store, account, "a@b.c").await;
    let _ = User::find_by_email(store, col, "a@b.c").await;
}

fn main() {}
