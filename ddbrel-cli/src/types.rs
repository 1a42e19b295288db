//! Resolving type names given on the command line, against the types compiled into this
//! binary ([`Registry`]) and those published in the table's type registry.

use ddbrel_runtime::TypeSchema;
use ddbrel_runtime::urn::type_prefix;

use crate::context::Ctx;
use crate::failure::Failure;
use crate::registry::MigrateFn;

/// Where a type is known from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Compiled into this binary only.
    Binary,
    /// In the table's type registry only.
    Table,
    /// Both.
    Both,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Binary => "binary",
            Source::Table => "table",
            Source::Both => "binary+table",
        }
    }
}

/// A type known by name.
pub struct KnownType {
    pub schema: TypeSchema,
    pub source: Source,
    /// Its migration, when compiled in.
    pub migrate: Option<MigrateFn>,
}

/// Every known type: this binary's in its order, then the table registry's others, by
/// domain and type.
pub struct Known {
    pub types: Vec<KnownType>,
}

impl Ctx {
    /// This binary's types and the table's registered ones (one Query of the registry).
    pub async fn known_types(&self) -> Result<Known, Failure> {
        let mut types: Vec<KnownType> = self
            .registry
            .entries
            .iter()
            .map(|e| KnownType {
                schema: TypeSchema::from(e.descriptor),
                source: Source::Binary,
                migrate: Some(e.migrate),
            })
            .collect();
        // This binary's types in its order (parents before children), then the others.
        for schema in self.store.registered_types().await? {
            match types
                .iter_mut()
                .find(|t| t.schema.sort_key() == schema.sort_key())
            {
                // This binary's declaration is what its code writes.
                Some(t) => t.source = Source::Both,
                None => types.push(KnownType {
                    schema,
                    source: Source::Table,
                    migrate: None,
                }),
            }
        }
        Ok(Known { types })
    }
}

impl Known {
    /// The type named `name`: its resource type (`System.Account.JobCollection.Job`), its
    /// domain and resource type (`pp:System.Account`), or its Rust name in any case (`job`)
    /// when only one known type has it.
    pub fn require(&self, name: &str) -> Result<&KnownType, Failure> {
        let exact: Vec<&KnownType> = self
            .types
            .iter()
            .filter(|t| {
                t.schema.resource_type == name
                    || format!("{}:{}", t.schema.domain, t.schema.resource_type) == name
            })
            .collect();
        let by_name: Vec<&KnownType> = self
            .types
            .iter()
            .filter(|t| t.schema.type_name.eq_ignore_ascii_case(name))
            .collect();
        let found = if exact.is_empty() { by_name } else { exact };
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(Failure::new(format!(
                "unknown type {name:?}: known types are {}. A type of your application is known \
                 once it is registered in the table (`Store::register`, or `ddbrel schema \
                 register` from an admin binary built on `ddbrel_cli::main`)",
                self.names()
            ))),
            several => Err(Failure::new(format!(
                "type {name:?} is ambiguous: {}; name it as domain:ResourceType",
                several
                    .iter()
                    .map(|t| format!("{}:{}", t.schema.domain, t.schema.resource_type))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The key-condition prefix (ending in `::`) of a known type.
    pub fn prefix(&self, name: &str) -> Result<String, Failure> {
        let t = self.require(name)?;
        Ok(type_prefix(&t.schema.domain, &t.schema.resource_type))
    }

    /// The known types, for messages.
    pub fn names(&self) -> String {
        if self.types.is_empty() {
            return "none".into();
        }
        self.types
            .iter()
            .map(|t| format!("{} ({})", t.schema.type_name, t.schema.resource_type))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
