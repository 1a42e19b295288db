use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

// `Report`'s URN type says its parent is a `System.Account.JobCollection`, but
// `#[parent(..)]` names the `Account` (`System.Account`).
#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.JobCollection.Report")]
#[parent(entities::Account)]
pub struct Report {
    pub title: String,
}

fn main() {}
