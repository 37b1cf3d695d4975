//! Replays every committed fuzz corpus and every saved crash input under
//! `fuzz/` through the same entry points the fuzz targets call, on stable
//! Rust, so that a bug the fuzzer found once stays fixed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

type Target = fn(&[u8]);

/// Every fuzz target by its name in `fuzz/fuzz_targets/`.
const TARGETS: &[(&str, Target)] = &[
    ("config_file", semtel::__fuzz::config_file),
    ("environment", semtel::__fuzz::environment),
    ("propagation", semtel::__fuzz::propagation),
    ("otlp_traces", semtel::__fuzz::otlp_traces),
    ("schema_file", semtel_codegen::__fuzz::schema_file),
    ("schema_registry", semtel_codegen::__fuzz::schema_registry),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn inputs(target: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for kind in ["corpus", "artifacts"] {
        let Ok(dir) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else {
            continue;
        };
        files.extend(dir.map(|e| e.expect("a readable fuzz directory").path()));
    }
    files.sort();
    files
}

#[test]
fn every_target_has_a_source_file_and_a_corpus() {
    for (name, _) in TARGETS {
        let source = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        assert!(source.is_file(), "{} is missing", source.display());
        assert!(
            !inputs(name).is_empty(),
            "fuzz/corpus/{name}/ holds no inputs: seed it"
        );
    }
    let sources = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .unwrap()
        .count();
    assert_eq!(sources, TARGETS.len(), "a fuzz target is not replayed here");
}

#[test]
fn committed_corpora_and_crash_inputs_pass() {
    // The panic message of a failing input is what the report shows; keep
    // the default hook quiet while replaying thousands of inputs.
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    let mut replayed = 0;
    for (name, run) in TARGETS {
        for file in inputs(name) {
            let data = std::fs::read(&file).unwrap();
            replayed += 1;
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run(&data))) {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{name}: {}: {why}", file.display()));
            }
        }
    }
    let _ = std::panic::take_hook();
    assert!(replayed > 0);
    assert!(
        failures.is_empty(),
        "{} inputs fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
