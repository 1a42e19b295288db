// A filter on one entity's fields cannot narrow a listing of another entity.
use ddbrel_runtime::{Order, PageRequest, Store, urn::Urn};
use entities::{Account, Job, User};

async fn list(store: &Store, account: &Urn<Account>) {
    let by_email = User::fields().email.equals("ada@example.com".to_string());
    let _ = store
        .by_account_where::<Job>(account, &by_email, Order::OldestFirst, PageRequest::all())
        .await;
}

fn main() {}
