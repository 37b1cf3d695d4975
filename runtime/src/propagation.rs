//! Trace context across process and HTTP boundaries: W3C `traceparent`,
//! `tracestate` and `baggage`, carried in HTTP headers or, per the
//! OpenTelemetry environment-variable carrier, in `TRACEPARENT`,
//! `TRACESTATE` and `BAGGAGE` of a child process.
//!
//! At [`crate::init`] a process adopts the context in its environment as the
//! parent of its root spans; [`CommandExt::with_trace_context`] hands the
//! current context to a child process.

use crate::config::{quoted, shown};
use crate::error::TraceContextError;
use crate::trace::{SpanContext, current_context};
use opentelemetry::trace::{SpanId, TraceId};
use std::sync::RwLock;

/// Baggage entries, in order.
pub type Baggage = Vec<(String, String)>;

/// What a process received from its environment.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
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
#[non_exhaustive]
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
/// remote span context; the error says what is wrong with it (quoting at most
/// a short piece of the value).
pub fn parse_traceparent(value: &str) -> Result<SpanContext, TraceContextError> {
    traceparent(value).map_err(TraceContextError::new)
}

fn traceparent(value: &str) -> Result<SpanContext, String> {
    let v = value.trim();
    if v.len() > 512 {
        return Err(format!(
            "{} bytes long; a traceparent has 55 (version 00)",
            v.len()
        ));
    }
    if let Some(c) = v.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(if c == char::REPLACEMENT_CHARACTER {
            "it is not valid UTF-8".to_string()
        } else {
            format!("it contains {c:?}; a traceparent is lowercase hex digits and dashes")
        });
    }
    let parts: Vec<&str> = v.splitn(5, '-').collect();
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

/// The most baggage members kept, and the longest baggage read (W3C limits).
const BAGGAGE_MEMBERS: usize = 180;
const BAGGAGE_BYTES: usize = 8192;

/// Parses W3C `baggage` (`k=v,k2=v2;prop`); members that do not parse are
/// skipped, and at most the W3C limits (180 members, 8192 bytes) are read.
pub fn parse_baggage(value: &str) -> Vec<(String, String)> {
    let mut end = value.len().min(BAGGAGE_BYTES);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    let value = &value[..end];
    value
        .split(',')
        .filter_map(|member| {
            let kv = member.split(';').next()?;
            let (k, v) = kv.split_once('=')?;
            let k = k.trim();
            (!k.is_empty()).then(|| (k.to_string(), percent_decode(v.trim())))
        })
        .take(BAGGAGE_MEMBERS)
        .collect()
}

/// Checks a W3C `tracestate` (at most 32 `key=value` members, keys of
/// lowercase letters, digits and `_-*/` with an optional `@vendor`, values
/// of printable ASCII without `,` and `=`); the error says what is wrong.
pub fn check_tracestate(value: &str) -> Result<(), TraceContextError> {
    tracestate(value).map_err(TraceContextError::new)
}

fn tracestate(value: &str) -> Result<(), String> {
    let members: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect();
    if members.len() > 32 {
        return Err(format!("{} members; at most 32 are allowed", members.len()));
    }
    for m in members {
        let Some((k, v)) = m.split_once('=') else {
            return Err(format!("member `{}` has no `=`", shown(m)));
        };
        let key_ok = !k.is_empty()
            && k.len() <= 256
            && k.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && k.split('@').count() <= 2
            && k.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-*/@".contains(&b));
        if !key_ok {
            return Err(format!("invalid key `{}`", shown(k)));
        }
        let value_ok = !v.is_empty()
            && v.len() <= 256
            && v.bytes()
                .all(|b| (0x20..=0x7e).contains(&b) && b != b',' && b != b'=')
            && !v.ends_with(' ');
        if !value_ok {
            return Err(format!("invalid value `{}` of `{}`", shown(v), shown(k)));
        }
    }
    Ok(())
}

/// Formats baggage as a W3C `baggage` value.
pub fn format_baggage(items: &[(String, String)]) -> String {
    items
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Decodes `%XX` escapes (invalid escapes are kept as written; bytes that
/// do not form UTF-8 become U+FFFD).
pub(crate) fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let (Some(hi), Some(lo)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            ) {
                out.push(hi << 4 | lo);
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

/// Reads `TRACEPARENT`, `TRACESTATE` and `BAGGAGE` through `get`. An
/// invalid `TRACEPARENT` gets one warning (quoting at most a short piece of
/// it) and no parent is adopted; an invalid `TRACESTATE` is warned about and
/// not passed on; baggage beyond the W3C limits is warned about and dropped.
pub(crate) fn from_env(
    get: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Inherited {
    let mut inherited = Inherited::default();
    if let Some(tp) = get("TRACEPARENT").filter(|v| !v.trim().is_empty()) {
        match parse_traceparent(&tp) {
            Ok(ctx) => {
                inherited.parent = Some(ctx);
                let state = get("TRACESTATE").unwrap_or_default().trim().to_string();
                match check_tracestate(&state) {
                    Ok(()) => inherited.tracestate = state,
                    Err(e) => warnings.push(format!(
                        "TRACESTATE={} is not valid ({e}); it is not passed on",
                        quoted(&state)
                    )),
                }
            }
            Err(e) => warnings.push(format!(
                "TRACEPARENT={} is not valid ({e}); starting new traces",
                quoted(&tp)
            )),
        }
    }
    if let Some(b) = get("BAGGAGE") {
        inherited.baggage = parse_baggage(&b);
        let kept: usize = inherited.baggage.len();
        let members = b.split(',').filter(|m| !m.trim().is_empty()).count();
        if b.len() > BAGGAGE_BYTES || members > BAGGAGE_MEMBERS {
            warnings.push(format!(
                "BAGGAGE holds {} bytes in {members} members, beyond the W3C limits \
                 ({BAGGAGE_BYTES} bytes, {BAGGAGE_MEMBERS} members); only the first {kept} \
                 members are kept",
                b.len()
            ));
        }
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
    // The span's own trace state (inherited from its remote parent), else
    // the process's when the context is its parent from the environment.
    let tracestate = match (ctx, s.inherited.parent) {
        (Some(c), _) if cur.is_valid() => crate::trace::trace_state::of(c)
            .map(|t| t.to_string())
            .unwrap_or_default(),
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
/// invalid); use it as `parent = ...` of a server span. A valid
/// `tracestate` that comes with it is carried by the spans of that trace
/// and handed on with their context.
pub fn extract(headers: &http::HeaderMap) -> Option<SpanContext> {
    let on = STATE
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .propagators
        .tracecontext;
    if !on {
        return None;
    }
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let ctx = header("traceparent").and_then(|v| parse_traceparent(v).ok())?;
    adopt_tracestate(ctx, header("tracestate").unwrap_or_default());
    Some(ctx)
}

/// Carries `tracestate`, received with remote parent `ctx`, on the spans
/// started under it (an invalid one is ignored, as W3C asks).
pub(crate) fn adopt_tracestate(ctx: SpanContext, tracestate: &str) {
    let tracestate = tracestate.trim();
    if !tracestate.is_empty() && check_tracestate(tracestate).is_ok() {
        crate::trace::trace_state::remember(ctx, tracestate);
    }
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
            let e = parse_traceparent(bad).unwrap_err().to_string();
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
    fn hostile_values_are_read_safely() {
        assert_eq!(parse_baggage("k=%aé"), vec![("k".into(), "%aé".into())]);
        assert_eq!(parse_baggage("k=%"), vec![("k".into(), "%".into())]);
        let many = vec!["k=v"; 500].join(",");
        assert_eq!(parse_baggage(&many).len(), 180);
        let e = parse_traceparent(&format!("00-{}", "a".repeat(10_000))).unwrap_err();
        assert!(e.to_string().len() < 80, "{e}");
        let e = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0\u{fffd}")
            .unwrap_err();
        assert_eq!(e.to_string(), "it is not valid UTF-8");
    }

    #[test]
    fn tracestate_is_checked() {
        assert_eq!(check_tracestate(""), Ok(()));
        assert_eq!(
            check_tracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
            Ok(())
        );
        assert_eq!(check_tracestate("tenant@vendor=x"), Ok(()));
        assert!(
            check_tracestate("Upper=x")
                .unwrap_err()
                .to_string()
                .contains("invalid key")
        );
        assert!(
            check_tracestate("k=a,b")
                .unwrap_err()
                .to_string()
                .contains("has no `=`")
        );
        assert!(
            check_tracestate("k=v=w")
                .unwrap_err()
                .to_string()
                .contains("invalid value")
        );
        let many = (0..40)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(
            check_tracestate(&many)
                .unwrap_err()
                .to_string()
                .contains("at most 32")
        );
        let mut w = Vec::new();
        let get = |k: &str| match k {
            "TRACEPARENT" => Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
            "TRACESTATE" => Some("bad state".into()),
            _ => None,
        };
        let i = from_env(&get, &mut w);
        assert!(i.parent.is_some() && i.tracestate.is_empty());
        assert_eq!(
            w,
            [
                "TRACESTATE=\"bad state\" is not valid (member `bad state` has no `=`); it is not passed on"
            ]
        );
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
