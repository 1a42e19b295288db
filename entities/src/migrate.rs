//! Eager schema migration of every entity type of this crate, for `ddbrel migrate`.

use ddbrel_runtime::{Entity, MigrationReport, Result, Store};

use crate::{Account, Job, JobCollection, Label, Team, User};

/// Runs [`Store::migrate`] for every type of this crate (or only the one whose resource type
/// is `only`), returning each type's report.
pub async fn migrate_all(
    store: &Store,
    only: Option<&str>,
    segments: u32,
) -> Result<Vec<(&'static str, MigrationReport)>> {
    let mut out = Vec::new();
    macro_rules! each {
        ($($t:ty),*) => {$(
            if only.is_none_or(|o| o == <$t as Entity>::RESOURCE_TYPE) {
                out.push((
                    <$t as Entity>::descriptor().type_name,
                    store.migrate::<$t>(segments, None).await?,
                ));
            }
        )*};
    }
    each!(Account, User, JobCollection, Job, Team, Label);
    Ok(out)
}
