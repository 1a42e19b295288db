//! The audit on a snapshot (#16): a table written out in the layout of DynamoDB's
//! point-in-time exports and read back gives the same findings as the live audit, for a
//! consistent table and for planted corruption of several kinds; a damaged export is a typed
//! error naming the file.

use std::io::Write;

use aws_sdk_dynamodb::types::AttributeValue as AV;
use ddbrel_runtime::integrity::{self, Audit};
use ddbrel_runtime::{Error, schema::keys};
use ddbrel_tests::{TestEnv, sample};

fn findings(a: &Audit) -> Vec<String> {
    a.findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {} {}",
                f.kind,
                f.invariant,
                f.key,
                f.message,
                f.repairable()
            )
        })
        .collect()
}

/// The live audit, and the audit of an export of the same table.
async fn both(env: &TestEnv, dir: &std::path::Path) -> (Audit, Audit) {
    let live = integrity::audit(&env.store, 3).await.unwrap();
    let items = env.scan_all().await;
    let written = integrity::write_export(dir, env.store.table(), &items).unwrap();
    assert_eq!(written.items, items.len() as u64);
    let snapshot = integrity::audit_export(dir).unwrap();
    // The export's own directory reads the same.
    let again = integrity::audit_export(&written.root).unwrap();
    assert_eq!(findings(&snapshot), findings(&again));
    (live, snapshot)
}

#[tokio::test]
async fn an_export_audits_as_the_live_table_does() {
    let env = TestEnv::new().await;
    let t = sample::build_tree(&env.store, 2, 5, 2, 2).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (live, snapshot) = both(&env, &dir.path().join("clean")).await;
    assert!(live.is_clean() && snapshot.is_clean());
    assert_eq!(live.records, snapshot.records);

    // Plant: a child's relationship record gone, a marker gone, a count too high, a root's
    // listing gone.
    let job = t.jobs[0].urn.to_string();
    let col = t.collections[0].urn.to_string();
    let acct = t.account.urn.to_string();
    env.delete_raw(&col, &keys::child_sk(&job)).await;
    let marker = env
        .raw_item(&acct, &acct)
        .await
        .unwrap()
        .get("_uniqueKeys")
        .and_then(|v| v.as_ss().ok())
        .and_then(|k| k.first().cloned())
        .expect("the account holds its slug marker");
    env.delete_raw(&marker, &marker).await;
    let nine = Some(AV::N("9".into()));
    env.update_raw(&col, &col, "SET #a = :v", "_childCount", nine)
        .await;
    env.update_raw(&acct, &acct, "REMOVE #a, GSI1SK", "GSI1PK", None)
        .await;
    let (live, snapshot) = both(&env, &dir.path().join("planted")).await;
    assert!(live.findings.len() >= 4, "{:?}", findings(&live));
    assert_eq!(findings(&live), findings(&snapshot));

    // Repairs planned on the snapshot apply to the live table.
    let report = integrity::repair(&env.store, &snapshot).await.unwrap();
    assert!(!report.actions.is_empty(), "{report:?}");
    let after = integrity::audit(&env.store, 2).await.unwrap();
    assert!(
        after.findings.len() < live.findings.len(),
        "{:?}",
        findings(&after)
    );
}

#[tokio::test]
async fn a_damaged_export_is_a_typed_error_naming_the_file() {
    let env = TestEnv::new().await;
    sample::build_tree(&env.store, 1, 3, 1, 1).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let items = env.scan_all().await;
    let written = integrity::write_export(dir.path(), env.store.table(), &items).unwrap();

    // A manifest that promises more than the data files hold.
    let files = written.root.join("manifest-files.json");
    let text = std::fs::read_to_string(&files).unwrap();
    let n = items.len();
    std::fs::write(
        &files,
        text.replace(
            &format!("\"itemCount\":{n}"),
            &format!("\"itemCount\":{}", n + 1),
        ),
    )
    .unwrap();
    let err = integrity::audit_export(dir.path()).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    assert!(err.to_string().contains("the manifest says"), "{err}");
    std::fs::write(&files, &text).unwrap();
    assert!(integrity::audit_export(dir.path()).unwrap().is_clean());

    // A data line that is not an item.
    let data_key: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let data = dir.path().join(data_key["dataFileS3Key"].as_str().unwrap());
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&data).unwrap(),
        flate2::Compression::default(),
    );
    writeln!(gz, "{{\"NotAnItem\":1}}").unwrap();
    gz.finish().unwrap();
    let err = integrity::audit_export(dir.path()).unwrap_err();
    assert!(err.to_string().contains("line 1"), "{err}");
    assert!(err.to_string().contains(".json.gz"), "{err}");

    // No export at all.
    let empty = tempfile::tempdir().unwrap();
    let err = integrity::audit_export(empty.path()).unwrap_err();
    assert!(err.to_string().contains("AWSDynamoDB"), "{err}");
}
