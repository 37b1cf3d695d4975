//! Sending pre-encoded OTLP requests, over gRPC (with a pass-through codec)
//! or HTTP/protobuf, with headers, gzip and timeouts. Cheap to clone, so
//! several requests can be in flight.

use crate::config::{OtlpSettings, Protocol};
use prost::bytes::{Buf, BufMut, Bytes};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

/// The OTLP signals and where each is sent.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    /// The HTTP path of the signal's export requests.
    fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
            Signal::Logs => "/v1/logs",
        }
    }

    /// The variable that chooses the signal's exporter, and the word for what it exports.
    fn exporter_var(self) -> (&'static str, &'static str) {
        match self {
            Signal::Traces => ("OTEL_TRACES_EXPORTER", "traces"),
            Signal::Metrics => ("OTEL_METRICS_EXPORTER", "metrics"),
            Signal::Logs => ("OTEL_LOGS_EXPORTER", "logs"),
        }
    }

    fn grpc_path(self) -> &'static str {
        match self {
            Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
            Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        }
    }
}

/// Passes encoded protobuf bytes through unchanged.
#[derive(Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// An OTLP client for one signal.
#[derive(Clone)]
pub(crate) struct OtlpClient {
    settings: OtlpSettings,
    signal: Signal,
    grpc: Option<tonic::client::Grpc<Channel>>,
    /// The headers as gRPC metadata.
    metadata: tonic::metadata::MetadataMap,
    http: Option<HttpClient>,
    /// Set when the exporter shuts down: requests still under way make no
    /// further attempts, so shutdown is not held by retries, and end by its
    /// deadline.
    closing: Arc<Closing>,
    /// Set once a failure has said what to do when no collector listens.
    advised: Arc<AtomicBool>,
}

/// The HTTP/protobuf transport.
type HttpClient =
    hyper_util::client::legacy::Client<super::tls::Connector, http_body_util::Full<Bytes>>;

/// The headers as gRPC metadata; one warning for each that cannot be sent.
fn metadata(headers: &[(String, String)]) -> tonic::metadata::MetadataMap {
    use tonic::metadata::{Ascii, MetadataKey, MetadataValue};
    let mut map = tonic::metadata::MetadataMap::new();
    for (k, v) in headers {
        match (
            MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes()),
            v.parse::<MetadataValue<Ascii>>(),
        ) {
            (Ok(k), Ok(v)) => {
                map.insert(k, v);
            }
            _ => crate::warn(format_args!(
                "OTLP header {} is not a valid gRPC metadata entry; it is not sent",
                crate::config::quoted(k)
            )),
        }
    }
    map
}

impl OtlpClient {
    /// A client per `settings`; must be called inside the runtime that will send.
    pub fn new(settings: OtlpSettings, signal: Signal) -> Result<OtlpClient, String> {
        let (grpc, http) = match settings.protocol {
            Protocol::Grpc => {
                let connector = super::tls::connector(&settings, true)?;
                // The connector speaks TLS for an `https` endpoint; the gRPC
                // library is handed the address as `http`, so that no TLS of
                // its own is ever involved.
                let address = match settings.endpoint.split_once("://") {
                    Some((_, rest)) => format!("http://{rest}"),
                    None => settings.endpoint.clone(),
                };
                let endpoint = tonic::transport::Endpoint::from_shared(address)
                    .map_err(|e| format!("invalid OTLP endpoint {}: {e}", settings.endpoint))?;
                let channel = endpoint
                    .timeout(settings.timeout)
                    .initial_stream_window_size(Some(8 << 20))
                    .initial_connection_window_size(Some(16 << 20))
                    .connect_with_connector_lazy(connector);
                let mut grpc = tonic::client::Grpc::new(channel);
                if settings.gzip {
                    grpc = grpc.send_compressed(tonic::codec::CompressionEncoding::Gzip);
                }
                (Some(grpc), None)
            }
            Protocol::HttpProtobuf => {
                let connector = super::tls::connector(&settings, false)?;
                let client = hyper_util::client::legacy::Client::builder(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .build(connector);
                (None, Some(client))
            }
        };
        Ok(OtlpClient {
            metadata: metadata(&settings.headers),
            settings,
            signal,
            grpc,
            http,
            closing: Arc::default(),
            advised: Arc::default(),
        })
    }

    /// Sends one encoded export request, retrying what the collector may
    /// accept later (it is unreachable, overloaded or briefly failing) with
    /// exponential backoff, all within the export timeout.
    pub async fn send(mut self, body: Vec<u8>) -> Result<(), String> {
        let timeout = self.settings.timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let body = self.prepare(body)?;
        let mut backoff = RETRY_INITIAL;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let closing = Arc::clone(&self.closing);
            let try_once = self.attempt(body.clone());
            let failure = match closing.bounded(deadline, try_once).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(f)) => f,
                Err(Cut::Timeout) => {
                    return Err(format!(
                        "{}: no answer, timed out after {}",
                        self.settings.endpoint,
                        seconds(timeout)
                    ));
                }
                Err(Cut::Shutdown) => {
                    return Err(format!(
                        "{}: no answer by the shutdown deadline",
                        self.settings.endpoint
                    ));
                }
            };
            let wait = failure.retry_after.unwrap_or_else(|| jitter(backoff));
            if !failure.retryable
                || self.closing.is_closed()
                || tokio::time::Instant::now() + wait >= deadline
            {
                let tries = if attempt > 1 {
                    format!(" (after {attempt} attempts)")
                } else {
                    String::new()
                };
                return Err(format!("{}{tries}", self.explain(&failure)));
            }
            // Waits in short steps, so a shutdown cuts the wait short.
            let until = tokio::time::Instant::now() + wait;
            while !self.closing.is_closed() && tokio::time::Instant::now() < until {
                tokio::time::sleep_until(
                    until.min(tokio::time::Instant::now() + std::time::Duration::from_millis(50)),
                )
                .await;
            }
            backoff = (backoff * 2).min(RETRY_MAX);
        }
    }

    /// The message for a failed request: the endpoint and the root cause;
    /// the first time nothing listens there, also what to do about it.
    fn explain(&self, failure: &Failure) -> String {
        let endpoint = &self.settings.endpoint;
        if failure.refused && !self.advised.swap(true, Ordering::Relaxed) {
            let (var, what) = self.signal.exporter_var();
            return format!(
                "no collector at {endpoint} ({}); start one, or set {var}=console to print \
                 {what} here ({var}=none to send none)",
                failure.message
            );
        }
        format!("{endpoint}: {}", failure.message)
    }

    /// A handle that stops this client's (and its clones') retries from any thread.
    pub fn closer(&self) -> Closer {
        Closer(Arc::clone(&self.closing))
    }

    /// The request body as sent: gzip-compressed here for HTTP (gRPC
    /// compresses in its codec), once for every attempt.
    fn prepare(&self, body: Vec<u8>) -> Result<Bytes, String> {
        if self.http.is_none() || !self.settings.gzip {
            return Ok(Bytes::from(body));
        }
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut enc, &body).map_err(|e| e.to_string())?;
        enc.finish().map(Bytes::from).map_err(|e| e.to_string())
    }

    /// One try at delivering `body`.
    async fn attempt(&mut self, body: Bytes) -> Result<(), Failure> {
        if let Some(grpc) = &mut self.grpc {
            let mut request = tonic::Request::new(body);
            *request.metadata_mut() = self.metadata.clone();
            grpc.ready().await.map_err(|e| Failure::transport(&e))?;
            let path = http::uri::PathAndQuery::from_static(self.signal.grpc_path());
            return grpc
                .unary::<Bytes, Bytes, RawCodec>(request, path, RawCodec)
                .await
                .map(|_| ())
                .map_err(|s| {
                    use tonic::Code::*;
                    if let Some(cause) = std::error::Error::source(&s) {
                        if s.code() == Unavailable || s.code() == Unknown {
                            return Failure::transport(cause);
                        }
                    }
                    Failure {
                        refused: false,
                        message: format!("gRPC {:?}: {}", s.code(), s.message()),
                        // Codes the OTLP specification calls retryable, and a
                        // connection lost before any answer (no status sent).
                        retryable: matches!(
                            s.code(),
                            Cancelled
                                | DeadlineExceeded
                                | ResourceExhausted
                                | Aborted
                                | OutOfRange
                                | Unavailable
                                | DataLoss
                        ) || (s.code() == Unknown
                            && std::error::Error::source(&s).is_some()),
                        retry_after: None,
                    }
                });
        }
        let Some(client) = &self.http else {
            return Ok(());
        };
        let mut request = http::Request::post(self.settings.endpoint.as_str())
            .header(http::header::CONTENT_TYPE, "application/x-protobuf");
        if self.settings.gzip {
            request = request.header(http::header::CONTENT_ENCODING, "gzip");
        }
        for (k, v) in &self.settings.headers {
            request = request.header(k.as_str(), v.as_str());
        }
        let request = request
            .body(http_body_util::Full::new(body))
            .map_err(|e| Failure {
                refused: false,
                message: format!("cannot make the request: {e}"),
                retryable: false,
                retry_after: None,
            })?;
        let resp = client.request(request).await.map_err(|e| {
            let mut f = Failure::transport(&e);
            f.retryable = e.is_connect() || f.retryable;
            f
        })?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(std::time::Duration::from_secs);
        // The whole answer, body included, before the export counts as done.
        use http_body_util::BodyExt;
        resp.into_body()
            .collect()
            .await
            .map_err(|e| Failure::transport(&e))?;
        if status.is_success() {
            return Ok(());
        }
        Err(Failure {
            refused: false,
            message: http_status(status, self.signal),
            retryable: matches!(status.as_u16(), 429 | 502 | 503 | 504),
            retry_after,
        })
    }
}

/// The first wait before a retry, and the longest.
const RETRY_INITIAL: std::time::Duration = std::time::Duration::from_millis(100);
const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(5);

/// `d` scaled by a factor between 0.5 and 1.5, so that many exporters
/// retrying at once spread out.
fn jitter(d: std::time::Duration) -> std::time::Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.subsec_nanos());
    d.mul_f64(0.5 + f64::from(nanos % 1000) / 1000.0)
}

/// Why an attempt failed, and whether trying again may help.
struct Failure {
    message: String,
    retryable: bool,
    /// Nothing listens at the endpoint (the connection was refused).
    refused: bool,
    /// How long the collector asked to wait (HTTP `Retry-After`).
    retry_after: Option<std::time::Duration>,
}

impl Failure {
    /// A failure to reach the collector (connection, TLS, timeout): its
    /// root cause, retryable.
    fn transport(e: &(dyn std::error::Error + 'static)) -> Failure {
        let (message, refused) = root_cause(e);
        Failure {
            message,
            retryable: true,
            refused,
            retry_after: None,
        }
    }
}

/// The innermost cause of `e` in plain words (walking `source()` and the
/// errors `io::Error`s carry), and whether it is a refused connection.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> (String, bool) {
    use std::io::ErrorKind;
    let mut last = e;
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::ConnectionRefused => return ("connection refused".into(), true),
                ErrorKind::TimedOut => return ("the connection timed out".into(), false),
                ErrorKind::ConnectionReset => {
                    return ("the collector reset the connection".into(), false);
                }
                _ => {}
            }
            if let Some(inner) = io.get_ref() {
                last = inner;
                next = Some(inner);
                continue;
            }
        }
        #[cfg(feature = "tls")]
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return (tls_cause(tls), false);
        }
        last = err;
        next = err.source();
    }
    (last.to_string(), false)
}

/// A TLS failure in plain words, with the fix for the common one.
#[cfg(feature = "tls")]
fn tls_cause(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer) => {
            "TLS: unknown issuer (the collector's certificate is not signed by a CA this \
             process trusts; name the CA's PEM file in OTEL_EXPORTER_OTLP_CERTIFICATE)"
                .into()
        }
        rustls::Error::InvalidCertificate(c) => format!("TLS: invalid certificate ({c:?})"),
        other => format!("TLS: {other}"),
    }
}

/// An HTTP error status, with what it usually means for an OTLP export.
fn http_status(status: http::StatusCode, signal: Signal) -> String {
    let hint = match status.as_u16() {
        404 | 405 => format!(
            " (is the path {}? An endpoint set for one signal is used as is)",
            signal.http_path()
        ),
        401 | 403 => " (check the credentials in OTEL_EXPORTER_OTLP_HEADERS)".into(),
        413 => " (the request is too large; lower OTEL_BSP_MAX_EXPORT_BATCH_SIZE)".into(),
        415 => " (the endpoint does not take OTLP/protobuf; is it an OTLP receiver?)".into(),
        _ => String::new(),
    };
    format!("HTTP {status}{hint}")
}

/// `10 s`, `1.5 s` or `500 ms`.
fn seconds(d: std::time::Duration) -> String {
    if d.as_millis() % 1000 == 0 {
        format!("{} s", d.as_secs())
    } else if d < std::time::Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// A client with a current-thread runtime of its own, for an export thread
/// that sends one request at a time and waits for it.
pub(crate) struct BlockingSender {
    rt: tokio::runtime::Runtime,
    client: OtlpClient,
}

impl BlockingSender {
    /// A sender for `signal` per `settings`.
    pub fn new(settings: OtlpSettings, signal: Signal) -> Result<BlockingSender, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the export runtime: {e}"))?;
        let client = {
            let _enter = rt.enter();
            OtlpClient::new(settings, signal)?
        };
        Ok(BlockingSender { rt, client })
    }

    /// Sends one encoded request and waits for the answer (at most the timeout).
    pub fn send(&mut self, body: Vec<u8>) -> Result<(), String> {
        self.rt.block_on(self.client.clone().send(body))
    }

    /// A handle that stops retries from another thread (at shutdown), so the
    /// last sends make one attempt each.
    pub fn closer(&self) -> Closer {
        self.client.closer()
    }
}

/// Whether a client is shutting down, and by when its requests must end.
#[derive(Debug, Default)]
struct Closing {
    closed: AtomicBool,
    deadline: std::sync::Mutex<Option<std::time::Instant>>,
}

/// Why a request was cut short.
enum Cut {
    /// The export timeout passed.
    Timeout,
    /// The shutdown deadline passed.
    Shutdown,
}

impl Closing {
    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    fn shutdown_deadline(&self) -> Option<tokio::time::Instant> {
        let d = *self
            .deadline
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        d.map(tokio::time::Instant::from_std)
    }

    /// Runs `fut` until `timeout`, or until the shutdown deadline (set at
    /// any time, also while it runs), whichever comes first.
    async fn bounded<T>(
        &self,
        timeout: tokio::time::Instant,
        fut: impl std::future::Future<Output = T>,
    ) -> Result<T, Cut> {
        let mut fut = std::pin::pin!(fut);
        loop {
            let cut = self.shutdown_deadline().filter(|d| *d < timeout);
            let limit = cut.unwrap_or(timeout);
            // Looks again at the shutdown deadline every 50 ms.
            let step =
                limit.min(tokio::time::Instant::now() + std::time::Duration::from_millis(50));
            match tokio::time::timeout_at(step, fut.as_mut()).await {
                Ok(v) => return Ok(v),
                Err(_) if tokio::time::Instant::now() >= limit => {
                    return Err(if cut.is_some() {
                        Cut::Shutdown
                    } else {
                        Cut::Timeout
                    });
                }
                Err(_) => {}
            }
        }
    }
}

/// Stops an exporter's retries, from any thread.
#[derive(Clone)]
pub(crate) struct Closer(Arc<Closing>);

impl Closer {
    /// Requests under way and later ones make no further attempts.
    pub fn close(&self) {
        self.0.closed.store(true, Ordering::Relaxed);
    }

    /// Requests under way and later ones make no further attempts, and end
    /// (failed) by `deadline` at the latest.
    pub fn close_by(&self, deadline: std::time::Instant) {
        *self
            .0
            .deadline
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(deadline);
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    /// An error wrapping another, as HTTP clients report a failed request.
    #[derive(Debug)]
    struct Wrapped(&'static str, Box<dyn std::error::Error + Send + Sync>);

    impl fmt::Display for Wrapped {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.1)
        }
    }

    fn chain(inner: std::io::Error) -> Wrapped {
        Wrapped(
            "error sending request for url (http://c:4318/v1/traces)",
            Box::new(Wrapped("client error (Connect)", Box::new(inner))),
        )
    }

    #[test]
    fn the_root_cause_is_found_under_the_wrappers() {
        use std::io::{Error, ErrorKind};
        let refused = chain(Error::from(ErrorKind::ConnectionRefused));
        assert_eq!(
            root_cause(&refused),
            ("connection refused".to_string(), true)
        );
        let dns = chain(Error::other("failed to lookup address information"));
        assert_eq!(root_cause(&dns).0, "failed to lookup address information");
        #[cfg(feature = "tls")]
        {
            let tls = chain(Error::new(
                ErrorKind::InvalidData,
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
            ));
            let (cause, refused) = root_cause(&tls);
            assert!(!refused);
            assert!(
                cause.starts_with("TLS: unknown issuer (the collector's certificate"),
                "{cause}"
            );
            assert!(
                cause.ends_with("OTEL_EXPORTER_OTLP_CERTIFICATE)"),
                "{cause}"
            );
        }
    }

    #[test]
    fn http_statuses_say_what_they_usually_mean() {
        assert_eq!(
            http_status(http::StatusCode::NOT_FOUND, Signal::Metrics),
            "HTTP 404 Not Found (is the path /v1/metrics? An endpoint set for one signal is used as is)"
        );
        assert_eq!(
            http_status(http::StatusCode::UNAUTHORIZED, Signal::Traces),
            "HTTP 401 Unauthorized (check the credentials in OTEL_EXPORTER_OTLP_HEADERS)"
        );
        assert_eq!(
            http_status(http::StatusCode::INTERNAL_SERVER_ERROR, Signal::Logs),
            "HTTP 500 Internal Server Error"
        );
        assert_eq!(seconds(std::time::Duration::from_secs(10)), "10 s");
        assert_eq!(seconds(std::time::Duration::from_millis(1500)), "1.5 s");
        assert_eq!(seconds(std::time::Duration::from_millis(300)), "300 ms");
    }
}
