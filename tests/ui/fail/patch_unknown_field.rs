// A patch names only fields the entity stores: a misspelt field, and a field of another
// entity, do not compile.
use ddbrel_runtime::{Store, urn::Urn};
use entities::{Account, Job};

async fn patch(store: &Store, urn: &Urn<Job>) {
    let _ = store.patch(urn).set(Job::fields().nmae, "x".to_string()).send().await;
    let _ = store.patch(urn).set(Account::fields().name, "x".to_string()).send().await;
}

fn main() {}
