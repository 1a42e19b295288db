//! `ddbrel table`: create, describe or delete the table, or print its definition.

use clap::Subcommand;
use ddbrel_runtime::schema;
use ddbrel_runtime::{Recovery, TableOptions};

use crate::context::Ctx;
use crate::failure::Failure;
use crate::output;
use crate::prompt::confirm;

/// What `ddbrel table` does.
#[derive(Subcommand, Debug)]
pub enum TableAction {
    /// Create the table (fine if it exists with the same definition), with deletion
    /// protection and point-in-time recovery on, and publish this binary's application types
    /// into its type registry.
    Create {
        #[command(flatten)]
        options: TableFlags,
    },
    /// Show the table's status and indexes.
    Describe,
    /// Delete the table and everything in it (refused while deletion protection is on).
    Delete {
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
        /// Turn deletion protection off first.
        #[arg(long)]
        unprotect: bool,
    },
    /// Print the table as a CloudFormation `AWS::DynamoDB::Table` resource.
    Definition {
        #[command(flatten)]
        options: TableFlags,
    },
}

/// The opt-outs of a new table's safety settings.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct TableFlags {
    /// Leave deletion protection off (DeleteTable then needs no extra step).
    #[arg(long)]
    no_deletion_protection: bool,
    /// Leave point-in-time recovery off (no continuous backups; DynamoDB's exports need it).
    #[arg(long)]
    no_point_in_time_recovery: bool,
}

impl TableFlags {
    fn options(self) -> TableOptions {
        TableOptions {
            deletion_protection: !self.no_deletion_protection,
            point_in_time_recovery: !self.no_point_in_time_recovery,
        }
    }
}

/// Runs one `ddbrel table` action.
pub async fn table(ctx: &Ctx, action: TableAction) -> Result<(), Failure> {
    let store = &ctx.store;
    match action {
        TableAction::Create { options } => {
            let setup = store.create_table_with(options.options()).await?;
            let on_off = |b: bool| if b { "on" } else { "off" };
            let recovery = match setup.recovery {
                Recovery::Enabled => "on",
                Recovery::Disabled => "off",
                Recovery::Unsupported => "not supported by this engine",
            };
            say!(
                "table {} is ready ({}): deletion protection {}, point-in-time recovery {recovery}",
                store.table(),
                if setup.created { "created" } else { "existed" },
                on_off(setup.deletion_protection),
            );
            let published = ctx.registry.published();
            if !published.is_empty() {
                let r = store.register_types(&published).await?;
                say!(
                    "type registry: {} written, {} unchanged",
                    r.written.len(),
                    r.unchanged.len()
                );
            }
        }
        TableAction::Describe => {
            let d = store.describe_table().await?;
            output::rows(
                ctx.json,
                &["table", "status", "items", "bytes", "indexes"],
                &[vec![
                    d.name.into(),
                    d.status.into(),
                    d.item_count.into(),
                    d.size_bytes.into(),
                    d.indexes.join(",").into(),
                ]],
            );
        }
        TableAction::Delete { yes, unprotect } => {
            if !yes
                && !confirm(&format!(
                    "Delete table {} and everything in it?",
                    store.table()
                ))?
            {
                return Err(Failure::new("not deleted"));
            }
            if unprotect {
                store.set_deletion_protection(false).await?;
            }
            store.delete_table().await?;
            say!("table {} deleted", store.table());
        }
        TableAction::Definition { options } => {
            let mut resources = serde_json::Map::new();
            resources.insert(
                "DdbrelTable".to_string(),
                schema::cloudformation_with(store.table(), &options.options()),
            );
            output::value(ctx.json, &serde_json::json!({ "Resources": resources }));
        }
    }
    Ok(())
}
