//! `specs/ENTITIES.md` is generated from the entity declarations; this test fails when it is
//! stale. `DDBREL_BLESS=1 cargo test -p ddbrel-tests --test entities_doc` rewrites it.

use std::path::PathBuf;

#[test]
fn entities_md_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../specs/ENTITIES.md");
    let expected = entities::docs::entities_markdown(&entities::all());

    if std::env::var_os("DDBREL_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &expected)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }

    let actual = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .replace("\r\n", "\n");
    if actual != expected {
        let first_difference = actual
            .lines()
            .zip(expected.lines())
            .enumerate()
            .find(|(_, (a, e))| a != e)
            .map(|(i, (a, e))| format!("line {}:\n  file:      {a}\n  generated: {e}", i + 1))
            .unwrap_or_else(|| {
                format!(
                    "the file has {} lines, the generated text {}",
                    actual.lines().count(),
                    expected.lines().count()
                )
            });
        panic!(
            "specs/ENTITIES.md is stale: regenerate it with `{}` and commit it\nfirst difference at {first_difference}",
            entities::docs::BLESS_COMMAND
        );
    }
}
