//! Every kind of bad schema input gets an error naming file, line, column and
//! the problem, and loading never panics.

use std::path::PathBuf;

/// Writes `files` into a fresh directory and loads it.
fn load(files: &[(&str, &str)]) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!(
        "semtel-bad-schema-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let result = semtel_codegen::load(&[&dir], None);
    let _ = std::fs::remove_dir_all(&dir);
    let err = result.expect_err("the schema should be rejected");
    err.diagnostics()
        .iter()
        .map(|d| {
            let file = PathBuf::from(&*d.location.file);
            format!(
                "{}:{}:{}: {}",
                file.file_name().unwrap().to_string_lossy(),
                d.location.line,
                d.location.column,
                d.message
            )
        })
        .collect()
}

fn assert_one(files: &[(&str, &str)], expected: &str) {
    let errors = load(files);
    assert_eq!(errors, vec![expected.to_string()], "{errors:#?}");
}

#[test]
fn yaml_syntax_names_what_was_left_open_and_where() {
    assert_one(
        &[("a.yaml", "groups:\n  - id: x\n    brief: [unclosed\n")],
        "a.yaml:3:12: YAML syntax: this `[` is never closed; add `]` where the list ends",
    );
    assert_one(
        &[(
            "a.yaml",
            "groups:\n  - id: x\n    type: attribute_group\n    brief: [a, b\n    note: c\n",
        )],
        "a.yaml:4:12: YAML syntax: this `[` is still open at line 5, column 9, where reading \
         fails: close the list with `]` before that point (its items are separated by `,`)",
    );
    assert_one(
        &[(
            "a.yaml",
            "groups:\n  - id: x\n    type: attribute_group\n   brief: b\n",
        )],
        "a.yaml:4:4: YAML syntax: this line (column 4) does not line up with the lines above it: \
         keys at column 1 (line 1), list items at column 3 (line 2), keys at column 5 (line 2); \
         indent it like one of them, or under a key that ends with `:`",
    );
}

#[test]
fn an_attribute_with_an_invalid_type_is_reported_once() {
    assert_one(
        &[(
            "a.yaml",
            "groups:\n  - id: registry.x\n    type: attribute_group\n    attributes:\n      - id: x.count\n        type: integer\n  - id: x.use\n    type: attribute_group\n    attributes:\n      - ref: x.count\n",
        )],
        "a.yaml:6:15: unknown type `integer`; expected string, int, double, boolean, any, an array (`string[]`), `template[...]` or an enum with `members`",
    );
}

#[test]
fn a_bundled_attribute_without_the_bundled_conventions_says_how_to_load_them() {
    let errors = load(&[(
        "a.yaml",
        "groups:\n  - id: x.span\n    type: span\n    attributes:\n      - ref: gen_ai.agent.name\n      - ref: gen_ai.agent.nam\n",
    )]);
    assert_eq!(
        errors,
        vec![
            "a.yaml:5:14: dangling `ref`: `gen_ai.agent.name` belongs to the bundled \
             conventions, which are not loaded here; load them with the schema (`semtel schema \
             check --bundled`; `Generator::new()` always does)"
                .to_string(),
            "a.yaml:6:14: dangling `ref`: no attribute `gen_ai.agent.nam` is defined; did you \
             mean `gen_ai.agent.name`? (`gen_ai.*` attributes come with the bundled \
             conventions: add `--bundled`)"
                .to_string(),
        ]
    );
}

#[test]
fn unknown_type() {
    assert_one(
        &[(
            "a.yaml",
            "groups:\n  - id: registry.x\n    type: attribute_group\n    attributes:\n      - id: x.count\n        type: integer\n",
        )],
        "a.yaml:6:15: unknown type `integer`; expected string, int, double, boolean, any, an array (`string[]`), `template[...]` or an enum with `members`",
    );
}

#[test]
fn duplicate_id() {
    let errors = load(&[
        (
            "a.yaml",
            "groups:\n  - id: registry.a\n    type: attribute_group\n    attributes:\n      - id: x.name\n        type: string\n",
        ),
        (
            "b.yaml",
            "groups:\n  - id: registry.b\n    type: attribute_group\n    attributes:\n      - id: x.name\n        type: int\n",
        ),
    ]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("b.yaml:5:13: duplicate attribute id `x.name`: already defined at "),
        "{errors:?}"
    );
    assert!(errors[0].ends_with("a.yaml:5:13"), "{errors:?}");
}

#[test]
fn dangling_ref() {
    assert_one(
        &[(
            "a.yaml",
            "groups:\n  - id: registry.a\n    type: attribute_group\n    attributes:\n      - id: task.id\n        type: string\n  - id: task.attrs\n    type: attribute_group\n    attributes:\n      - ref: task.ids\n",
        )],
        "a.yaml:10:14: dangling `ref`: no attribute `task.ids` is defined; did you mean `task.id`?",
    );
}

#[test]
fn invalid_attribute_name() {
    assert_one(
        &[(
            "a.yaml",
            "groups:\n  - id: registry.a\n    type: attribute_group\n    attributes:\n      - id: Task.ID\n        type: string\n",
        )],
        "a.yaml:5:13: invalid attribute name `Task.ID`: use dot-separated lowercase segments of letters, digits and `_`, each starting with a letter",
    );
}

#[test]
fn enum_value_of_wrong_type() {
    let errors = load(&[(
        "a.yaml",
        "groups:\n  - id: registry.a\n    type: attribute_group\n    attributes:\n      - id: task.state\n        type:\n          members:\n            - id: ready\n              value: \"ready\"\n            - id: done\n              value: 2\n            - id: odd\n              value: [1]\n",
    )]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with(
            "a.yaml:11:22: enum member `done` has a value of the wrong type: 2 is an integer"
        ),
        "{errors:?}"
    );
    assert_eq!(
        errors[1],
        "a.yaml:13:22: enum member `odd` has a value of the wrong type: expected a string or an integer, found a list"
    );
}

#[test]
fn metric_without_unit_or_instrument() {
    let errors = load(&[(
        "a.yaml",
        "groups:\n  - id: metric.a\n    type: metric\n    metric_name: tasks.done\n    instrument: counter\n  - id: metric.b\n    type: metric\n    metric_name: tasks.time\n    unit: s\n",
    )]);
    assert_eq!(
        errors,
        vec![
            "a.yaml:4:18: metric `tasks.done` has no `unit`".to_string(),
            "a.yaml:8:18: metric `tasks.time` has no `instrument`".to_string(),
        ]
    );
}

#[test]
fn cycle_in_extends() {
    let errors = load(&[(
        "a.yaml",
        "groups:\n  - id: g.a\n    type: attribute_group\n    extends: g.b\n  - id: g.b\n    type: attribute_group\n    extends: g.a\n",
    )]);
    assert!(!errors.is_empty());
    assert!(
        errors.iter().all(|e| e.contains("cycle in `extends`")),
        "{errors:?}"
    );
    assert!(
        errors[0].contains("g.a -> g.b -> g.a") || errors[0].contains("g.b -> g.a -> g.b"),
        "{errors:?}"
    );
}

#[test]
fn unknown_group_type_and_unreadable_dir() {
    assert_one(
        &[("a.yaml", "groups:\n  - id: g.a\n    type: widget\n")],
        "a.yaml:3:11: unknown group type `widget`; expected attribute_group, span, metric, event, entity or resource",
    );
    let err = semtel_codegen::load(&["/nonexistent/semtel/schema"], None).unwrap_err();
    assert!(
        err.to_string()
            .contains("/nonexistent/semtel/schema: cannot read schema directory"),
        "{err}"
    );
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let errors = load(&[
        (
            "a.yaml",
            "groups:\n  - id: registry.a\n    type: attribute_group\n    attributes:\n      - id: Bad\n        type: string\n      - id: y.n\n        type: float\n",
        ),
        ("b.yaml", "groups: [\n"),
    ]);
    assert_eq!(errors.len(), 3, "{errors:?}");
}
