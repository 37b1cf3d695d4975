// Functions returning borrows of their arguments or of `self`, with elided
// and named lifetimes, sync and async.
use semtel::{metered, traced_task};

struct Task {
    title: String,
    tags: Vec<String>,
}

impl Task {
    #[traced_task]
    fn title(&self) -> &str {
        &self.title
    }

    #[metered]
    fn first_tag<'a>(&'a self, prefix: &str) -> Option<&'a String> {
        self.tags.iter().find(|t| t.starts_with(prefix))
    }

    #[traced_task]
    async fn title_async(&self) -> &str {
        &self.title
    }
}

#[traced_task(attrs(orchestration.task.title = text))]
fn longest<'a>(text: &'a str, other: &'a str) -> &'a str {
    if text.len() >= other.len() { text } else { other }
}

#[traced_task]
fn split_words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

fn main() {
    let t = Task {
        title: "Fix login".into(),
        tags: vec!["bug".into(), "ui".into()],
    };
    assert_eq!(t.title(), "Fix login");
    assert_eq!(t.first_tag("u").map(String::as_str), Some("ui"));
    assert_eq!(longest("ab", "abc"), "abc");
    assert_eq!(split_words("a b"), ["a", "b"]);
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(rt.block_on(t.title_async()), "Fix login");
}
