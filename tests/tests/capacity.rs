//! Consumed capacity per operation (ReturnConsumedCapacity = INDEXES, summed by the
//! CapacityMeter interceptor): a resource write costs no InvertedIndex write.

use ddbrel_runtime::{CapacityMeter, Store};
use ddbrel_tests::sample::{self, job};
use entities::{JobCollection, Label};

#[tokio::test]
async fn capacity_is_reported_and_resources_cost_no_inverted_index_write() {
    let engine = ddbrel_runtime::embedded::Engine::memory().await.unwrap();
    let meter = CapacityMeter::new();
    let config = engine.config_builder().interceptor(meter.clone()).build();
    let store = Store::new(aws_sdk_dynamodb::Client::from_conf(config), "capacity");
    store.create_table().await.unwrap();

    let (acct, cap) = meter.measure(store.create(sample::account("cap"))).await;
    let acct = acct.unwrap();
    assert_eq!(cap.requests, 1);
    assert!(cap.write_units > 0.0, "{cap:?}");
    assert_eq!(
        cap.inverted_index_units, 0.0,
        "a root resource: no GSI1 write"
    );

    let (col, cap) = meter
        .measure(store.create_child(
            &acct,
            JobCollection {
                name: "c".into(),
                description: None,
            },
        ))
        .await;
    let col = col.unwrap();
    assert!(cap.write_units > 0.0);
    let (j, _) = meter.measure(store.create_child(&col, job("j"))).await;
    let j = j.unwrap();

    let (_, cap) = meter.measure(store.get(&j.urn)).await;
    assert!(cap.read_units > 0.0, "{cap:?}");
    assert_eq!(cap.write_units, 0.0);

    // An update of a resource touches no InvertedIndex.
    let mut g = store.get(&j.urn).await.unwrap();
    g.data.name = "renamed".into();
    let (_, cap) = meter.measure(store.update(&g)).await;
    assert!(cap.write_units > 0.0);
    assert_eq!(cap.inverted_index_units, 0.0, "{cap:?}");

    let label = store
        .create_child(
            &acct,
            Label {
                name: "l".into(),
                color: "c".into(),
            },
        )
        .await
        .unwrap();
    let (_, cap) = meter.measure(store.add_member(&label, &j)).await;
    assert!(cap.write_units > 0.0, "{cap:?}");
    assert!(
        cap.inverted_index_units > 0.0,
        "a membership record is written to the InvertedIndex, and the meter sees it: {cap:?}"
    );
}
