//! Sending pre-encoded OTLP requests, over gRPC (with a pass-through codec)
//! or HTTP/protobuf, with headers, gzip and timeouts. Cheap to clone, so
//! several requests can be in flight.

use crate::config::{OtlpSettings, Protocol};
use prost::bytes::{Buf, BufMut, Bytes};
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
        })
    }

    /// Sends one encoded export request.
    pub async fn send(mut self, body: Vec<u8>) -> Result<(), String> {
        let timeout = self.settings.timeout;
        if let Some(grpc) = &mut self.grpc {
            let mut request = tonic::Request::new(Bytes::from(body));
            *request.metadata_mut() = self.metadata.clone();
            let path = http::uri::PathAndQuery::from_static(self.signal.grpc_path());
            let call = async {
                grpc.ready()
                    .await
                    .map_err(|e| format!("unavailable: {e}"))?;
                grpc.unary::<Bytes, Bytes, RawCodec>(request, path, RawCodec)
                    .await
                    .map(|_| ())
                    .map_err(|s| format!("{:?}: {}", s.code(), s.message()))
            };
            return tokio::time::timeout(timeout, call)
                .await
                .map_err(|_| format!("timed out after {timeout:?}"))?;
        }
        if let Some(client) = &self.http {
            let mut body = body;
            let mut request = client
                .post(&self.settings.endpoint)
                .header("Content-Type", "application/x-protobuf");
            if self.settings.gzip {
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                std::io::Write::write_all(&mut enc, &body).map_err(|e| e.to_string())?;
                body = enc.finish().map_err(|e| e.to_string())?;
                request = request.header("Content-Encoding", "gzip");
            }
            for (k, v) in &self.settings.headers {
                request = request.header(k.as_str(), v.as_str());
            }
            let resp = request.body(body).send().await.map_err(|e| e.to_string())?;
            if !resp.status().is_success() {
                return Err(format!("HTTP {}", resp.status()));
            }
        }
        Ok(())
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
}
