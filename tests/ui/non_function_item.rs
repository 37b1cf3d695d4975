use semtel::traced_task;

#[traced_task]
struct Task {
    id: String,
}

fn main() {}
