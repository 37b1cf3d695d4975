//! Trace context across process and HTTP boundaries: W3C `traceparent`,
//! `tracestate` and `baggage`, carried in HTTP headers or, per the
//! OpenTelemetry environment-variable carrier, in `TRACEPARENT`,
//! `TRACESTATE` and `BAGGAGE` of a child process.
//!
//! At [`crate::init`] a process adopts the context in its environment as the
//! parent of its root spans; [`CommandExt::with_trace_context`] hands the
//! current context to a child process.

use crate::trace::{SpanContext, current_context};
use opentelemetry::trace::{SpanId, TraceId};
use std::sync::RwLock;

/// Baggage entries, in order.
pub type Baggage = Vec<(String, String)>;

/// What a process received from its environment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inherited {
    /// The remote parent (`TRACEPARENT`).
    pub parent: Option<SpanContext>,
    /// The vendor trace state (`TRACESTATE`), passed on unchanged.
    pub tracestate: String,
    /// The baggage (`BAGGAGE`), passed on unchanged.
    pub baggage: Vec<(String, String)>,
}

/// Which propagators are on (`OTEL_PROPAGATORS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Propagators {
    /// W3C `traceparent`/`tracestate`.
    pub tracecontext: bool,
    /// W3C `baggage`.
    pub baggage: bool,
}

impl Default for Propagators {
    fn default() -> Self {
        Propagators {
            tracecontext: true,
            baggage: true,
        }
    }
}

struct State {
    inherited: Inherited,
    propagators: Propagators,
}

static STATE: RwLock<State> = RwLock::new(State {
    inherited: Inherited {
        parent: None,
        tracestate: String::new(),
        baggage: Vec::new(),
    },
    propagators: Propagators {
        tracecontext: true,
        baggage: true,
    },
});

pub(crate) fn install(inherited: Inherited, propagators: Propagators) {
    let mut s = STATE
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    s.inherited = inherited;
    s.propagators = propagators;
}

/// The context this process inherited from its environment at init.
pub fn inherited() -> Inherited {
    STATE
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .inherited
        .clone()
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Parses a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`) into a
/// remote span context; the error says what is wrong with it.
pub fn parse_traceparent(value: &str) -> Result<SpanContext, String> {
    let v = value.trim();
    let parts: Vec<&str> = v.split('-').collect();
    if parts.len() < 4 {
        return Err("expected four dash-separated fields: version-traceid-spanid-flags".into());
    }
    let (version, trace, span, flags) = (parts[0], parts[1], parts[2], parts[3]);
    if version.len() != 2 || !is_lower_hex(version) || version == "ff" {
        return Err(format!("invalid version `{version}`"));
    }
    if version == "00" && (parts.len() != 4 || v.len() != 55) {
        return Err("version 00 has exactly 55 characters".into());
    }
    if trace.len() != 32 || !is_lower_hex(trace) {
        return Err(format!("trace id `{trace}` is not 32 lowercase hex digits"));
    }
    if span.len() != 16 || !is_lower_hex(span) {
        return Err(format!("span id `{span}` is not 16 lowercase hex digits"));
    }
    if flags.len() != 2 || !is_lower_hex(flags) {
        return Err(format!("flags `{flags}` are not 2 lowercase hex digits"));
    }
    let trace_id = TraceId::from_hex(trace).map_err(|e| e.to_string())?;
    let span_id = SpanId::from_hex(span).map_err(|e| e.to_string())?;
    if trace_id == TraceId::INVALID {
        return Err("the trace id is all zeros".into());
    }
    if span_id == SpanId::INVALID {
        return Err("the span id is all zeros".into());
    }
    let flags = u8::from_str_radix(flags, 16).map_err(|e| e.to_string())?;
    Ok(SpanContext {
        trace_id,
        span_id,
        sampled: flags & 1 == 1,
        remote: true,
    })
}

/// Parses W3C `baggage` (`k=v,k2=v2;prop`); members that do not parse are skipped.
pub fn parse_baggage(value: &str) -> Vec<(String, String)> {
    value
        .split(',')
        .filter_map(|member| {
            let kv = member.split(';').next()?;
            let (k, v) = kv.split_once('=')?;
            let k = k.trim();
            (!k.is_empty()).then(|| (k.to_string(), percent_decode(v.trim())))
        })
        .collect()
}

/// Formats baggage as a W3C `baggage` value.
pub fn format_baggage(items: &[(String, String)]) -> String {
    items
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Decodes `%XX` escapes (invalid escapes are kept as written).
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!#$&'*+^`|/:?@[]".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reads `TRACEPARENT`, `TRACESTATE` and `BAGGAGE` through `get`; an
/// invalid `TRACEPARENT` gets a warning naming it, and no parent is adopted.
pub(crate) fn from_env(
    get: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Inherited {
    let mut inherited = Inherited::default();
    if let Some(tp) = get("TRACEPARENT").filter(|v| !v.trim().is_empty()) {
        match parse_traceparent(&tp) {
            Ok(ctx) => {
                inherited.parent = Some(ctx);
                inherited.tracestate = get("TRACESTATE").unwrap_or_default().trim().to_string();
            }
            Err(e) => warnings.push(format!(
                "TRACEPARENT={tp:?} is not valid ({e}); starting new traces"
            )),
        }
    }
    if let Some(b) = get("BAGGAGE") {
        inherited.baggage = parse_baggage(&b);
    }
    inherited
}

/// The context to hand on: the current span (else the inherited parent),
/// the trace state when it belongs to that trace, and the baggage.
fn outgoing() -> Option<(SpanContext, String, Baggage)> {
    outgoing_from(current_context())
}

/// Which propagators are on.
pub(crate) fn propagators() -> Propagators {
    STATE
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .propagators
}

/// The context to hand on from span `cur` (else the inherited parent), the
/// inherited trace state when it belongs to that trace, and the baggage.
pub(crate) fn outgoing_from(cur: SpanContext) -> Option<(SpanContext, String, Baggage)> {
    let s = STATE
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ctx = if cur.is_valid() {
        Some(cur)
    } else {
        s.inherited.parent
    };
    let tracestate = match (ctx, s.inherited.parent) {
        (Some(c), Some(p)) if c.trace_id == p.trace_id => s.inherited.tracestate.clone(),
        _ => String::new(),
    };
    let baggage = if s.propagators.baggage {
        s.inherited.baggage.clone()
    } else {
        Vec::new()
    };
    let ctx = if s.propagators.tracecontext {
        ctx
    } else {
        None
    };
    if ctx.is_none() && baggage.is_empty() {
        return None;
    }
    Some((ctx.unwrap_or(SpanContext::NONE), tracestate, baggage))
}

/// The environment variables that carry the current context to a child process.
pub fn env_vars() -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some((ctx, tracestate, baggage)) = outgoing() {
        if ctx.is_valid() {
            out.push(("TRACEPARENT", ctx.traceparent()));
            if !tracestate.is_empty() {
                out.push(("TRACESTATE", tracestate));
            }
        }
        if !baggage.is_empty() {
            out.push(("BAGGAGE", format_baggage(&baggage)));
        }
    }
    out
}

/// Passing the current trace context to a child process.
pub trait CommandExt {
    /// Sets `TRACEPARENT` (and `TRACESTATE`, `BAGGAGE`) so that spans of the
    /// child join the current trace under the current span.
    fn with_trace_context(&mut self) -> &mut Self;
}

impl CommandExt for std::process::Command {
    fn with_trace_context(&mut self) -> &mut Self {
        for (k, v) in env_vars() {
            self.env(k, v);
        }
        self
    }
}

/// Writes the current context into HTTP request headers.
pub fn inject(headers: &mut http::HeaderMap) {
    for (k, v) in env_vars() {
        let name = match k {
            "TRACEPARENT" => "traceparent",
            "TRACESTATE" => "tracestate",
            _ => "baggage",
        };
        if let Ok(v) = http::HeaderValue::from_str(&v) {
            headers.insert(name, v);
        }
    }
}

/// Reads a remote parent from HTTP request headers (`None` when absent or
/// invalid); use it as `parent = ...` of a server span.
pub fn extract(headers: &http::HeaderMap) -> Option<SpanContext> {
    let on = STATE
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .propagators
        .tracecontext;
    if !on {
        return None;
    }
    headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_traceparent(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trips_and_rejects_bad_input() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let ctx = parse_traceparent(tp).unwrap();
        assert!(ctx.sampled && ctx.remote);
        assert_eq!(ctx.traceparent(), tp);
        for (bad, why) in [
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                "four",
            ),
            (
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                "all zeros",
            ),
            (
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                "trace id",
            ),
            (
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "version",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                "span id is all zeros",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
                "55",
            ),
        ] {
            let e = parse_traceparent(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        // Future versions may add fields.
        assert!(
            parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-x").is_ok()
        );
    }

    #[test]
    fn baggage_round_trips() {
        let b = parse_baggage("user=alice, team=a%20b;prop=1,bad");
        assert_eq!(
            b,
            vec![
                ("user".into(), "alice".into()),
                ("team".into(), "a b".into())
            ]
        );
        assert_eq!(format_baggage(&b), "user=alice,team=a%20b");
    }

    #[test]
    fn invalid_env_traceparent_warns() {
        let mut w = Vec::new();
        let get = |k: &str| (k == "TRACEPARENT").then(|| "garbage".to_string());
        let i = from_env(&get, &mut w);
        assert!(i.parent.is_none());
        assert!(
            w[0].starts_with("TRACEPARENT=\"garbage\" is not valid"),
            "{w:?}"
        );
    }
}
