// A `Urn<Account>` where a `Urn<Job>` is required is a type error.
use ddbrel_runtime::Urn;
use entities::{Account, Job};

fn pause_job(_job: &Urn<Job>) {}

fn main() {
    let account: Urn<Account> = Account::new_urn();
    pause_job(&account);
}
