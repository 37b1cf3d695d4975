//! Compile time: a crate of 200 instrumented functions with semtel against
//! the same with `#[tracing::instrument]` (debug builds, dependencies built
//! beforehand, median of three rebuilds of the crate alone).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const FUNCTIONS: usize = 200;

fn write_crate(dir: &Path, name: &str, deps: &str, body: impl Fn(usize) -> String) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!("[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n[workspace]\n\n[dependencies]\n{deps}\n"),
    )
    .unwrap();
    let mut src = String::new();
    for i in 0..FUNCTIONS {
        src.push_str(&body(i));
    }
    std::fs::write(dir.join("src/lib.rs"), src).unwrap();
}

fn build_seconds(dir: &Path, target: &Path) -> f64 {
    let run = || {
        let out = Command::new(env!("CARGO"))
            .args(["build", "-q", "--offline"])
            .current_dir(dir)
            .env("CARGO_TARGET_DIR", target)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run();
    let mut times: Vec<f64> = (0..3)
        .map(|_| {
            let lib = dir.join("src/lib.rs");
            let text = std::fs::read_to_string(&lib).unwrap();
            std::fs::write(&lib, text).unwrap();
            let t = Instant::now();
            run();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[1]
}

fn main() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let base = root.join("target/compile-time");
    let target = base.join("target");
    let runtime = root.join("runtime").canonicalize().unwrap();
    let semtel_dir = base.join("with-semtel");
    write_crate(
        &semtel_dir,
        "with_semtel",
        &format!("semtel = {{ path = {:?} }}", runtime.display().to_string()),
        |i| {
            format!(
                "#[semtel::traced_task(attrs(orchestration.task.id = id, orchestration.task.priority = {i}))]\npub fn f{i}(id: &str) -> Result<usize, String> {{ Ok(id.len() + {i}) }}\n\n"
            )
        },
    );
    let tracing_dir = base.join("with-tracing");
    write_crate(&tracing_dir, "with_tracing", "tracing = \"0.1\"", |i| {
        format!(
            "#[tracing::instrument(skip_all, fields(task_id = id, priority = {i}), err)]\npub fn f{i}(id: &str) -> Result<usize, String> {{ Ok(id.len() + {i}) }}\n\n"
        )
    });
    let plain_dir = base.join("plain");
    write_crate(&plain_dir, "plain", "", |i| {
        format!("pub fn f{i}(id: &str) -> Result<usize, String> {{ Ok(id.len() + {i}) }}\n\n")
    });
    let plain = build_seconds(&plain_dir, &target);
    let semtel = build_seconds(&semtel_dir, &target);
    let tracing = build_seconds(&tracing_dir, &target);
    println!("compile_time plain_s {plain:.2}");
    println!("compile_time semtel_s {semtel:.2}");
    println!("compile_time tracing_s {tracing:.2}");
    println!("ratio compile_time semtel/tracing {:.3}", semtel / tracing);
}
