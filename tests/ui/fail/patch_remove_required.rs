// Only an optional field can be removed: a required one would not read back.
use ddbrel_runtime::{Store, urn::Urn};
use entities::Job;

async fn patch(store: &Store, urn: &Urn<Job>) {
    let _ = store.patch(urn).remove(Job::fields().schedule).send().await;
    let _ = store.patch(urn).remove(Job::fields().name).send().await;
}

fn main() {}
