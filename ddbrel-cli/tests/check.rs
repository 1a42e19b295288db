//! `ddbrel check` end to end: a consistent table passes (exit 0); corruptions planted with the
//! plain SDK are reported (exit 3); `check --repair` fixes the repairable ones (exit 0, and a
//! following `check` passes) and keeps exit 3 for what a person has to fix; `--json` prints
//! JSON lines.
//!
//! Each test has its own SQLite file (`--local`). Corruptions are planted in-process: the test
//! opens the same file with [`Engine::file`], writes raw items with the engine's SDK client,
//! and stops the engine before running the binary again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use ddbrel_runtime::Item;
use ddbrel_runtime::embedded::Engine;
use serde_json::Value;
use tempfile::TempDir;

const TABLE: &str = "ddbrel";
const GHOST: &str = "urn:pp:System.Account::0195555f-0000-7000-8000-00000000dead";
const USER_TYPE: &str = "System.Account.User";

/// A temporary directory holding the test's SQLite file.
struct Db {
    dir: TempDir,
}

/// What a run of the binary printed.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Db {
    /// A new file, filled by `ddbrel demo --keep`.
    fn with_demo() -> Db {
        let db = Db {
            dir: tempfile::tempdir().expect("temporary directory"),
        };
        let r = db.run(&["demo", "--keep"]);
        assert_eq!(r.code, Some(0), "demo failed:\n{}\n{}", r.stdout, r.stderr);
        db
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("db.sqlite")
    }

    /// `ddbrel --local <db> <args>`.
    fn run(&self, args: &[&str]) -> Run {
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
        assert!(
            !run.stderr.contains("panicked"),
            "ddbrel {args:?} panicked:\n{}",
            run.stderr
        );
        run
    }

    /// Runs `args`, which must exit with `code`.
    #[track_caller]
    fn expect(&self, args: &[&str], code: i32) -> Run {
        let r = self.run(args);
        assert_eq!(
            r.code,
            Some(code),
            "ddbrel {args:?}: wrong exit status\nstdout:\n{}\nstderr:\n{}",
            r.stdout,
            r.stderr
        );
        r
    }

    /// Every item of the table, read in-process.
    fn items(&self) -> Vec<Item> {
        on_engine(&self.path(), |client| async move {
            let mut out = Vec::new();
            let mut start = None;
            loop {
                let page = client
                    .scan()
                    .table_name(TABLE)
                    .consistent_read(true)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .expect("scan");
                out.extend(page.items.unwrap_or_default());
                match page.last_evaluated_key {
                    Some(k) if !k.is_empty() => start = Some(k),
                    _ => return out,
                }
            }
        })
    }

    /// Writes `puts` and deletes the `(PK, SK)` of `deletes`, in-process, with the plain SDK.
    fn plant(&self, puts: Vec<Item>, deletes: Vec<(String, String)>) {
        on_engine(&self.path(), |client| async move {
            for item in puts {
                client
                    .put_item()
                    .table_name(TABLE)
                    .set_item(Some(item))
                    .send()
                    .await
                    .expect("put_item");
            }
            for (pk, sk) in deletes {
                client
                    .delete_item()
                    .table_name(TABLE)
                    .key("PK", AV::S(pk))
                    .key("SK", AV::S(sk))
                    .send()
                    .await
                    .expect("delete_item");
            }
        })
    }
}

/// Runs `f` with an SDK client on the embedded engine over `path`, then stops the engine (its
/// runtime is dropped, so the SQLite file is closed before the binary opens it again).
fn on_engine<F, Fut, T>(path: &Path, f: F) -> T
where
    F: FnOnce(aws_sdk_dynamodb::Client) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let out = rt.block_on(async {
        let engine = Engine::file(path).await.expect("open the SQLite file");
        let out = f(engine.client()).await;
        drop(engine);
        out
    });
    drop(rt);
    out
}

fn s(item: &Item, name: &str) -> String {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default()
}

fn resources_of(items: &[Item], resource_type: &str) -> Vec<Item> {
    items
        .iter()
        .filter(|i| s(i, "_type") == "Resource" && s(i, "_resourceType") == resource_type)
        .cloned()
        .collect()
}

fn ghost_marker() -> Item {
    let key = "unique#System.Account#slug#global#nobody-holds-this";
    Item::from([
        ("PK".to_string(), AV::S(key.into())),
        ("SK".to_string(), AV::S(key.into())),
        ("_type".to_string(), AV::S("UniqueKeyValue".into())),
        ("_schemaVersion".to_string(), AV::N("1".into())),
        (
            "_createdAt".to_string(),
            AV::S("2026-11-25T09:00:00.123Z".into()),
        ),
        ("_ownerUrn".to_string(), AV::S(GHOST.into())),
        (
            "_constraint".to_string(),
            AV::S("System.Account.slug".into()),
        ),
    ])
}

/// Plants repairable corruptions: a marker nobody holds, a user (a team member holding a
/// unique email) deleted without its records, a wrong `_childCount` on an account.
fn plant_repairable(db: &Db) {
    let items = db.items();
    let user = resources_of(&items, USER_TYPE)
        .into_iter()
        .next()
        .expect("the demo keeps users");
    let user_urn = s(&user, "PK");
    let mut account = resources_of(&items, "System.Account")
        .into_iter()
        .next()
        .expect("the demo keeps an account");
    account.insert("_childCount".into(), AV::N("99".into()));
    db.plant(
        vec![ghost_marker(), account],
        vec![(user_urn.clone(), user_urn)],
    );
}

fn json_lines(stdout: &str) -> Vec<serde_json::Map<String, Value>> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            v.as_object()
                .unwrap_or_else(|| panic!("not a JSON object: {line}"))
                .clone()
        })
        .collect()
}

#[test]
fn a_consistent_table_passes() {
    let db = Db::with_demo();
    let r = db.expect(&["check"], 0);
    assert!(r.stdout.contains(" 0 findings"), "{}", r.stdout);
    let r = db.expect(&["check", "--segments", "3"], 0);
    assert!(r.stdout.contains(" 0 findings"), "{}", r.stdout);
    // Nothing to repair: nothing done.
    let r = db.expect(&["check", "--repair"], 0);
    assert!(!r.stdout.contains("repaired:"), "{}", r.stdout);
}

#[test]
fn findings_exit_3_and_repair_fixes_them() {
    let db = Db::with_demo();
    plant_repairable(&db);

    let r = db.expect(&["check"], 3);
    for kind in ["dangling-marker", "orphaned-relationship", "count-mismatch"] {
        assert!(r.stdout.contains(kind), "no {kind} in:\n{}", r.stdout);
    }
    assert!(r.stdout.contains(GHOST), "{}", r.stdout);
    assert!(r.stderr.contains("check --repair"), "{}", r.stderr);

    let r = db.expect(&["check", "--repair"], 0);
    assert!(
        r.stdout.contains("repaired: deleted uniqueness marker"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("repaired: deleted ParentChildRelationship"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("repaired: set _childCount"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("the table is consistent"), "{}", r.stdout);

    let r = db.expect(&["check"], 0);
    assert!(r.stdout.contains(" 0 findings"), "{}", r.stdout);
}

#[test]
fn json_output_is_json_lines() {
    let db = Db::with_demo();
    let r = db.expect(&["--json", "check"], 0);
    let lines = json_lines(&r.stdout);
    assert_eq!(lines.len(), 1, "{}", r.stdout);
    assert_eq!(lines[0]["findings"], 0);

    plant_repairable(&db);
    let r = db.expect(&["--json", "check"], 3);
    let lines = json_lines(&r.stdout);
    let findings: Vec<_> = lines.iter().filter(|l| l.contains_key("finding")).collect();
    assert!(findings.len() >= 3, "{}", r.stdout);
    for f in &findings {
        for k in ["finding", "invariant", "repairable", "key", "detail"] {
            assert!(f.contains_key(k), "no {k} in {f:?}");
        }
    }
    assert!(
        findings.iter().any(|f| f["finding"] == "dangling-marker"
            && f["key"] == "unique#System.Account#slug#global#nobody-holds-this"
            && f["repairable"] == "yes"),
        "{}",
        r.stdout
    );
    let summary = lines.last().expect("a summary line");
    assert_eq!(summary["findings"].as_u64(), Some(findings.len() as u64));

    let r = db.expect(&["--json", "check", "--repair"], 0);
    let lines = json_lines(&r.stdout);
    assert!(
        lines.iter().filter(|l| l.contains_key("repaired")).count() >= 3,
        "{}",
        r.stdout
    );
    assert_eq!(
        lines.last().expect("a summary line")["findings"],
        0,
        "{}",
        r.stdout
    );
    db.expect(&["--json", "check"], 0);
}

#[test]
fn what_is_not_safe_to_repair_is_left_and_keeps_exit_3() {
    let db = Db::with_demo();
    let items = db.items();
    let mut user = resources_of(&items, USER_TYPE)
        .into_iter()
        .next()
        .expect("the demo keeps users");
    let user_urn = s(&user, "PK");
    user.insert("_accountUrn".into(), AV::S(GHOST.into()));
    db.plant(vec![user.clone(), ghost_marker()], Vec::new());

    let r = db.expect(&["check", "--repair"], 3);
    assert!(
        r.stdout.contains("repaired: deleted uniqueness marker"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("account-mismatch"), "{}", r.stdout);
    assert!(r.stdout.contains(&user_urn), "{}", r.stdout);
    assert!(
        r.stderr.contains("not safe to repair automatically"),
        "{}",
        r.stderr
    );
    let r = db.expect(&["check"], 3);
    assert!(!r.stdout.contains("dangling-marker"), "{}", r.stdout);
    assert!(r.stdout.contains("findings (0 repairable)"), "{}", r.stdout);
    // The resource was not written.
    let after = db.items();
    let now = after
        .iter()
        .find(|i| s(i, "PK") == user_urn && s(i, "SK") == user_urn)
        .expect("the user is still there");
    assert_eq!(now, &user);
}

#[test]
fn an_interrupted_delete_is_finished_by_repair() {
    let db = Db::with_demo();
    let items = db.items();
    // A cascade that stopped right after its fence, on the team (a collection of users).
    let mut team = resources_of(&items, "System.Account.Team")
        .into_iter()
        .next()
        .expect("the demo keeps a team");
    let team_urn = s(&team, "PK");
    team.insert("_deleting".into(), AV::S("2026-11-25T09:00:00.123Z".into()));
    db.plant(vec![team], Vec::new());

    let r = db.expect(&["check"], 3);
    assert!(r.stdout.contains("unfinished-cascade"), "{}", r.stdout);
    assert!(r.stdout.contains(&team_urn), "{}", r.stdout);

    let r = db.expect(&["check", "--repair"], 0);
    assert!(
        r.stdout.contains(&format!(
            "repaired: finished the cascading delete of {team_urn}"
        )),
        "{}",
        r.stdout
    );
    db.expect(&["check"], 0);
    let after = db.items();
    let listed = |i: &Item| {
        i.get("_memberOf")
            .and_then(|m| m.as_ss().ok())
            .is_some_and(|m| m.contains(&team_urn))
    };
    assert!(
        after
            .iter()
            .all(|i| s(i, "PK") != team_urn && !s(i, "SK").contains(&team_urn) && !listed(i)),
        "the team and its memberships are gone"
    );
    assert_eq!(
        resources_of(&after, USER_TYPE).len(),
        2,
        "its members are not"
    );
}

#[test]
fn an_export_is_checked_like_the_live_table_and_repairs_go_to_the_live_one() {
    let db = Db::with_demo();
    let clean = db.dir.path().join("clean-export");
    let r = db.expect(&["export", "--dynamodb-export", clean.to_str().unwrap()], 0);
    assert!(r.stdout.contains("data files"), "{}", r.stdout);
    let r = db.expect(&["check", "--export", clean.to_str().unwrap()], 0);
    assert!(r.stdout.contains(" 0 findings"), "{}", r.stdout);

    plant_repairable(&db);
    let live = json_lines(&db.expect(&["--json", "check"], 3).stdout);
    let planted = db.dir.path().join("planted-export");
    db.expect(
        &["export", "--dynamodb-export", planted.to_str().unwrap()],
        0,
    );
    let snapshot = json_lines(
        &db.expect(
            &["--json", "check", "--export", planted.to_str().unwrap()],
            3,
        )
        .stdout,
    );
    assert_eq!(live, snapshot, "the same findings, live and on the export");
    // The snapshot taken before the corruption still reads clean: it is a snapshot.
    db.expect(&["check", "--export", clean.to_str().unwrap()], 0);
    // Repairs planned on the export are applied to the live table.
    db.expect(
        &["check", "--export", planted.to_str().unwrap(), "--repair"],
        0,
    );
    db.expect(&["check"], 0);
}

/// The JSON lines of a check (findings with their details and whether they are repairable,
/// and the summary), sorted.
fn sorted_lines(stdout: &str) -> Vec<String> {
    let mut v: Vec<String> = json_lines(stdout)
        .into_iter()
        .map(|l| Value::Object(l).to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn the_sql_checks_by_default_find_and_repair_what_the_in_memory_checker_does() {
    let db = Db::with_demo();
    let r = db.expect(&["check"], 0);
    assert!(r.stdout.contains(" 0 findings"), "{}", r.stdout);
    db.expect(&["check", "--in-memory"], 0);
    plant_repairable(&db);
    let in_memory = sorted_lines(&db.expect(&["--json", "check", "--in-memory"], 3).stdout);
    assert!(
        in_memory
            .iter()
            .any(|l| l.contains("\"repairable\":\"yes\"")),
        "{in_memory:?}"
    );
    let sql = sorted_lines(&db.expect(&["--json", "check"], 3).stdout);
    assert_eq!(sql, in_memory, "the SQL checks on the live table");
    let legacy = sorted_lines(&db.expect(&["--json", "check", "--sql"], 3).stdout);
    assert_eq!(legacy, in_memory, "--sql, from before it was the default");
    db.expect(&["check", "--sql", "--in-memory"], 2);
    let planted = db.dir.path().join("planted-export");
    db.expect(
        &["export", "--dynamodb-export", planted.to_str().unwrap()],
        0,
    );
    let dir = planted.to_str().unwrap();
    let snapshot = sorted_lines(&db.expect(&["--json", "check", "--export", dir], 3).stdout);
    assert_eq!(snapshot, in_memory, "the SQL checks on the export");
    // Repairs planned by the SQL checks: the table is consistent after them, for both.
    let r = db.expect(&["check", "--repair"], 0);
    assert!(r.stdout.contains("repaired: "), "{}", r.stdout);
    assert!(r.stdout.contains("the table is consistent"), "{}", r.stdout);
    db.expect(&["check", "--in-memory"], 0);
}

#[test]
fn the_sql_for_each_engine_is_printed_without_a_table() {
    let dir = tempfile::tempdir().unwrap();
    for (engine, create) in [
        ("sqlite", "CREATE VIEW ddbrel_items"),
        ("trino", "CREATE OR REPLACE VIEW ddbrel_items"),
        ("athena", "CREATE OR REPLACE VIEW ddbrel_items"),
        ("spark", "CREATE OR REPLACE TEMPORARY VIEW ddbrel_items"),
    ] {
        let out = Command::cargo_bin("ddbrel")
            .unwrap()
            .current_dir(dir.path())
            .args(["--local", "absent.sqlite", "check", "--print-sql", engine])
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{engine}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(create), "{engine}");
        assert!(
            text.contains("-- specs/checks/i1_orphaned_relationship.sql"),
            "{engine}"
        );
    }
    assert!(
        !dir.path().join("absent.sqlite").exists(),
        "no table was opened"
    );
}
