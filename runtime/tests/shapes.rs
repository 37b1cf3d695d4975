//! Functions beyond the plain shapes: `#[track_caller]` (the caller stays
//! visible), `-> !`, `impl Future + Unpin`, and the `error.type` of the
//! standard library's errors.

use semtel::testing;
use semtel::trace::{SpanRecord, Status};
use semtel::{metered, traced_task};
use std::future::Future;
use std::panic::Location;

fn error_type(s: &SpanRecord) -> Option<String> {
    s.attribute("error.type").map(|v| v.as_str().into_owned())
}

/// The statuses of the spans called `name`, in the order they ended.
fn statuses(cap: &testing::Capture, name: &str) -> Vec<Status> {
    cap.spans()
        .into_iter()
        .filter(|s| s.name == name)
        .map(|s| s.status)
        .collect()
}

// ---- #[track_caller] ----

#[traced_task]
#[track_caller]
fn where_called() -> &'static Location<'static> {
    Location::caller()
}

#[traced_task]
#[metered]
#[track_caller]
fn parse_digit(text: &str) -> Result<u32, std::num::ParseIntError> {
    if text.is_empty() {
        return Ok(0);
    }
    let n: u32 = text.parse()?;
    assert!(n < 10, "{n} is not a digit");
    Ok(n)
}

#[traced_task]
#[track_caller]
fn first_char(text: &str) -> Option<char> {
    let c = text.chars().next()?;
    Some(c.to_ascii_uppercase())
}

#[test]
fn track_caller_keeps_the_caller_and_sees_every_exit() {
    let cap = testing::capture();
    let (at, line) = (where_called(), line!());
    assert_eq!(
        (at.file(), at.line()),
        (file!(), line),
        "the caller's location"
    );
    cap.span("where_called");

    assert_eq!(parse_digit(""), Ok(0), "an early `return`");
    assert_eq!(parse_digit("7"), Ok(7));
    assert!(parse_digit("x").is_err(), "a `?`");
    assert_eq!(
        statuses(&cap, "parse_digit"),
        [
            Status::Unset,
            Status::Unset,
            Status::Error("invalid digit found in string".into())
        ]
    );
    assert_eq!(
        cap.metric_value(
            "function.calls",
            &[("function", "parse_digit"), ("result", "error")]
        ),
        1.0
    );

    assert_eq!(first_char("abc"), Some('A'));
    assert_eq!(first_char(""), None);
    assert_eq!(statuses(&cap, "first_char").len(), 2);
}

// ---- -> ! ----

#[traced_task]
#[metered]
fn give_up(reason: &str) -> ! {
    panic!("giving up: {reason}")
}

#[test]
fn a_diverging_function_ends_its_span_when_it_panics() {
    let cap = testing::capture();
    assert!(std::panic::catch_unwind(|| give_up("no route")).is_err());
    assert_eq!(cap.span("give_up").status, Status::Error("panicked".into()));
    assert_eq!(
        cap.metric_value(
            "function.calls",
            &[("function", "give_up"), ("error.type", "panic")]
        ),
        1.0
    );
}

// ---- impl Future + Unpin ----

#[traced_task]
fn ready_later(n: u32) -> impl Future<Output = Result<u32, String>> + Unpin + Send {
    std::future::ready(if n > 0 { Ok(n) } else { Err("zero".into()) })
}

fn needs_unpin<F: Future + Unpin>(f: F) -> F {
    f
}

#[test]
fn an_unpin_future_stays_unpin() {
    let cap = testing::capture();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(needs_unpin(ready_later(3))), Ok(3));
    assert!(rt.block_on(ready_later(0)).is_err());
    assert_eq!(
        statuses(&cap, "ready_later"),
        [Status::Unset, Status::Error("zero".into())]
    );
}

// ---- error.type of standard errors ----

#[traced_task]
fn read_missing() -> std::io::Result<String> {
    std::fs::read_to_string("/nonexistent/semtel/input.txt")
}

#[traced_task]
fn boxed_io() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    std::fs::read("/nonexistent/semtel/input.bin")?;
    Ok(())
}

#[traced_task]
fn boxed_text() -> Result<(), Box<dyn std::error::Error>> {
    Err("no plan".into())
}

#[traced_task]
fn text_error() -> Result<(), String> {
    Err("no plan".into())
}

#[test]
fn standard_errors_get_a_stable_error_type() {
    let cap = testing::capture();
    read_missing().unwrap_err();
    boxed_io().unwrap_err();
    boxed_text().unwrap_err();
    text_error().unwrap_err();
    let ty = |name: &str| error_type(&cap.span(name));
    assert_eq!(ty("read_missing").as_deref(), Some("not_found"));
    assert_eq!(ty("boxed_io").as_deref(), Some("not_found"));
    assert_eq!(ty("boxed_text").as_deref(), Some("_OTHER"));
    assert_eq!(ty("text_error").as_deref(), Some("_OTHER"));
    assert_eq!(
        cap.span("boxed_text").status,
        Status::Error("no plan".into())
    );
}
