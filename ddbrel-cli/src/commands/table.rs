//! `ddbrel table`: create, describe or delete the table, or print its definition.

use clap::Subcommand;
use ddbrel_runtime::schema;

use crate::context::Ctx;
use crate::failure::Failure;
use crate::output;
use crate::prompt::confirm;

/// What `ddbrel table` does.
#[derive(Subcommand, Debug)]
pub enum TableAction {
    /// Create the table (fine if it exists with the same definition), and publish this
    /// binary's application types into its type registry.
    Create,
    /// Show the table's status and indexes.
    Describe,
    /// Delete the table and everything in it.
    Delete {
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// Print the table as a CloudFormation `AWS::DynamoDB::Table` resource.
    Definition,
}

/// Runs one `ddbrel table` action.
pub async fn table(ctx: &Ctx, action: TableAction) -> Result<(), Failure> {
    let store = &ctx.store;
    match action {
        TableAction::Create => {
            store.create_table().await?;
            say!("table {} is ready", store.table());
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
        TableAction::Delete { yes } => {
            if !yes
                && !confirm(&format!(
                    "Delete table {} and everything in it?",
                    store.table()
                ))?
            {
                return Err(Failure::new("not deleted"));
            }
            store.delete_table().await?;
            say!("table {} deleted", store.table());
        }
        TableAction::Definition => {
            let mut resources = serde_json::Map::new();
            resources.insert(
                "DdbrelTable".to_string(),
                schema::cloudformation(store.table()),
            );
            output::value(ctx.json, &serde_json::json!({ "Resources": resources }));
        }
    }
    Ok(())
}
