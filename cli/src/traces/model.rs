//! One line of an OTLP JSON Lines file (a `TracesData` object), read in
//! place: strings borrow from the line unless they hold escapes, and only
//! what the commands use is kept.
//!
//! The format is the OTLP/JSON encoding: camelCase fields, hex trace and
//! span ids, 64-bit integers as strings or numbers, enums as integers.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// A line: spans grouped by resource and scope.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TracesData<'a> {
    /// `None` when the line has no `resourceSpans` (not a traces line).
    #[serde(borrow)]
    pub resource_spans: Option<Vec<ResourceSpans<'a>>>,
}

/// Spans of one resource.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSpans<'a> {
    /// The resource.
    #[serde(borrow, default)]
    pub resource: Resource<'a>,
    /// Its spans, by scope.
    #[serde(borrow, default)]
    pub scope_spans: Vec<ScopeSpans<'a>>,
}

/// What produced the spans (`service.name`, ...).
#[derive(Deserialize, Default)]
pub struct Resource<'a> {
    /// Resource attributes.
    #[serde(borrow, default)]
    pub attributes: Vec<KeyValue<'a>>,
}

/// Spans of one instrumentation scope.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeSpans<'a> {
    /// The scope.
    #[serde(borrow, default)]
    pub scope: Scope<'a>,
    /// The spans.
    #[serde(borrow, default)]
    pub spans: Vec<Span<'a>>,
}

/// An instrumentation scope.
#[derive(Deserialize, Default)]
pub struct Scope<'a> {
    /// Its name.
    #[serde(borrow, default)]
    pub name: Cow<'a, str>,
    /// Its version.
    #[serde(borrow, default)]
    pub version: Cow<'a, str>,
}

/// A span.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Span<'a> {
    /// 32 hex digits.
    #[serde(borrow, default)]
    pub trace_id: Cow<'a, str>,
    /// 16 hex digits.
    #[serde(borrow, default)]
    pub span_id: Cow<'a, str>,
    /// 16 hex digits, empty for a root.
    #[serde(borrow, default)]
    pub parent_span_id: Cow<'a, str>,
    /// W3C trace state.
    #[serde(borrow, default)]
    pub trace_state: Cow<'a, str>,
    /// The span name.
    #[serde(borrow, default)]
    pub name: Cow<'a, str>,
    /// 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
    #[serde(default, deserialize_with = "flexible_i64")]
    pub kind: i64,
    /// Start, in nanoseconds since the Unix epoch.
    #[serde(default, deserialize_with = "flexible_u64")]
    pub start_time_unix_nano: u64,
    /// End, in nanoseconds since the Unix epoch.
    #[serde(default, deserialize_with = "flexible_u64")]
    pub end_time_unix_nano: u64,
    /// Attributes.
    #[serde(borrow, default)]
    pub attributes: Vec<KeyValue<'a>>,
    /// Events.
    #[serde(borrow, default)]
    pub events: Vec<Event<'a>>,
    /// Links.
    #[serde(borrow, default)]
    pub links: Vec<Link<'a>>,
    /// Outcome.
    #[serde(borrow, default)]
    pub status: Status<'a>,
}

impl Span<'_> {
    /// How long the span took, in nanoseconds.
    pub fn duration(&self) -> u64 {
        self.end_time_unix_nano
            .saturating_sub(self.start_time_unix_nano)
    }

    /// Whether the span failed (status code 2).
    pub fn is_error(&self) -> bool {
        self.status.code == 2
    }
}

/// A span event.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event<'a> {
    /// When, in nanoseconds since the Unix epoch.
    #[serde(default, deserialize_with = "flexible_u64")]
    pub time_unix_nano: u64,
    /// Its name.
    #[serde(borrow, default)]
    pub name: Cow<'a, str>,
    /// Its attributes.
    #[serde(borrow, default)]
    pub attributes: Vec<KeyValue<'a>>,
}

/// A span link.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link<'a> {
    /// The linked trace.
    #[serde(borrow, default)]
    pub trace_id: Cow<'a, str>,
    /// The linked span.
    #[serde(borrow, default)]
    pub span_id: Cow<'a, str>,
    /// Its trace state.
    #[serde(borrow, default)]
    pub trace_state: Cow<'a, str>,
    /// Its attributes.
    #[serde(borrow, default)]
    pub attributes: Vec<KeyValue<'a>>,
}

/// A span status.
#[derive(Deserialize, Default)]
pub struct Status<'a> {
    /// 0 unset, 1 ok, 2 error.
    #[serde(default, deserialize_with = "flexible_i64")]
    pub code: i64,
    /// The description.
    #[serde(borrow, default)]
    pub message: Cow<'a, str>,
}

/// An attribute.
#[derive(Deserialize)]
pub struct KeyValue<'a> {
    /// Its key.
    #[serde(borrow)]
    pub key: Cow<'a, str>,
    /// Its value.
    #[serde(borrow, default)]
    pub value: AnyValue<'a>,
}

/// An attribute value (exactly one field is set in valid data).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AnyValue<'a> {
    /// A string.
    #[serde(borrow)]
    pub string_value: Option<Cow<'a, str>>,
    /// A boolean.
    pub bool_value: Option<bool>,
    /// An integer.
    #[serde(default, deserialize_with = "flexible_opt_i64")]
    pub int_value: Option<i64>,
    /// A double.
    pub double_value: Option<f64>,
    /// An array.
    #[serde(borrow)]
    pub array_value: Option<Values<'a>>,
    /// A list of key-values.
    #[serde(borrow)]
    pub kvlist_value: Option<KeyValues<'a>>,
    /// Bytes, base64-encoded.
    #[serde(borrow)]
    pub bytes_value: Option<Cow<'a, str>>,
}

/// `arrayValue`.
#[derive(Deserialize, Default)]
pub struct Values<'a> {
    /// The elements.
    #[serde(borrow, default)]
    pub values: Vec<AnyValue<'a>>,
}

/// `kvlistValue`.
#[derive(Deserialize, Default)]
pub struct KeyValues<'a> {
    /// The entries.
    #[serde(borrow, default)]
    pub values: Vec<KeyValue<'a>>,
}

/// A value as JSON (for `--json` output and nested values).
pub enum Json<'v> {
    /// A string or bytes.
    Str(&'v str),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A double.
    Double(f64),
    /// An array.
    Array(Vec<Json<'v>>),
    /// A map.
    Map(Vec<(&'v str, Json<'v>)>),
    /// Nothing set.
    Null,
}

impl AnyValue<'_> {
    /// The value as JSON.
    pub fn json(&self) -> Json<'_> {
        if let Some(s) = &self.string_value {
            Json::Str(s)
        } else if let Some(b) = self.bool_value {
            Json::Bool(b)
        } else if let Some(i) = self.int_value {
            Json::Int(i)
        } else if let Some(d) = self.double_value {
            Json::Double(d)
        } else if let Some(a) = &self.array_value {
            Json::Array(a.values.iter().map(AnyValue::json).collect())
        } else if let Some(kv) = &self.kvlist_value {
            Json::Map(
                kv.values
                    .iter()
                    .map(|e| (&*e.key, e.value.json()))
                    .collect(),
            )
        } else if let Some(b) = &self.bytes_value {
            Json::Str(b)
        } else {
            Json::Null
        }
    }

    /// The value as text, the way the OpenTelemetry Collector renders it:
    /// strings as they are, scalars in their usual form, arrays and maps as JSON.
    pub fn text(&self) -> Cow<'_, str> {
        match self.json() {
            Json::Str(s) => Cow::Borrowed(s),
            Json::Bool(b) => Cow::Owned(b.to_string()),
            Json::Int(i) => Cow::Owned(i.to_string()),
            Json::Double(d) => Cow::Owned(d.to_string()),
            Json::Null => Cow::Borrowed(""),
            nested => Cow::Owned(serde_json::to_string(&nested).unwrap_or_default()),
        }
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Str(v) => s.serialize_str(v),
            Json::Bool(v) => s.serialize_bool(*v),
            Json::Int(v) => s.serialize_i64(*v),
            Json::Double(v) => s.serialize_f64(*v),
            Json::Array(v) => s.collect_seq(v),
            Json::Map(v) => s.collect_map(v.iter().map(|(k, v)| (k, v))),
            Json::Null => s.serialize_unit(),
        }
    }
}

/// The value of `key` among `attributes`, if set.
pub fn find<'v, 'a>(attributes: &'v [KeyValue<'a>], key: &str) -> Option<&'v AnyValue<'a>> {
    attributes
        .iter()
        .rev()
        .find(|kv| kv.key == key)
        .map(|kv| &kv.value)
}

struct Flexible;

impl Visitor<'_> for Flexible {
    type Value = i128;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer, or a string holding one")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i128, E> {
        Ok(v.into())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i128, E> {
        Ok(v.into())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i128, E> {
        Ok(v as i128)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i128, E> {
        if let Ok(n) = v.parse::<i128>() {
            return Ok(n);
        }
        // Enum names, for writers that spell enums out.
        const NAMES: [(&str, i128); 9] = [
            ("SPAN_KIND_UNSPECIFIED", 0),
            ("SPAN_KIND_INTERNAL", 1),
            ("SPAN_KIND_SERVER", 2),
            ("SPAN_KIND_CLIENT", 3),
            ("SPAN_KIND_PRODUCER", 4),
            ("SPAN_KIND_CONSUMER", 5),
            ("STATUS_CODE_UNSET", 0),
            ("STATUS_CODE_OK", 1),
            ("STATUS_CODE_ERROR", 2),
        ];
        NAMES
            .iter()
            .find(|(name, _)| *name == v)
            .map(|(_, n)| *n)
            .ok_or_else(|| E::custom(format!("`{v}` is not a number")))
    }
}

fn flexible_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = d.deserialize_any(Flexible)?;
    u64::try_from(n).map_err(|_| de::Error::custom(format!("{n} is out of range")))
}

fn flexible_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = d.deserialize_any(Flexible)?;
    i64::try_from(n).map_err(|_| de::Error::custom(format!("{n} is out of range")))
}

fn flexible_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    flexible_i64(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_otlp_json_encoding() {
        let line = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},"scopeSpans":[{"scope":{"name":"app"},"spans":[{"traceId":"0af7651916cd76f9a2b3c4d5e6f70000","spanId":"b7ad6b7169203331","name":"a \"quoted\" name","kind":2,"startTimeUnixNano":"1000","endTimeUnixNano":2500,"attributes":[{"key":"n","value":{"intValue":"42"}},{"key":"l","value":{"arrayValue":{"values":[{"stringValue":"x"},{"intValue":1}]}}}],"status":{"code":"STATUS_CODE_ERROR","message":"boom"}}]}]}]}"#;
        let data: TracesData<'_> = serde_json::from_str(line).unwrap();
        let rs = &data.resource_spans.unwrap()[0];
        let span = &rs.scope_spans[0].spans[0];
        assert_eq!(span.name, "a \"quoted\" name");
        assert_eq!(
            (span.kind, span.duration(), span.is_error()),
            (2, 1500, true)
        );
        assert_eq!(find(&span.attributes, "n").unwrap().text(), "42");
        assert_eq!(find(&span.attributes, "l").unwrap().text(), r#"["x",1]"#);
        assert_eq!(
            find(&rs.resource.attributes, "service.name")
                .unwrap()
                .text(),
            "svc"
        );
    }
}
