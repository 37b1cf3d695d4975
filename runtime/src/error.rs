//! The errors of semtel's fallible functions. Telemetry problems found while
//! running are warnings, never errors: only a configuration the user must fix
//! (an [`InitError`]) and values handed to the parsing functions (a
//! [`TraceContextError`]) are.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why telemetry could not be set up: something the user must fix. Its
/// `Display` names the file and says what is wrong, line by line.
#[derive(Debug)]
pub struct InitError {
    kind: InitErrorKind,
    path: PathBuf,
    message: String,
    source: Option<std::io::Error>,
}

/// What kind of problem an [`InitError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InitErrorKind {
    /// The config file cannot be read (its I/O error is the error's `source`).
    ConfigFileUnreadable,
    /// The config file is not valid YAML or not a valid configuration.
    ConfigFileInvalid,
}

impl InitError {
    pub(crate) fn unreadable(path: &Path, source: std::io::Error) -> Self {
        InitError {
            kind: InitErrorKind::ConfigFileUnreadable,
            path: path.to_path_buf(),
            message: format!("cannot read the config file {}: {source}", path.display()),
            source: Some(source),
        }
    }

    pub(crate) fn invalid(path: &Path, message: String) -> Self {
        InitError {
            kind: InitErrorKind::ConfigFileInvalid,
            path: path.to_path_buf(),
            message,
            source: None,
        }
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> InitErrorKind {
        self.kind
    }

    /// The config file at fault.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

/// A W3C `traceparent` or `tracestate` value that does not follow the Trace
/// Context specification. Its `Display` says what is wrong, quoting at most a
/// short piece of the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceContextError {
    reason: String,
}

impl TraceContextError {
    pub(crate) fn new(reason: String) -> Self {
        TraceContextError { reason }
    }
}

impl fmt::Display for TraceContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for TraceContextError {}
