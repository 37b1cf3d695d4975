fn main() {
    semtel_codegen::Generator::new()
        .schema_dir("schema")
        .run_build_script();
}
