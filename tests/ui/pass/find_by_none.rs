// A lookup whose value holds no key (`None`) answers `Ok(None)` without a request: the store
// here points at a closed port, so any request would fail.
use ddbrel_runtime::{Entity, Store};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "Person")]
#[unique(fields(first_name, nickname), name = "first_nick")]
pub struct Person {
    #[unique]
    pub email: Option<String>,
    pub first_name: String,
    pub nickname: Option<String>,
}

fn main() {
    let store = Store::local("http://127.0.0.1:9", "no-such-table");
    let found = futures::executor::block_on(Person::find_by_email(&store, None::<String>));
    assert!(matches!(found, Ok(None)));
    let found = futures::executor::block_on(Person::find_by_first_nick(
        &store,
        "Ada",
        Option::<&str>::None,
    ));
    assert!(matches!(found, Ok(None)));
}
