//! TLS for OTLP endpoints. An `https` endpoint is verified against the CA
//! certificate file the settings name (`OTEL_EXPORTER_OTLP_CERTIFICATE` and
//! its per-signal forms) or, when none is named, the system's CA roots.
//! Built with rustls and ring, chosen explicitly, so the process-wide
//! default crypto provider is never touched.

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

/// Configures TLS on a gRPC endpoint whose URL is `https`.
#[cfg(feature = "tls")]
pub(crate) fn grpc(
    endpoint: tonic::transport::Endpoint,
    s: &OtlpSettings,
) -> Result<tonic::transport::Endpoint, String> {
    use tonic::transport::{Certificate, ClientTlsConfig};
    if !wants_tls(&s.endpoint) {
        return Ok(endpoint);
    }
    let tls = match ca_pem(s)? {
        Some(pem) => ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)),
        None => ClientTlsConfig::new().with_native_roots(),
    };
    endpoint
        .tls_config(tls)
        .map_err(|e| format!("cannot set up TLS for {}: {e}", s.endpoint))
}

/// Without the `tls` feature an `https` endpoint cannot be reached.
#[cfg(not(feature = "tls"))]
pub(crate) fn grpc(
    endpoint: tonic::transport::Endpoint,
    s: &OtlpSettings,
) -> Result<tonic::transport::Endpoint, String> {
    refuse_https(s).map(|()| endpoint)
}

/// Configures TLS on an HTTP client builder (always, as the client needs a
/// TLS configuration to be built; its roots matter only for `https`).
#[cfg(feature = "tls")]
pub(crate) fn http(
    builder: reqwest::ClientBuilder,
    s: &OtlpSettings,
) -> Result<reqwest::ClientBuilder, String> {
    use rustls::RootCertStore;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = RootCertStore::empty();
    if wants_tls(&s.endpoint) {
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
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(builder.tls_backend_preconfigured(config))
}

/// Without the `tls` feature an `https` endpoint cannot be reached.
#[cfg(not(feature = "tls"))]
pub(crate) fn http(
    builder: reqwest::ClientBuilder,
    s: &OtlpSettings,
) -> Result<reqwest::ClientBuilder, String> {
    refuse_https(s).map(|()| builder)
}

#[cfg(not(feature = "tls"))]
fn refuse_https(s: &OtlpSettings) -> Result<(), String> {
    if wants_tls(&s.endpoint) {
        return Err(format!(
            "{} is an https endpoint, but semtel was built without its `tls` feature",
            s.endpoint
        ));
    }
    if s.certificate.is_some() {
        crate::warn(format_args!(
            "an OTLP CA certificate is set but semtel was built without its `tls` feature; \
             it is not used"
        ));
    }
    Ok(())
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
