//! Integrity check at scale (#16): time and peak memory of `ddbrel check --in-memory --export`
//! (the in-process checker) and `ddbrel check --export` (the SQL checks on an on-disk SQLite
//! database, the default) on DynamoDB exports of 40,000, 400,000 and 4,000,000 records.
//!
//! Each size is generated straight into an export directory (the `DYNAMODB_JSON` layout of
//! `ddbrel_runtime::integrity::write_export`: manifests, gzip data files of 100,000 items),
//! one item at a time, so the generator's memory does not grow with the table. The table is
//! a valid one, so the checkers are measured on a table that audits clean: accounts (root,
//! listed in the root listing, with a global slug marker), each with 10 users (an email
//! marker scoped to the account), 4 job collections (a name marker scoped to the account) of
//! 18 jobs, a team whose 6 members are users (conveys authorization) and a label whose 2
//! members are jobs (does not), with every relationship record, `_childCount`,
//! `_memberCount`, `_memberOf`, `_conveyingCollections`, `_uniqueKeys`, `_accountUrn` and
//! `_ancestors` as a store would write them: 200 records per account.
//!
//! Each check runs the release `ddbrel` binary as a child process (one at a time); the wall
//! time is measured around it and the peak RSS is the child's `ru_maxrss` from `wait4`. A
//! check must exit 0 (clean) for its row to count (3 with `--damaged`); otherwise its output is
//! printed and the run fails.
//!
//! ```text
//! cargo build --release -p ddbrel-cli --bin ddbrel
//! cargo run --release -p ddbrel-bench --bin check_scale -- \
//!     [--sizes 40000,400000,4000000] [--checkers inproc,sql] [--damaged K] [--ddbrel PATH]
//!     [--dir DIR] [--keep]
//! ```
//!
//! `--sizes` are record counts, rounded up to whole accounts of 200 records; `--checkers`
//! picks `inproc` (`check --in-memory --export`), `sql` (`check --export`) or both, per size;
//! `--damaged K` damages one account in every K (see `write_account`: four findings each, all
//! repairable), so the SQL checker's planning of fixes is measured too, and a check must then
//! exit 3; `--ddbrel` defaults to the `ddbrel` beside this binary (the same target directory);
//! `--dir` is where exports are written (default: a new directory under the system's temporary
//! directory), each size's export deleted after its checks unless `--keep`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue as AV;
use ddbrel_bench::BoxError;
use ddbrel_runtime::Item;
use ddbrel_runtime::records::json::to_dynamodb_json;
use ddbrel_runtime::schema::keys;
use flate2::Compression;
use flate2::write::GzEncoder;

/// Items per data file, as `write_export` writes them.
const ITEMS_PER_FILE: u64 = 100_000;
/// Records per generated account (see the module docs).
const RECORDS_PER_ACCOUNT: u64 = 200;
const USERS: u64 = 10;
const COLLECTIONS: u64 = 4;
const JOBS: u64 = 18;
const TEAM_MEMBERS: u64 = 6;
const LABEL_MEMBERS: u64 = 2;
/// The `_createdAt`/`_updatedAt` of every record.
const T0: &str = "2026-11-25T09:00:00.123Z";

const ACCOUNT: &str = "System.Account";
const USER: &str = "System.Account.User";
const COLLECTION: &str = "System.Account.JobCollection";
const JOB: &str = "System.Account.JobCollection.Job";
const TEAM: &str = "System.Account.Team";
const LABEL: &str = "System.Account.Label";

// ---------------------------------------------------------------------------------------------
// The streaming export writer.

/// Writes an export in the layout of `ddbrel_runtime::integrity::write_export`, one item at a
/// time: a data file is open until it holds [`ITEMS_PER_FILE`] items, then the next begins;
/// the manifests are written by [`ExportWriter::finish`]. Holds one file's gzip stream, never
/// the items.
struct ExportWriter {
    /// The `{exportId}` directory.
    root: PathBuf,
    rel: String,
    id: String,
    table: String,
    current: Option<(BufWriter<GzEncoder<File>>, String, u64)>,
    manifest: String,
    items: u64,
    files: u64,
}

impl ExportWriter {
    fn create(dir: &Path, table: &str) -> Result<ExportWriter, BoxError> {
        let id = uuid::Uuid::now_v7().simple().to_string();
        let rel = format!("AWSDynamoDB/{id}");
        let root = dir.join(&rel);
        std::fs::create_dir_all(root.join("data"))?;
        Ok(ExportWriter {
            root,
            rel,
            id,
            table: table.to_string(),
            current: None,
            manifest: String::new(),
            items: 0,
            files: 0,
        })
    }

    fn put(&mut self, item: &Item) -> Result<(), BoxError> {
        if self.current.is_none() {
            let name = format!("{}.json.gz", uuid::Uuid::now_v7().simple());
            let f = File::create(self.root.join("data").join(&name))?;
            // Level 1: the generator is not what is measured, and the reader's cost hardly
            // depends on the level.
            let out = BufWriter::with_capacity(1 << 16, GzEncoder::new(f, Compression::fast()));
            self.current = Some((out, name, 0));
        }
        let (out, _, n) = self.current.as_mut().expect("a data file is open");
        serde_json::to_writer(
            &mut *out,
            &serde_json::json!({ "Item": to_dynamodb_json(item) }),
        )?;
        out.write_all(b"\n")?;
        *n += 1;
        self.items += 1;
        if *n == ITEMS_PER_FILE {
            self.close_file()?;
        }
        Ok(())
    }

    fn close_file(&mut self) -> Result<(), BoxError> {
        if let Some((out, name, n)) = self.current.take() {
            out.into_inner().map_err(|e| e.into_error())?.finish()?;
            let entry = serde_json::json!({
                "itemCount": n,
                "dataFileS3Key": format!("{}/data/{name}", self.rel),
            });
            self.manifest.push_str(&entry.to_string());
            self.manifest.push('\n');
            self.files += 1;
        }
        Ok(())
    }

    /// Closes the last data file and writes the manifests; returns the items and files written.
    fn finish(mut self) -> Result<(u64, u64), BoxError> {
        self.close_file()?;
        std::fs::write(self.root.join("manifest-files.json"), &self.manifest)?;
        let summary = serde_json::json!({
            "version": "2020-06-30",
            "exportArn": format!("local:export/{}/{}", self.table, self.id),
            "startTime": T0,
            "endTime": T0,
            "tableArn": format!("local:table/{}", self.table),
            "exportTime": T0,
            "s3Prefix": null,
            "manifestFilesS3Key": format!("{}/manifest-files.json", self.rel),
            "billedSizeBytes": 0,
            "itemCount": self.items,
            "outputFormat": "DYNAMODB_JSON",
        });
        std::fs::write(self.root.join("manifest-summary.json"), summary.to_string())?;
        Ok((self.items, self.files))
    }
}

// ---------------------------------------------------------------------------------------------
// The records (SCHEMA.md sections 4 to 6), as `tests/src/records.rs` builds them.

fn s(v: &str) -> AV {
    AV::S(v.to_string())
}

fn n(v: u64) -> AV {
    AV::N(v.to_string())
}

fn ss(v: &[String]) -> AV {
    AV::Ss(v.to_vec())
}

fn l(v: &[&str]) -> AV {
    AV::L(v.iter().map(|x| s(x)).collect())
}

/// A URN of `resource_type` whose id is a version-7 UUID made of the type's number and `seq`
/// (unique per type and sequence number, deterministic).
fn urn(resource_type: &str, kind: u8, seq: u64) -> String {
    format!(
        "urn:pp:{resource_type}::0195{kind:04x}-{:04x}-7000-8000-{:012x}",
        (seq >> 48) & 0xffff,
        seq & 0xffff_ffff_ffff
    )
}

/// A Resource record as a create leaves it (section 5.1): a root carries the listing keys,
/// a child `_parentUrn`, `_ancestors` (root first) and `_accountUrn`.
fn resource(urn: &str, resource_type: &str, parent: Option<(&str, &[&str])>) -> Item {
    let mut item = Item::from([
        ("PK".to_string(), s(urn)),
        ("SK".to_string(), s(urn)),
        ("_type".to_string(), s("Resource")),
        ("_schemaVersion".to_string(), n(1)),
        ("_createdAt".to_string(), s(T0)),
        ("_updatedAt".to_string(), s(T0)),
        ("_resourceType".to_string(), s(resource_type)),
        ("_version".to_string(), n(1)),
    ]);
    match parent {
        None => {
            let prefix = &urn[..urn.find("::").expect("a URN") + 2];
            item.insert("GSI1PK".into(), s(&keys::root_listing_pk(prefix, urn)));
            item.insert("GSI1SK".into(), s(urn));
        }
        Some((parent, ancestors)) => {
            item.insert("_parentUrn".into(), s(parent));
            item.insert("_ancestors".into(), l(ancestors));
            item.insert("_accountUrn".into(), s(ancestors[0]));
        }
    }
    item
}

/// A ParentChildRelationship record (section 5.2).
fn parent_child(parent: &str, child: &str) -> Item {
    Item::from([
        ("PK".to_string(), s(parent)),
        ("SK".to_string(), s(&keys::child_sk(child))),
        ("GSI1PK".to_string(), s(child)),
        ("GSI1SK".to_string(), s(&keys::parent_sk(parent))),
        ("_type".to_string(), s("ParentChildRelationship")),
        ("_schemaVersion".to_string(), n(1)),
        ("_createdAt".to_string(), s(T0)),
        ("_parentUrn".to_string(), s(parent)),
        ("_childUrn".to_string(), s(child)),
    ])
}

/// A CollectionMembershipRelationship record (section 5.3).
fn membership(collection: &str, member: &str, conveys: bool) -> Item {
    Item::from([
        ("PK".to_string(), s(collection)),
        ("SK".to_string(), s(&keys::member_sk(member))),
        ("GSI1PK".to_string(), s(member)),
        ("GSI1SK".to_string(), s(&keys::collection_sk(collection))),
        ("_type".to_string(), s("CollectionMembershipRelationship")),
        ("_schemaVersion".to_string(), n(1)),
        ("_createdAt".to_string(), s(T0)),
        ("_collectionUrn".to_string(), s(collection)),
        ("_memberUrn".to_string(), s(member)),
        ("_conveysAuthorization".to_string(), AV::Bool(conveys)),
    ])
}

/// A UniqueKeyValue record (section 5.4) at `key`, held by `owner`.
fn marker(key: &str, owner: &str, constraint: &str) -> Item {
    Item::from([
        ("PK".to_string(), s(key)),
        ("SK".to_string(), s(key)),
        ("_type".to_string(), s("UniqueKeyValue")),
        ("_schemaVersion".to_string(), n(1)),
        ("_createdAt".to_string(), s(T0)),
        ("_ownerUrn".to_string(), s(owner)),
        ("_constraint".to_string(), s(constraint)),
    ])
}

/// Writes account `a` and everything under it: [`RECORDS_PER_ACCOUNT`] records. A `damaged`
/// account has three problems repair fixes, and as many records: its `_childCount` is one too
/// many, its first user's email marker is missing, and its team has a membership record
/// whose member does not exist (so the team's `_memberCount` is one short as well).
fn write_account(out: &mut ExportWriter, a: u64, damaged: bool) -> Result<(), BoxError> {
    let account = urn(ACCOUNT, 1, a);
    let slug = keys::marker_key(ACCOUNT, "slug", "global", &format!("acct{a}"));
    let mut acct = resource(&account, ACCOUNT, None);
    acct.insert("name".into(), s(&format!("Account {a}")));
    acct.insert("slug".into(), s(&format!("acct{a}")));
    acct.insert("_uniqueKeys".into(), ss(std::slice::from_ref(&slug)));
    acct.insert(
        "_childCount".into(),
        n(USERS + COLLECTIONS + 2 + u64::from(damaged)),
    );
    out.put(&acct)?;
    out.put(&marker(&slug, &account, "System.Account.slug"))?;
    let under_account: [&str; 1] = [&account];

    let team = urn(TEAM, 5, a);
    let label = urn(LABEL, 6, a);

    for u in 0..USERS {
        let user = urn(USER, 2, a * USERS + u);
        let email = format!("user{u}.acct{a}@example.com");
        let key = keys::marker_key(USER, "email", &account, &email);
        let mut item = resource(&user, USER, Some((&account, &under_account)));
        item.insert("email".into(), s(&email));
        item.insert("displayName".into(), s(&format!("User {u}")));
        item.insert("_uniqueKeys".into(), ss(std::slice::from_ref(&key)));
        if u < TEAM_MEMBERS {
            item.insert("_memberOf".into(), ss(std::slice::from_ref(&team)));
            item.insert(
                "_conveyingCollections".into(),
                ss(std::slice::from_ref(&team)),
            );
        }
        out.put(&item)?;
        out.put(&parent_child(&account, &user))?;
        if !(damaged && u == 0) {
            out.put(&marker(&key, &user, "System.Account.User.email"))?;
        }
        if u < TEAM_MEMBERS {
            out.put(&membership(&team, &user, true))?;
        }
    }

    for c in 0..COLLECTIONS {
        let col = urn(COLLECTION, 3, a * COLLECTIONS + c);
        let name = format!("collection{c}");
        let key = keys::marker_key(COLLECTION, "name", &account, &name);
        let mut item = resource(&col, COLLECTION, Some((&account, &under_account)));
        item.insert("name".into(), s(&name));
        item.insert("_uniqueKeys".into(), ss(std::slice::from_ref(&key)));
        item.insert("_childCount".into(), n(JOBS));
        out.put(&item)?;
        out.put(&parent_child(&account, &col))?;
        out.put(&marker(&key, &col, "System.Account.JobCollection.name"))?;
        let ancestors: [&str; 2] = [&account, &col];
        for j in 0..JOBS {
            let job = urn(JOB, 4, (a * COLLECTIONS + c) * JOBS + j);
            let mut item = resource(&job, JOB, Some((&col, &ancestors)));
            item.insert("name".into(), s(&format!("job {j}")));
            item.insert("status".into(), s("active"));
            let labelled = c == 0 && j < LABEL_MEMBERS;
            if labelled {
                item.insert("_memberOf".into(), ss(std::slice::from_ref(&label)));
            }
            out.put(&item)?;
            out.put(&parent_child(&col, &job))?;
            if labelled {
                out.put(&membership(&label, &job, false))?;
            }
        }
    }

    let mut item = resource(&team, TEAM, Some((&account, &under_account)));
    item.insert("name".into(), s("team"));
    item.insert("_memberCount".into(), n(TEAM_MEMBERS));
    out.put(&item)?;
    out.put(&parent_child(&account, &team))?;
    if damaged {
        out.put(&membership(&team, &urn(USER, 7, a), true))?;
    }

    let mut item = resource(&label, LABEL, Some((&account, &under_account)));
    item.insert("name".into(), s("label"));
    item.insert("color".into(), s("#336699"));
    item.insert("_memberCount".into(), n(LABEL_MEMBERS));
    out.put(&item)?;
    out.put(&parent_child(&account, &label))?;
    Ok(())
}

/// Generates an export of at least `records` records under `dir`, one account in every
/// `damaged` damaged (none when `None`); returns the items written.
fn generate(dir: &Path, records: u64, damaged: Option<u64>) -> Result<u64, BoxError> {
    let mut out = ExportWriter::create(dir, "ddbrel")?;
    let accounts = records.div_ceil(RECORDS_PER_ACCOUNT);
    for a in 0..accounts {
        write_account(&mut out, a, damaged.is_some_and(|k| a % k == 0))?;
    }
    let (items, _files) = out.finish()?;
    assert_eq!(items, accounts * RECORDS_PER_ACCOUNT, "records per account");
    Ok(items)
}

// ---------------------------------------------------------------------------------------------
// Measuring a child process.

/// What one check run measured.
struct Run {
    wall: Duration,
    /// The child's peak resident set, in KiB (`ru_maxrss` on Linux).
    max_rss_kib: i64,
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `cmd` with its output in files under `dir`, waits for it with `wait4` and returns
/// its wall time and peak RSS.
fn measure(mut cmd: Command, dir: &Path) -> Result<Run, BoxError> {
    let out_path = dir.join("check.stdout");
    let err_path = dir.join("check.stderr");
    cmd.stdin(Stdio::null())
        .stdout(File::create(&out_path)?)
        .stderr(File::create(&err_path)?);
    let start = Instant::now();
    let child = cmd.spawn()?;
    let pid = libc::pid_t::try_from(child.id())?;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of the plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = loop {
        // SAFETY: `pid` is our child, not yet reaped (`child` is never waited on through
        // std), and both pointers are to live locals of the right types.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break rc;
    };
    let wall = start.elapsed();
    if rc != pid {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()).into());
    }
    drop(child);
    Ok(Run {
        wall,
        max_rss_kib: usage.ru_maxrss,
        status: ExitStatus::from_raw(status),
        stdout: std::fs::read_to_string(&out_path)?,
        stderr: std::fs::read_to_string(&err_path)?,
    })
}

// ---------------------------------------------------------------------------------------------
// Arguments and the run.

fn value<'a>(args: &'a [String], name: &str) -> Result<Option<&'a str>, BoxError> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => Ok(Some(
            args.get(i + 1)
                .ok_or_else(|| format!("{name} needs a value"))?
                .as_str(),
        )),
    }
}

fn default_ddbrel() -> Result<PathBuf, BoxError> {
    let exe = std::env::current_exe()?;
    let beside = exe
        .parent()
        .ok_or("this binary has no directory")?
        .join("ddbrel");
    if beside.is_file() {
        return Ok(beside);
    }
    Err(format!(
        "no ddbrel at {}: build it (cargo build --release -p ddbrel-cli --bin ddbrel) or pass --ddbrel PATH",
        beside.display()
    )
    .into())
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sizes: Vec<u64> = value(&args, "--sizes")?
        .unwrap_or("40000,400000,4000000")
        .split(',')
        .map(|v| v.trim().replace('_', "").parse::<u64>())
        .collect::<Result<_, _>>()?;
    let checkers: Vec<&str> = value(&args, "--checkers")?
        .unwrap_or("inproc,sql")
        .split(',')
        .collect();
    for c in &checkers {
        if !matches!(*c, "inproc" | "sql") {
            return Err(format!("--checkers: {c} is neither inproc nor sql").into());
        }
    }
    let ddbrel = match value(&args, "--ddbrel")? {
        Some(p) => PathBuf::from(p),
        None => default_ddbrel()?,
    };
    let keep = args.iter().any(|a| a == "--keep");
    let damaged = value(&args, "--damaged")?
        .map(|v| v.parse::<u64>())
        .transpose()?
        .filter(|k| *k > 0);
    let base = match value(&args, "--dir")? {
        Some(d) => PathBuf::from(d),
        None => std::env::temp_dir().join(format!(
            "ddbrel-check-scale-{}",
            uuid::Uuid::now_v7().simple()
        )),
    };
    std::fs::create_dir_all(&base)?;
    println!("ddbrel: {}", ddbrel.display());
    println!("exports under {}", base.display());
    println!();
    println!("| records | checker | time (s) | peak RSS (MiB) | records/s |");
    println!("|---:|---|---:|---:|---:|");
    let mut failed = false;
    for &size in &sizes {
        let dir = base.join(size.to_string());
        let t = Instant::now();
        let records = generate(&dir.join("export"), size, damaged)?;
        let bytes = dir_bytes(&dir.join("export"))?;
        eprintln!(
            "generated {records} records ({:.1} MB gzip) in {:.1} s",
            bytes as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
        for &checker in &checkers {
            let mut cmd = Command::new(&ddbrel);
            // The engine file the CLI opens (an export check does not read it); in the run's
            // directory, so nothing is left in the current one.
            cmd.arg("--local")
                .arg(dir.join("engine.sqlite"))
                .arg("check");
            if checker != "sql" {
                cmd.arg("--in-memory");
            }
            cmd.arg("--export").arg(dir.join("export"));
            let run = measure(cmd, &dir)?;
            let secs = run.wall.as_secs_f64();
            let mut label = match checker {
                "sql" => "`check --export` (SQLite on disk)",
                _ => "`check --in-memory --export` (in process)",
            }
            .to_string();
            if let Some(k) = damaged {
                label.push_str(&format!(", 1 account in {k} damaged"));
            }
            println!(
                "| {records} | {label} | {secs:.1} | {:.0} | {:.0} |",
                run.max_rss_kib as f64 / 1024.0,
                records as f64 / secs
            );
            let summary = run.stdout.lines().last().unwrap_or("").to_string();
            eprintln!("  {checker}: exit {:?}: {summary}", run.status.code());
            // A damaged table must be found damaged (exit 3), a valid one clean.
            let expected = if damaged.is_some() { 3 } else { 0 };
            if run.status.code() != Some(expected) {
                failed = true;
                let head: Vec<&str> = run.stdout.lines().take(20).collect();
                eprintln!("{}\n{}", head.join("\n"), run.stderr);
            }
        }
        if !keep {
            std::fs::remove_dir_all(&dir)?;
        }
    }
    if !keep {
        let _ = std::fs::remove_dir(&base);
    }
    if failed {
        return Err(
            "a check did not exit as expected (0 on a valid table, 3 on a damaged one)".into(),
        );
    }
    Ok(())
}

/// The bytes of the files under `dir`.
fn dir_bytes(dir: &Path) -> Result<u64, BoxError> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
