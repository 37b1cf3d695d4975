//! Generates Rust from the real upstream registry snapshots in
//! `../shared/semconv`, so that a test proves the generated code compiles.
//! When the snapshots are missing, the test that needs them fails and says so.

use std::path::Path;

fn main() {
    println!("cargo:rustc-check-cfg=cfg(semconv_snapshots)");
    let root = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default())
        .join("../../shared/semconv");
    println!("cargo:rerun-if-changed={}", root.display());
    if !root.is_dir() {
        return;
    }
    let out = std::env::var("OUT_DIR").unwrap_or_default();
    for (module, dir) in [("v1_41_0", "v1.41.0"), ("head", "head")] {
        match semtel_codegen::load(&[root.join(dir)], None) {
            Ok(reg) => {
                let code = semtel_codegen::to_rust(&reg, "::semtel::conventions");
                if let Err(e) =
                    std::fs::write(Path::new(&out).join(format!("upstream_{module}.rs")), code)
                {
                    eprintln!("cannot write generated code: {e}");
                    std::process::exit(1);
                }
            }
            Err(e) => {
                eprintln!("the upstream snapshot {dir} does not load:\n{e}");
                std::process::exit(1);
            }
        }
    }
    println!("cargo:rustc-cfg=semconv_snapshots");
}
