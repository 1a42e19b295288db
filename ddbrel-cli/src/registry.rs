//! The entity types a `ddbrel` binary is built with: the sample types in the shipped binary,
//! the application's own in an admin binary built on [`crate::main`].

use std::future::Future;
use std::pin::Pin;

use ddbrel_runtime::{Entity, EntityDescriptor, MigrationReport, Result, Store};

/// Runs [`Store::migrate`] for one type.
pub(crate) type MigrateFn =
    for<'a> fn(
        &'a Store,
        u32,
    ) -> Pin<Box<dyn Future<Output = Result<MigrationReport>> + Send + 'a>>;

/// The entity types compiled into a `ddbrel` binary. Types known here can be searched,
/// listed and migrated (migration runs the type's own `migrate` code); types only in the
/// table's type registry can be searched and listed, not migrated.
///
/// ```no_run
/// # use ddbrel_runtime::Entity;
/// # use serde::{Deserialize, Serialize};
/// #[derive(Clone, Serialize, Deserialize, Entity)]
/// #[urn(domain = "lib", type = "Library.Shelf")]
/// pub struct Shelf {
///     pub name: String,
/// }
///
/// fn main() -> std::process::ExitCode {
///     ddbrel_cli::main(ddbrel_cli::Registry::new().entity::<Shelf>())
/// }
/// ```
#[derive(Default)]
pub struct Registry {
    pub(crate) entries: Vec<Entry>,
}

pub(crate) struct Entry {
    pub(crate) descriptor: &'static EntityDescriptor,
    pub(crate) migrate: MigrateFn,
    /// Published into the table by `table create` and `schema register` (the application's
    /// types; not the sample types of the shipped binary).
    pub(crate) publish: bool,
}

fn migrate_one<E: Entity + Clone>(
    store: &Store,
    segments: u32,
) -> Pin<Box<dyn Future<Output = Result<MigrationReport>> + Send + '_>> {
    Box::pin(store.migrate::<E>(segments, None))
}

impl Registry {
    /// No types.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds an entity type (a type added twice is kept once).
    pub fn entity<E: Entity + Clone>(self) -> Registry {
        self.with::<E>(true)
    }

    /// The sample types of the `entities` crate, which the shipped `ddbrel` binary knows and
    /// `ddbrel demo` uses. They are published into a table only by the demo.
    pub fn samples() -> Registry {
        use entities::{Account, Job, JobCollection, Label, Team, User};
        Registry::new()
            .with::<Account>(false)
            .with::<User>(false)
            .with::<JobCollection>(false)
            .with::<Job>(false)
            .with::<Team>(false)
            .with::<Label>(false)
    }

    fn with<E: Entity + Clone>(mut self, publish: bool) -> Registry {
        let d = E::descriptor();
        if !self.entries.iter().any(|e| {
            e.descriptor.resource_type == d.resource_type && e.descriptor.domain == d.domain
        }) {
            self.entries.push(Entry {
                descriptor: d,
                migrate: migrate_one::<E>,
                publish,
            });
        }
        self
    }

    /// The descriptors this binary publishes into a table.
    pub(crate) fn published(&self) -> Vec<&'static EntityDescriptor> {
        self.entries
            .iter()
            .filter(|e| e.publish)
            .map(|e| e.descriptor)
            .collect()
    }
}
