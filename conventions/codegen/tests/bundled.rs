//! The bundled schema: every file in `conventions/schema` is compiled in, and it loads cleanly.

#[test]
fn bundled_files_match_the_directory() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    on_disk.sort();
    let mut compiled: Vec<String> = semtel_codegen::bundled_files().map(String::from).collect();
    compiled.sort();
    assert_eq!(
        on_disk, compiled,
        "add new schema files to BUNDLED in conventions/codegen/src/lib.rs"
    );
    let from_disk = semtel_codegen::load(&[dir], None).unwrap();
    let embedded = semtel_codegen::bundled().unwrap();
    assert_eq!(from_disk.counts(), embedded.counts());
}
