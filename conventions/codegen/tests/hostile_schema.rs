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
