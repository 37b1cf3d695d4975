semtel::include_conventions!();
fn main() {}
