// An entity in another crate can be the parent or a collection member of a local one.
use ddbrel_runtime::{Child, Entity, MemberOf};
use serde::{Deserialize, Serialize};

/// A report filed under a job collection of the `entities` crate.
#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.JobCollection.Report")]
#[parent(entities::JobCollection)]
#[account_scoped]
pub struct Report {
    #[unique(scope = parent, case_insensitive)]
    pub title: String,
}

/// A local collection holding the `entities` crate's jobs and users.
#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Board")]
#[parent(entities::Account)]
#[account_scoped]
#[collection(
    of(entities::Job, entities::User, Report),
    conveys_authorization = false
)]
pub struct Board {
    pub name: String,
}

fn is_child_of<C: Child<Parent = P>, P: Entity>() {}
fn is_member<C: ddbrel_runtime::Collection, M: MemberOf<C>>() {}

fn main() {
    is_child_of::<Report, entities::JobCollection>();
    is_member::<Board, entities::Job>();
    is_member::<Board, entities::User>();
    is_member::<Board, Report>();
    assert_eq!(
        Board::descriptor().collection.unwrap().members,
        &[
            "System.Account.JobCollection.Job",
            "System.Account.User",
            "System.Account.JobCollection.Report"
        ]
    );
}
