//! Compile errors of the macros, pinned as trybuild snapshots (`ui/*.stderr`).
//! Regenerate after an intended change with `TRYBUILD=overwrite`.

#[test]
fn misuse_fails_to_compile_with_pointed_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
