use semtel::metered;

#[metered(duration = gen_ai.client.token.usage)]
fn run() {}

fn main() {
    run();
}
