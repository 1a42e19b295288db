// `Job`'s declared parent is `JobCollection`: creating one under an `Account` names it.
use ddbrel_runtime::{Store, Stored};
use entities::{Account, Job};

async fn create(store: &Store, account: &Stored<Account>, job: Job) {
    let _ = store.create_child(account, job).await;
}

fn main() {}
