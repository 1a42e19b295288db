//! Repairs planned from the SQL checks, in bounded memory.
//!
//! The SQL checks say *where* the table breaks a rule, and plan no fix. So for every record they
//! report, the in-process checker's own rules run again on the record's **neighbourhood**, read
//! back from the scratch database: every record those rules consult about it. The rules then
//! describe the problem and plan its fix as they do on the whole table, and the findings at that
//! key become theirs. This is not done for the whole-type rules (keyed `type …`), which are not
//! repaired, nor for keys with layout findings only, which the layout pass already gave as the
//! checker does.
//!
//! The neighbourhood of a record:
//!
//! - **a resource**: the resource and its parent; every parent-child and membership record naming
//!   it (as child, as member), and the resource whose partition holds each; for every key in its
//!   `_uniqueKeys`, the marker, the marker's owner and every resource listing the key; the
//!   resources beneath it carrying `_deleting` (then its counts are left alone); and the number of
//!   `child#` and `member#` records in its partition, counted by streaming the partition through
//!   pass 1 without keeping it;
//! - **a relationship record**: its two ends;
//! - **a marker**: its owner and every resource listing its key;
//! - and for every resource held, the resources in its `_ancestors` (the fence test).
//!
//! The neighbourhood holds everything the rules look up about the record: the resources they
//! ask for by URN, and complete lists (of the records naming a resource, of the resources
//! listing a key). Anything more only adds records of the same table, which can change no
//! answer about it. So the findings at that key, and the fixes planned, are those of the
//! in-process checker on the whole table. The tests compare the two on every table the
//! integrity tests build.
//!
//! Memory holds one neighbourhood at a time. When the rules find other kinds of problem at a key
//! than the SQL did, the SQL findings stay, unrepairable, saying so, and a warning is logged: no
//! fix is planned from a view the two checkers disagree on.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;

use super::scratch::{Scratch, sql_error};
use crate::Item;
use crate::error::Result;
use crate::integrity::read::Checker;
use crate::integrity::records::{Table, text};
use crate::integrity::{Finding, FindingKind};
use crate::records::json::from_dynamodb_json;
use crate::schema::{CHILD_PREFIX, MEMBER_PREFIX, PK, SK, attr};

/// Appended to the message of a finding the checker's rules did not find as the SQL did.
const DISAGREE: &str =
    " (left unrepaired: the checker's rules, run on this record's neighbourhood, find otherwise)";

/// At most this many fenced resources beneath a resource are read: one is enough to leave its
/// counts alone; the others only matter when some have a malformed `_ancestors`.
const FENCED_BENEATH: usize = 64;

/// An export line's key columns, as the indexes of [`index_lines`] hold them.
const LINE_PK: &str = "json_extract(line, '$.Item.PK.S')";
const LINE_SK: &str = "json_extract(line, '$.Item.SK.S')";

/// Whether the findings at `f`'s key are rechecked on its neighbourhood.
fn rechecked(f: &Finding) -> bool {
    f.invariant != "record" && !f.key.starts_with("type ")
}

/// The findings of the SQL checks (and the layout pass), with the findings at every rechecked
/// key replaced by the in-process rules' own on its neighbourhood, fixes included; in the
/// order [`super::sort_findings`] gives. `progress` is told the number of keys rechecked so far.
pub(super) fn plan(
    db: &Scratch,
    findings: Vec<Finding>,
    progress: &mut dyn FnMut(u64),
) -> Result<Vec<Finding>> {
    let keys: BTreeSet<String> = findings
        .iter()
        .filter(|f| rechecked(f))
        .map(|f| f.key.clone())
        .collect();
    if keys.is_empty() {
        return Ok(findings);
    }
    let conn = db.conn()?;
    index_lines(conn)?;
    let mut from_sql: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    let mut out = Vec::with_capacity(findings.len());
    for f in findings {
        if keys.contains(&f.key) {
            from_sql.entry(f.key.clone()).or_default().push(f);
        } else {
            out.push(f);
        }
    }
    for (done, key) in keys.iter().enumerate() {
        let sql = from_sql.remove(key).unwrap_or_default();
        let mine = recheck(conn, key)?;
        if shape(&mine) == shape(&sql) {
            out.extend(mine);
        } else {
            tracing::warn!(
                key = %key,
                sql = ?shape(&sql),
                rules = ?shape(&mine),
                "the SQL checks and the checker's rules disagree on this record; its findings are left unrepaired"
            );
            out.extend(sql.into_iter().map(|mut f| {
                f.message.push_str(DISAGREE);
                f
            }));
        }
        progress(done as u64 + 1);
    }
    super::sort_findings(&mut out);
    Ok(out)
}

/// The kinds and invariants of findings, sorted: what the two checkers must agree on.
fn shape(findings: &[Finding]) -> Vec<(FindingKind, &'static str)> {
    let mut v: Vec<(FindingKind, &'static str)> =
        findings.iter().map(|f| (f.kind, f.invariant)).collect();
    v.sort();
    v
}

/// Indexes the export lines by key, to read neighbourhoods back: by `(PK, SK)` and by `SK`
/// (the records naming a resource sit in other partitions, under `SK = child#…`/`member#…`).
fn index_lines(conn: &Connection) -> Result<()> {
    conn.execute_batch(&format!(
        "CREATE INDEX IF NOT EXISTS ddbrel_export_key ON ddbrel_export ({LINE_PK}, {LINE_SK});
         CREATE INDEX IF NOT EXISTS ddbrel_export_sk ON ddbrel_export ({LINE_SK});"
    ))
    .map_err(|e| sql_error("indexing the export lines by key", e))
}

/// The in-process rules on the neighbourhood of the record `key` names: their findings at
/// that key.
fn recheck(conn: &Connection, key: &str) -> Result<Vec<Finding>> {
    let mut hood = Hood::new(conn);
    hood.focus(key)?;
    let focus = hood.parsed();
    for r in focus.resources.values() {
        hood.around_resource(r.urn.as_str(), r.parent.as_ref().map(|p| p.as_str()))?;
        for k in &r.unique_keys {
            hood.around_key(k)?;
        }
    }
    for pc in &focus.parent_child {
        hood.resource(pc.parent.as_str())?;
        hood.resource(pc.child.as_str())?;
    }
    for m in &focus.memberships {
        hood.resource(m.collection.as_str())?;
        hood.resource(m.member.as_str())?;
    }
    for k in focus.markers.keys() {
        hood.around_key(k)?;
    }
    // The fence test asks about the ancestors of every resource held.
    let held = hood.parsed();
    for r in held.resources.values() {
        for a in r.ancestors() {
            hood.resource(a.as_str())?;
        }
    }
    let mut table = Table::default();
    let mut checker = Checker::default();
    for item in hood.items.values() {
        checker.record(item, &mut table);
    }
    table.counted = hood.counted;
    checker.cross_check(&table);
    Ok(checker.out.into_iter().filter(|f| f.key == key).collect())
}

/// The neighbourhood of one record, as it is read back.
struct Hood<'c> {
    conn: &'c Connection,
    /// Every record read, by `(PK, SK)`: pass 1 sees them in key order, as on the whole table.
    items: BTreeMap<(String, String), Item>,
    /// Resources already read (or found absent), by URN.
    resources: BTreeSet<String>,
    /// Marker keys whose marker and listers are already read.
    marker_keys: BTreeSet<String>,
    /// The `child#` and `member#` records counted in each focus resource's partition.
    counted: BTreeMap<crate::urn::AnyUrn, (usize, usize)>,
}

impl<'c> Hood<'c> {
    fn new(conn: &'c Connection) -> Hood<'c> {
        Hood {
            conn,
            items: BTreeMap::new(),
            resources: BTreeSet::new(),
            marker_keys: BTreeSet::new(),
            counted: BTreeMap::new(),
        }
    }

    /// Pass 1 on the records held so far, findings dropped: what they name.
    fn parsed(&self) -> Table {
        let mut table = Table::default();
        let mut checker = Checker::default();
        for item in self.items.values() {
            checker.record(item, &mut table);
        }
        table
    }

    /// The record a finding's key names: `PK` when `PK = SK`, else `PK / SK`.
    fn focus(&mut self, key: &str) -> Result<()> {
        self.lines(&format!("{LINE_PK} = ?1 AND {LINE_SK} = ?1"), &[key])?;
        if let Some((pk, sk)) = key.split_once(" / ") {
            self.lines(&format!("{LINE_PK} = ?1 AND {LINE_SK} = ?2"), &[pk, sk])?;
        }
        Ok(())
    }

    /// A focus resource's surroundings (see the module docs), but its markers.
    fn around_resource(&mut self, urn: &str, parent: Option<&str>) -> Result<()> {
        self.resource(urn)?;
        if let Some(p) = parent {
            self.resource(p)?;
        }
        for prefix in [CHILD_PREFIX, MEMBER_PREFIX] {
            let naming = self.lines(&format!("{LINE_SK} = ?1"), &[&format!("{prefix}{urn}")])?;
            for holder in naming {
                self.resource(&holder)?;
            }
        }
        let fenced: Vec<String> = self.column(
            &format!(
                "SELECT DISTINCT a.pk FROM ddbrel_ancestors a
             JOIN ddbrel_items i ON i.pk = a.pk AND i.type = 'Resource'
             WHERE a.urn = ?1 AND i.deleting_t IS NOT NULL LIMIT {FENCED_BENEATH}"
            ),
            &[urn],
        )?;
        for f in fenced {
            self.resource(&f)?;
        }
        self.count_partition(urn)
    }

    /// A marker key's marker, its owner and every resource listing it.
    fn around_key(&mut self, key: &str) -> Result<()> {
        if !self.marker_keys.insert(key.to_string()) {
            return Ok(());
        }
        self.lines(&format!("{LINE_PK} = ?1 AND {LINE_SK} = ?1"), &[key])?;
        let owner = self
            .items
            .get(&(key.to_string(), key.to_string()))
            .map(|m| text(m, attr::OWNER_URN).to_string());
        if let Some(owner) = owner.filter(|o| !o.is_empty()) {
            self.resource(&owner)?;
        }
        let listers = self.column(
            "SELECT DISTINCT pk FROM ddbrel_unique_keys WHERE key = ?1",
            &[key],
        )?;
        for l in listers {
            self.resource(&l)?;
        }
        Ok(())
    }

    /// The Resource records in the partition `urn` (normally one, at `SK = PK`).
    fn resource(&mut self, urn: &str) -> Result<()> {
        if !self.resources.insert(urn.to_string()) {
            return Ok(());
        }
        let sks = self.column(
            "SELECT sk FROM ddbrel_items WHERE type = 'Resource' AND pk = ?1",
            &[urn],
        )?;
        for sk in sks {
            self.lines(&format!("{LINE_PK} = ?1 AND {LINE_SK} = ?2"), &[urn, &sk])?;
        }
        Ok(())
    }

    /// Counts the relationship records pass 1 accepts in the partition `urn`, keeping none.
    fn count_partition(&mut self, urn: &str) -> Result<()> {
        let Ok(key) = crate::urn::AnyUrn::parse(urn) else {
            return Ok(()); // not a resource the rules hold
        };
        let (mut children, mut members) = (0usize, 0usize);
        self.each_line(&format!("{LINE_PK} = ?1"), &[urn], &mut |item| {
            let kind = text(&item, attr::TYPE);
            if kind != "ParentChildRelationship" && kind != "CollectionMembershipRelationship" {
                return;
            }
            let mut t = Table::default();
            Checker::default().record(&item, &mut t);
            children += t.parent_child.len();
            members += t.memberships.len();
        })?;
        self.counted.insert(key, (children, members));
        Ok(())
    }

    /// Reads the export lines matching `condition` into `items`; returns their `PK`s.
    fn lines(&mut self, condition: &str, args: &[&str]) -> Result<Vec<String>> {
        let mut found = Vec::new();
        let mut read = Vec::new();
        self.each_line(condition, args, &mut |item| read.push(item))?;
        for item in read {
            let (pk, sk) = (text(&item, PK).to_string(), text(&item, SK).to_string());
            found.push(pk.clone());
            self.items.entry((pk, sk)).or_insert(item);
        }
        Ok(found)
    }

    /// Calls `visit` with each export line matching `condition`, as an item.
    fn each_line(&self, condition: &str, args: &[&str], visit: &mut dyn FnMut(Item)) -> Result<()> {
        let at = |e: rusqlite::Error| sql_error("reading a neighbourhood back", e);
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT line FROM ddbrel_export WHERE {condition}"))
            .map_err(at)?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(args.iter()))
            .map_err(at)?;
        while let Some(row) = rows.next().map_err(at)? {
            let line: String = row.get(0).map_err(at)?;
            visit(item_of(&line)?);
        }
        Ok(())
    }

    /// The first column of every row of `query`, as text.
    fn column(&self, query: &str, args: &[&str]) -> Result<Vec<String>> {
        let at = |e: rusqlite::Error| sql_error("reading a neighbourhood back", e);
        let mut stmt = self.conn.prepare_cached(query).map_err(at)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), |row| {
                row.get::<_, Option<String>>(0)
            })
            .map_err(at)?;
        let mut out = Vec::new();
        for v in rows {
            out.extend(v.map_err(at)?);
        }
        Ok(out)
    }
}

/// An export line (`{"Item": …}`), as written by the loader, back as an item.
fn item_of(line: &str) -> Result<Item> {
    let bad = |r: String| sql_error("an export line read back", r);
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
    let item = v.get("Item").ok_or_else(|| bad("no \"Item\"".into()))?;
    from_dynamodb_json(item).map_err(|e| bad(e.to_string()))
}
