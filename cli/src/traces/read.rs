//! Streaming spans out of OTLP JSON Lines files, one line at a time:
//! rotated siblings (`spans.jsonl.1`, `.2`, ...) are read with their file,
//! gzip is recognised by its magic bytes, and a line that is not OTLP JSON
//! is reported with its file and line number, skipped and counted.

use super::model::{Resource, Scope, Span, TracesData};
use flate2::read::MultiGzDecoder;
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Bad lines reported one by one; past this, only counted.
const REPORTED: u64 = 10;

/// A span with the resource and scope it came with.
pub struct SpanRef<'r, 'a> {
    /// The resource.
    pub resource: &'r Resource<'a>,
    /// The scope.
    pub scope: &'r Scope<'a>,
    /// The span.
    pub span: &'r Span<'a>,
}

/// What was read.
#[derive(Default, Debug)]
pub struct Tally {
    /// Files read.
    pub files: u64,
    /// Non-empty lines read.
    pub lines: u64,
    /// Lines skipped as unreadable.
    pub skipped: u64,
    /// Spans handed on.
    pub spans: u64,
}

/// The files to read for the names given: each with its rotated siblings,
/// oldest first, each file once. A name that does not exist is an error.
pub fn expand(names: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for name in names {
        if !name.is_file() {
            return Err(format!("{}: no such file", name.display()));
        }
        let mut family = vec![name.clone()];
        for n in 1.. {
            let mut rotated = name.as_os_str().to_owned();
            rotated.push(format!(".{n}"));
            let plain = PathBuf::from(&rotated);
            rotated.push(".gz");
            let gz = PathBuf::from(rotated);
            match (plain.is_file(), gz.is_file()) {
                (true, _) => family.push(plain),
                (false, true) => family.push(gz),
                (false, false) => break,
            }
        }
        for f in family.into_iter().rev() {
            let key = std::fs::canonicalize(&f).unwrap_or_else(|_| f.clone());
            if seen.insert(key) {
                out.push(f);
            }
        }
    }
    Ok(out)
}

fn open(path: &Path) -> std::io::Result<Box<dyn BufRead>> {
    let mut file = BufReader::with_capacity(1 << 20, File::open(path)?);
    let gzip = file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        Box::new(BufReader::with_capacity(1 << 20, MultiGzDecoder::new(file)))
    } else {
        Box::new(file)
    })
}

/// Calls `each` for every span of the files, in file order; reports bad
/// lines on standard error. Fails only when a file cannot be read.
pub fn for_each_span(
    files: &[PathBuf],
    mut each: impl FnMut(&SpanRef<'_, '_>),
) -> Result<Tally, String> {
    let mut tally = Tally::default();
    let mut line = Vec::with_capacity(1 << 16);
    for path in files {
        let mut reader = open(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        tally.files += 1;
        let mut number = 0u64;
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("{}:{}: cannot read: {e}", path.display(), number + 1))?;
            if n == 0 {
                break;
            }
            number += 1;
            let ends = line.ends_with(b"\n");
            let text = line.trim_ascii();
            if text.is_empty() {
                continue;
            }
            tally.lines += 1;
            let problem = match serde_json::from_slice::<TracesData<'_>>(text) {
                Ok(TracesData {
                    resource_spans: Some(groups),
                }) => {
                    for rs in &groups {
                        for ss in &rs.scope_spans {
                            for span in &ss.spans {
                                tally.spans += 1;
                                each(&SpanRef {
                                    resource: &rs.resource,
                                    scope: &ss.scope,
                                    span,
                                });
                            }
                        }
                    }
                    continue;
                }
                Ok(TracesData {
                    resource_spans: None,
                }) => "no `resourceSpans`: not an OTLP traces line".to_string(),
                Err(e) if e.is_eof() && !ends => {
                    "truncated: the file ends inside this line".to_string()
                }
                Err(e) => format!("not OTLP JSON: {e}"),
            };
            tally.skipped += 1;
            if tally.skipped <= REPORTED {
                eprintln!(
                    "semtel traces: {}:{number}: skipped: {problem}",
                    path.display()
                );
            }
        }
    }
    if tally.skipped > REPORTED {
        eprintln!(
            "semtel traces: {} more bad lines skipped",
            tally.skipped - REPORTED
        );
    }
    Ok(tally)
}
