//! End-to-end tests of the `ddbrel` binary on the embedded engine.
//!
//! Every test works in its own temporary directory with its own SQLite file (`--local`).
//! Tests that query known data build it in-process first: they open the same SQLite file with
//! [`Engine::file`], create resources through the store, stop the engine and then run the
//! binary against the file.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use ddbrel_runtime::embedded::Engine;
use entities::{Account, Job, JobCollection, JobStatus, Label, Plan, Team, User};
use serde_json::{Map, Value};
use tempfile::TempDir;

/// A temporary directory holding the test's SQLite file.
struct Env {
    dir: TempDir,
}

impl Env {
    fn new() -> Self {
        Env {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("db.sqlite")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `ddbrel --local <db> <args>`, run in the temporary directory.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("ddbrel").expect("the ddbrel binary");
        cmd.current_dir(self.dir.path())
            .env_remove("DDBREL_TABLE")
            .env_remove("DDBREL_ENDPOINT")
            .arg("--local")
            .arg(self.db())
            .args(args)
            .timeout(Duration::from_secs(120));
        cmd
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        run_ok(self.cmd(args), args)
    }

    /// Runs a command that must fail with `code`; returns its stderr (checked to be one clean
    /// line).
    fn fails(&self, args: &[&str], code: i32) -> String {
        run_fails(self.cmd(args), args, code)
    }
}

fn run_ok(mut cmd: Command, what: &[&str]) -> String {
    let out = cmd.output().expect("run ddbrel");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "ddbrel {what:?} failed with {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status.code()
    );
    assert_no_panic(&stderr, what);
    stdout
}

fn run_fails(mut cmd: Command, what: &[&str], code: i32) -> String {
    let out = cmd.output().expect("run ddbrel");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "ddbrel {what:?}: wrong exit status\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_no_panic(&stderr, what);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "ddbrel {what:?}: stderr should be one line:\n{stderr}"
    );
    assert!(
        lines[0].starts_with("ddbrel: "),
        "ddbrel {what:?}: stderr should start with `ddbrel: `:\n{stderr}"
    );
    stderr.trim().to_string()
}

fn assert_no_panic(stderr: &str, what: &[&str]) {
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        assert!(
            !stderr.contains(bad),
            "ddbrel {what:?}: stderr holds {bad:?}:\n{stderr}"
        );
    }
}

/// Parses every non-empty line of `stdout` as a JSON object holding at least `keys`.
fn json_lines(stdout: &str, keys: &[&str]) -> Vec<Map<String, Value>> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            let obj = v
                .as_object()
                .unwrap_or_else(|| panic!("not a JSON object: {line}"))
                .clone();
            for k in keys {
                assert!(obj.contains_key(*k), "no key {k:?} in {line}");
            }
            obj
        })
        .collect()
}

/// The string field `key` of each object.
fn field(rows: &[Map<String, Value>], key: &str) -> Vec<String> {
    rows.iter()
        .map(|r| {
            r[key]
                .as_str()
                .unwrap_or_else(|| panic!("{key} is not a string in {r:?}"))
                .to_string()
        })
        .collect()
}

/// The data rows of a human table (after the header), `(none)` giving no rows.
fn table_rows(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty() && *l != "(none)" && !l.starts_with("more: "))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// The `--cursor` printed after a human table, if any.
fn text_cursor(stdout: &str) -> Option<String> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("more: --cursor "))
        .map(str::to_string)
}

const SLUG: &str = "acme-cli-tests";

/// URNs of the sample data.
struct Sample {
    account: String,
    alice: String,
    bob: String,
    team: String,
    collection: String,
    /// Oldest first.
    jobs: Vec<String>,
    /// Holds `jobs[0]` and `jobs[1]`.
    label: String,
}

/// Builds in `db`: an account (slug [`SLUG`]) with users Alice and Bob in a team, a job
/// collection of five jobs and a label holding the first two jobs.
fn build_sample(db: &Path) -> Sample {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let sample = rt.block_on(async {
        let engine = Engine::file(db).await.expect("embedded engine");
        let store = engine.store("ddbrel").await.expect("store");
        let account = store
            .create(Account {
                name: "Acme Tests".into(),
                slug: SLUG.into(),
                plan: Plan::Team,
            })
            .await
            .expect("account");
        let alice = store
            .create_child(
                &account,
                User {
                    email: "alice@acme.example".into(),
                    display_name: "Alice".into(),
                },
            )
            .await
            .expect("alice");
        let bob = store
            .create_child(
                &account,
                User {
                    email: "Bob@Acme.example".into(),
                    display_name: "Bob".into(),
                },
            )
            .await
            .expect("bob");
        let team = store
            .create_child(
                &account,
                Team {
                    name: "admins".into(),
                },
            )
            .await
            .expect("team");
        store
            .add_member(&team, &alice)
            .await
            .expect("alice in team");
        store.add_member(&team, &bob).await.expect("bob in team");
        let collection = store
            .create_child(
                &account,
                JobCollection {
                    name: "nightly".into(),
                    description: None,
                },
            )
            .await
            .expect("collection");
        let mut jobs = Vec::new();
        for i in 0..5 {
            jobs.push(
                store
                    .create_child(
                        &collection,
                        Job {
                            name: format!("job-{i}"),
                            status: JobStatus::Active,
                            schedule: None,
                        },
                    )
                    .await
                    .expect("job"),
            );
        }
        let label = store
            .create_child(
                &account,
                Label {
                    name: "urgent".into(),
                    color: "#dd0000".into(),
                },
            )
            .await
            .expect("label");
        store.add_member(&label, &jobs[0]).await.expect("label 0");
        store.add_member(&label, &jobs[1]).await.expect("label 1");
        let sample = Sample {
            account: account.urn.to_string(),
            alice: alice.urn.to_string(),
            bob: bob.urn.to_string(),
            team: team.urn.to_string(),
            collection: collection.urn.to_string(),
            jobs: jobs.iter().map(|j| j.urn.to_string()).collect(),
            label: label.urn.to_string(),
        };
        drop(engine);
        sample
    });
    // Dropping the runtime ends the server task and closes the database.
    drop(rt);
    sample
}

fn sample_env() -> (Env, Sample) {
    let env = Env::new();
    let sample = build_sample(&env.db());
    (env, sample)
}

/// Every line of an export, each parsed and printed with sorted keys.
fn export_set(env: &Env, name: &str) -> (usize, BTreeSet<String>) {
    let file = env.path(name);
    let out = env.ok(&["export", file.to_str().unwrap()]);
    let text = std::fs::read_to_string(&file).expect("read the export");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        out.contains(&format!("exported {} records", lines.len())),
        "export said: {out}"
    );
    let set: BTreeSet<String> = lines
        .iter()
        .map(|l| canonical(&serde_json::from_str(l).expect("export line is JSON")))
        .collect();
    assert_eq!(set.len(), lines.len(), "an export holds each record once");
    (lines.len(), set)
}

/// JSON text with object keys sorted, whatever the map implementation.
fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&m[k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// table

#[test]
fn table_create_is_idempotent_and_describe_shows_both_indexes() {
    let env = Env::new();
    let out = env.ok(&["table", "create"]);
    assert!(out.contains("table ddbrel is ready (created)"), "{out}");
    // Safe by default; the embedded engine has no continuous backups to turn on.
    assert!(out.contains("deletion protection on"), "{out}");
    assert!(
        out.contains("point-in-time recovery not supported by this engine"),
        "{out}"
    );
    let out = env.ok(&["table", "create"]);
    assert!(out.contains("table ddbrel is ready (existed)"), "{out}");
    let out = env.ok(&[
        "--table",
        "scratch",
        "table",
        "create",
        "--no-deletion-protection",
        "--no-point-in-time-recovery",
    ]);
    assert!(
        out.contains("deletion protection off, point-in-time recovery off"),
        "{out}"
    );
    let out = env.ok(&["table", "describe"]);
    assert!(out.contains("ACTIVE"), "{out}");
    assert!(out.contains("InvertedIndex"), "{out}");
    assert!(out.contains("ResourcesByAccountIndex"), "{out}");

    let rows = json_lines(
        &env.ok(&["--json", "table", "describe"]),
        &["table", "status", "items", "bytes", "indexes"],
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["table"], "ddbrel");
    assert_eq!(rows[0]["status"], "ACTIVE");
    assert!(
        rows[0]["items"].is_u64() && rows[0]["bytes"].is_u64(),
        "JSON numbers: {rows:?}"
    );
    let indexes: BTreeSet<&str> = rows[0]["indexes"].as_str().unwrap().split(',').collect();
    assert_eq!(
        indexes,
        BTreeSet::from(["InvertedIndex", "ResourcesByAccountIndex"])
    );
}

#[test]
fn table_definition_is_a_cloudformation_table() {
    let env = Env::new();
    let out = env.ok(&["table", "definition"]);
    let v: Value = serde_json::from_str(&out).expect("the definition is JSON");
    let table = &v["Resources"]["DdbrelTable"];
    assert_eq!(table["Type"], "AWS::DynamoDB::Table", "{out}");
    let props = &table["Properties"];
    assert_eq!(props["BillingMode"], "PAY_PER_REQUEST", "{out}");
    assert_eq!(props["TableName"], "ddbrel", "{out}");
    assert_eq!(props["DeletionProtectionEnabled"], true, "{out}");
    assert_eq!(
        props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true,
        "{out}"
    );
    let gsis: BTreeSet<&str> = props["GlobalSecondaryIndexes"]
        .as_array()
        .expect("GlobalSecondaryIndexes")
        .iter()
        .map(|g| g["IndexName"].as_str().unwrap())
        .collect();
    assert_eq!(
        gsis,
        BTreeSet::from(["InvertedIndex", "ResourcesByAccountIndex"])
    );

    // With --json: the same document on one line, naming the --table.
    let out = env.ok(&["--json", "--table", "other-table", "table", "definition"]);
    let rows = json_lines(&out, &["Resources"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0]["Resources"]["DdbrelTable"]["Properties"]["TableName"],
        "other-table"
    );
    let out = env.ok(&[
        "table",
        "definition",
        "--no-deletion-protection",
        "--no-point-in-time-recovery",
    ]);
    let v: Value = serde_json::from_str(&out).expect("the definition is JSON");
    let props = &v["Resources"]["DdbrelTable"]["Properties"];
    assert_eq!(props["DeletionProtectionEnabled"], false, "{out}");
    assert_eq!(
        props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], false,
        "{out}"
    );
}

#[test]
fn table_delete_then_describe_fails_with_one_line() {
    let env = Env::new();
    env.ok(&["--table", "orders", "table", "create"]);

    // Without --yes and with nothing on stdin, nothing is deleted.
    env.cmd(&["--table", "orders", "table", "delete"])
        .write_stdin("")
        .assert()
        .failure();
    env.ok(&["--table", "orders", "table", "describe"]);

    // Deletion protection refuses, in one line that says how, and keeps the table.
    let err = env.fails(&["--table", "orders", "table", "delete", "--yes"], 1);
    assert!(err.contains("deletion protection"), "{err}");
    assert!(err.contains("--unprotect"), "{err}");
    env.ok(&["--table", "orders", "table", "describe"]);

    let out = env.ok(&[
        "--table",
        "orders",
        "table",
        "delete",
        "--yes",
        "--unprotect",
    ]);
    assert!(out.contains("table orders deleted"), "{out}");
    let err = env.fails(&["--table", "orders", "table", "describe"], 1);
    assert!(err.contains("orders"), "{err}");
    assert!(err.contains("does not exist"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// demo

#[test]
fn demo_prints_numbered_steps_and_cleans_up() {
    let env = Env::new();
    let out = env.ok(&["demo"]);
    let steps: Vec<usize> = out
        .lines()
        .filter_map(|l| {
            let (n, rest) = l.trim_start().split_once(". ")?;
            (!rest.is_empty()).then_some(n.parse().ok()?)
        })
        .collect();
    assert!(steps.len() >= 10, "few numbered steps:\n{out}");
    assert_eq!(steps, (1..=steps.len()).collect::<Vec<_>>(), "{out}");
    let requests = out
        .lines()
        .filter(|l| l.trim_start().starts_with("requests: "))
        .count();
    assert_eq!(requests, steps.len(), "one `requests:` per step:\n{out}");
    // Without --keep the cascade at the end deletes everything the demo made, and leaves
    // the sample types' declarations in the type registry.
    let after = env.path("after.jsonl");
    env.ok(&["export", after.to_str().unwrap()]);
    let left: Vec<Value> = std::fs::read_to_string(&after)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(left.len(), 6, "{left:?}");
    assert!(
        left.iter().all(|r| r["_type"]["S"] == "EntitySchema"),
        "{left:?}"
    );
}

#[test]
fn demo_json_gives_one_object_per_step() {
    let env = Env::new();
    let rows = json_lines(&env.ok(&["--json", "demo"]), &["step", "what", "requests"]);
    assert!(rows.len() >= 10);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["step"].as_u64(), Some(i as u64 + 1), "{row:?}");
        assert!(!row["what"].as_str().unwrap().is_empty(), "{row:?}");
        assert!(row["requests"].as_u64().is_some(), "{row:?}");
    }
}

#[test]
fn demo_keep_leaves_the_account_to_query() {
    let env = Env::new();
    let out = env.ok(&["demo", "--keep"]);
    let account = out
        .lines()
        .find_map(|l| l.split("the account ").nth(1))
        .and_then(|rest| rest.strip_suffix(" is kept"))
        .unwrap_or_else(|| panic!("no kept account in:\n{out}"))
        .to_string();
    let slug = out
        .lines()
        .find_map(|l| l.split("(slug ").nth(1))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no slug in:\n{out}"))
        .to_string();

    let got = json_lines(&env.ok(&["--json", "get", &account]), &["name", "slug"]);
    assert_eq!(got[0]["slug"], slug.as_str());
    let users = json_lines(
        &env.ok(&["--json", "children", &account, "--type", "User"]),
        &["type", "urn"],
    );
    assert_eq!(users.len(), 2, "{users:?}");
    // The cascade at the end deleted the job collection only.
    let jobs = env.ok(&["account", &account, "--type", "Job"]);
    assert!(table_rows(&jobs).is_empty(), "{jobs}");
    let found = json_lines(
        &env.ok(&["--json", "find", "Account", "slug", &slug]),
        &["name"],
    );
    assert_eq!(found[0]["name"], "Acme Corp");
}

// ---------------------------------------------------------------------------------------------
// queries

#[test]
fn get_and_parent() {
    let (env, s) = sample_env();
    let out = env.ok(&["get", &s.account]);
    let v: Value = serde_json::from_str(&out).expect("get prints JSON");
    assert_eq!(v["name"], "Acme Tests", "{out}");
    assert_eq!(v["slug"], SLUG, "{out}");

    let rows = json_lines(&env.ok(&["--json", "get", &s.jobs[2]]), &["name"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["name"], "job-2");

    let out = env.ok(&["parent", &s.jobs[2]]);
    assert_eq!(table_rows(&out), vec![vec![s.collection.clone()]], "{out}");
    let rows = json_lines(&env.ok(&["--json", "parent", &s.alice]), &["parent"]);
    assert_eq!(field(&rows, "parent"), vec![s.account.clone()]);
    // A root has no parent.
    let out = env.ok(&["parent", &s.account]);
    assert!(out.contains("(none)"), "{out}");
    assert!(json_lines(&env.ok(&["--json", "parent", &s.account]), &[]).is_empty());
}

#[test]
fn children_filtered_by_type() {
    let (env, s) = sample_env();
    let rows = json_lines(
        &env.ok(&["--json", "children", &s.account]),
        &["type", "urn"],
    );
    let all: BTreeSet<String> = field(&rows, "urn").into_iter().collect();
    let expected: BTreeSet<String> = [&s.alice, &s.bob, &s.team, &s.collection, &s.label]
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(all, expected);

    let users = json_lines(
        &env.ok(&["--json", "children", &s.account, "--type", "User"]),
        &["type", "urn"],
    );
    assert_eq!(
        field(&users, "urn").into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([s.alice.clone(), s.bob.clone()])
    );
    assert!(
        field(&users, "type")
            .iter()
            .all(|t| t == "System.Account.User")
    );

    for ty in ["Job", "job", "System.Account.JobCollection.Job"] {
        let out = env.ok(&["children", &s.collection, "--type", ty]);
        let urns: Vec<String> = table_rows(&out).into_iter().map(|r| r[1].clone()).collect();
        assert_eq!(urns, s.jobs, "--type {ty}:\n{out}");
    }
    let out = env.ok(&["children", &s.collection, "--type", "User"]);
    assert!(out.contains("(none)"), "{out}");
}

#[test]
fn children_pages_follow_the_cursor() {
    let (env, s) = sample_env();
    // Human output: `more: --cursor C` after each page but the last.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let mut args = vec!["children", &s.collection, "--limit", "2"];
        if let Some(c) = &cursor {
            args.extend(["--cursor", c.as_str()]);
        }
        let out = env.ok(&args);
        let rows = table_rows(&out);
        assert!(rows.len() <= 2, "{out}");
        seen.extend(rows.into_iter().map(|r| r[1].clone()));
        cursor = text_cursor(&out);
        if cursor.is_none() {
            break;
        }
    }
    assert!(cursor.is_none(), "paging did not end");
    assert_eq!(seen, s.jobs, "each child once, in order");

    // JSON output: the cursor is an object of its own.
    let first = json_lines(
        &env.ok(&["--json", "children", &s.collection, "--limit", "2"]),
        &[],
    );
    assert_eq!(first.len(), 3, "{first:?}");
    let cursor = first[2]["cursor"]
        .as_str()
        .expect("a cursor line")
        .to_string();
    let second = json_lines(
        &env.ok(&[
            "--json",
            "children",
            &s.collection,
            "--limit",
            "2",
            "--cursor",
            &cursor,
        ]),
        &[],
    );
    let urns: Vec<&str> = second
        .iter()
        .filter_map(|r| r.get("urn")?.as_str())
        .collect();
    assert_eq!(urns, vec![s.jobs[2].as_str(), s.jobs[3].as_str()]);
}

#[test]
fn members_and_collections() {
    let (env, s) = sample_env();
    let rows = json_lines(
        &env.ok(&["--json", "members", &s.team]),
        &["member", "conveys_authorization"],
    );
    assert_eq!(
        field(&rows, "member").into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([s.alice.clone(), s.bob.clone()])
    );
    assert!(
        rows.iter()
            .all(|r| r["conveys_authorization"] == Value::Bool(true)),
        "a JSON boolean: {rows:?}"
    );

    let out = env.ok(&["members", &s.label]);
    let rows = table_rows(&out);
    assert_eq!(
        rows.iter().map(|r| r[0].clone()).collect::<BTreeSet<_>>(),
        BTreeSet::from([s.jobs[0].clone(), s.jobs[1].clone()]),
        "{out}"
    );
    assert!(rows.iter().all(|r| r[1] == "false"), "{out}");

    let rows = json_lines(
        &env.ok(&["--json", "collections", &s.jobs[0]]),
        &["collection", "conveys_authorization"],
    );
    assert_eq!(field(&rows, "collection"), vec![s.label.clone()]);
    let out = env.ok(&["collections", &s.bob]);
    assert_eq!(table_rows(&out)[0][0], s.team, "{out}");
    let out = env.ok(&["collections", &s.jobs[4]]);
    assert!(out.contains("(none)"), "{out}");
}

#[test]
fn ancestors_and_scope() {
    let (env, s) = sample_env();
    let rows = json_lines(
        &env.ok(&["--json", "ancestors", &s.jobs[0]]),
        &["depth", "urn"],
    );
    let depths: Vec<Option<u64>> = rows.iter().map(|r| r["depth"].as_u64()).collect();
    assert_eq!(depths, vec![Some(0), Some(1)], "JSON numbers: {rows:?}");
    assert_eq!(
        field(&rows, "urn"),
        vec![s.account.clone(), s.collection.clone()],
        "root first"
    );
    let out = env.ok(&["ancestors", &s.account]);
    assert!(out.contains("(none)"), "{out}");

    // A user's scope holds the team that conveys authorization.
    let rows = json_lines(&env.ok(&["--json", "scope", &s.alice]), &["type", "urn"]);
    let scope: BTreeSet<String> = field(&rows, "urn").into_iter().collect();
    assert_eq!(
        scope,
        BTreeSet::from([s.alice.clone(), s.account.clone(), s.team.clone()])
    );
    // A labelled job's scope does not hold the label: it does not convey.
    let out = env.ok(&["scope", &s.jobs[0]]);
    let scope: BTreeSet<String> = table_rows(&out).into_iter().map(|r| r[1].clone()).collect();
    assert_eq!(
        scope,
        BTreeSet::from([s.jobs[0].clone(), s.collection.clone(), s.account.clone()]),
        "{out}"
    );
    assert!(!out.contains(&s.label), "{out}");
}

#[test]
fn roots_lists_a_root_type_and_refuses_a_child_type() {
    let (env, s) = sample_env();
    let out = env.ok(&["roots", "--type", "Account"]);
    let rows = table_rows(&out);
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(rows[0][0], "System.Account");
    assert_eq!(rows[0][1], s.account);
    let rows = json_lines(
        &env.ok(&[
            "--json",
            "roots",
            "--type",
            "System.Account",
            "--newest",
            "--limit",
            "5",
        ]),
        &["PK", "slug"],
    );
    assert_eq!(field(&rows, "PK"), vec![s.account.clone()]);
    let err = env.fails(&["roots", "--type", "Job"], 1);
    assert!(err.contains("not a root type"), "{err}");
}

#[test]
fn account_resources_by_type_newest_first() {
    let (env, s) = sample_env();
    let out = env.ok(&["account", &s.account, "--type", "Job", "--newest"]);
    let rows = table_rows(&out);
    let urns: Vec<String> = rows.iter().map(|r| r[1].clone()).collect();
    let mut newest_first = s.jobs.clone();
    newest_first.reverse();
    assert_eq!(urns, newest_first, "{out}");
    assert!(
        rows.iter()
            .all(|r| r[0] == "System.Account.JobCollection.Job"),
        "{out}"
    );

    let rows = json_lines(
        &env.ok(&["--json", "account", &s.account, "--type", "Job"]),
        &["PK", "name"],
    );
    assert_eq!(field(&rows, "PK"), s.jobs, "oldest first by default");

    // Without --type: every account-scoped resource (the account itself is not scoped).
    let rows = json_lines(&env.ok(&["--json", "account", &s.account]), &["PK"]);
    let all: BTreeSet<String> = field(&rows, "PK").into_iter().collect();
    let mut expected: BTreeSet<String> = [&s.alice, &s.bob, &s.team, &s.collection, &s.label]
        .into_iter()
        .cloned()
        .collect();
    expected.extend(s.jobs.iter().cloned());
    assert_eq!(all, expected);
}

#[test]
fn find_by_unique_values() {
    let (env, s) = sample_env();
    // Slugs compare case-insensitively.
    let out = env.ok(&["find", "Account", "slug", &SLUG.to_uppercase()]);
    let v: Value = serde_json::from_str(&out).expect("find prints JSON");
    assert_eq!(v["PK"], s.account.as_str(), "{out}");
    assert_eq!(v["slug"], SLUG, "{out}");

    let rows = json_lines(
        &env.ok(&[
            "--json",
            "find",
            "User",
            "email",
            "bob@acme.EXAMPLE",
            "--scope",
            &s.account,
        ]),
        &["PK", "email", "displayName"],
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["PK"], s.bob.as_str());
    assert_eq!(rows[0]["displayName"], "Bob");

    // By resource type too.
    let out = env.ok(&[
        "find",
        "System.Account.JobCollection",
        "name",
        "nightly",
        "--scope",
        &s.account,
    ]);
    assert!(out.contains(&s.collection), "{out}");

    // A value nobody holds.
    let err = env.fails(&["find", "Account", "slug", "nobody-has-this"], 1);
    assert!(err.contains("no Account holds that slug"), "{err}");
}

#[test]
fn delete_dry_run_counts_then_delete_removes_everything_beneath() {
    let (env, s) = sample_env();
    let (before, _) = export_set(&env, "before.jsonl");

    let rows = json_lines(
        &env.ok(&["--json", "delete", &s.collection, "--dry-run"]),
        &["kind", "count"],
    );
    let counts: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["count"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("count is a JSON number: {r:?}"))
                    .to_string(),
            )
        })
        .collect();
    let count = |kind: &str| {
        counts
            .iter()
            .find(|(k, _)| k == kind)
            .unwrap_or_else(|| panic!("no {kind} in {counts:?}"))
            .1
            .clone()
    };
    assert_eq!(count("Resource System.Account.JobCollection"), "1");
    assert_eq!(count("Resource System.Account.JobCollection.Job"), "5");
    // Five jobs under the collection, and the collection under the account.
    assert_eq!(count("ParentChildRelationship"), "6");
    // The label holds two of the jobs.
    assert_eq!(count("CollectionMembershipRelationship"), "2");
    // The collection's unique name.
    assert_eq!(count("UniqueKeyValue"), "1");
    let out = env.ok(&["delete", &s.collection, "--dry-run"]);
    assert!(
        out.contains("Resource System.Account.JobCollection.Job"),
        "{out}"
    );
    // Nothing was deleted.
    env.ok(&["get", &s.jobs[0]]);
    assert_eq!(export_set(&env, "dry.jsonl").0, before);

    // Without --yes and with nothing on stdin, nothing is deleted.
    env.cmd(&["delete", &s.collection])
        .write_stdin("")
        .assert()
        .failure();
    env.ok(&["get", &s.collection]);

    let rows = json_lines(
        &env.ok(&["--json", "delete", &s.collection, "--yes"]),
        &["deleted", "records", "requests", "swept"],
    );
    assert_eq!(rows[0]["deleted"], s.collection.as_str());
    assert_eq!(rows[0]["records"], 15, "a JSON number");
    assert!(
        rows[0]["requests"].is_u64() && rows[0]["swept"].is_boolean(),
        "{rows:?}"
    );
    for urn in [&s.collection, &s.jobs[0], &s.jobs[4]] {
        let err = env.fails(&["get", urn], 1);
        assert!(err.contains("not found"), "{err}");
        assert!(err.contains(urn.as_str()), "{err}");
    }
    let out = env.ok(&["members", &s.label]);
    assert!(out.contains("(none)"), "{out}");
    env.ok(&["get", &s.account]);
    assert_eq!(export_set(&env, "after.jsonl").0, before - 15);
}

// ---------------------------------------------------------------------------------------------
// export, import, migrate

#[test]
fn export_delete_import_round_trip() {
    let (env, s) = sample_env();
    let (n, before) = export_set(&env, "first.jsonl");
    assert!(n > 20, "the sample has more records: {n}");

    env.ok(&["table", "delete", "--yes", "--unprotect"]);
    let first = env.path("first.jsonl");
    // Only `table create` creates a table.
    let err = env.fails(&["import", first.to_str().unwrap()], 1);
    assert!(err.contains("does not exist"), "{err}");
    env.ok(&["table", "create"]);
    let out = env.ok(&["import", first.to_str().unwrap()]);
    assert!(out.contains(&format!("imported {n} records")), "{out}");
    let (_, after) = export_set(&env, "second.jsonl");
    assert_eq!(before, after, "every record identical after the round trip");
    // Importing again is idempotent.
    env.ok(&["import", first.to_str().unwrap()]);
    assert_eq!(export_set(&env, "third.jsonl").1, before);

    let v: Value = serde_json::from_str(&env.ok(&["get", &s.bob])).unwrap();
    assert_eq!(v["displayName"], "Bob");
    env.ok(&["check"]);
}

/// A mistyped `--table` is an error naming the table, and leaves no table behind: only
/// `table create` (and the demo) create one.
#[test]
fn a_mistyped_table_is_an_error_and_creates_nothing() {
    let (env, s) = sample_env();
    for args in [
        vec!["--table", "ddbrl", "get", s.bob.as_str()],
        vec!["--table", "ddbrl", "check"],
        vec!["--table", "ddbrl", "migrate"],
        vec!["--table", "ddbrl", "find", "Account", "slug", SLUG],
    ] {
        let err = env.fails(&args, 1);
        assert!(
            err.contains("table ddbrl does not exist"),
            "{args:?}: {err}"
        );
    }
    let err = env.fails(&["--table", "ddbrl", "table", "describe"], 1);
    assert!(
        err.contains("does not exist"),
        "no table was created: {err}"
    );
    env.ok(&["get", &s.bob]);
}

#[test]
fn import_of_a_bad_file_names_the_line() {
    let env = Env::new();
    let file = env.path("bad.jsonl");
    std::fs::write(
        &file,
        "{\"PK\":{\"S\":\"x\"},\"SK\":{\"S\":\"x\"}}\nnot json\n",
    )
    .unwrap();
    let err = env.fails(&["import", file.to_str().unwrap()], 1);
    assert!(err.contains("bad.jsonl:2"), "{err}");
    let err = env.fails(&["import", env.path("missing.jsonl").to_str().unwrap()], 1);
    assert!(err.contains("missing.jsonl"), "{err}");
}

#[test]
fn migrate_reports_a_row_per_type() {
    let (env, _) = sample_env();
    let out = env.ok(&["migrate"]);
    let rows = table_rows(&out);
    let types: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        types,
        vec!["Account", "User", "JobCollection", "Job", "Team", "Label"],
        "{out}"
    );
    // The sample is written at the current schema versions: nothing to migrate.
    assert!(rows.iter().all(|r| r[1..] == ["0", "0", "0"]), "{out}");

    for ty in ["Job", "System.Account.JobCollection.Job"] {
        let rows = json_lines(
            &env.ok(&["--json", "migrate", "--type", ty]),
            &["type", "found", "migrated", "failed"],
        );
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0]["type"], "Job");
        assert_eq!(rows[0]["found"], 0, "JSON numbers");
        assert_eq!(rows[0]["migrated"], 0);
        assert_eq!(rows[0]["failed"], 0);
    }
}

// ---------------------------------------------------------------------------------------------
// user mistakes

#[test]
fn malformed_urns_name_the_wrong_part() {
    let env = Env::new();
    let id = "01a2122c-9270-743c-8dcb-f4803cf35dbc";
    let cases = [
        ("urn:pp:System.Account::zz".to_string(), "resource id"),
        (
            "urn:pp:System.Account::01a2122c-9270-443c-8dcb-f4803cf35dbc".to_string(),
            "resource id",
        ),
        (format!("urn:pp:system.account::{id}"), "resource type"),
        (format!("urn:PP:System.Account::{id}"), "domain"),
        (format!("nru:pp:System.Account::{id}"), "scheme"),
        ("".to_string(), "invalid URN"),
    ];
    for (urn, part) in &cases {
        for cmd in ["get", "children", "scope"] {
            let err = env.fails(&[cmd, urn], 1);
            assert!(err.contains("invalid URN"), "{cmd} {urn}: {err}");
            assert!(err.contains(part), "{cmd} {urn}: want {part:?} in {err}");
        }
    }
    let err = env.fails(&["find", "User", "email", "a@b.c", "--scope", "acme"], 1);
    assert!(err.contains("invalid URN"), "{err}");
}

#[test]
fn unknown_types_and_constraints() {
    let (env, s) = sample_env();
    let err = env.fails(&["children", &s.account, "--type", "no-such-type"], 1);
    assert!(err.contains("unknown type \"no-such-type\""), "{err}");
    assert!(
        err.contains("JobCollection"),
        "lists the known types: {err}"
    );
    let err = env.fails(&["account", &s.account, "--type", "jobs!"], 1);
    assert!(err.contains("unknown type"), "{err}");
    let err = env.fails(&["find", "Widget", "slug", "x"], 1);
    assert!(err.contains("unknown type \"Widget\""), "{err}");
    let err = env.fails(&["migrate", "--type", "Widget"], 1);
    assert!(err.contains("unknown type \"Widget\""), "{err}");

    let err = env.fails(&["find", "Account", "handle", "acme"], 1);
    assert!(err.contains("no unique constraint \"handle\""), "{err}");
    assert!(err.contains("slug"), "names the constraints it has: {err}");
    // A scoped constraint without --scope.
    let err = env.fails(&["find", "User", "email", "alice@acme.example"], 1);
    assert!(err.contains("scope"), "{err}");
}

/// `--limit 0` would read nothing and print an empty page with exit 0: a usage error.
#[test]
fn a_zero_limit_is_a_usage_error() {
    let env = Env::new();
    let args = ["children", "urn:pp:System.Account::x", "--limit", "0"];
    let out = env.cmd(&args).output().expect("run ddbrel");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_no_panic(&stderr, &args);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("--limit"), "{stderr}");
    assert!(!env.db().exists(), "nothing ran: {stderr}");
}

#[test]
fn find_without_a_value_is_a_usage_error() {
    let env = Env::new();
    let out = env
        .cmd(&["find", "Account", "slug"])
        .output()
        .expect("run ddbrel");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_no_panic(&stderr, &["find", "Account", "slug"]);
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("<VALUES>"), "{stderr}");
}

#[test]
fn cursors_from_another_query_are_refused() {
    let (env, s) = sample_env();
    let out = env.ok(&["children", &s.collection, "--limit", "2"]);
    let cursor = text_cursor(&out).expect("a cursor");
    let err = env.fails(&["children", &s.account, "--cursor", &cursor], 1);
    assert!(err.contains("another query"), "{err}");
    let err = env.fails(
        &[
            "children",
            &s.collection,
            "--type",
            "User",
            "--cursor",
            &cursor,
        ],
        1,
    );
    assert!(err.contains("another query"), "{err}");
    let err = env.fails(&["members", &s.team, "--cursor", &cursor], 1);
    assert!(err.contains("cursor"), "{err}");
    let err = env.fails(&["children", &s.collection, "--cursor", "not-a-cursor"], 1);
    assert!(err.contains("cursor"), "{err}");
    // The right query still takes it.
    env.ok(&[
        "children",
        &s.collection,
        "--limit",
        "2",
        "--cursor",
        &cursor,
    ]);
}

#[test]
fn unreachable_endpoint_fails_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--endpoint",
        "http://127.0.0.1:9",
        "get",
        "urn:pp:System.Account::01a2122c-9270-743c-8dcb-f4803cf35dbc",
    ];
    let mut cmd = Command::cargo_bin("ddbrel").unwrap();
    cmd.current_dir(dir.path())
        .env_remove("DDBREL_ENDPOINT")
        .args(args)
        .timeout(Duration::from_secs(60));
    let started = Instant::now();
    let err = run_fails(cmd, &args, 1);
    let took = started.elapsed();
    assert!(err.contains("127.0.0.1:9"), "{err}");
    assert!(
        took < Duration::from_secs(20),
        "took {took:?} to give up on an unreachable endpoint"
    );
    // --local and --endpoint do not mix.
    let mut cmd = Command::cargo_bin("ddbrel").unwrap();
    cmd.current_dir(dir.path())
        .args(["--local", "x.sqlite", "--endpoint", "http://127.0.0.1:9"])
        .args(["table", "describe"])
        .assert()
        .code(2);
}

#[test]
fn closed_stdout_does_not_panic() {
    // `ddbrel --json demo | head -1`: the reader goes away early.
    let env = Env::new();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ddbrel"))
        .current_dir(env.dir.path())
        .env_remove("DDBREL_TABLE")
        .arg("--local")
        .arg(env.db())
        .args(["--json", "demo"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ddbrel");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .expect("first line");
    assert!(first.contains("\"step\":1"), "{first}");
    // The reader is dropped here, closing the pipe.
    let out = child.wait_with_output().expect("wait for ddbrel");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_no_panic(&stderr, &["--json", "demo", "(stdout closed)"]);
}
