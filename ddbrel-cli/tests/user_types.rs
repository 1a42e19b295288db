//! The CLI with an application's own entity types, in a domain of its own (`lib`):
//! - the shipped `ddbrel` binary knows them through the table's type registry
//!   (`Store::register`): `schema`, `find`, `--type`, `check` work, an unknown type is an
//!   error naming the known ones, and `migrate` says where migration runs;
//! - an admin binary built on `ddbrel_cli::main_from` with the types compiled in publishes
//!   and migrates them.
//!
//! Each test has its own SQLite file. The application's side runs in-process on the engine
//! over that file, which is stopped before the binary (or `main_from`) opens it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use assert_cmd::Command;
use ddbrel_runtime::embedded::Engine;
use ddbrel_runtime::{Entity, Item, Store, Stored};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tempfile::TempDir;

const TABLE: &str = "ddbrel";

mod v1 {
    use super::*;

    /// A shelf of a library: a root type of another domain.
    #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
    #[urn(domain = "lib", type = "Library.Shelf")]
    pub struct Shelf {
        pub name: String,
    }

    /// A book on a shelf, its ISBN unique on the shelf.
    #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
    #[urn(domain = "lib", type = "Library.Shelf.Book")]
    #[parent(Shelf)]
    pub struct Book {
        #[unique(scope = parent, case_insensitive)]
        pub isbn: String,
        pub title: String,
    }
}

mod v2 {
    pub use super::v1::Shelf;
    use super::*;

    /// Version 2 renamed `title` to `headline`.
    #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
    #[urn(domain = "lib", type = "Library.Shelf.Book")]
    #[entity(version = 2, migrate = upgrade)]
    #[parent(Shelf)]
    pub struct Book {
        #[unique(scope = parent, case_insensitive)]
        pub isbn: String,
        pub headline: String,
    }

    pub fn upgrade(from: u32, item: &mut Item) -> ddbrel_runtime::Result<()> {
        if from < 2
            && let Some(v) = item.remove("title")
        {
            item.insert("headline".into(), v);
        }
        Ok(())
    }
}

struct Db {
    dir: TempDir,
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Db {
    fn new() -> Db {
        Db {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("db.sqlite")
    }

    /// The shipped binary: `ddbrel --local <db> <args>`, which must exit with `code`.
    #[track_caller]
    fn ddbrel(&self, args: &[&str], code: i32) -> Run {
        let out = Command::cargo_bin("ddbrel")
            .expect("the ddbrel binary")
            .current_dir(self.dir.path())
            .env_remove("DDBREL_TABLE")
            .env_remove("DDBREL_ENDPOINT")
            .arg("--local")
            .arg(self.path())
            .args(args)
            .timeout(Duration::from_secs(120))
            .output()
            .expect("run ddbrel");
        let run = Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert_eq!(
            run.code,
            Some(code),
            "ddbrel {args:?}:\n{}\n{}",
            run.stdout,
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        run
    }

    /// An admin binary with `registry`, in-process.
    fn admin(&self, registry: ddbrel_cli::Registry, args: &[&str]) -> ExitCode {
        let path = self.path();
        let mut all = vec![
            "ddbrel-admin",
            "--local",
            path.to_str().expect("UTF-8 path"),
        ];
        all.extend_from_slice(args);
        ddbrel_cli::main_from(registry, all)
    }

    /// Runs `f` with a store on the engine over the file, then stops the engine.
    fn app<F, Fut, T>(&self, f: F) -> T
    where
        F: FnOnce(Store) -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        on_engine(&self.path(), f)
    }
}

fn on_engine<F, Fut, T>(path: &Path, f: F) -> T
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let out = rt.block_on(async {
        let engine = Engine::file(path).await.expect("open the SQLite file");
        let store = Store::new(engine.client(), TABLE);
        store.create_table().await.expect("create the table");
        let out = f(store).await;
        drop(engine);
        out
    });
    drop(rt);
    out
}

/// A shelf with one book, written by the application at version 1, its types registered.
fn library(db: &Db) -> (Stored<v1::Shelf>, Stored<v1::Book>) {
    db.app(|store| async move {
        store.register::<v1::Shelf>().await.unwrap();
        store.register::<v1::Book>().await.unwrap();
        let shelf = store
            .create(v1::Shelf {
                name: "Poetry".into(),
            })
            .await
            .unwrap();
        let book = store
            .create_child(
                &shelf,
                v1::Book {
                    isbn: "978-0-14-118776-1".into(),
                    title: "Leaves of Grass".into(),
                },
            )
            .await
            .unwrap();
        (shelf, book)
    })
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn the_shipped_binary_knows_registered_types_of_another_domain() {
    let db = Db::new();
    let (shelf, book) = library(&db);
    let shelf_urn = shelf.urn.to_string();

    // The registry, as published.
    let listed = json_lines(&db.ddbrel(&["--json", "schema"], 0).stdout);
    let registered: Vec<&Value> = listed.iter().filter(|t| t["domain"] == "lib").collect();
    assert_eq!(registered.len(), 2, "{listed:?}");
    let b = registered
        .iter()
        .find(|t| t["typeName"] == "Book")
        .expect("Book listed");
    assert_eq!(b["source"], "table");
    assert_eq!(b["parent"], "Library.Shelf");
    assert_eq!(b["unique"][0]["scope"], "parent");
    assert_eq!(b["unique"][0]["caseInsensitive"], true);

    // Lookup by unique value, in another case: the registry carries the case rule.
    let found = db.ddbrel(
        &[
            "--json",
            "find",
            "Book",
            "isbn",
            "978-0-14-118776-1".to_uppercase().as_str(),
            "--scope",
            &shelf_urn,
        ],
        0,
    );
    assert!(found.stdout.contains(book.urn.as_str()), "{}", found.stdout);
    assert!(found.stdout.contains("Leaves of Grass"));

    // --type by Rust name and by domain:type.
    for name in ["book", "lib:Library.Shelf.Book"] {
        let children = db.ddbrel(&["children", &shelf_urn, "--type", name], 0);
        assert!(children.stdout.contains(book.urn.as_str()), "{name}");
    }
    // An unknown type is an error that names the known ones.
    let unknown = db.ddbrel(&["children", &shelf_urn, "--type", "Magazine"], 1);
    assert!(
        unknown.stderr.contains("unknown type \"Magazine\""),
        "{}",
        unknown.stderr
    );
    assert!(
        unknown.stderr.contains("Book (Library.Shelf.Book)"),
        "{}",
        unknown.stderr
    );

    // The integrity check holds the resources to their registered declarations.
    let check = db.ddbrel(&["check"], 0);
    assert!(check.stdout.contains(": 0 findings"), "{}", check.stdout);

    // Migration runs the type's own code, which this binary does not have.
    let migrate = db.ddbrel(&["migrate", "--type", "Book"], 1);
    assert!(
        migrate.stderr.contains("ddbrel_cli::main"),
        "{}",
        migrate.stderr
    );

    // A JSON Schema for readers in other languages.
    let schema: Value = serde_json::from_str(&db.ddbrel(&["schema", "json-schema"], 0).stdout)
        .expect("one JSON document");
    let def = &schema["$defs"]["lib:Library.Shelf.Book"];
    assert_eq!(
        def["properties"]["_resourceType"]["const"],
        "Library.Shelf.Book"
    );
    let required: Vec<&str> = def["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(required.contains(&"_parentUrn"), "{required:?}");
    assert!(def["properties"]["isbn"].is_object());
    assert_eq!(
        def["properties"]["PK"]["pattern"],
        "^urn:lib:Library\\.Shelf\\.Book::"
    );
}

#[test]
fn an_admin_binary_publishes_and_migrates_its_own_types() {
    let db = Db::new();
    let (_, book) = library(&db);
    let registry = || {
        ddbrel_cli::Registry::new()
            .entity::<v2::Shelf>()
            .entity::<v2::Book>()
    };

    // Version-2 items exist before version 2 is registered: the check names the lag (I10).
    db.app(|store| async move {
        let shelf = store
            .create(v2::Shelf {
                name: "Prose".into(),
            })
            .await
            .unwrap();
        store
            .create_child(
                &shelf,
                v2::Book {
                    isbn: "978-0-14-303943-3".into(),
                    headline: "Moby-Dick".into(),
                },
            )
            .await
            .unwrap();
    });
    let stale = db.ddbrel(&["--json", "check"], 3);
    assert!(
        stale.stdout.contains("\"invariant\":\"I10\"")
            && stale.stdout.contains("Library.Shelf.Book"),
        "{}",
        stale.stdout
    );

    // The admin binary publishes version 2; the check passes again.
    assert_eq!(
        db.admin(registry(), &["schema", "register"]),
        ExitCode::SUCCESS
    );
    db.ddbrel(&["check"], 0);
    let listed = json_lines(&db.ddbrel(&["--json", "schema"], 0).stdout);
    let b = listed
        .iter()
        .find(|t| t["resourceType"] == "Library.Shelf.Book")
        .expect("Book listed");
    assert_eq!(b["schemaVersion"], 2);

    // And migrates the version-1 book with its own code.
    assert_eq!(db.admin(registry(), &["migrate"]), ExitCode::SUCCESS);
    let raw = db.app(|store| async move {
        store
            .get_item(book.urn.as_str(), book.urn.as_str())
            .await
            .unwrap()
            .expect("the book")
    });
    assert_eq!(raw["_schemaVersion"].as_n().unwrap(), "2");
    assert_eq!(raw["headline"].as_s().unwrap(), "Leaves of Grass");
    assert!(!raw.contains_key("title"));

    // The shipped binary refuses to publish: it has no application types.
    let refused = db.ddbrel(&["schema", "register"], 1);
    assert!(
        refused.stderr.contains("no application types"),
        "{}",
        refused.stderr
    );
}
