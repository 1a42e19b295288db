//! A composed transaction's writes, merged per item: DynamoDB allows each item once in a
//! TransactWriteItems, so the count updates and collection joins several steps make on one
//! item become one update, and those on an item the same transaction creates go into its Put.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::Item;
use crate::error::{Error, Result};
use crate::records::attrs::n;
use crate::records::marker::Marker;
use crate::records::resource::ResourceMeta;
use crate::schema::attr;
use crate::wire::expr::Expr;
use crate::wire::write::{Action, Write};

/// What a step's write risks, to name the error when its condition fails.
#[derive(Debug, Clone)]
pub(crate) enum Blame {
    /// A new resource or record (the key is taken).
    New { urn: String },
    /// The parent a child is created under.
    Parent {
        parent: String,
        resource_type: String,
    },
    /// An end of a membership (the collection or the member).
    End { urn: String },
    /// An ancestor a restricting relationship checks for a fence.
    Ancestor { urn: String },
    /// A uniqueness marker put by a step.
    Marker {
        resource_type: String,
        marker: Marker,
    },
    /// A resource updated or deleted as read.
    AsRead {
        urn: String,
        read: Box<ResourceMeta>,
    },
    /// A marker given up by an update (held by another resource now).
    OldMarker { urn: String },
    /// The caller's condition.
    Condition { urn: String, condition: String },
    /// A patch of named fields.
    Patched(Box<crate::ops::patch::PatchBlame>),
}

/// The bookkeeping several steps do on one existing item: count changes and collections
/// joined, each with the conditions its step puts on the item.
#[derive(Debug, Default)]
struct Bookkeeping {
    child: i64,
    member: i64,
    joins: Vec<(String, bool)>,
    conditions: Vec<Expr>,
}

/// One item's write in the making.
#[derive(Debug)]
enum Slot {
    /// A Put of a new item (a resource, record or marker), bookkeeping folded into it.
    Put { item: Item, condition: Expr },
    /// Bookkeeping alone, or merged into a write of the resource (`base`).
    Update {
        pk: String,
        base: Option<Write>,
        book: Bookkeeping,
    },
    /// Any other write (a delete, a caller's condition), which nothing merges into.
    Other(Write),
}

/// The steps (by index) that put something into one write, with what each risks.
pub(crate) type Blames = Vec<(usize, Blame)>;

/// The items of a composed transaction, in the order steps first wrote them: key, write in
/// the making, blames.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    slots: Vec<((String, String), Slot, Blames)>,
}

impl Plan {
    fn find(&mut self, key: &(String, String)) -> Option<usize> {
        self.slots.iter().position(|(k, _, _)| k == key)
    }

    /// A Put of a new item, conditioned on the key being free.
    pub(crate) fn put(&mut self, step: usize, item: Item, blame: Blame) -> Result<()> {
        let key = Write::put(item.clone()).key();
        if self.find(&key).is_some() {
            return Err(twice(step, &key.0));
        }
        let slot = Slot::Put {
            item,
            condition: crate::wire::write::writes::absent(),
        };
        self.slots.push((key, slot, vec![(step, blame)]));
        Ok(())
    }

    /// A count change on the resource `urn` (`_childCount` or `_memberCount`), the step's
    /// condition on it, and what that condition risks.
    pub(crate) fn count(
        &mut self,
        step: usize,
        urn: &str,
        count: &str,
        delta: i64,
        condition: Expr,
        blame: Blame,
    ) -> Result<()> {
        self.book(step, urn, condition, blame, |b| {
            if count == attr::CHILD_COUNT {
                b.child += delta;
            } else {
                b.member += delta;
            }
        })
    }

    /// The member `urn` joins `collection` (conveying authorization or not).
    pub(crate) fn join(
        &mut self,
        step: usize,
        urn: &str,
        collection: &str,
        conveys: bool,
        condition: Expr,
        blame: Blame,
    ) -> Result<()> {
        self.book(step, urn, condition, blame, |b| {
            b.joins.push((collection.to_string(), conveys))
        })
    }

    fn book(
        &mut self,
        step: usize,
        urn: &str,
        condition: Expr,
        blame: Blame,
        change: impl FnOnce(&mut Bookkeeping),
    ) -> Result<()> {
        let key = (urn.to_string(), urn.to_string());
        match self.find(&key) {
            None => {
                let mut book = Bookkeeping::default();
                change(&mut book);
                book.conditions.push(condition);
                let slot = Slot::Update {
                    pk: urn.to_string(),
                    base: None,
                    book,
                };
                self.slots.push((key, slot, vec![(step, blame)]));
            }
            Some(i) => {
                let (_, slot, blames) = &mut self.slots[i];
                match slot {
                    // Created by this transaction: the bookkeeping goes into its Put.
                    Slot::Put { item, .. } => {
                        let mut book = Bookkeeping::default();
                        change(&mut book);
                        fold_into_item(item, &book);
                    }
                    Slot::Update { book, .. } => {
                        change(book);
                        if !book.conditions.contains(&condition) {
                            book.conditions.push(condition);
                        }
                        blames.push((step, blame));
                    }
                    Slot::Other(_) => return Err(twice(step, urn)),
                }
            }
        }
        Ok(())
    }

    /// A write of an existing resource (an update as planned by `Store::update`), which the
    /// bookkeeping of other steps on it joins.
    pub(crate) fn resource_write(&mut self, step: usize, write: Write, blame: Blame) -> Result<()> {
        let key = write.key();
        match self.find(&key) {
            None => {
                let slot = Slot::Update {
                    pk: key.0.clone(),
                    base: Some(write),
                    book: Bookkeeping::default(),
                };
                self.slots.push((key, slot, vec![(step, blame)]));
                Ok(())
            }
            Some(i) => match &mut self.slots[i] {
                (
                    _,
                    Slot::Update {
                        base: base @ None, ..
                    },
                    blames,
                ) => {
                    *base = Some(write);
                    blames.push((step, blame));
                    Ok(())
                }
                _ => Err(twice(step, &key.0)),
            },
        }
    }

    /// A condition on the existing resource `urn`: joins another step's write of it, or is
    /// a ConditionCheck of its own.
    pub(crate) fn condition(
        &mut self,
        step: usize,
        urn: &str,
        condition: Expr,
        blame: Blame,
    ) -> Result<()> {
        let key = (urn.to_string(), urn.to_string());
        match self.find(&key) {
            None => self.other(step, Write::check(urn, urn, condition), blame),
            Some(i) => match &mut self.slots[i] {
                (_, Slot::Update { book, .. }, blames) => {
                    book.conditions.push(condition);
                    blames.push((step, blame));
                    Ok(())
                }
                // An ancestor created by this very transaction cannot be fenced: its Put
                // already requires the key to be free.
                (_, Slot::Put { .. }, _) if matches!(blame, Blame::Ancestor { .. }) => Ok(()),
                _ => Err(twice(step, urn)),
            },
        }
    }

    /// A write nothing merges into (a delete, a condition).
    pub(crate) fn other(&mut self, step: usize, write: Write, blame: Blame) -> Result<()> {
        let key = write.key();
        if self.find(&key).is_some() {
            return Err(twice(step, &key.0));
        }
        self.slots
            .push((key, Slot::Other(write), vec![(step, blame)]));
        Ok(())
    }

    /// The writes, in order, each with the steps that put something into it.
    pub(crate) fn into_writes(self) -> Result<Vec<(Write, Blames)>> {
        self.slots
            .into_iter()
            .map(|(_, slot, blames)| {
                let write = match slot {
                    Slot::Put { item, condition } => Write::put(item).when(condition),
                    Slot::Other(w) => w,
                    Slot::Update { pk, base, book } => bookkept(&pk, base, book)?,
                };
                Ok((write, blames))
            })
            .collect()
    }
}

/// Two steps write one item in a way that cannot be merged.
fn twice(step: usize, key: &str) -> Error {
    Error::InvalidArgument {
        what: format!("step {step} of a transaction"),
        reason: format!(
            "{key} is already written by an earlier step in a way this step cannot be merged with (DynamoDB allows each item once per transaction)"
        ),
    }
}

/// The bookkeeping put straight into the item a step creates.
fn fold_into_item(item: &mut Item, book: &Bookkeeping) {
    let add = |item: &mut Item, name: &str, delta: i64| {
        if delta == 0 {
            return;
        }
        let now = item
            .get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        item.insert(name.to_string(), n(now + delta));
    };
    add(item, attr::CHILD_COUNT, book.child);
    add(item, attr::MEMBER_COUNT, book.member);
    let mut join = |name: &str, new: Vec<String>| {
        if new.is_empty() {
            return;
        }
        let mut set = match item.get(name) {
            Some(AttributeValue::Ss(s)) => s.clone(),
            _ => Vec::new(),
        };
        for c in new {
            if !set.contains(&c) {
                set.push(c);
            }
        }
        item.insert(name.to_string(), AttributeValue::Ss(set));
    };
    join(
        attr::MEMBER_OF,
        book.joins.iter().map(|(c, _)| c.clone()).collect(),
    );
    join(
        attr::CONVEYING_COLLECTIONS,
        book.joins
            .iter()
            .filter(|(_, conveys)| *conveys)
            .map(|(c, _)| c.clone())
            .collect(),
    );
}

/// One update of `pk` carrying the bookkeeping, merged into the resource's own write if any.
fn bookkept(pk: &str, base: Option<Write>, book: Bookkeeping) -> Result<Write> {
    let mut adds = Vec::new();
    let mut expr = Expr::default();
    if book.child != 0 {
        expr = expr
            .name("#ddbrel_cc", attr::CHILD_COUNT)
            .value(":ddbrel_cc", n(book.child));
        adds.push("#ddbrel_cc :ddbrel_cc");
    }
    if book.member != 0 {
        expr = expr
            .name("#ddbrel_mc", attr::MEMBER_COUNT)
            .value(":ddbrel_mc", n(book.member));
        adds.push("#ddbrel_mc :ddbrel_mc");
    }
    if !book.joins.is_empty() {
        let all: Vec<String> = book.joins.iter().map(|(c, _)| c.clone()).collect();
        expr = expr
            .name("#ddbrel_mo", attr::MEMBER_OF)
            .value(":ddbrel_mo", AttributeValue::Ss(all));
        adds.push("#ddbrel_mo :ddbrel_mo");
        let conveying: Vec<String> = book
            .joins
            .iter()
            .filter(|(_, c)| *c)
            .map(|(c, _)| c.clone())
            .collect();
        if !conveying.is_empty() {
            expr = expr
                .name("#ddbrel_cv", attr::CONVEYING_COLLECTIONS)
                .value(":ddbrel_cv", AttributeValue::Ss(conveying));
            adds.push("#ddbrel_cv :ddbrel_cv");
        }
    }
    let add = if adds.is_empty() {
        Expr::default()
    } else {
        expr.with_text(format!("ADD {}", adds.join(", ")))
    };
    let mut condition: Option<Expr> = None;
    for c in book.conditions {
        condition = Some(match condition {
            None => c,
            Some(prev) => and_checked(pk, prev, c)?,
        });
    }
    let mut write = match base {
        Some(base) => {
            let (update, base_condition) = match base.action() {
                Action::Update { update, .. } => (update.clone(), base.condition().cloned()),
                _ => return Err(twice(0, pk)),
            };
            let w = Write::update(pk, pk, update.merge(add));
            match base_condition {
                Some(c) => w.when(c),
                None => w,
            }
        }
        // The changes cancel out (a child deleted and another created): only the
        // conditions remain, as a ConditionCheck.
        None if add.is_empty() => {
            let check = condition
                .take()
                .unwrap_or_else(crate::wire::write::writes::exists);
            return Ok(Write::check(pk, pk, check));
        }
        None => Write::update(pk, pk, add),
    };
    if let Some(c) = condition {
        let merged = match write.condition().cloned() {
            Some(existing) => and_checked(pk, existing, c)?,
            None => c,
        };
        write = Write::update(
            pk,
            pk,
            match write.action() {
                Action::Update { update, .. } => update.clone(),
                _ => Expr::default(),
            },
        )
        .when(merged);
    }
    Ok(write)
}

/// `a AND b`, refused when the two bind one placeholder to different values (two steps that
/// read the item differently, e.g. two incarnations).
fn and_checked(pk: &str, a: Expr, b: Expr) -> Result<Expr> {
    for (k, v) in b.values() {
        if a.values().get(k).is_some_and(|w| w != v) {
            return Err(Error::InvalidArgument {
                what: format!("a transaction's conditions on {pk}"),
                reason: "two steps read it differently (another version or incarnation)".into(),
            });
        }
    }
    Ok(a.and(b))
}
