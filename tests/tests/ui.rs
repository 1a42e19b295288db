//! Compile-time behaviour of `#[derive(Entity)]`: every rule has a compile-fail case in
//! `ui/fail` whose `.stderr` shows the diagnostic, and every attribute form has a pass case in
//! `ui/pass` (those crates use only `ddbrel_runtime` and `serde`, as a user crate would).
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p ddbrel-tests --test ui`
//! and read every changed `.stderr`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/fail/*.rs");
    cases.pass("ui/pass/*.rs");
}
