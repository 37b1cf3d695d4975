//! How a function ended, as telemetry sees it: success, or a failure with an
//! `error.type` and a message. Chosen at compile time by auto-ref, so any
//! return type works and only `Result`s are inspected.

use std::borrow::Cow;
use std::fmt;

/// The low-cardinality class of an error, for the `error.type` attribute.
///
/// Implement it (or derive it on an enum: each variant's name in snake_case)
/// to report per-variant error types; without it, semtel uses the error's
/// type name.
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

/// A failed outcome: its `error.type` and its message.
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

/// An `Err` that can be displayed: its type name is the `error.type`.
pub trait DisplayError<'a> {
    /// The failure, if any.
    fn semtel_outcome(&self) -> Option<Failure<'a>>;
}

impl<'a, T, E: fmt::Display> DisplayError<'a> for &Outcome<'a, Result<T, E>> {
    #[inline]
    fn semtel_outcome(&self) -> Option<Failure<'a>> {
        self.0.as_ref().err().map(|e| Failure {
            error_type: Cow::Borrowed(std::any::type_name::<E>()),
            message: Message::Display(e),
        })
    }
}

/// An `Err` that can only be debug-printed.
pub trait DebugError<'a> {
    /// The failure, if any.
    fn semtel_outcome(&self) -> Option<Failure<'a>>;
}

impl<'a, T, E: fmt::Debug> DebugError<'a> for Outcome<'a, Result<T, E>> {
    #[inline]
    fn semtel_outcome(&self) -> Option<Failure<'a>> {
        self.0.as_ref().err().map(|e| Failure {
            error_type: Cow::Borrowed(std::any::type_name::<E>()),
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
        assert!(f.error_type.ends_with("Shown"));
        assert_eq!(f.message(), "shown");
        let r: Result<(), Plain> = Err(Plain);
        assert_eq!(
            (&&&Outcome(&r)).semtel_outcome().unwrap().message(),
            "Plain"
        );
        let r: Result<u8, Shown> = Ok(1);
        assert!((&&&Outcome(&r)).semtel_outcome().is_none());
        assert!((&&&Outcome(&5u32)).semtel_outcome().is_none());
    }
}
