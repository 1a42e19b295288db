// Listing children needs the child type's declared parent: `Job`'s parent is `JobCollection`,
// not `Account`, and `Account` has no parent at all.
// (Stands in for `Store::children::<C: Child>(&Urn<C::Parent>)`.)
use ddbrel_runtime::{Child, Urn};
use entities::{Account, Job};

fn children<C: Child>(_parent: &Urn<C::Parent>) {}

fn main() {
    let account = Account::new_urn();
    children::<Job>(&account);
    children::<Account>(&account);
}
