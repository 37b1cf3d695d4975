use semtel::traced_task;

struct Invoice {
    id: u64,
    amount: f64,
    title: String,
}

#[traced_task(attrs(
    orchestration.task.title = inv.id,
    gen_ai.usage.input_tokens = inv.title.clone(),
    gen_ai.request.temperature = inv.title.len(),
    gen_ai.request.stop_sequences = inv.id,
    orchestration.task.state = inv.amount,
))]
fn bill(inv: &Invoice) {}

#[traced_task(attrs(gen_ai.usage.input_tokens = "many"))]
fn plan() {}

fn main() {
    bill(&Invoice { id: 1, amount: 2.0, title: "t".into() });
    plan();
}
