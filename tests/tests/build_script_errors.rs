//! A bad schema in a user crate fails its build with one readable error per
//! problem (file:line:column), never a panic backtrace.

use std::path::Path;
use std::process::Command;

#[test]
fn bad_schema_fails_the_build_readably() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = std::env::temp_dir().join(format!("semtel-bad-build-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("schema")).unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let codegen = root.join("conventions/codegen").canonicalize().unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"bad-schema\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n[workspace]\n\n\
             [build-dependencies]\nsemtel-codegen = {{ path = {:?} }}\n",
            codegen.display().to_string()
        ),
    )
    .unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(
        dir.join("build.rs"),
        "fn main() {\n    semtel_codegen::Generator::new().schema_dir(\"schema\").run_build_script();\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), "").unwrap();
    std::fs::write(
        dir.join("schema/bad.yaml"),
        "groups:\n  - id: registry.x\n    type: attribute_group\n    attributes:\n      - id: x.count\n        type: integer\n      - ref: gen_ai.agent.nam\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO"))
        .arg("build")
        .arg("--offline")
        .current_dir(&dir)
        // The test's own scratch space in the target directory cargo uses
        // (which follows CARGO_TARGET_DIR), shared across runs for speed.
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("build-script-errors"),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!out.status.success(), "the build should fail:\n{stderr}");
    assert!(
        stderr.contains("semtel: the semantic-convention schema has errors:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("schema/bad.yaml:6:15: unknown type `integer`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("schema/bad.yaml:7:14: dangling `ref`: no attribute `gen_ai.agent.nam` is defined; did you mean `gen_ai.agent.name`?"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
