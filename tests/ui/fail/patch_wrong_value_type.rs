// A patch sets a field to a value of the field's own type: a number for a `String` field, or
// an `add` to a field that is not a number, does not compile.
use ddbrel_runtime::{Store, urn::Urn};
use entities::Job;

async fn patch(store: &Store, urn: &Urn<Job>) {
    let _ = store.patch(urn).set(Job::fields().name, 42).send().await;
    let _ = store.patch(urn).add(Job::fields().name, 1).send().await;
}

fn main() {}
