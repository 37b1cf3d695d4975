//! The real upstream registry (two snapshots, in `../shared/semconv`) loads,
//! resolves and generates a key for every attribute, deterministically.

use std::path::PathBuf;
use std::time::Instant;

fn snapshot(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/semconv")
        .join(name);
    assert!(
        p.is_dir(),
        "the upstream registry snapshot {} is missing (it ships in ../shared beside the checkout)",
        p.display()
    );
    p
}

fn check(name: &str, attributes: usize) {
    let start = Instant::now();
    let reg =
        semtel_codegen::load(&[snapshot(name)], None).unwrap_or_else(|e| panic!("{name}:\n{e}"));
    let loaded = start.elapsed();
    let code = semtel_codegen::to_rust(&reg, "::semtel::conventions");
    let total = start.elapsed();
    eprintln!(
        "{name}: {} ; load {loaded:?}, load+generate {total:?}, {} bytes of Rust",
        reg.counts(),
        code.len()
    );
    assert_eq!(reg.counts().attributes, attributes);
    let keys = code
        .lines()
        .filter(|l| l.trim_start().starts_with("pub const ") && l.contains("Key<"))
        .count();
    assert_eq!(keys, attributes, "one key constant per attribute");
    let deprecated_attrs = reg
        .attributes
        .values()
        .filter(|a| a.deprecated.is_some())
        .count();
    assert!(deprecated_attrs > 100);
    assert!(code.matches("#[deprecated(note = ").count() >= deprecated_attrs);
    assert_eq!(
        code,
        semtel_codegen::to_rust(&reg, "::semtel::conventions"),
        "generation is deterministic"
    );
}

#[test]
fn v1_41_0_loads_with_every_attribute() {
    check("v1.41.0", 925);
}

#[test]
fn head_loads_with_every_attribute() {
    check("head", 943);
}
