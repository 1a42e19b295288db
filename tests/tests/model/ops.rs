//! Operations, as generated.

use proptest::prelude::*;

use crate::values::{Kind, POOL};

/// A resource chosen by index: among the live resources of the eligible kinds, or, when `dead`
/// and there are any, among the deleted ones.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// Taken modulo the length of the list it picks from (shrinks towards the first).
    pub(crate) idx: usize,
    pub(crate) dead: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
    CreateAccount {
        slug: u8,
    },
    CreateChild {
        kind: Kind,
        parent: Target,
        value: u8,
    },
    Update {
        target: Target,
        /// Change the unique field (for the types that have one) instead of another field.
        unique: bool,
        value: u8,
        field: u8,
        /// Read the resource first instead of updating the copy last returned.
        fresh: bool,
    },
    Delete {
        target: Target,
        /// Read the resource first instead of deleting the copy last returned.
        fresh: bool,
    },
    /// Read the resource again; later operations get the copy read.
    Read {
        target: Target,
    },
    AddMember {
        /// Team/User instead of Label/Job.
        team: bool,
        collection: Target,
        member: Target,
        /// `add_member_with(.., conveys)` instead of the type's default.
        conveys: Option<bool>,
    },
    RemoveMember {
        team: bool,
        /// Remove one of the existing memberships (by `collection`'s index) instead of an
        /// arbitrary pair.
        existing: bool,
        collection: Target,
        member: Target,
    },
}

pub(crate) fn target() -> impl Strategy<Value = Target> {
    (any::<usize>(), prop::bool::weighted(0.12)).prop_map(|(idx, dead)| Target { idx, dead })
}

pub(crate) fn pool_value() -> impl Strategy<Value = u8> {
    0..POOL.len() as u8
}

pub(crate) fn create_account() -> impl Strategy<Value = Op> {
    pool_value().prop_map(|slug| Op::CreateAccount { slug })
}

pub(crate) fn op() -> impl Strategy<Value = Op> {
    let child_kind = prop_oneof![
        2 => Just(Kind::JobCollection),
        3 => Just(Kind::Job),
        2 => Just(Kind::User),
        1 => Just(Kind::Team),
        2 => Just(Kind::Label),
    ];
    prop_oneof![
        1 => create_account(),
        8 => (child_kind, target(), pool_value())
            .prop_map(|(kind, parent, value)| Op::CreateChild { kind, parent, value }),
        4 => (target(), any::<bool>(), pool_value(), any::<u8>(), any::<bool>()).prop_map(
            |(target, unique, value, field, fresh)| Op::Update {
                target,
                unique,
                value,
                field,
                fresh,
            }
        ),
        2 => (target(), any::<bool>()).prop_map(|(target, fresh)| Op::Delete { target, fresh }),
        2 => target().prop_map(|target| Op::Read { target }),
        6 => (any::<bool>(), target(), target(), prop::option::of(any::<bool>())).prop_map(
            |(team, collection, member, conveys)| Op::AddMember {
                team,
                collection,
                member,
                conveys,
            }
        ),
        3 => (any::<bool>(), any::<bool>(), target(), target()).prop_map(
            |(team, existing, collection, member)| Op::RemoveMember {
                team,
                existing,
                collection,
                member,
            }
        ),
    ]
}

/// A sequence that starts with an account, then 9 to 29 operations.
pub(crate) fn ops() -> impl Strategy<Value = Vec<Op>> {
    (create_account(), prop::collection::vec(op(), 9..30)).prop_map(|(first, rest)| {
        let mut v = vec![first];
        v.extend(rest);
        v
    })
}
