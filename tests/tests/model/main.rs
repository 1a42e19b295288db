//! Model-based test: random sequences of operations over a small forest of the system's entity
//! types, run against the engine and against an in-memory model of what SCHEMA.md says the
//! table holds. After every step the operation's outcome, the table's records, the relationship
//! queries and the invariants must all agree with the model.
//!
//! Operations pick their targets by index into the model's lists, so generation needs no
//! store, and every value is a function of the generated sequence (URNs are the only thing the
//! engine makes up, and no decision depends on them), so proptest can shrink a failure to a
//! minimal sequence.

mod checks;
mod engine;
mod ops;
mod plan;
mod state;
mod values;

use ddbrel_tests::TestEnv;
use ddbrel_tests::invariants;
use proptest::prelude::*;

use crate::checks::{check_queries, check_table};
use crate::engine::{Handle, execute};
use crate::ops::{Op, Target, ops};
use crate::plan::Step;
use crate::state::Model;
use crate::values::Kind;

async fn run(ops: Vec<Op>) {
    let env = TestEnv::new().await;
    let store = &env.store;
    let mut model = Model::default();
    let mut handles: Vec<Handle> = Vec::new();
    let mut history: Vec<String> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        let plan = model.step(op, step);
        let expected = model.predict(&plan);
        let (outcome, handle) = execute(store, &handles, &plan).await;
        history.push(format!("{step}: {plan:?} -> {outcome:?}"));
        let ctx = format!("after step {step}\n{}\n", history.join("\n"));
        assert_eq!(outcome, expected, "{ctx}: the outcome");
        let plan_copy = plan.clone();
        match (&plan, handle) {
            (Step::Create { .. }, Some(h)) => {
                let urn = h.urn().to_string();
                handles.push(h);
                model.apply(plan, &outcome, Some(urn));
            }
            (Step::Update { target, .. } | Step::Read { target }, Some(h)) => {
                handles[*target] = h;
                model.apply(plan, &outcome, None);
            }
            _ => model.apply(plan, &outcome, None),
        }
        check_table(&env, &model, &ctx).await;
        let focus = model.focus(&plan_copy, step);
        check_queries(store, &handles, &model, &focus, step, &ctx).await;
        invariants::assert_ok(&env).await;
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn operations_agree_with_the_model(ops in ops()) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(run(ops));
    }
}

fn at(idx: usize) -> Target {
    Target { idx, dead: false }
}

/// Regression: a job is read while in label L1, then moved from L1 to L2 (remove, add), then
/// deleted through the copy read before the move. The leaf delete once compared only
/// `size(_memberOf)` with what was read (1 = 1), deleting the L1 membership (already gone),
/// taking L1's `_memberCount` to -1 and leaving the L2 membership without a member. It now
/// conditions on the exact collections read, so the stale delete falls back to the full path.
#[test]
fn delete_through_a_copy_read_before_a_membership_moved() {
    let label = |idx| Op::CreateChild {
        kind: Kind::Label,
        parent: at(0),
        value: idx,
    };
    let ops = vec![
        Op::CreateAccount { slug: 0 },
        Op::CreateChild {
            kind: Kind::JobCollection,
            parent: at(0),
            value: 0,
        },
        Op::CreateChild {
            kind: Kind::Job,
            parent: at(0),
            value: 0,
        },
        label(0),
        label(0),
        // Live, in creation order: account 0, collection 1, job 2, labels 3 and 4.
        Op::AddMember {
            team: false,
            collection: at(0),
            member: at(0),
            conveys: None,
        },
        Op::Read { target: at(2) },
        Op::RemoveMember {
            team: false,
            existing: true,
            collection: at(0),
            member: at(0),
        },
        Op::AddMember {
            team: false,
            collection: at(1),
            member: at(0),
            conveys: None,
        },
        Op::Delete {
            target: at(2),
            fresh: false,
        },
    ];
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(run(ops));
}
