// A child type cannot be created as a root, and only listed member types can join a
// collection. (Stand in for `Store::create::<E: Root>` and
// `Store::add_member::<C: Collection, M: MemberOf<C>>`.)
use ddbrel_runtime::{Collection, MemberOf, Root};
use entities::{Account, Job, Label, Team, User};

fn create<E: Root>(_data: E) {}
fn add_member<C: Collection, M: MemberOf<C>>() {}

fn main() {
    create(Account {
        name: "Acme".into(),
        slug: "acme".into(),
        plan: entities::Plan::Free,
    });
    create(User {
        email: "ada@example.com".into(),
        display_name: "Ada".into(),
    });
    add_member::<Team, User>();
    add_member::<Label, Job>();
    add_member::<Label, User>();
    add_member::<Account, User>();
}
