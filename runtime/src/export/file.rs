//! The file sink: one OTLP/JSON `TracesData` object per line (the
//! OpenTelemetry file-exporter format), rotated by size, keeping a bounded
//! number of files. A batch is encoded by the one OTLP encoder the OTLP
//! exporter uses, and written as JSON from the decoded message.

use super::SpanSink;
use super::otlp_encode::{resource_attributes, traces_request};
use crate::config::FileSettings;
use crate::trace::SpanRecord;
use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::TracesData;
use opentelemetry_sdk::Resource;
use prost::Message;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub(crate) struct FileSink {
    settings: FileSettings,
    resource: Vec<KeyValue>,
    file: File,
    size: u64,
}

fn rotated(path: &Path, n: usize) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

impl FileSink {
    pub fn new(settings: &FileSettings, resource: &Resource) -> Result<FileSink, String> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&settings.path)
            .map_err(|e| format!("cannot open the span file {}: {e}", settings.path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(FileSink {
            settings: settings.clone(),
            resource: resource_attributes(resource),
            file,
            size,
        })
    }

    /// Moves `path` to `path.1` (and `.1` to `.2`, ...), dropping the oldest.
    fn rotate(&mut self) -> std::io::Result<()> {
        let path = &self.settings.path;
        let keep = self.settings.max_files.max(1);
        let _ = std::fs::remove_file(rotated(path, keep));
        for n in (1..keep).rev() {
            let from = rotated(path, n);
            if from.exists() {
                std::fs::rename(&from, rotated(path, n + 1))?;
            }
        }
        std::fs::rename(path, rotated(path, 1))?;
        self.file = OpenOptions::new().create(true).append(true).open(path)?;
        self.size = 0;
        Ok(())
    }
}

impl SpanSink for FileSink {
    fn name(&self) -> &str {
        "file"
    }

    fn export(&mut self, spans: &mut Vec<SpanRecord>) -> Result<(), String> {
        let body = traces_request(&self.resource, spans);
        spans.clear();
        let request = ExportTraceServiceRequest::decode(body.as_slice())
            .map_err(|e| format!("cannot read back an encoded batch: {e}"))?;
        let line = TracesData {
            resource_spans: request.resource_spans,
        };
        let mut text = serde_json::to_string(&line).map_err(|e| e.to_string())?;
        text.push('\n');
        if self.size > 0 && self.size + text.len() as u64 > self.settings.max_bytes {
            self.rotate()
                .map_err(|e| format!("cannot rotate {}: {e}", self.settings.path.display()))?;
        }
        self.file
            .write_all(text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", self.settings.path.display()))?;
        self.size += text.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), String> {
        self.file.flush().map_err(|e| e.to_string())
    }
}
