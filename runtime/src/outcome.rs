//! How a function ended, as telemetry sees it: success, or a failure with an
//! `error.type` and a message. Chosen at compile time by auto-ref, so any
//! return type works and only `Result`s are inspected.
//!
//! `error.type` is a metric attribute, so it must be stable and of low
//! cardinality: the error's own [`ErrorType`], the kind of an I/O error, or
//! `_OTHER` (the conventions' value for an error the instrumentation cannot
//! classify) — never a compiler-dependent type name.

use std::borrow::Cow;
use std::fmt;

/// The low-cardinality class of an error, for the `error.type` attribute.
///
/// Derive it on an error enum (each variant's name in snake_case, or the
/// `#[error_type("...")]` on it) or implement it: that is how an instrumented
/// function's errors are classified. Without it, `error.type` is `_OTHER`;
/// `#[traced_task(error_type = "...")]` sets one value for a function. semtel
/// implements it for [`std::io::Error`] (its [`std::io::ErrorKind`] in
/// snake_case: `not_found`, `timed_out`, ...; `_OTHER` for `Other`) and for
/// `dyn Error` and boxed errors (an I/O error's kind when they hold one, else
/// `_OTHER`). [`CurrentSpan::record_error`](crate::trace::CurrentSpan::record_error)
/// records an error caught inside a function the same way.
///
/// ```
/// #[derive(Debug, semtel::ErrorType)]
/// enum ToolError {
///     RateLimited,
///     #[error_type("git_conflict")]
///     Conflict { file: String },
/// }
/// use semtel::ErrorType;
/// assert_eq!(ToolError::RateLimited.error_type(), "rate_limited");
/// assert_eq!(ToolError::Conflict { file: "a".into() }.error_type(), "git_conflict");
/// ```
pub trait ErrorType {
    /// The value of `error.type` for this error.
    fn error_type(&self) -> Cow<'static, str>;
}

/// The `error.type` of an error the instrumentation cannot classify.
pub const OTHER: &str = "_OTHER";

impl ErrorType for std::io::Error {
    fn error_type(&self) -> Cow<'static, str> {
        io_kind(self.kind())
    }
}

impl ErrorType for dyn std::error::Error {
    fn error_type(&self) -> Cow<'static, str> {
        boxed(self)
    }
}

impl ErrorType for dyn std::error::Error + Send + Sync {
    fn error_type(&self) -> Cow<'static, str> {
        boxed(self)
    }
}

impl ErrorType for Box<dyn std::error::Error> {
    fn error_type(&self) -> Cow<'static, str> {
        boxed(self.as_ref())
    }
}

impl ErrorType for Box<dyn std::error::Error + Send + Sync> {
    fn error_type(&self) -> Cow<'static, str> {
        boxed(self.as_ref())
    }
}

/// An I/O error's kind inside a boxed error, else `_OTHER`.
fn boxed(e: &(dyn std::error::Error + 'static)) -> Cow<'static, str> {
    match e.downcast_ref::<std::io::Error>() {
        Some(io) => io_kind(io.kind()),
        None => Cow::Borrowed(OTHER),
    }
}

/// `not_found` for `ErrorKind::NotFound`: the kind's name in snake_case;
/// `_OTHER` for `ErrorKind::Other` and kinds without a stable name.
fn io_kind(kind: std::io::ErrorKind) -> Cow<'static, str> {
    use std::io::ErrorKind as K;
    Cow::Borrowed(match kind {
        K::NotFound => "not_found",
        K::PermissionDenied => "permission_denied",
        K::ConnectionRefused => "connection_refused",
        K::ConnectionReset => "connection_reset",
        K::HostUnreachable => "host_unreachable",
        K::NetworkUnreachable => "network_unreachable",
        K::ConnectionAborted => "connection_aborted",
        K::NotConnected => "not_connected",
        K::AddrInUse => "addr_in_use",
        K::AddrNotAvailable => "addr_not_available",
        K::NetworkDown => "network_down",
        K::BrokenPipe => "broken_pipe",
        K::AlreadyExists => "already_exists",
        K::WouldBlock => "would_block",
        K::NotADirectory => "not_a_directory",
        K::IsADirectory => "is_a_directory",
        K::DirectoryNotEmpty => "directory_not_empty",
        K::ReadOnlyFilesystem => "read_only_filesystem",
        K::StaleNetworkFileHandle => "stale_network_file_handle",
        K::InvalidInput => "invalid_input",
        K::InvalidData => "invalid_data",
        K::TimedOut => "timed_out",
        K::WriteZero => "write_zero",
        K::StorageFull => "storage_full",
        K::NotSeekable => "not_seekable",
        K::FileTooLarge => "file_too_large",
        K::ResourceBusy => "resource_busy",
        K::ExecutableFileBusy => "executable_file_busy",
        K::Deadlock => "deadlock",
        K::CrossesDevices => "crosses_devices",
        K::TooManyLinks => "too_many_links",
        K::InvalidFilename => "invalid_filename",
        K::ArgumentListTooLong => "argument_list_too_long",
        K::Interrupted => "interrupted",
        K::Unsupported => "unsupported",
        K::UnexpectedEof => "unexpected_eof",
        K::OutOfMemory => "out_of_memory",
        _ => OTHER,
    })
}

/// A failed outcome: its `error.type` and its message. Made by the code the
/// macros generate; not a public API.
#[doc(hidden)]
pub struct Failure<'a> {
    /// The value of `error.type`.
    pub error_type: Cow<'static, str>,
    message: Message<'a>,
}

enum Message<'a> {
    Display(&'a dyn fmt::Display),
    Debug(&'a dyn fmt::Debug),
    Text(&'static str),
}

impl Failure<'_> {
    /// The failure of a panic.
    pub fn panic() -> Failure<'static> {
        Failure {
            error_type: Cow::Borrowed("panic"),
            message: Message::Text("panicked"),
        }
    }

    /// The error's message (its `Display`, else its `Debug` text).
    pub fn message(&self) -> String {
        match self.message {
            Message::Display(d) => d.to_string(),
            Message::Debug(d) => format!("{d:?}"),
            Message::Text(t) => t.to_string(),
        }
    }
}

/// Wraps a function's result for outcome inspection:
/// `(&&&Outcome(&result)).semtel_outcome()`. Method resolution tries, in
/// order: an `Err` with [`ErrorType`], with `Display`, with `Debug`, and
/// finally anything (a success).
pub struct Outcome<'a, T>(pub &'a T);

impl<T> Clone for Outcome<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Outcome<'_, T> {}

/// An `Err` whose type implements [`ErrorType`].
pub trait ClassifiedError<'a> {
    /// The failure, if any.
    fn semtel_outcome(&self) -> Option<Failure<'a>>;
}

impl<'a, T, E: ErrorType + fmt::Display> ClassifiedError<'a> for &&Outcome<'a, Result<T, E>> {
    #[inline]
    fn semtel_outcome(&self) -> Option<Failure<'a>> {
        self.0.as_ref().err().map(|e| Failure {
            error_type: e.error_type(),
            message: Message::Display(e),
        })
    }
}

/// An `Err` that can be displayed, without an [`ErrorType`]: `_OTHER`.
pub trait DisplayError<'a> {
    /// The failure, if any.
    fn semtel_outcome(&self) -> Option<Failure<'a>>;
}

impl<'a, T, E: fmt::Display> DisplayError<'a> for &Outcome<'a, Result<T, E>> {
    #[inline]
    fn semtel_outcome(&self) -> Option<Failure<'a>> {
        self.0.as_ref().err().map(|e| Failure {
            error_type: Cow::Borrowed(OTHER),
            message: Message::Display(e),
        })
    }
}

/// An `Err` that can only be debug-printed: `_OTHER`.
pub trait DebugError<'a> {
    /// The failure, if any.
    fn semtel_outcome(&self) -> Option<Failure<'a>>;
}

impl<'a, T, E: fmt::Debug> DebugError<'a> for Outcome<'a, Result<T, E>> {
    #[inline]
    fn semtel_outcome(&self) -> Option<Failure<'a>> {
        self.0.as_ref().err().map(|e| Failure {
            error_type: Cow::Borrowed(OTHER),
            message: Message::Debug(e),
        })
    }
}

/// Any other return value is a success.
pub trait NoError {
    /// Always `None`.
    #[inline]
    fn semtel_outcome(self) -> Option<Failure<'static>>
    where
        Self: Sized,
    {
        None
    }
}

impl<T> NoError for Outcome<'_, T> {}

#[cfg(test)]
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Plain;

    #[derive(Debug)]
    struct Shown;
    impl fmt::Display for Shown {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("shown")
        }
    }

    struct Classified;
    impl fmt::Display for Classified {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("classified")
        }
    }
    impl ErrorType for Classified {
        fn error_type(&self) -> Cow<'static, str> {
            "rate_limited".into()
        }
    }

    #[test]
    fn picks_the_most_specific_outcome() {
        let r: Result<(), Classified> = Err(Classified);
        let f = (&&&Outcome(&r)).semtel_outcome().unwrap();
        assert_eq!(
            (f.error_type.as_ref(), f.message()),
            ("rate_limited", "classified".to_string())
        );
        let r: Result<(), Shown> = Err(Shown);
        let f = (&&&Outcome(&r)).semtel_outcome().unwrap();
        assert_eq!(
            (f.error_type.as_ref(), f.message()),
            ("_OTHER", "shown".into())
        );
        let r: Result<(), Plain> = Err(Plain);
        let f = (&&&Outcome(&r)).semtel_outcome().unwrap();
        assert_eq!(
            (f.error_type.as_ref(), f.message()),
            ("_OTHER", "Plain".into())
        );
        let r: Result<u8, Shown> = Ok(1);
        assert!((&&&Outcome(&r)).semtel_outcome().is_none());
        assert!((&&&Outcome(&5u32)).semtel_outcome().is_none());
    }

    #[test]
    fn io_errors_are_classified_by_kind() {
        use std::io::{Error, ErrorKind};
        let r: Result<(), Error> = Err(Error::new(ErrorKind::NotFound, "no such file"));
        let f = (&&&Outcome(&r)).semtel_outcome().unwrap();
        assert_eq!(
            (f.error_type.as_ref(), f.message()),
            ("not_found", "no such file".into())
        );
        let boxed: Result<(), Box<dyn std::error::Error + Send + Sync>> =
            Err(Error::from(ErrorKind::TimedOut).into());
        let f = (&&&Outcome(&boxed)).semtel_outcome().unwrap();
        assert_eq!(f.error_type, "timed_out");
        let boxed: Result<(), Box<dyn std::error::Error>> = Err("plain text".into());
        let f = (&&&Outcome(&boxed)).semtel_outcome().unwrap();
        assert_eq!(
            (f.error_type.as_ref(), f.message()),
            ("_OTHER", "plain text".into())
        );
        assert_eq!(io_kind(ErrorKind::IsADirectory), "is_a_directory");
        assert_eq!(io_kind(ErrorKind::Other), "_OTHER");
    }
}
