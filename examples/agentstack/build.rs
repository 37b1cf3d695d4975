fn main() {
    semtel_codegen::Generator::new()
        .schema_dir("../schemas/agentstack")
        .run_build_script();
}
