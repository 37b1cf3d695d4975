// The future of an instrumented `async fn` (and of an instrumented async
// method) is `Send` when the body's is: it can be spawned on a
// multi-threaded runtime.
use semtel::{agent_step, metered, traced_task};

#[traced_task(attrs(orchestration.task.id = id))]
#[metered]
async fn fetch(id: &str) -> Result<usize, std::io::Error> {
    tokio::task::yield_now().await;
    Ok(id.len())
}

struct Agent {
    name: String,
}

impl Agent {
    #[agent_step(agent = self.name)]
    async fn act(&self, input: u32) -> u32 {
        tokio::task::yield_now().await;
        input + 1
    }
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let agent = std::sync::Arc::new(Agent { name: "coder".into() });
    let n = rt
        .block_on(rt.spawn(assert_send(async move {
            fetch("task-1").await.unwrap() as u32 + agent.act(1).await
        })))
        .unwrap();
    assert_eq!(n, 8);
}
