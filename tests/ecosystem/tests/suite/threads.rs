//! Work handed to other tasks and threads stays under the span that handed
//! it on: `tokio::spawn(fut.in_current_span())` (`tracing`'s own helper),
//! and a carried `semtel::SpanContext` into `spawn_blocking`,
//! `std::thread::spawn` and rayon.

use semtel_ecosystem_tests::{Mode, Session, assert_child, names};
use tracing::Instrument;

#[semtel::traced_task(name = "child.work", attrs(orchestration.worker.id = place))]
fn work(place: &'static str) -> &'static str {
    place
}

#[semtel::traced_task(name = "child.task")]
async fn work_async(place: &'static str) -> &'static str {
    tokio::task::yield_now().await;
    work(place)
}

#[semtel::traced_task(name = "fan.out")]
async fn fan_out() -> Vec<&'static str> {
    let mut done = Vec::new();
    done.push(
        tokio::spawn(work_async("tokio").in_current_span())
            .await
            .unwrap(),
    );
    let cx = semtel::current_context();
    done.push(
        tokio::task::spawn_blocking(cx.wrap(|| work("blocking")))
            .await
            .unwrap(),
    );
    done.push(
        std::thread::spawn(move || cx.in_scope(|| work("thread")))
            .join()
            .unwrap(),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    rayon::spawn(cx.wrap(move || tx.send(work("rayon")).unwrap()));
    done.push(rx.recv().unwrap());
    let (a, b) = rayon::join(cx.wrap(|| work("rayon-a")), cx.wrap(|| work("rayon-b")));
    done.extend([a, b]);
    done
}

pub fn carried_context_keeps_children_under_their_span(mode: Mode) {
    let session = Session::start(mode);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let done = rt.block_on(fan_out());
    assert_eq!(
        done,
        ["tokio", "blocking", "thread", "rayon", "rayon-a", "rayon-b"]
    );
    let spans = session.spans();
    let parent = semtel_ecosystem_tests::one(&spans, "fan.out");
    let key = "orchestration.worker.id";
    for place in done {
        let child = spans
            .iter()
            .filter(|s| s.name == "child.work")
            .find(|s| s.attribute(key).map(|v| v.as_str()) == Some(place.into()))
            .unwrap_or_else(|| panic!("no work span from {place}: {:?}", names(&spans)));
        if place == "tokio" {
            // Under the spawned task's own span.
            let task = semtel_ecosystem_tests::one(&spans, "child.task");
            assert_child(task, parent);
            assert_child(child, task);
        } else {
            assert_child(child, parent);
        }
    }
}
