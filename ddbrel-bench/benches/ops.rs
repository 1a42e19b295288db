//! Store operations on the embedded engine, each next to a hand-written raw SDK baseline that
//! sends the same requests. One engine serves the whole run; the times include the engine's
//! own work (it runs in-process, over loopback HTTP).

use std::cell::Cell;
use std::time::Duration;

use criterion::{Bencher, Criterion, criterion_group, criterion_main};
use ddbrel_bench::fixture::{self, Fixture};
use ddbrel_bench::{baseline_first, paired, raw, report_requests, runtime};
use ddbrel_runtime::{Order, PageRequest, Urn};
use entities::{Job, User};

/// Jobs in the seeded collection, and the page size of the two page benchmarks.
const PAGE: u32 = 100;
/// Teams holding the user whose authorization scope is computed.
const TEAMS: u64 = 3;

fn ops(c: &mut Criterion) {
    let rt = runtime();
    let fx = rt.block_on(Fixture::start()).expect("start the engine");
    let seed = rt
        .block_on(fixture::seed(&fx.store, u64::from(PAGE), TEAMS))
        .expect("seed");
    let account = seed.account.urn.as_str().to_string();
    let collection = seed.collection.urn.as_str().to_string();
    let user = seed.user.urn.as_str().to_string();
    let job_prefix = Urn::<Job>::prefix();
    let limit = PAGE as i32;

    // Creates go to a table per side, so that each side's table grows only by its own items.
    let (create_store, _) = rt.block_on(fx.other_table("create-ddbrel")).unwrap();
    let (setup_store, raw_create_table) = rt.block_on(fx.other_table("create-raw")).unwrap();
    let ddbrel_account = rt
        .block_on(create_store.create(fixture::account("ddbrel")))
        .unwrap();
    let raw_account = rt
        .block_on(setup_store.create(fixture::account("raw")))
        .unwrap();
    let raw_account = raw_account.urn.as_str().to_string();

    // Requests per operation, each pair checked to send the same.
    rt.block_on(async {
        let (r, d) = fx
            .store_counter
            .measure(create_store.create_child(&ddbrel_account, fixture::user(0)))
            .await;
        r.unwrap();
        let (r, b) = fx
            .raw_counter
            .measure(raw::create_user(
                &raw_create_table,
                &raw_account,
                &fixture::user(0),
            ))
            .await;
        r.unwrap();
        report_requests("create_child User (with parent and unique)", &d, &b);

        let (r, d) = fx.store_counter.measure(fx.store.get(&seed.user.urn)).await;
        r.unwrap();
        let (r, b) = fx
            .raw_counter
            .measure(raw::get::<User>(&fx.raw, &user))
            .await;
        r.unwrap().unwrap();
        report_requests("get User", &d, &b);

        let (r, d) = fx
            .store_counter
            .measure(
                fx.store
                    .children_with_data::<Job>(&seed.collection.urn, PageRequest::first(PAGE)),
            )
            .await;
        assert_eq!(r.unwrap().items.len(), PAGE as usize);
        let (r, b) = fx
            .raw_counter
            .measure(raw::children_with_data::<Job>(
                &fx.raw,
                &collection,
                &job_prefix,
                limit,
            ))
            .await;
        assert_eq!(r.unwrap().0.len(), PAGE as usize);
        report_requests("children_with_data, page of 100 Jobs", &d, &b);

        let (r, d) = fx
            .store_counter
            .measure(fx.store.by_account::<Job>(
                &seed.account.urn,
                Order::OldestFirst,
                PageRequest::first(PAGE),
            ))
            .await;
        assert_eq!(r.unwrap().items.len(), PAGE as usize);
        let (r, b) = fx
            .raw_counter
            .measure(raw::by_account::<Job>(
                &fx.raw,
                &account,
                &job_prefix,
                limit,
            ))
            .await;
        assert_eq!(r.unwrap().0.len(), PAGE as usize);
        report_requests("by_account, page of 100 Jobs", &d, &b);

        let (r, d) = fx
            .store_counter
            .measure(fx.store.authorization_scope(seed.user.urn.as_any()))
            .await;
        assert_eq!(r.unwrap().len(), 2 + TEAMS as usize);
        let (r, b) = fx
            .raw_counter
            .measure(raw::authorization_scope(&fx.raw, &user))
            .await;
        assert_eq!(r.unwrap().len(), 2 + TEAMS as usize);
        report_requests("authorization_scope (user in 3 teams)", &d, &b);
    });

    // Each side numbers its own users (emails are unique per account).
    let (next, next_raw) = (Cell::new(0u64), Cell::new(0u64));
    let create = || {
        next.set(next.get() + 1);
        rt.block_on(create_store.create_child(&ddbrel_account, fixture::user(next.get())))
            .unwrap()
    };
    let create_raw = || {
        next_raw.set(next_raw.get() + 1);
        rt.block_on(raw::create_user(
            &raw_create_table,
            &raw_account,
            &fixture::user(next_raw.get()),
        ))
        .unwrap()
    };
    let get = || rt.block_on(fx.store.get(&seed.user.urn)).unwrap();
    let get_raw = || rt.block_on(raw::get::<User>(&fx.raw, &user)).unwrap();
    let children = || {
        rt.block_on(
            fx.store
                .children_with_data::<Job>(&seed.collection.urn, PageRequest::first(PAGE)),
        )
        .unwrap()
    };
    let children_raw = || {
        rt.block_on(raw::children_with_data::<Job>(
            &fx.raw,
            &collection,
            &job_prefix,
            limit,
        ))
        .unwrap()
    };
    let by_account = || {
        rt.block_on(fx.store.by_account::<Job>(
            &seed.account.urn,
            Order::OldestFirst,
            PageRequest::first(PAGE),
        ))
        .unwrap()
    };
    let by_account_raw = || {
        rt.block_on(raw::by_account::<Job>(
            &fx.raw,
            &account,
            &job_prefix,
            limit,
        ))
        .unwrap()
    };
    let scope = || {
        rt.block_on(fx.store.authorization_scope(seed.user.urn.as_any()))
            .unwrap()
    };
    let scope_raw = || {
        rt.block_on(raw::authorization_scope(&fx.raw, &user))
            .unwrap()
    };

    // Paired by alternation: the ratios in docs/BENCHMARKS.md.
    let budget = Duration::from_secs(4);
    paired("create_child User", budget, 1, create, create_raw);
    paired("get User", budget, 1, get, get_raw);
    paired(
        "children_with_data 100 Jobs",
        budget,
        1,
        children,
        children_raw,
    );
    paired("by_account 100 Jobs", budget, 1, by_account, by_account_raw);
    paired("authorization_scope", budget, 1, scope, scope_raw);

    // Criterion, one side after the other.
    pair(
        c,
        "create_child User",
        |b| b.iter(create),
        |b| b.iter(create_raw),
    );
    pair(c, "get User", |b| b.iter(get), |b| b.iter(get_raw));
    pair(
        c,
        "children_with_data 100 Jobs",
        |b| b.iter(children),
        |b| b.iter(children_raw),
    );
    pair(
        c,
        "by_account 100 Jobs",
        |b| b.iter(by_account),
        |b| b.iter(by_account_raw),
    );
    pair(
        c,
        "authorization_scope",
        |b| b.iter(scope),
        |b| b.iter(scope_raw),
    );

    // Stop the engine before the runtime it serves on.
    drop(fx);
}

/// Measures one pair as a criterion group, ddbrel first unless
/// `DDBREL_BENCH_BASELINE_FIRST=1`.
fn pair(
    c: &mut Criterion,
    name: &str,
    mut ddbrel: impl FnMut(&mut Bencher<'_>),
    mut baseline: impl FnMut(&mut Bencher<'_>),
) {
    let mut g = c.benchmark_group(name);
    if baseline_first() {
        g.bench_function("baseline", &mut baseline);
        g.bench_function("ddbrel", &mut ddbrel);
    } else {
        g.bench_function("ddbrel", &mut ddbrel);
        g.bench_function("baseline", &mut baseline);
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
}

criterion_group! {
    name = benches;
    config = config();
    targets = ops
}
criterion_main!(benches);
