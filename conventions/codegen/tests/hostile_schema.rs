//! Hostile schema files: each of these once overflowed the stack, or took
//! time quadratic in the size of the file. Now they are errors naming the
//! file and line, or load in one pass.

use std::path::PathBuf;

/// Loads `text` as the one file of a schema directory, on top of the
/// bundled conventions as a user crate's build script does.
fn load(name: &str, text: &str) -> Result<semtel_codegen::Registry, Vec<String>> {
    let dir = std::env::temp_dir().join(format!(
        "semtel-hostile-schema-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("s.yaml"), text).unwrap();
    let base = semtel_codegen::bundled().unwrap();
    let result = semtel_codegen::load(&[&dir], Some(&base));
    let _ = std::fs::remove_dir_all(&dir);
    result.map_err(|e| {
        e.diagnostics()
            .iter()
            .map(|d| {
                let file = PathBuf::from(&*d.location.file);
                let file = file.file_name().unwrap().to_string_lossy().into_owned();
                format!(
                    "{file}:{}:{}: {}",
                    d.location.line, d.location.column, d.message
                )
            })
            .collect()
    })
}

#[test]
fn deep_nesting_is_an_error_with_its_place() {
    let text = format!(
        "groups:\n  - id: x\n    type: attribute_group\n    brief:\n      {}x\n",
        "- ".repeat(10_000)
    );
    assert_eq!(
        load("deep", &text).unwrap_err(),
        vec![
            "s.yaml:5:129: lists and mappings are nested more than 64 levels deep here; no \
             schema or configuration needs that many"
        ]
    );
}

#[test]
fn a_huge_dangling_ref_is_reported_briefly() {
    let long = "a".repeat(400_000);
    let text = format!(
        "groups:\n  - id: x\n    type: attribute_group\n    attributes:\n      - ref: x.{long}\n"
    );
    let errors = load("long-ref", &text).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("s.yaml:5:14: dangling `ref`: no attribute `x.aaaa"),
        "{}",
        &errors[0][..100]
    );
    assert!(errors[0].len() < 200, "{}", &errors[0][..200]);
}

#[test]
fn thousands_of_dangling_refs_are_each_reported() {
    let mut text = String::from("groups:\n  - id: x\n    type: attribute_group\n    attributes:\n");
    for i in 0..3000 {
        text.push_str(&format!("      - ref: gen_ai.agent.nam{i}\n"));
    }
    let errors = load("many-refs", &text).unwrap_err();
    assert_eq!(errors.len(), 3000);
    assert!(
        errors[0].ends_with("did you mean `gen_ai.agent.name`?"),
        "{}",
        errors[0]
    );
}

#[test]
fn flow_lists_closed_on_lines_of_their_own_load() {
    // As the upstream registry writes long examples: thousands of them.
    let mut text =
        String::from("groups:\n  - id: registry.x\n    type: attribute_group\n    attributes:\n");
    for i in 0..3000 {
        text.push_str(&format!(
            "      - id: x.a{i}\n        type: string\n        brief: b\n        examples:\n          [\n            \"v{i}\",\n        ]\n"
        ));
    }
    assert!(text.len() > 250_000);
    let reg = load("closers", &text).unwrap();
    let a = &reg.attributes["x.a2999"];
    assert_eq!(a.examples, vec!["\"v2999\"".to_string()]);
}

#[test]
fn long_extends_chains_are_an_error_not_a_stack_overflow() {
    // Each group extends the one written after it: resolving the first
    // follows the whole chain.
    let mut text = String::from("groups:\n");
    for i in 0..2_000 {
        text.push_str(&format!(
            "  - id: g.n{i}\n    type: attribute_group\n    extends: g.n{}\n",
            i + 1
        ));
    }
    text.push_str("  - id: g.n2000\n    type: attribute_group\n");
    let errors = load("chain", &text).unwrap_err();
    assert!(
        errors[0].starts_with(
            "s.yaml:193:14: `extends` links more than 64 groups in a chain here (from `g.n0`)"
        ),
        "{}",
        errors[0]
    );
    // A chain of that length in the order written is fine.
    let mut text = String::from("groups:\n  - id: g.n0\n    type: attribute_group\n");
    for i in 1..200 {
        text.push_str(&format!(
            "  - id: g.n{i}\n    type: attribute_group\n    extends: g.n{}\n",
            i - 1
        ));
    }
    assert!(load("ordered-chain", &text).is_ok());
}
