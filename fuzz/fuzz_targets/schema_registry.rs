#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| semtel_codegen::__fuzz::schema_registry(data));
