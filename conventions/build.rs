//! Generates the bundled conventions from `schema/`.
fn main() {
    semtel_codegen::Generator::bundled_crate().run_build_script();
}
