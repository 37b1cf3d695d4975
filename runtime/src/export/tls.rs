//! TLS for OTLP endpoints. An `https` endpoint is verified against the CA
//! certificate file the settings name (`OTEL_EXPORTER_OTLP_CERTIFICATE` and
//! its per-signal forms) or, when none is named, the system's CA roots.
//!
//! semtel never chooses a TLS crypto provider for the whole program: it uses
//! the one the program installed (`rustls::crypto::CryptoProvider::install_default`),
//! else the one its own `tls-ring` or `tls-aws-lc-rs` feature names, passed
//! to its own connections only. The rustls features semtel switches on by
//! default change nothing for the program's other crates.

use crate::config::OtlpSettings;

/// Whether `endpoint` asks for TLS.
pub(crate) fn wants_tls(endpoint: &str) -> bool {
    endpoint
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

/// The CA certificate file's PEM text, checked to hold at least one
/// certificate; `None` when no file is named.
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
fn ca_pem(s: &OtlpSettings) -> Result<Option<Vec<u8>>, String> {
    let Some(path) = &s.certificate else {
        return Ok(None);
    };
    let pem = std::fs::read(path).map_err(|e| {
        format!(
            "cannot read the OTLP CA certificate {}: {e}",
            path.display()
        )
    })?;
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
        return Err(format!(
            "the OTLP CA certificate {} holds no PEM certificate (expected a \
             -----BEGIN CERTIFICATE----- block)",
            path.display()
        ));
    }
    Ok(Some(pem))
}

/// The crypto provider for semtel's own TLS connections.
#[cfg(feature = "tls")]
fn provider(endpoint: &str) -> Result<std::sync::Arc<rustls::crypto::CryptoProvider>, String> {
    if let Some(p) = rustls::crypto::CryptoProvider::get_default() {
        return Ok(std::sync::Arc::clone(p));
    }
    own_provider().map(std::sync::Arc::new).ok_or_else(|| {
        format!(
            "{endpoint} is an https endpoint, and TLS needs a crypto provider: enable semtel's \
             `tls-ring` or `tls-aws-lc-rs` feature, or install one in the program \
             (rustls::crypto::CryptoProvider::install_default) before semtel::init"
        )
    })
}

/// The provider a `tls-*` feature of semtel's names, if one does.
#[cfg(feature = "tls")]
fn own_provider() -> Option<rustls::crypto::CryptoProvider> {
    #[cfg(feature = "tls-ring")]
    return Some(rustls::crypto::ring::default_provider());
    #[cfg(all(feature = "tls-aws-lc-rs", not(feature = "tls-ring")))]
    return Some(rustls::crypto::aws_lc_rs::default_provider());
    #[cfg(not(any(feature = "tls-ring", feature = "tls-aws-lc-rs")))]
    None
}

/// The TLS client configuration for `s`'s `https` endpoint (the connector
/// sets the ALPN protocols).
#[cfg(feature = "tls")]
fn client_config(s: &OtlpSettings) -> Result<rustls::ClientConfig, String> {
    use rustls::RootCertStore;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = RootCertStore::empty();
    match ca_pem(s)? {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| format!("invalid OTLP CA certificate: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("invalid OTLP CA certificate: {e}"))?;
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if roots.is_empty() {
                return Err(format!(
                    "no system CA certificates found to verify {}; name a CA file with \
                     OTEL_EXPORTER_OTLP_CERTIFICATE",
                    s.endpoint
                ));
            }
        }
    }
    Ok(
        rustls::ClientConfig::builder_with_provider(provider(&s.endpoint)?)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS for {}: {e}", s.endpoint))?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A plain TCP connector with the exporter's socket settings.
pub(crate) fn tcp(s: &OtlpSettings) -> hyper_util::client::legacy::connect::HttpConnector {
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(s.timeout));
    http
}

/// What connects to an OTLP endpoint: TCP, with TLS for `https`.
#[derive(Clone)]
pub(crate) enum Connector {
    Plain(hyper_util::client::legacy::connect::HttpConnector),
    #[cfg(feature = "tls")]
    Tls(hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>),
}

/// The connector for `s`'s endpoint; `http2_only` for gRPC (ALPN `h2`).
pub(crate) fn connector(s: &OtlpSettings, http2_only: bool) -> Result<Connector, String> {
    if !wants_tls(&s.endpoint) {
        if s.certificate.is_some() {
            crate::warn(format_args!(
                "an OTLP CA certificate is set for {}, which is not an https endpoint; \
                 it is not used",
                s.endpoint
            ));
        }
        return Ok(Connector::Plain(tcp(s)));
    }
    tls_connector(s, http2_only)
}

#[cfg(feature = "tls")]
fn tls_connector(s: &OtlpSettings, http2_only: bool) -> Result<Connector, String> {
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(client_config(s)?)
        .https_only();
    let https = if http2_only {
        builder.enable_http2().wrap_connector(tcp(s))
    } else {
        builder.enable_all_versions().wrap_connector(tcp(s))
    };
    Ok(Connector::Tls(https))
}

/// Without the `tls` feature an `https` endpoint cannot be reached.
#[cfg(not(feature = "tls"))]
fn tls_connector(s: &OtlpSettings, _: bool) -> Result<Connector, String> {
    Err(format!(
        "{} is an https endpoint, but semtel was built without its `tls` feature",
        s.endpoint
    ))
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Io = hyper_util::rt::TokioIo<tokio::net::TcpStream>;

/// The connection a [`Connector`] makes.
pub(crate) enum Stream {
    Plain(Io),
    #[cfg(feature = "tls")]
    Tls(Box<hyper_rustls::MaybeHttpsStream<Io>>),
}

impl tower_service::Service<http::Uri> for Connector {
    type Response = Stream;
    type Error = BoxError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Stream, BoxError>> + Send + 'static>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        match self {
            Connector::Plain(c) => c.poll_ready(cx).map_err(Into::into),
            #[cfg(feature = "tls")]
            Connector::Tls(c) => c.poll_ready(cx),
        }
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        match self {
            Connector::Plain(c) => {
                let f = c.call(uri);
                Box::pin(async move { f.await.map(Stream::Plain).map_err(Into::into) })
            }
            #[cfg(feature = "tls")]
            Connector::Tls(c) => {
                // gRPC is handed an `http` URI (so that no TLS of the gRPC
                // library's own is involved); this connector speaks TLS.
                let f = c.call(with_scheme_https(uri));
                Box::pin(async move { f.await.map(|s| Stream::Tls(Box::new(s))) })
            }
        }
    }
}

#[cfg(feature = "tls")]
fn with_scheme_https(uri: http::Uri) -> http::Uri {
    let mut parts = uri.into_parts();
    parts.scheme = Some(http::uri::Scheme::HTTPS);
    if parts.path_and_query.is_none() {
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
    }
    http::Uri::from_parts(parts).unwrap_or_default()
}

macro_rules! forward_io {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Stream::Plain($s) => $e,
            #[cfg(feature = "tls")]
            Stream::Tls(boxed) => {
                let $s = &mut **boxed;
                $e
            }
        }
    };
}

impl hyper::rt::Read for Stream {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        forward_io!(self, s => std::pin::Pin::new(s).poll_read(cx, buf))
    }
}

impl hyper::rt::Write for Stream {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        forward_io!(self, s => std::pin::Pin::new(s).poll_write(cx, buf))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        forward_io!(self, s => std::pin::Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        forward_io!(self, s => std::pin::Pin::new(s).poll_shutdown(cx))
    }
}

impl hyper_util::client::legacy::connect::Connection for Stream {
    fn connected(&self) -> hyper_util::client::legacy::connect::Connected {
        match self {
            Stream::Plain(s) => s.connected(),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.connected(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_recognised_in_any_case() {
        assert!(wants_tls("https://collector:4317"));
        assert!(wants_tls("HTTPS://collector:4317"));
        assert!(!wants_tls("http://collector:4317"));
        assert!(!wants_tls("http"));
    }

    #[test]
    fn an_unreadable_or_empty_ca_file_is_named() {
        let mut s = OtlpSettings {
            endpoint: "https://127.0.0.1:4317".into(),
            protocol: crate::config::Protocol::Grpc,
            timeout: std::time::Duration::from_secs(1),
            headers: Vec::new(),
            gzip: false,
            certificate: Some("/nonexistent/ca.pem".into()),
        };
        let e = ca_pem(&s).unwrap_err();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
        let path = std::env::temp_dir().join(format!("semtel-ca-{}.pem", std::process::id()));
        std::fs::write(&path, "not a certificate").unwrap();
        s.certificate = Some(path.clone());
        let e = ca_pem(&s).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(e.contains("holds no PEM certificate"), "{e}");
    }
}
