//! Schema diagnostics: every problem names the file, line and column it came from.

use std::fmt;

pub use semtel_yaml::{Diagnostic, Location};

/// Every problem found while loading or generating a schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    diagnostics: Vec<Diagnostic>,
}

impl Error {
    /// Wraps a list of diagnostics (sorted by location for stable output).
    pub fn new(mut diagnostics: Vec<Diagnostic>) -> Self {
        diagnostics.sort_by(|a, b| a.location.cmp(&b.location));
        diagnostics.dedup();
        Error { diagnostics }
    }

    /// The individual problems, in file order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error::new(vec![d])
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Collects diagnostics while a phase keeps going, so one run reports them all.
#[derive(Default)]
pub(crate) struct Sink {
    pub diagnostics: Vec<Diagnostic>,
}

impl Sink {
    pub fn error(&mut self, location: &Location, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::new(location.clone(), message));
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    pub fn finish<T>(self, value: T) -> Result<T, Error> {
        if self.diagnostics.is_empty() {
            Ok(value)
        } else {
            Err(Error::new(self.diagnostics))
        }
    }
}
