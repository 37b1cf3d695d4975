fn main() {
    semtel_codegen::Generator::new()
        .schema_dir("../schemas/golden_armada")
        .run_build_script();
}
