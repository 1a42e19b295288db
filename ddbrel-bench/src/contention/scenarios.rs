//! The five scenarios, one function each.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ddbrel_runtime::Error;

use super::report::{Row, Tally, kind};
use super::{Bench, BoxError, Plan};
use crate::fixture::job;

/// `one-parent`: 64 writers creating jobs under one collection.
pub async fn one_parent(plan: &Plan) -> Result<Row, BoxError> {
    let b = Bench::start(0.25, plan).await?;
    let (_, cols) = b.account_with("one-parent", 1).await?;
    let parent = Arc::new(cols[0].clone());
    let store = b.store.clone();
    b.measure_from_here();
    let tally = b
        .run(64, plan.window, move |_, i| {
            let store = store.clone();
            let parent = parent.clone();
            async move { store.create_child(&*parent, job(i)).await.map(|_| ()) }
        })
        .await;
    Ok(b.row(
        "one-parent",
        64,
        tally,
        plan.window.as_secs_f64(),
        String::new(),
    ))
}

/// `one-account`: 64 writers creating jobs across 100 collections of one account.
pub async fn one_account(plan: &Plan) -> Result<Row, BoxError> {
    // Since write protocol v2 a create holds only its parent, so 64 writers over 100 parents
    // rarely meet: at the contended scenarios' scale the engine's own latency (one request at
    // a time) would be what is measured. The scale of many-accounts keeps it small next to the
    // hold, with a window as long in wall time.
    let scale = 0.01;
    let b = Bench::start(scale, plan).await?;
    let (_, cols) = b.account_with("one-account", 100).await?;
    let cols = Arc::new(cols);
    let store = b.store.clone();
    let window = plan.window.mul_f64(scale / 0.25);
    b.measure_from_here();
    let tally = b
        .run(64, window, move |w, i| {
            let store = store.clone();
            let cols = cols.clone();
            async move {
                let parent = &cols[(w + 64 * i as usize) % cols.len()];
                store.create_child(parent, job(i)).await.map(|_| ())
            }
        })
        .await;
    Ok(b.row(
        "one-account",
        64,
        tally,
        window.as_secs_f64(),
        "100 collections".into(),
    ))
}

/// `many-accounts`: 64 writers, each creating jobs under a collection of its own account.
pub async fn many_accounts(plan: &Plan) -> Result<Row, BoxError> {
    // 64 independent writers: a smaller scale keeps the engine's own latency small next to
    // the hold, and the window is shorter in model time for the same wall time.
    let scale = 0.01;
    let b = Bench::start(scale, plan).await?;
    let mut parents = Vec::new();
    for w in 0..64 {
        let (_, cols) = b.account_with(&format!("acct{w}"), 1).await?;
        parents.extend(cols);
    }
    let parents = Arc::new(parents);
    let store = b.store.clone();
    let window = plan.window.mul_f64(scale / 0.25);
    b.measure_from_here();
    let tally = b
        .run(64, window, move |w, i| {
            let store = store.clone();
            let parents = parents.clone();
            async move { store.create_child(&parents[w], job(i)).await.map(|_| ()) }
        })
        .await;
    Ok(b.row(
        "many-accounts",
        64,
        tally,
        window.as_secs_f64(),
        "one account per writer".into(),
    ))
}

/// `update-churn`: 4 writers renaming an account while 60 create jobs across its 100
/// collections.
pub async fn update_churn(plan: &Plan) -> Result<Row, BoxError> {
    let b = Bench::start(0.25, plan).await?;
    let (acct, cols) = b.account_with("churn", 100).await?;
    let cols = Arc::new(cols);
    // 4 updaters rename the account (read it, then a single UpdateItem on the Account item)
    // while 60 writers create jobs across its 100 collections.
    let updaters = 4usize;
    let updates = Arc::new(Mutex::new(Tally::default()));
    b.measure_from_here();
    let end = b.now() + plan.window;
    let mut tasks = Vec::new();
    for w in 0..updaters {
        let (store, urn, up) = (b.store.clone(), acct.urn.clone(), updates.clone());
        let clock = b.model.clock().clone();
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while clock.now() < end {
                let started = clock.now();
                let outcome = async {
                    let mut a = store.get(&urn).await?;
                    a.data.name = format!("Account renamed {w}-{i}");
                    store.update(&a).await.map(|_| ())
                }
                .await;
                let ended = clock.now();
                if ended > end {
                    break;
                }
                let mut t = up.lock().unwrap_or_else(|p| p.into_inner());
                t.attempts += 1;
                t.record(started, ended, outcome);
                i += 1;
            }
        }));
    }
    let store = b.store.clone();
    let creates = b
        .run(64 - updaters, plan.window, move |w, i| {
            let store = store.clone();
            let cols = cols.clone();
            async move {
                let parent = &cols[(w + 64 * i as usize) % cols.len()];
                store.create_child(parent, job(i)).await.map(|_| ())
            }
        })
        .await;
    for t in &tasks {
        t.abort();
    }
    for t in tasks {
        let _ = t.await;
    }
    b.model.until_idle().await;
    let u = updates.lock().unwrap_or_else(|p| p.into_inner());
    let failures: Vec<String> = u.failures.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let note = format!(
        "creates by 60 writers; account updates by 4: {} of {} committed ({})",
        u.committed,
        u.attempts,
        if failures.is_empty() {
            "no failures".into()
        } else {
            failures.join(", ")
        }
    );
    Ok(b.row("update-churn", 64, creates, plan.window.as_secs_f64(), note))
}

/// `cascade-under-load`: a subtree of `plan.subtree_jobs` jobs deleted while 32 writers create
/// under and beside it; the row is the writers beside it, the note the delete and the audit.
pub async fn cascade_under_load(plan: &Plan) -> Result<Row, BoxError> {
    let b = Bench::start(0.25, plan).await?;
    let (_, cols) = b.account_with("cascade", 101).await?;
    let subtree = cols[100].clone();
    // The subtree, built through the model in pass-through mode.
    {
        let setup = b.store.clone();
        let parent = subtree.clone();
        futures::future::try_join_all((0..8).map(|k| {
            let setup = setup.clone();
            let parent = parent.clone();
            async move {
                let mut i = k;
                while i < plan.subtree_jobs {
                    setup.create_child(&parent, job(i)).await?;
                    i += 8;
                }
                Ok::<(), Error>(())
            }
        }))
        .await?;
    }
    let subtree = b.plain.get(&subtree.urn).await?;
    let records = b
        .plain
        .plan_delete(subtree.urn.as_any())
        .await?
        .record_count();
    let beside = Arc::new(cols[..100].to_vec());
    let under = Arc::new(subtree.clone());
    let tally = Arc::new(Mutex::new(Tally::default()));
    let under_tally = Arc::new(Mutex::new(Tally::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    // The writers stop when the cascade ends, or after the window if it has not by then (the
    // cascade then finishes without them, and the note says so).
    b.measure_from_here();
    let load_start = b.now();
    let load_end = load_start + plan.window + Duration::from_millis(50);
    let writers = 32usize;
    let under_writers = 4usize;
    for w in 0..writers {
        let store = b.store.clone();
        let clock = b.model.clock().clone();
        let (beside, under, stop) = (beside.clone(), under.clone(), stop.clone());
        let t = if w < under_writers {
            under_tally.clone()
        } else {
            tally.clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && clock.now() < load_end {
                let started = clock.now();
                let outcome = if w < under_writers {
                    store.create_child(&*under, job(i)).await.map(|_| ())
                } else {
                    let parent = &beside[(w + 32 * i as usize) % beside.len()];
                    store.create_child(parent, job(i)).await.map(|_| ())
                };
                let ended = clock.now();
                if ended > load_end {
                    break;
                }
                let mut t = t.lock().unwrap_or_else(|p| p.into_inner());
                t.attempts += 1;
                t.record(started, ended, outcome);
                i += 1;
            }
        }));
    }
    // Let the writers get going, then delete the subtree through the model. A cascade left
    // part way (its fence or a step refused) is resumed, as a caller would.
    b.model
        .clock()
        .sleep_until(b.now() + Duration::from_millis(50))
        .await;
    let started = b.now();
    let mut delete_attempts = 0;
    let mut delete_errors = Vec::new();
    let deleted = loop {
        delete_attempts += 1;
        match b.store.delete_urn(subtree.urn.as_any()).await {
            Ok(report) => break Some(report),
            Err(e) => {
                delete_errors.push(kind(&e));
                if delete_attempts >= 20 {
                    break None;
                }
            }
        }
    };
    let duration = b.now().saturating_sub(started);
    let under_load = b.now() < load_end;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let load_seconds = (b.now().min(load_end) - load_start).as_secs_f64();
    for t in tasks {
        let _ = t.await;
    }
    b.model.until_idle().await;
    let audit = ddbrel_runtime::integrity::audit(&b.plain, 4).await?;
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &audit.findings {
        *kinds.entry(f.kind.as_str()).or_default() += 1;
    }
    let u = under_tally.lock().unwrap_or_else(|p| p.into_inner());
    let under_failures: Vec<String> = u.failures.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let beside_tally = std::mem::take(&mut *tally.lock().unwrap_or_else(|p| p.into_inner()));
    let note = format!(
        "subtree {} records; delete {} in {:.0} ms model time ({}), {} attempt(s){}; 4 writers under it: {} committed, {} refused ({}); audit: {}",
        records,
        if deleted.is_some() {
            "done"
        } else {
            "NOT done"
        },
        duration.as_secs_f64() * 1000.0,
        if under_load {
            "all of it under load"
        } else {
            "the writers stopped before it ended"
        },
        delete_attempts,
        if delete_errors.is_empty() {
            String::new()
        } else {
            format!(" (errors: {})", delete_errors.join(", "))
        },
        u.committed,
        u.failed,
        under_failures.join(", "),
        if audit.is_clean() {
            format!("clean, {} records", audit.records)
        } else {
            format!("{kinds:?}")
        },
    );
    // Goodput of the writers beside the subtree over the time they ran.
    Ok(b.row(
        "cascade-under-load",
        writers - under_writers,
        beside_tally,
        load_seconds,
        note,
    ))
}
