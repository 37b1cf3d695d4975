//! Code generated from the real upstream registry compiles and carries a
//! typed key for every attribute, deprecated ones marked deprecated.
#![allow(deprecated, dead_code)]

#[cfg(semconv_snapshots)]
mod v1_41_0 {
    include!(concat!(env!("OUT_DIR"), "/upstream_v1_41_0.rs"));
}

#[cfg(semconv_snapshots)]
mod head {
    include!(concat!(env!("OUT_DIR"), "/upstream_head.rs"));
}

#[test]
#[cfg(not(semconv_snapshots))]
fn upstream_snapshots_generate_compiling_code() {
    panic!("../shared/semconv is missing: the upstream snapshots ship beside the checkout");
}

#[test]
#[cfg(semconv_snapshots)]
fn upstream_snapshots_generate_compiling_code() {
    {
        use semtel::conventions::{Instrument, SpanKind};
        // Keys are typed by the schema: an int attribute takes integers.
        let kv = v1_41_0::http::response::STATUS_CODE.value(503);
        assert_eq!(kv.key.as_str(), "http.response.status_code");
        let kv =
            v1_41_0::http::request::METHOD.value(v1_41_0::http::request::HttpRequestMethod::Get);
        assert_eq!(kv.value.as_str(), "GET");
        // A single-segment id lives at the root; keyword segments are raw identifiers.
        assert_eq!(v1_41_0::STATE.name(), "state");
        assert_eq!(head::vcs::r#ref::head::NAME.name(), "vcs.ref.head.name");
        // Templates take their suffix at run time.
        let kv = v1_41_0::http::request::HEADER.value("x-request-id", vec!["abc"]);
        assert_eq!(kv.key.as_str(), "http.request.header.x-request-id");
        // Int-valued enums carry their wire values.
        let kv = v1_41_0::cpython::gc::GENERATION
            .value(v1_41_0::cpython::gc::CpythonGcGeneration::Generation2);
        assert_eq!(kv.value, opentelemetry::Value::I64(2));
        // Metric and span definitions.
        let m = v1_41_0::metrics::http::server::request::DURATION;
        assert_eq!(
            (m.name, m.unit, m.instrument()),
            ("http.server.request.duration", "s", Instrument::Histogram)
        );
        assert_eq!(
            head::spans::messaging::send::PRODUCER.kind,
            SpanKind::Producer
        );
    }
}
