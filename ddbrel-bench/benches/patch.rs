//! A patch of one field (`Store::patch`: one UpdateItem, no read) against an update of the
//! whole item (`Store::update`): from a copy the caller holds, and read first as a caller
//! without one must. Prints the requests and the capacity DynamoDB reports per operation,
//! then times each pair on the embedded engine.
//!
//! Capacity: DynamoDB charges an UpdateItem by the larger of the item's size before and
//! after, not by the size of the change, so the patch's write costs what the whole update's
//! costs; what it saves is the read (and the conflict a stale copy meets), and the bytes sent.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ddbrel_bench::{paired, runtime};
use ddbrel_runtime::embedded::Engine;
use ddbrel_runtime::store::local_config_builder;
use ddbrel_runtime::{Capacity, CapacityMeter, Entity, Store, Stored};
use serde::{Deserialize, Serialize};

/// A document with a body of [`BODY`] bytes and a view counter.
#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "Bench.Doc")]
#[serde(rename_all = "camelCase")]
pub struct Doc {
    title: String,
    body: String,
    views: u64,
}

/// The body's size: a 10 KB item, 10 write units a write, 3 read units a strong read.
const BODY: usize = 10_000;

fn show(name: &str, c: &Capacity) {
    println!(
        "capacity per operation, {name}: {} requests, {:.1} WCU, {:.1} RCU",
        c.requests, c.write_units, c.read_units
    );
}

fn patch(c: &mut Criterion) {
    let rt = runtime();
    // The engine serves on its own runtime, as in the other benchmarks' fixture.
    let engine_rt = runtime();
    let engine = engine_rt
        .block_on(Engine::memory())
        .expect("start the engine");
    let meter = CapacityMeter::new();
    let config = local_config_builder(&engine.endpoint())
        .interceptor(meter.clone())
        .build();
    let store = Store::new(aws_sdk_dynamodb::Client::from_conf(config), "patch");
    let new_doc = || Doc {
        title: "t".into(),
        body: "x".repeat(BODY),
        views: 0,
    };
    // One document per side, so that each side's writes leave the other's copy current.
    let (patched, held, read) = rt
        .block_on(async {
            store.create_table().await?;
            let a = store.create(new_doc()).await?;
            let b = store.create(new_doc()).await?;
            let c = store.create(new_doc()).await?;
            Ok::<_, ddbrel_runtime::Error>((a, b, c))
        })
        .expect("seed");

    let patch_once = || {
        rt.block_on(store.patch(&patched.urn).add(Doc::fields().views, 1).send())
            .expect("patch")
    };
    let mut held: Stored<Doc> = held;
    let mut update_held = || {
        let mut next = held.clone();
        next.data.views += 1;
        held = rt.block_on(store.update(&next)).expect("update");
    };
    let read_update = || {
        rt.block_on(async {
            let mut now = store.get(&read.urn).await?;
            now.data.views += 1;
            store.update(&now).await
        })
        .expect("read and update")
    };

    let measure = |name: &str, op: &mut dyn FnMut()| {
        meter.reset();
        op();
        show(name, &meter.total());
    };
    measure("patch of one field", &mut || {
        patch_once();
    });
    measure("update of the whole item, from a held copy", &mut || {
        update_held()
    });
    measure("update of the whole item, read first", &mut || {
        read_update();
    });

    let budget = Duration::from_secs(4);
    paired(
        "patch vs update from a held copy",
        budget,
        1,
        patch_once,
        &mut update_held,
    );
    paired("patch vs read + update", budget, 1, patch_once, read_update);

    let mut g = c.benchmark_group("patch one field of a 10 KB item");
    g.bench_function("patch", |b| b.iter(patch_once));
    g.bench_function("update from a held copy", |b| b.iter(&mut update_held));
    g.bench_function("read + update", |b| b.iter(read_update));
    g.finish();
    drop(engine);
    engine_rt.shutdown_background();
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
    targets = patch
}
criterion_main!(benches);
