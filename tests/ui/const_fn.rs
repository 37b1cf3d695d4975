use semtel::traced_task;

#[traced_task]
const fn answer() -> u32 {
    42
}

fn main() {
    answer();
}
