//! OTLP over TLS verified against a custom CA: a TLS-terminating loopback
//! proxy, holding a certificate signed by a CA made for the test, forwards
//! to a real collector (rotel). Spans and logs arrive over gRPC and HTTP
//! when semtel trusts that CA; with another CA the handshake is refused,
//! nothing arrives and the failure is counted.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use semtel::{LogsExporter, MetricsExporter, Protocol, TracesExporter, traced_task};
use semtel_tests::collector::{Rotel, TempDir};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_rustls::rustls;

/// Telemetry is process-global: one test installs it at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A CA, and a server certificate for 127.0.0.1 that it signed.
struct Pki {
    dir: TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
    server_cert: rustls::pki_types::CertificateDer<'static>,
    server_key: Vec<u8>,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("{name} test CA"));
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        Pki {
            dir: TempDir::new(&format!("semtel-tls-{name}")),
            ca,
            server_cert: cert.der().clone(),
            server_key: key.serialize_der(),
        }
    }

    /// The CA certificate as a PEM file.
    fn ca_file(&self) -> PathBuf {
        let path = self.dir.0.join("ca.pem");
        std::fs::write(&path, self.ca.pem()).unwrap();
        path
    }
}

/// A TLS-terminating proxy on a free loopback port in front of `upstream`.
struct TlsProxy {
    port: u16,
    handshakes: Arc<AtomicUsize>,
    refusals: Arc<Mutex<Vec<String>>>,
    rt: Option<tokio::runtime::Runtime>,
}

impl TlsProxy {
    fn start(pki: &Pki, upstream: u16) -> TlsProxy {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![pki.server_cert.clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(pki.server_key.clone().into()),
            )
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let handshakes = Arc::new(AtomicUsize::new(0));
        let refusals = Arc::new(Mutex::new(Vec::new()));
        let (ok, refused) = (Arc::clone(&handshakes), Arc::clone(&refusals));
        rt.spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, ok, refused) =
                    (acceptor.clone(), Arc::clone(&ok), Arc::clone(&refused));
                tokio::spawn(async move {
                    match acceptor.accept(tcp).await {
                        Ok(mut tls) => {
                            ok.fetch_add(1, Ordering::SeqCst);
                            let addr = ("127.0.0.1", upstream);
                            if let Ok(mut up) = tokio::net::TcpStream::connect(addr).await {
                                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                            }
                        }
                        Err(e) => refused.lock().unwrap().push(e.to_string()),
                    }
                });
            }
        });
        TlsProxy {
            port,
            handshakes,
            refusals,
            rt: Some(rt),
        }
    }

    fn endpoint(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

#[traced_task(name = "tls.task", attrs(orchestration.task.id = id))]
fn task(id: &str) {
    tracing::info!(task = id, "task ran over tls");
}

/// Runs two tasks with spans and logs going over OTLP to `endpoint`,
/// trusting `ca`.
fn run(protocol: Protocol, endpoint: String, ca: PathBuf) {
    let telemetry = semtel::builder()
        .env_source(|_| None)
        .service_name("tls-test")
        .traces_exporter(TracesExporter::Otlp)
        .metrics_exporter(MetricsExporter::None)
        .logs_exporter(LogsExporter::Otlp)
        .tracing_subscriber(true)
        .otlp_protocol(protocol)
        .otlp_endpoint(endpoint)
        .otlp_certificate(ca)
        .otlp_timeout(Duration::from_secs(5))
        .init()
        .unwrap();
    task("t-1");
    task("t-2");
    assert!(telemetry.flush(), "the flush finished in time");
    drop(telemetry);
}

fn check_arrival(protocol: Protocol, upstream: fn(&Rotel) -> u16) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let rotel = Rotel::start();
    let pki = Pki::new("trusted");
    let proxy = TlsProxy::start(&pki, upstream(&rotel));
    run(protocol, proxy.endpoint(), pki.ca_file());
    let spans = rotel.wait_for_spans(2, Duration::from_secs(20));
    assert_eq!(spans.len(), 2, "{spans:#?}");
    assert!(spans.iter().all(|s| s.name == "tls.task"));
    rotel.wait_until("logs", Duration::from_secs(20), |out| {
        semtel_tests::collector::parse_logs(out).len() >= 2
    });
    let logs = rotel.logs();
    assert!(
        logs.iter()
            .all(|l| l.body == "Str(task ran over tls)" && l.trace_id.len() == 32),
        "{logs:#?}"
    );
    assert!(proxy.handshakes.load(Ordering::SeqCst) >= 1);
    assert_eq!(*proxy.refusals.lock().unwrap(), Vec::<String>::new());
}

#[test]
fn spans_and_logs_arrive_over_grpc_with_tls_and_a_custom_ca() {
    check_arrival(Protocol::Grpc, |r| r.grpc_port);
}

#[test]
fn spans_and_logs_arrive_over_http_with_tls_and_a_custom_ca() {
    check_arrival(Protocol::HttpProtobuf, |r| r.http_port);
}

#[test]
fn a_collector_signed_by_another_ca_gets_nothing() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let rotel = Rotel::start();
    let collector_pki = Pki::new("collector");
    let other = Pki::new("other");
    let proxy = TlsProxy::start(&collector_pki, rotel.grpc_port);
    let failed_before = semtel::trace::failed_exports();
    run(Protocol::Grpc, proxy.endpoint(), other.ca_file());
    assert!(
        semtel::trace::failed_exports() > failed_before,
        "the refused export is counted"
    );
    assert_eq!(proxy.handshakes.load(Ordering::SeqCst), 0);
    let refusals = proxy.refusals.lock().unwrap().clone();
    assert!(!refusals.is_empty(), "the proxy saw the client refuse");
    assert!(
        refusals.iter().all(|r| r.contains("alert")),
        "the client aborted the handshake with an alert: {refusals:?}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(rotel.spans().is_empty(), "{}", rotel.output());
}
