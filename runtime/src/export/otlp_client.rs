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
    http: Option<reqwest::Client>,
    /// Set when the exporter shuts down: requests still under way make no
    /// further attempts, so shutdown is not held by retries.
    closing: Arc<AtomicBool>,
}

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
                "OTLP header {k:?} is not a valid gRPC metadata entry; it is not sent"
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
                let endpoint =
                    tonic::transport::Endpoint::from_shared(settings.endpoint.clone())
                        .map_err(|e| format!("invalid OTLP endpoint {}: {e}", settings.endpoint))?;
                let channel = super::tls::grpc(endpoint, &settings)?
                    .tcp_nodelay(true)
                    .timeout(settings.timeout)
                    .connect_timeout(settings.timeout)
                    .initial_stream_window_size(Some(8 << 20))
                    .initial_connection_window_size(Some(16 << 20))
                    .connect_lazy();
                let mut grpc = tonic::client::Grpc::new(channel);
                if settings.gzip {
                    grpc = grpc.send_compressed(tonic::codec::CompressionEncoding::Gzip);
                }
                (Some(grpc), None)
            }
            Protocol::HttpProtobuf => {
                let builder = reqwest::Client::builder().timeout(settings.timeout);
                let client = super::tls::http(builder, &settings)?
                    .build()
                    .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
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
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let failure = match tokio::time::timeout(left, self.attempt(body.clone())).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(f)) => f,
                Err(_) => return Err(format!("timed out after {timeout:?}")),
            };
            let wait = failure.retry_after.unwrap_or_else(|| jitter(backoff));
            if !failure.retryable
                || self.closing.load(Ordering::Relaxed)
                || tokio::time::Instant::now() + wait >= deadline
            {
                let tries = if attempt > 1 {
                    format!(" (after {attempt} attempts)")
                } else {
                    String::new()
                };
                return Err(format!("{}{tries}", failure.message));
            }
            // Waits in short steps, so a shutdown cuts the wait short.
            let until = tokio::time::Instant::now() + wait;
            while !self.closing.load(Ordering::Relaxed) && tokio::time::Instant::now() < until {
                tokio::time::sleep_until(
                    until.min(tokio::time::Instant::now() + std::time::Duration::from_millis(50)),
                )
                .await;
            }
            backoff = (backoff * 2).min(RETRY_MAX);
        }
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
            grpc.ready().await.map_err(|e| Failure {
                message: format!("unavailable: {e}"),
                retryable: true,
                retry_after: None,
            })?;
            let path = http::uri::PathAndQuery::from_static(self.signal.grpc_path());
            return grpc
                .unary::<Bytes, Bytes, RawCodec>(request, path, RawCodec)
                .await
                .map(|_| ())
                .map_err(|s| {
                    use tonic::Code::*;
                    Failure {
                        message: format!("{:?}: {}", s.code(), s.message()),
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
        let mut request = client
            .post(&self.settings.endpoint)
            .header("Content-Type", "application/x-protobuf");
        if self.settings.gzip {
            request = request.header("Content-Encoding", "gzip");
        }
        for (k, v) in &self.settings.headers {
            request = request.header(k.as_str(), v.as_str());
        }
        let resp = request.body(body).send().await.map_err(|e| Failure {
            retryable: e.is_connect() || e.is_timeout() || e.is_request(),
            message: e.to_string(),
            retry_after: None,
        })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        Err(Failure {
            message: format!("HTTP {status}"),
            retryable: matches!(status.as_u16(), 429 | 502 | 503 | 504),
            retry_after: resp
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(std::time::Duration::from_secs),
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
    /// How long the collector asked to wait (HTTP `Retry-After`).
    retry_after: Option<std::time::Duration>,
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

/// Stops an exporter's retries, from any thread.
pub(crate) struct Closer(Arc<AtomicBool>);

impl Closer {
    /// Requests under way and later ones make no further attempts.
    pub fn close(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
