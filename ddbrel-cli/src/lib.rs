//! `ddbrel`: operate a ddbrel table from the command line.
//!
//! With no location option it runs on the embedded engine backed by a local SQLite file, so
//! every command works on a fresh machine; `--endpoint` points it at any DynamoDB-compatible
//! endpoint and `--aws` at real DynamoDB.
//!
//! The shipped `ddbrel` binary knows the sample types and every type an application has
//! published into the table's type registry (`Store::register`): those can be listed,
//! searched and checked. An application's own admin binary is the same CLI with its types
//! compiled in, which can also migrate them and publish them:
//!
//! ```no_run
//! # use ddbrel_runtime::Entity;
//! # use serde::{Deserialize, Serialize};
//! # #[derive(Clone, Serialize, Deserialize, Entity)]
//! # #[urn(domain = "lib", type = "Library.Shelf")]
//! # pub struct Shelf { pub name: String }
//! fn main() -> std::process::ExitCode {
//!     ddbrel_cli::main(ddbrel_cli::Registry::new().entity::<Shelf>())
//! }
//! ```

// First, so that `say!` is defined for every module below.
#[macro_use]
mod output;

mod commands;
mod context;
mod failure;
mod parse;
mod progress;
mod prompt;
mod registry;
mod types;

pub use registry::Registry;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::commands::schema::SchemaAction;
use crate::commands::table::TableAction;
use crate::commands::{
    check, delete, demo, find, migrate, queries, schema, serve, table, transfer,
};
use crate::context::{Location, connect};
use crate::failure::Failure;

/// Operate a ddbrel table: demo, queries, cascading delete, integrity check and repair,
/// export and import, migration.
#[derive(Parser, Debug)]
#[command(name = "ddbrel", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    location: Location,

    /// Table name.
    #[arg(long, global = true, env = "DDBREL_TABLE", default_value = "ddbrel")]
    table: String,

    /// Print one JSON object per line instead of tables.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create, describe or delete the table, or print its CloudFormation definition.
    Table {
        #[command(subcommand)]
        action: TableAction,
    },
    /// The entity types: this binary's and the table's type registry (`schema`), their
    /// publication into the table (`schema register`), or a JSON Schema of their records.
    Schema {
        #[command(subcommand)]
        action: Option<SchemaAction>,
    },
    /// Build sample data and walk through every access pattern with its request count.
    Demo {
        /// Keep the sample data (the cascade at the end then deletes one collection only).
        #[arg(long)]
        keep: bool,
    },
    /// A resource by URN.
    Get { urn: String },
    /// The parent of a resource.
    Parent { urn: String },
    /// The children of a resource.
    Children {
        urn: String,
        /// Only children of this type (Rust name, e.g. `Job`, or resource type).
        #[arg(long = "type", value_name = "TYPE")]
        type_: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// The members of a collection.
    Members {
        urn: String,
        #[command(flatten)]
        page: PageArgs,
    },
    /// The collections holding a resource (InvertedIndex, eventually consistent).
    Collections {
        urn: String,
        #[command(flatten)]
        page: PageArgs,
    },
    /// The ancestors of a resource, root first.
    Ancestors { urn: String },
    /// The authorization scope of a resource.
    Scope { urn: String },
    /// The resources of a root type, e.g. every Account (a Query per listing shard of the
    /// InvertedIndex, merged; eventually consistent).
    Roots {
        /// The root type (Rust name, e.g. `Account`, or resource type).
        #[arg(long = "type", value_name = "TYPE")]
        type_: String,
        /// Newest first.
        #[arg(long)]
        newest: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// The resources of an account (ResourcesByAccountIndex, eventually consistent).
    Account {
        urn: String,
        /// Only resources of this type.
        #[arg(long = "type", value_name = "TYPE")]
        type_: Option<String>,
        /// Newest first.
        #[arg(long)]
        newest: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Look a resource up by a unique value.
    Find {
        /// Entity type (Rust name or resource type).
        #[arg(value_name = "TYPE")]
        type_: String,
        /// Constraint name.
        constraint: String,
        /// The value (several for a composite constraint).
        #[arg(required = true)]
        values: Vec<String>,
        /// The account or parent URN for scoped constraints.
        #[arg(long)]
        scope: Option<String>,
    },
    /// Delete a resource and everything that depends on it (resumable).
    Delete {
        urn: String,
        /// Print what would be deleted, by kind and count, and delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// Audit the whole table against SCHEMA.md (parallel Scan), in memory that does not grow
    /// with the table.
    Check {
        /// Fix what is safe to fix, and say what was done.
        #[arg(long)]
        repair: bool,
        /// Parallel scan segments.
        #[arg(long, default_value_t = 4)]
        segments: u32,
        /// Audit this DynamoDB export (a point-in-time snapshot: the directory holding
        /// `AWSDynamoDB/`, or the export's own directory) instead of scanning the live table;
        /// `--repair` still repairs the live table.
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
        /// Hold the whole table in memory and check it there (about 3.6 KB per record),
        /// instead of running the SQL checks (specs/checks/) on an embedded SQLite database
        /// on disk, the default. Same findings, fixes, output and exit status.
        #[arg(long)]
        in_memory: bool,
        /// The SQL checks, the default (accepted for scripts written before it was).
        #[arg(long, hide = true, conflicts_with = "in_memory")]
        sql: bool,
        /// Print the SQL checks with the views for ENGINE (sqlite, trino or athena, spark),
        /// to run over a DynamoDB export on that engine, and exit (reads no table).
        #[arg(long, value_name = "ENGINE", value_parser = ["sqlite", "trino", "athena", "spark"])]
        print_sql: Option<String>,
    },
    /// Write the whole table as JSON lines (DynamoDB JSON), or with `--dynamodb-export` as a
    /// directory in the layout of DynamoDB's point-in-time exports.
    Export {
        file: PathBuf,
        /// Write the layout of DynamoDB's table exports (manifests and gzip data files)
        /// under FILE, a directory, so `check --export` and other export readers can read it.
        #[arg(long)]
        dynamodb_export: bool,
    },
    /// Load JSON lines written by `export` (idempotent).
    Import { file: PathBuf },
    /// Rewrite resources written at older schema versions.
    Migrate {
        /// Only this type.
        #[arg(long = "type", value_name = "TYPE")]
        type_: Option<String>,
        /// Parallel scan segments.
        #[arg(long, default_value_t = 4)]
        segments: u32,
    },
    /// Serve the embedded engine on a loopback port until interrupted (for other tools and
    /// for running the test suite against a separate server).
    Serve {
        /// Port (0 picks a free one).
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Keep data in memory instead of the SQLite file.
        #[arg(long)]
        memory: bool,
    },
}

/// Paging options.
#[derive(Args, Debug, Clone)]
struct PageArgs {
    /// DynamoDB's page limit (items read), at least 1.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    limit: Option<u32>,
    /// The cursor printed with the previous page.
    #[arg(long)]
    cursor: Option<String>,
}

impl PageArgs {
    fn request(&self) -> ddbrel_runtime::PageRequest {
        ddbrel_runtime::PageRequest {
            limit: self.limit,
            cursor: self.cursor.clone(),
        }
    }
}

async fn run(cli: Cli, registry: Registry) -> Result<(), Failure> {
    // Only `table create` and the demo (the README's first command, on a fresh machine)
    // create a table: any other command on a table that does not exist says so, so that a
    // mistyped `--table` never leaves an empty table behind.
    let auto_create = matches!(cli.command, Command::Demo { .. });
    if let Command::Serve { port, memory } = &cli.command {
        return serve::serve(&cli.location, *port, *memory).await;
    }
    if let Command::Check {
        print_sql: Some(engine),
        ..
    } = &cli.command
    {
        return check::print_sql(engine);
    }
    let ctx = connect(&cli.location, &cli.table, cli.json, auto_create, registry).await?;
    match cli.command {
        Command::Table { action } => table::table(&ctx, action).await,
        Command::Schema { action } => schema::schema(&ctx, action).await,
        Command::Demo { keep } => demo::run(&ctx, keep).await,
        Command::Get { urn } => queries::get(&ctx, &urn).await,
        Command::Parent { urn } => queries::parent(&ctx, &urn).await,
        Command::Children { urn, type_, page } => {
            queries::children(&ctx, &urn, type_.as_deref(), page.request()).await
        }
        Command::Members { urn, page } => queries::members(&ctx, &urn, page.request()).await,
        Command::Collections { urn, page } => {
            queries::collections(&ctx, &urn, page.request()).await
        }
        Command::Ancestors { urn } => queries::ancestors(&ctx, &urn).await,
        Command::Scope { urn } => queries::scope(&ctx, &urn).await,
        Command::Roots {
            type_,
            newest,
            page,
        } => queries::roots(&ctx, &type_, newest, page.request()).await,
        Command::Account {
            urn,
            type_,
            newest,
            page,
        } => queries::account(&ctx, &urn, type_.as_deref(), newest, page.request()).await,
        Command::Find {
            type_,
            constraint,
            values,
            scope,
        } => find::find(&ctx, &type_, &constraint, values, scope.as_deref()).await,
        Command::Delete { urn, dry_run, yes } => delete::delete(&ctx, &urn, dry_run, yes).await,
        Command::Check {
            repair,
            segments,
            export,
            in_memory,
            sql: _,
            print_sql: _,
        } => check::check(&ctx, repair, segments, export.as_deref(), in_memory).await,
        Command::Export {
            file,
            dynamodb_export: false,
        } => transfer::export(&ctx, &file).await,
        Command::Export {
            file,
            dynamodb_export: true,
        } => transfer::export_dynamodb(&ctx, &file).await,
        Command::Import { file } => transfer::import(&ctx, &file).await,
        Command::Migrate { type_, segments } => {
            migrate::migrate(&ctx, type_.as_deref(), segments).await
        }
        Command::Serve { .. } => Ok(()),
    }
}

/// Runs the CLI on the process's arguments with the entity types of `registry`, and returns
/// the exit status: 0 on success, 2 on a usage error, 3 when `check` has findings, 1 on any
/// other failure (the message is printed to stderr).
pub fn main(registry: Registry) -> ExitCode {
    main_from(registry, std::env::args_os())
}

/// [`main`] on the given arguments (the first is the program name).
pub fn main_from<I, T>(registry: Registry, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0, usage errors to stderr with 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ddbrel: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let endpoint = cli.location.endpoint.clone();
    let result = runtime.block_on(run(cli, registry)).map_err(|mut f| {
        if let Some(ep) = endpoint
            && (f.message.contains("dispatch failure") || f.message.contains("timeout"))
        {
            f.message = format!("cannot reach {ep}: {}", f.message);
        }
        f
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("ddbrel: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}
