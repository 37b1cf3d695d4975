//! Opt-in capture of content (prompts, completions, tool arguments and
//! results) as JSON attributes, truncated to the attribute length limit in a
//! way that keeps the JSON valid.

use serde::Serialize;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static CAPTURE: AtomicBool = AtomicBool::new(false);
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Whether the runtime allows content capture
/// (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`).
#[inline]
pub fn capture_enabled() -> bool {
    CAPTURE.load(Ordering::Relaxed)
}

pub(crate) fn configure(capture: bool, value_length_limit: Option<usize>) {
    CAPTURE.store(capture, Ordering::Relaxed);
    LIMIT.store(value_length_limit.unwrap_or(usize::MAX), Ordering::Relaxed);
}

/// The attribute value length limit in effect (`usize::MAX` when none).
pub(crate) fn value_length_limit() -> usize {
    LIMIT.load(Ordering::Relaxed)
}

/// `value` as JSON text of at most `limit` bytes that is still valid JSON:
/// long strings are cut (marked with `…`) and long arrays lose their tail
/// (marked with a final `"…"` item) until it fits.
pub fn to_json<T: Serialize + ?Sized>(value: &T, limit: usize) -> String {
    let mut v = match serde_json::to_value(value) {
        Ok(v) => v,
        Err(e) => return Value::String(format!("<not serializable: {e}>")).to_string(),
    };
    let mut text = v.to_string();
    for _ in 0..256 {
        if text.len() <= limit {
            return text;
        }
        if !shrink(&mut v, text.len() - limit) {
            break;
        }
        text = v.to_string();
    }
    // Nothing left to shrink structurally: a JSON string holding a prefix.
    let mut prefix: String = text.chars().take(limit.saturating_sub(8)).collect();
    loop {
        let s = Value::String(format!("{prefix}…")).to_string();
        if s.len() <= limit || prefix.is_empty() {
            return if s.len() <= limit {
                s
            } else {
                "\"…\"".to_string()
            };
        }
        let cut = prefix.len().saturating_sub((s.len() - limit).max(1));
        let mut cut = cut;
        while !prefix.is_char_boundary(cut) {
            cut -= 1;
        }
        prefix.truncate(cut);
    }
}

/// Makes `v` smaller by about `excess` bytes: cuts its longest string, or
/// when no string can shrink, halves an array.
fn shrink(v: &mut Value, excess: usize) -> bool {
    fn longest_string(v: &mut Value) -> Option<&mut String> {
        let mut best: Option<&mut String> = None;
        let mut stack = vec![v];
        while let Some(node) = stack.pop() {
            match node {
                Value::String(s)
                    if s.chars().count() > 2 && best.as_ref().is_none_or(|b| s.len() > b.len()) =>
                {
                    best = Some(s);
                }
                Value::Array(a) => stack.extend(a.iter_mut()),
                Value::Object(o) => stack.extend(o.values_mut()),
                _ => {}
            }
        }
        best
    }
    if let Some(s) = longest_string(v) {
        let mut cut = s.len().saturating_sub(excess + 3).min(s.len() / 2 + 1);
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
        return true;
    }
    trim_longest_array(v)
}

fn trim_longest_array(v: &mut Value) -> bool {
    fn find(v: &mut Value) -> Option<&mut Vec<Value>> {
        match v {
            Value::Array(a) => {
                if a.len() > 1 {
                    Some(a)
                } else {
                    a.iter_mut().find_map(find)
                }
            }
            Value::Object(o) => o.values_mut().find_map(find),
            _ => None,
        }
    }
    match find(v) {
        Some(a) => {
            let keep = a.len() / 2;
            a.truncate(keep.max(1));
            if a.last() != Some(&Value::String("…".into())) {
                a.push(Value::String("…".into()));
            }
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_unchanged() {
        assert_eq!(to_json(&vec!["a", "b"], 100), r#"["a","b"]"#);
    }

    #[test]
    fn truncation_keeps_valid_json_within_the_limit() {
        let long = "x".repeat(5000);
        let msgs = serde_json::json!([
            {"role": "user", "content": long},
            {"role": "assistant", "content": "ok"},
        ]);
        for limit in [20, 64, 200, 1000, 4000] {
            let s = to_json(&msgs, limit);
            assert!(s.len() <= limit, "{limit}: {} bytes", s.len());
            assert!(
                serde_json::from_str::<Value>(&s).is_ok(),
                "{limit}: invalid JSON {s}"
            );
        }
        let s = to_json(&msgs, 1000);
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v[0]["role"], "user", "structure is kept: {s}");
        let many: Vec<u32> = (0..2000).collect();
        let s = to_json(&many, 100);
        assert!(
            s.len() <= 100 && serde_json::from_str::<Value>(&s).is_ok(),
            "{s}"
        );
        let s = to_json(&"é".repeat(100), 21);
        assert!(
            s.len() <= 21 && serde_json::from_str::<Value>(&s).is_ok(),
            "{s}"
        );
    }
}
