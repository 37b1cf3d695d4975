#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| semtel::__fuzz::environment(data));
