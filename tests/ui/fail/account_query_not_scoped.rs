// Only `#[account_scoped]` types can be queried by account; `Account` is not one.
// (Stands in for `Store::account_page::<E: AccountScoped>(..)`.)
use ddbrel_runtime::AccountScoped;
use entities::{Account, User};

fn by_account<E: AccountScoped>() {}

fn main() {
    by_account::<User>();
    by_account::<Account>();
}
