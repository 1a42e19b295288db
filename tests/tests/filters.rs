//! Typed filters (SCHEMA.md §10 "… where"): a FilterExpression from the derive's field paths
//! on account listings, the same filter evaluated on the resources a listing of related data
//! reads, the two agreeing with each other on the engine, pages that hold fewer than their
//! limit, and the request counts (a filter reads what the listing reads).

use ddbrel_runtime::{Filter, Order, PageRequest, Store, Stored};
use ddbrel_tests::{TestEnv, sample};
use entities::{Account, Job, JobCollection, JobStatus, Label};

struct World {
    acct: Stored<Account>,
    col: Stored<JobCollection>,
    label: Stored<Label>,
    jobs: Vec<Stored<Job>>,
}

/// Twelve jobs in one collection, all in one label: statuses in turn, every third without a
/// schedule, names `job-00` … `job-11` (and `other-…` for the odd ones).
async fn world(store: &Store) -> World {
    let acct = store.create(sample::account("filters")).await.unwrap();
    let col = sample::collection(store, &acct, "all").await.unwrap();
    let label = sample::label(store, &acct, "every").await.unwrap();
    let mut jobs = Vec::new();
    for i in 0..12 {
        let status = [JobStatus::Active, JobStatus::Paused, JobStatus::Disabled][i % 3];
        let name = if i % 2 == 0 {
            format!("job-{i:02}")
        } else {
            format!("other-{i:02}")
        };
        let job = Job {
            name,
            status,
            schedule: (i % 3 != 1).then(|| format!("{i} * * * *")),
        };
        let job = store.create_child(&col, job).await.unwrap();
        store.add_member(&label, &job).await.unwrap();
        jobs.push(job);
    }
    World {
        acct,
        col,
        label,
        jobs,
    }
}

fn names(items: &[Stored<Job>]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|j| j.data.name.clone()).collect();
    v.sort();
    v
}

/// The jobs a filter should select, computed from the Rust values.
fn expected(jobs: &[Stored<Job>], keep: impl Fn(&Job) -> bool) -> Vec<String> {
    let kept: Vec<Stored<Job>> = jobs.iter().filter(|j| keep(&j.data)).cloned().collect();
    names(&kept)
}

/// A case: what it tests, the filter, and the same condition on the Rust value.
type Case = (&'static str, Filter<Job>, fn(&Job) -> bool);

fn filters() -> Vec<Case> {
    let f = Job::fields();
    vec![
        ("status = active", f.status.equals(JobStatus::Active), |j| {
            j.status == JobStatus::Active
        }),
        (
            "status <> paused (an enum by its stored name)",
            f.status.not_equals(JobStatus::Paused),
            |j| j.status != JobStatus::Paused,
        ),
        ("name begins with job-", f.name.begins_with("job-"), |j| {
            j.name.starts_with("job-")
        }),
        (
            "name between job-02 and job-06",
            f.name.between("job-02".into(), "job-06".into()),
            |j| j.name.as_str() >= "job-02" && j.name.as_str() <= "job-06",
        ),
        ("schedule exists", f.schedule.exists(), |j| {
            j.schedule.is_some()
        }),
        ("schedule absent", f.schedule.not_exists(), |j| {
            j.schedule.is_none()
        }),
        (
            "schedule <> a value: true where absent",
            f.schedule.not_equals(Some("0 * * * *".into())),
            |j| j.schedule.as_deref() != Some("0 * * * *"),
        ),
        ("name > other-05", f.name.gt("other-05".into()), |j| {
            j.name.as_str() > "other-05"
        }),
        (
            "active and scheduled, or not a job-",
            f.status
                .equals(JobStatus::Active)
                .and(f.schedule.exists())
                .or(!f.name.begins_with("job-")),
            |j| {
                (j.status == JobStatus::Active && j.schedule.is_some())
                    || !j.name.starts_with("job-")
            },
        ),
    ]
}

#[tokio::test]
async fn the_engine_and_the_local_evaluation_agree_with_the_rust_values() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let w = world(store).await;
    for (what, filter, keep) in filters() {
        let want = expected(&w.jobs, keep);
        // On the account index: a FilterExpression the engine evaluates.
        let by_account = store
            .by_account_where::<Job>(&w.acct.urn, &filter, Order::OldestFirst, PageRequest::all())
            .await
            .unwrap();
        assert_eq!(names(&by_account.items), want, "by_account_where: {what}");
        // On the resources a listing of related data reads: evaluated here.
        let children = store
            .children_with_data_where::<Job>(&w.col.urn, &filter, PageRequest::all())
            .await
            .unwrap();
        assert_eq!(
            names(&children.items),
            want,
            "children_with_data_where: {what}"
        );
        let members = store
            .members_with_data_where::<Label, Job>(&w.label.urn, &filter, PageRequest::all())
            .await
            .unwrap();
        assert_eq!(
            names(&members.items),
            want,
            "members_with_data_where: {what}"
        );
    }
}

#[tokio::test]
async fn a_filtered_page_reads_what_an_unfiltered_one_reads() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let w = world(store).await;
    let active = Job::fields().status.equals(JobStatus::Active);

    env.counter.reset();
    let page = store
        .by_account_where::<Job>(
            &w.acct.urn,
            &active,
            Order::OldestFirst,
            PageRequest::first(5),
        )
        .await
        .unwrap();
    assert_eq!(env.counter.snapshot().get("Query"), Some(&1));
    assert_eq!(env.counter.total(), 1);
    // Five read, the active among them kept: fewer than the limit, and a cursor.
    assert_eq!(
        names(&page.items),
        expected(&w.jobs[..5], |j| j.status == JobStatus::Active)
    );
    assert!(page.items.len() < 5);
    assert!(page.cursor.is_some());

    // Following the cursors yields every match once.
    let mut all = page.items;
    let mut cursor = page.cursor;
    while let Some(c) = cursor {
        let next = store
            .by_account_where::<Job>(
                &w.acct.urn,
                &active,
                Order::OldestFirst,
                PageRequest::after(Some(5), c),
            )
            .await
            .unwrap();
        all.extend(next.items);
        cursor = next.cursor;
    }
    assert_eq!(
        names(&all),
        expected(&w.jobs, |j| j.status == JobStatus::Active)
    );

    // Related data: one Query and one BatchGetItem for the page, filter or not.
    env.counter.reset();
    let children = store
        .children_with_data_where::<Job>(&w.col.urn, &active, PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(children.items.len(), 4);
    let counts = env.counter.snapshot();
    assert_eq!(counts.get("Query"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("BatchGetItem"), Some(&1), "{counts:?}");
    assert_eq!(env.counter.total(), 2);
}

#[tokio::test]
async fn a_filter_shows_its_expression_and_matches_raw_items() {
    let env = TestEnv::new().await;
    let w = world(&env.store).await;
    let f = Job::fields();
    let filter = f
        .status
        .equals(JobStatus::Paused)
        .and(f.schedule.not_exists());
    let expr = filter.expression().unwrap();
    assert_eq!(expr.text(), "(#f0 = :f0) AND (attribute_not_exists(#f1))");
    assert_eq!(expr.names().get("#f0").map(String::as_str), Some("status"));
    assert_eq!(
        format!("{filter:?}"),
        "Filter(\"(status = :f0) AND (attribute_not_exists(schedule))\")"
    );
    // Raw items read with the plain SDK, matched locally.
    let mut matched = Vec::new();
    for job in &w.jobs {
        let item = env
            .raw_item(job.urn.as_str(), job.urn.as_str())
            .await
            .unwrap();
        if filter.matches(&item).unwrap() {
            matched.push(job.data.name.clone());
        }
    }
    matched.sort();
    assert_eq!(
        matched,
        expected(&w.jobs, |j| j.status == JobStatus::Paused
            && j.schedule.is_none())
    );
}
