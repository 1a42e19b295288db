//! Parent-child, collections, authorization scope and cascading delete on the engine.

use ddbrel_runtime::{AnyUrn, DeleteOptions, Error, PageRequest, Stored};
use ddbrel_tests::TestEnv;
use ddbrel_tests::faults::FaultMode;
use ddbrel_tests::invariants::assert_ok;
use ddbrel_tests::sample::{self, build_tree, job};
use entities::{Job, JobCollection, Label, Team, User};

fn total(counts: &std::collections::BTreeMap<String, u64>) -> u64 {
    counts.values().sum()
}

#[tokio::test]
async fn child_create_is_one_request_and_checks_the_parent() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let account = store.create(sample::account("a")).await.unwrap();
    let (col, counts) = env
        .counter
        .measure(store.create_child(
            &account,
            JobCollection {
                name: "nightly".into(),
                description: None,
            },
        ))
        .await;
    let col = col.unwrap();
    assert_eq!(total(&counts), 1, "{counts:?}");
    assert_eq!(counts.get("TransactWriteItems"), Some(&1));
    assert_eq!(col.meta.parent.as_ref(), Some(account.urn.as_any()));
    assert_eq!(col.meta.account.as_ref(), Some(account.urn.as_any()));
    let (j, counts) = env
        .counter
        .measure(store.create_child(&col, job("j")))
        .await;
    let j = j.unwrap();
    assert_eq!(total(&counts), 1);
    assert_eq!(
        j.meta.account.as_ref(),
        Some(account.urn.as_any()),
        "an account-scoped child takes its parent's account"
    );
    assert_eq!(
        j.meta.ancestors,
        vec![account.urn.as_any().clone(), col.urn.as_any().clone()]
    );
    assert_ok(&env).await;

    // A parent that no longer exists.
    let gone = store
        .create_child(
            &account,
            JobCollection {
                name: "gone".into(),
                description: None,
            },
        )
        .await
        .unwrap();
    store.delete(&gone).await.unwrap();
    let err = store.create_child(&gone, job("orphan")).await.unwrap_err();
    assert!(
        matches!(&err, Error::ParentMissing { parent } if parent == gone.urn.as_str()),
        "{err}"
    );
    // Through a URN, the parent is read first.
    let err = store
        .create_child_of::<Job, _>(&gone.urn, job("orphan"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ParentMissing { .. }), "{err}");
    assert_ok(&env).await;
}

#[tokio::test]
async fn reads_of_parent_children_and_ancestors_count_requests() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let tree = build_tree(store, 2, 5, 1, 2).await.unwrap();
    let col = &tree.collections[0];
    let a_job = &tree.jobs[0];

    let (parent, counts) = env.counter.measure(store.parent_of(&a_job.urn)).await;
    assert_eq!(parent.unwrap(), col.urn);
    assert_eq!(total(&counts), 1);

    let (page, counts) = env
        .counter
        .measure(store.children_with_data::<Job>(&col.urn, PageRequest::first(100)))
        .await;
    let page = page.unwrap();
    assert_eq!(total(&counts), 2, "children page with data = 2: {counts:?}");
    assert_eq!(page.items.len(), 5);
    assert!(
        page.items
            .iter()
            .all(|j| j.meta.parent.as_ref() == Some(col.urn.as_any()))
    );

    // Children of one type only: the account has collections, labels, users and a team.
    let cols = store
        .children::<JobCollection>(&tree.account.urn, PageRequest::all())
        .await
        .unwrap();
    assert_eq!(cols.items.len(), 2);
    let users = store
        .children::<User>(&tree.account.urn, PageRequest::all())
        .await
        .unwrap();
    assert_eq!(users.items.len(), 2);

    // Pages of 2 return each child once.
    let mut seen = Vec::new();
    let mut req = PageRequest::first(2);
    loop {
        let p = store.children::<Job>(&col.urn, req).await.unwrap();
        seen.extend(p.items);
        match p.cursor {
            Some(c) => req = PageRequest::after(Some(2), c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    // A cursor of one parent is refused for another.
    let p = store
        .children::<Job>(&col.urn, PageRequest::first(2))
        .await
        .unwrap();
    let err = store
        .children::<Job>(
            &tree.collections[1].urn,
            PageRequest::after(Some(2), p.cursor.unwrap()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidCursor { .. }), "{err}");

    let (anc, counts) = env
        .counter
        .measure(store.ancestors(a_job.urn.as_any()))
        .await;
    assert_eq!(
        anc.unwrap(),
        vec![tree.account.urn.as_any().clone(), col.urn.as_any().clone()]
    );
    assert_eq!(total(&counts), 1);

    let (desc, counts) = env
        .counter
        .measure(store.descendants(tree.account.urn.as_any(), None))
        .await;
    let desc = desc.unwrap();
    // 2 collections + 10 jobs + 1 label + 2 users + 1 team.
    assert_eq!(desc.len(), 16);
    // A Query for the account and for each of its 2 collections (the internal nodes), and a
    // BatchGetItem per level below the first for the counts that tell the leaves (not 17
    // Queries, one per node).
    assert_eq!(
        counts,
        [("BatchGetItem".to_string(), 2), ("Query".to_string(), 3)].into()
    );
    assert_eq!(desc.iter().filter(|(_, d)| *d == 2).count(), 10);
    let shallow = store
        .descendants(tree.account.urn.as_any(), Some(1))
        .await
        .unwrap();
    assert_eq!(shallow.len(), 6);
}

#[tokio::test]
async fn authorization_scope_is_flat_and_follows_conveying_collections() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let tree = build_tree(store, 1, 3, 1, 1).await.unwrap();
    let a_job = &tree.jobs[0]; // index 0 is in label 0
    let user = &tree.users[0];

    let (job_scope, job_counts) = env
        .counter
        .measure(store.authorization_scope(a_job.urn.as_any()))
        .await;
    let job_scope = job_scope.unwrap();
    let (user_scope, user_counts) = env
        .counter
        .measure(store.authorization_scope(user.urn.as_any()))
        .await;
    let user_scope = user_scope.unwrap();

    assert_eq!(
        job_scope,
        vec![
            a_job.urn.as_any().clone(),
            tree.collections[0].urn.as_any().clone(),
            tree.account.urn.as_any().clone(),
        ],
        "the Label does not convey authorization"
    );
    assert!(!job_scope.contains(tree.labels[0].urn.as_any()));
    assert!(user_scope.contains(tree.team.urn.as_any()));
    assert!(user_scope.contains(tree.account.urn.as_any()));
    assert!(
        total(&job_counts) <= total(&user_counts),
        "a job two levels deep ({job_counts:?}) costs no more than a user one level deep ({user_counts:?})"
    );
    assert!(total(&user_counts) <= 3);

    // A label made to convey for one job puts it (and its ancestors) in that job's scope.
    store
        .add_member_with(&tree.labels[0], a_job, true)
        .await
        .unwrap();
    let scope = store.authorization_scope(a_job.urn.as_any()).await.unwrap();
    assert!(scope.contains(tree.labels[0].urn.as_any()));
    assert_ok(&env).await;
}

mod nested {
    use ddbrel_runtime::Entity;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
    #[urn(type = "Scope.Org")]
    pub struct Org {
        pub n: u32,
    }
    #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
    #[urn(type = "Scope.Org.Folder")]
    #[parent(Org)]
    pub struct Folder {
        pub n: u32,
    }
    #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
    #[urn(type = "Scope.Org.Folder.Doc")]
    #[parent(Folder)]
    pub struct Doc {
        pub n: u32,
    }
    /// A group of folders, in another org, whose grants flow to everything in them.
    #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
    #[urn(type = "Scope.Org.Share")]
    #[parent(Org)]
    #[collection(of(Folder), conveys_authorization = true)]
    pub struct Share {
        pub n: u32,
    }
}

#[tokio::test]
async fn a_conveying_collection_holding_an_ancestor_is_in_the_scope() {
    use nested::{Doc, Folder, Org, Share};
    let env = TestEnv::new().await;
    let store = &env.store;
    let org = store.create(Org { n: 0 }).await.unwrap();
    let other_org = store.create(Org { n: 1 }).await.unwrap();
    let folder = store.create_child(&org, Folder { n: 0 }).await.unwrap();
    let doc = store.create_child(&folder, Doc { n: 0 }).await.unwrap();
    let share = store
        .create_child(&other_org, Share { n: 0 })
        .await
        .unwrap();
    let folder = store.get(&folder.urn).await.unwrap();
    store.add_member(&share, &folder).await.unwrap();

    let (scope, counts) = env
        .counter
        .measure(store.authorization_scope(doc.urn.as_any()))
        .await;
    let scope = scope.unwrap();
    assert_eq!(
        scope,
        vec![
            doc.urn.as_any().clone(),
            folder.urn.as_any().clone(),
            org.urn.as_any().clone(),
            share.urn.as_any().clone(),
            other_org.urn.as_any().clone(),
        ],
        "the doc, its ancestors, the share holding its folder, and the share's ancestors"
    );
    assert_eq!(total(&counts), 3);

    // Not conveying: the share leaves the scope, the ancestors stay.
    store.add_member_with(&share, &folder, false).await.unwrap();
    let scope = store.authorization_scope(doc.urn.as_any()).await.unwrap();
    assert!(!scope.contains(share.urn.as_any()));
    assert!(!scope.contains(other_org.urn.as_any()));
    assert!(scope.contains(org.urn.as_any()));
    assert_ok(&env).await;
}

#[tokio::test]
async fn memberships_add_remove_and_read() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let tree = build_tree(store, 1, 2, 0, 0).await.unwrap();
    let label = store
        .create_child(
            &tree.account,
            Label {
                name: "urgent".into(),
                color: "red".into(),
            },
        )
        .await
        .unwrap();
    let j = &tree.jobs[0];
    let (m, counts) = env.counter.measure(store.add_member(&label, j)).await;
    let m = m.unwrap();
    assert_eq!(total(&counts), 1);
    assert!(!m.conveys_authorization, "Label's default");
    // Idempotent re-add.
    store.add_member(&label, j).await.unwrap();
    let members = store.members(&label.urn, PageRequest::all()).await.unwrap();
    assert_eq!(members.items.len(), 1);
    assert_eq!(members.items[0].member, *j.urn.as_any());
    let of = store
        .collections_of(j.urn.as_any(), PageRequest::all())
        .await
        .unwrap();
    assert_eq!(of.items.len(), 1);
    assert_eq!(of.items[0].collection, *label.urn.as_any());
    let reread = store.get(&j.urn).await.unwrap();
    assert_eq!(reread.meta.member_of, vec![label.urn.as_any().clone()]);
    assert_ok(&env).await;

    // Flip to conveying, then back.
    store.add_member_with(&label, j, true).await.unwrap();
    let reread = store.get(&j.urn).await.unwrap();
    assert_eq!(
        reread.meta.conveying_collections,
        vec![label.urn.as_any().clone()]
    );
    store.add_member_with(&label, j, false).await.unwrap();
    assert!(
        store
            .get(&j.urn)
            .await
            .unwrap()
            .meta
            .conveying_collections
            .is_empty()
    );
    assert_ok(&env).await;

    assert!(store.remove_member(&label.urn, &j.urn).await.unwrap());
    assert!(!store.remove_member(&label.urn, &j.urn).await.unwrap());
    assert!(
        store
            .members(&label.urn, PageRequest::all())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(store.get(&j.urn).await.unwrap().meta.member_of.is_empty());
    assert_ok(&env).await;
}

#[tokio::test]
async fn deleting_a_label_leaves_its_jobs_and_deleting_a_job_leaves_labels() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let tree = build_tree(store, 1, 6, 2, 0).await.unwrap();
    let label = &tree.labels[0];
    let held: Vec<AnyUrn> = store
        .members(&label.urn, PageRequest::all())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|m| m.member)
        .collect();
    assert!(!held.is_empty());
    let label_now = store.get(&label.urn).await.unwrap();
    let report = store.delete(&label_now).await.unwrap();
    assert_eq!(report.resource_count(), 1);
    assert_eq!(report.memberships, held.len());
    for m in &held {
        let j: ddbrel_runtime::Urn<Job> = m.clone().typed().unwrap();
        let j = store.get(&j).await.unwrap();
        assert!(!j.meta.member_of.contains(label.urn.as_any()));
    }
    assert_ok(&env).await;

    // Deleting a job removes it from every label.
    let other = &tree.labels[1];
    let members = store.members(&other.urn, PageRequest::all()).await.unwrap();
    let victim: ddbrel_runtime::Urn<Job> = members.items[0].member.clone().typed().unwrap();
    let victim = store.get(&victim).await.unwrap();
    store.delete(&victim).await.unwrap();
    let after = store.members(&other.urn, PageRequest::all()).await.unwrap();
    assert_eq!(after.items.len(), members.items.len() - 1);
    assert_eq!(
        store.get(&other.urn).await.unwrap().meta.member_count as usize,
        members.items.len() - 1
    );
    assert_ok(&env).await;
}

#[tokio::test]
async fn cascade_of_a_three_level_tree_leaves_nothing_at_the_floor() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let tree = build_tree(store, 5, 60, 3, 4).await.unwrap();
    let records = env.scan_all().await.len() as u64;
    let (report, counts) = env
        .counter
        .measure(store.delete_urn(tree.account.urn.as_any()))
        .await;
    let report = report.unwrap();
    assert!(report.swept);
    assert_eq!(report.record_count() as u64, records, "{report:?}");
    assert!(env.scan_all().await.is_empty(), "nothing left behind");

    let discovery = counts.get("Query").copied().unwrap_or(0)
        + counts.get("BatchGetItem").copied().unwrap_or(0)
        + counts.get("GetItem").copied().unwrap_or(0);
    // The restrict pass (SCHEMA.md §7, "Restrict") fences each internal node (the
    // collections, the labels, the team) before the sweep does it again, and marks the root.
    let internal = (tree.collections.len() + tree.labels.len() + 1) as u64;
    let floor = records.div_ceil(25) + discovery + 1 + internal + 1;
    let spent = total(&counts);
    println!("cascade of {records} records: {counts:?}, floor {floor}");
    assert!(
        spent as f64 <= floor as f64 * 1.1,
        "{spent} requests against a floor of {floor}: {counts:?}"
    );
}

#[tokio::test]
async fn a_small_closure_is_deleted_atomically_in_one_write() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let tree = build_tree(store, 1, 4, 0, 0).await.unwrap();
    let col = store.get(&tree.collections[0].urn).await.unwrap();
    let (report, counts) = env.counter.measure(store.delete(&col)).await;
    let report = report.unwrap();
    assert!(!report.swept);
    assert_eq!(counts.get("TransactWriteItems"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("BatchWriteItem"), None);
    assert_eq!(report.resource_count(), 5);
    assert_ok(&env).await;
    // The account keeps one child: the sample's team.
    assert_eq!(
        store.get(&tree.account.urn).await.unwrap().meta.child_count,
        1
    );
}

#[tokio::test]
async fn a_fenced_resource_refuses_new_children_memberships_and_updates() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let tree = build_tree(store, 1, 2, 1, 0).await.unwrap();
    // Fence the account by failing the sweep right after the fence.
    env.faults.arm(2, FaultMode::BeforeSend);
    let res = store
        .delete_with(
            tree.account.urn.as_any(),
            DeleteOptions {
                force_sweep: true,
                ..Default::default()
            },
        )
        .await;
    assert!(res.is_err());
    env.faults.disarm();
    let acct = store.get(&tree.account.urn).await.unwrap();
    assert!(acct.meta.deleting.is_some(), "readers see the fence");

    // A child of the fenced account: refused by the check on its parent.
    let err = store
        .create_child(
            &acct,
            entities::JobCollection {
                name: "late".into(),
                description: None,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::BeingDeleted { urn } if urn == tree.account.urn.as_str()),
        "{err}"
    );
    // A grandchild, and a membership between resources beneath the fence that are not fenced
    // themselves: contract 2 checks only the resources written, so both land, and the
    // cascade, which fences each internal node before it reads it, takes them too.
    let late = store
        .create_child(&tree.collections[0], job("late"))
        .await
        .unwrap();
    store
        .add_member(&tree.labels[0], &tree.jobs[1])
        .await
        .unwrap();
    let mut a = acct.clone();
    a.data.name = "renamed".into();
    assert!(matches!(
        store.update(&a).await,
        Err(Error::BeingDeleted { .. })
    ));
    // Delete again finishes it.
    store.delete_urn(tree.account.urn.as_any()).await.unwrap();
    assert!(store.try_get(&late.urn).await.unwrap().is_none());
    assert!(env.scan_all().await.is_empty());
}

#[tokio::test]
async fn cascade_with_concurrent_writers_leaves_no_orphans() {
    ddbrel_tests::concurrency::cascade_with_concurrent_writers(6, None).await;
}

#[tokio::test]
async fn cascade_survives_a_crash_at_every_request() {
    for mode in [FaultMode::BeforeSend, FaultMode::AfterResponse] {
        let mut k = 1;
        loop {
            let env = TestEnv::new().await;
            let store = &env.store;
            let tree = build_tree(store, 2, 4, 1, 1).await.unwrap();
            env.faults.arm(k, mode);
            let first = store
                .delete_with(
                    tree.account.urn.as_any(),
                    DeleteOptions {
                        force_sweep: true,
                        ..Default::default()
                    },
                )
                .await;
            env.faults.disarm();
            let struck = first.is_err();
            assert_ok(&env).await;
            if struck {
                // Resume. If the lost response was the cascade's last write, the account is
                // already gone and there is nothing to resume.
                match store.delete_urn(tree.account.urn.as_any()).await {
                    Ok(_) => {}
                    Err(Error::NotFound { .. }) if mode == FaultMode::AfterResponse => {}
                    Err(e) => panic!("{mode:?} k={k}: resume failed: {e}"),
                }
            }
            assert!(
                env.scan_all().await.is_empty(),
                "{mode:?} k={k}: records left"
            );
            if !struck {
                break; // k is past the last request of the cascade
            }
            k += 1;
            assert!(k < 200, "the cascade never finished under faults");
        }
    }
}

#[tokio::test]
async fn team_and_user_memberships_convey_by_default() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let tree = build_tree(store, 0, 0, 0, 2).await.unwrap();
    let t: &Stored<Team> = &tree.team;
    let members = store.members(&t.urn, PageRequest::all()).await.unwrap();
    assert_eq!(members.items.len(), 2);
    assert!(members.items.iter().all(|m| m.conveys_authorization));
    let u = store.get(&tree.users[0].urn).await.unwrap();
    assert_eq!(u.meta.conveying_collections, vec![t.urn.as_any().clone()]);
}

#[tokio::test]
async fn the_progress_callback_counts_every_record() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let tree = build_tree(store, 2, 20, 1, 1).await.unwrap();
    let records = env.scan_all().await.len();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let report = store
        .delete_with(
            tree.account.urn.as_any(),
            DeleteOptions {
                force_sweep: true,
                progress: Some(std::sync::Arc::new(move |p| s2.lock().unwrap().push(p))),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(report.record_count(), records);
    let seen = seen.lock().unwrap();
    assert!(seen.len() > 2, "progress reported along the way");
    assert!(
        seen.windows(2).all(|w| w[0].deleted <= w[1].deleted),
        "monotonic"
    );
    let last = seen.last().unwrap();
    assert_eq!(last.discovered, records);
    assert_eq!(last.deleted, records);
}

/// The scopes of a page (jobs, users in a conveying team, the account, a URN with no
/// resource) are each what `authorization_scope` gives, in the page's order, in 3
/// BatchGetItem for the whole page instead of up to 3 requests per resource.
#[tokio::test]
async fn authorization_scopes_of_a_page_cost_three_requests() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let tree = build_tree(store, 2, 4, 1, 3).await.unwrap();
    let missing: AnyUrn = Job::new_urn().into();
    let mut page: Vec<AnyUrn> = tree.jobs.iter().map(|j| j.urn.as_any().clone()).collect();
    page.extend(tree.users.iter().map(|u| u.urn.as_any().clone()));
    page.push(missing.clone());
    page.push(tree.account.urn.as_any().clone());
    page.push(tree.jobs[0].urn.as_any().clone());
    let (scopes, counts) = env.counter.measure(store.authorization_scopes(&page)).await;
    let scopes = scopes.unwrap();
    assert_eq!(counts, [("BatchGetItem".to_string(), 3)].into());
    assert_eq!(scopes.len(), page.len());
    for (urn, scope) in page.iter().zip(&scopes) {
        if urn == &missing {
            assert!(scope.is_none(), "a URN with no resource is reported");
            continue;
        }
        let one = store.authorization_scope(urn).await.unwrap();
        assert_eq!(scope.as_ref(), Some(&one), "{urn}");
    }
    // A user's scope reaches the team that conveys to it.
    let user = scopes[tree.jobs.len()].as_ref().unwrap();
    assert!(user.contains(tree.team.urn.as_any()), "{user:?}");
    let (empty, counts) = env.counter.measure(store.authorization_scopes(&[])).await;
    assert!(empty.unwrap().is_empty());
    assert!(counts.is_empty(), "no request for an empty page");
}

/// `members_with_data` gives the members of one type with their data: one Query and one
/// BatchGetItem per page, pages following the cursor.
#[tokio::test]
async fn members_with_data_are_typed_and_cost_two_requests_a_page() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let tree = build_tree(store, 1, 3, 1, 3).await.unwrap();
    let (page, counts) = env
        .counter
        .measure(store.members_with_data::<Team, User>(&tree.team.urn, PageRequest::first(2)))
        .await;
    let page = page.unwrap();
    assert_eq!(
        counts,
        [("BatchGetItem".to_string(), 1), ("Query".to_string(), 1)].into()
    );
    assert_eq!(page.items.len(), 2);
    let rest = store
        .members_with_data::<Team, User>(
            &tree.team.urn,
            PageRequest::after(Some(10), page.cursor.clone().expect("a next page")),
        )
        .await
        .unwrap();
    let mut emails: Vec<String> = page
        .items
        .iter()
        .chain(&rest.items)
        .map(|u| u.data.email.clone())
        .collect();
    emails.sort();
    let mut expected: Vec<String> = tree.users.iter().map(|u| u.data.email.clone()).collect();
    expected.sort();
    assert_eq!(emails, expected);
    // A label's members are jobs.
    let jobs = store
        .members_with_data::<Label, Job>(&tree.labels[0].urn, PageRequest::all())
        .await
        .unwrap();
    assert!(!jobs.items.is_empty());
    assert!(jobs.items.iter().all(|j| j.urn.as_str().contains("Job::")));
}
