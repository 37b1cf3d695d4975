//! What the code of the attribute macros calls besides the span and metric
//! types: the pass-through switch, per-`Self` call sites for methods, value
//! checks that name the accepted Rust types, and `?` inside a
//! `#[track_caller]` function. Not a public API.

use opentelemetry::KeyValue;
use semtel_conventions::{AnyValue, AttributeEnum, IntoValue, Key};
use std::convert::Infallible;
use std::ops::ControlFlow;
use std::sync::Mutex;
use std::sync::atomic::{AtomicPtr, Ordering};

/// Keeps the instrumented item, or the plain one when the build sets
/// `--cfg semtel_passthrough` (`RUSTFLAGS="--cfg semtel_passthrough"`). A
/// flag of the build rather than a feature: no dependency can switch the
/// instrumentation of other crates off.
#[cfg(not(semtel_passthrough))]
#[doc(hidden)]
#[macro_export]
macro_rules! __semtel_select {
    ({ $($instrumented:tt)* } { $($plain:tt)* }) => { $($instrumented)* };
}

/// Keeps the plain item: the build sets `--cfg semtel_passthrough`.
#[cfg(semtel_passthrough)]
#[doc(hidden)]
#[macro_export]
macro_rules! __semtel_select {
    ({ $($instrumented:tt)* } { $($plain:tt)* }) => { $($plain)* };
}

pub use crate::__semtel_select as select;

// ---- methods: one call site per `Self` type ----

struct Entry<T> {
    type_name: &'static str,
    value: T,
}

/// A call site's value (its span site, its metered site) per `Self` type,
/// for a method whose type the macro cannot see: `Git::call` and `Http::call`
/// get their own. One atomic load when the type is the last one seen.
pub struct PerSelf<T: 'static> {
    method: &'static str,
    make: fn(&'static str) -> T,
    last: AtomicPtr<Entry<T>>,
    all: Mutex<Vec<&'static Entry<T>>>,
}

impl<T: 'static> PerSelf<T> {
    /// The site of `method`, whose value for a qualified name `make` builds.
    pub const fn new(method: &'static str, make: fn(&'static str) -> T) -> Self {
        PerSelf {
            method,
            make,
            last: AtomicPtr::new(std::ptr::null_mut()),
            all: Mutex::new(Vec::new()),
        }
    }

    /// The value for the type named `type_name` (`std::any::type_name::<Self>()`).
    #[inline]
    pub fn get(&'static self, type_name: &'static str) -> &'static T {
        let last = self.last.load(Ordering::Acquire);
        // SAFETY: `last` is null or an entry leaked by `slow`, never freed.
        if let Some(e) = unsafe { last.as_ref() } {
            if e.type_name == type_name {
                return &e.value;
            }
        }
        self.slow(type_name)
    }

    #[cold]
    fn slow(&'static self, type_name: &'static str) -> &'static T {
        let mut all = self.all.lock().unwrap_or_else(|p| p.into_inner());
        let entry = match all.iter().find(|e| e.type_name == type_name) {
            Some(e) => *e,
            None => {
                let name = format!("{}::{}", short_type_name(type_name), self.method);
                let value = (self.make)(Box::leak(name.into_boxed_str()));
                // One per type and site: bounded by the program's types.
                let e: &'static Entry<T> = Box::leak(Box::new(Entry { type_name, value }));
                all.push(e);
                e
            }
        };
        self.last
            .store(std::ptr::from_ref(entry).cast_mut(), Ordering::Release);
        &entry.value
    }
}

/// `Git` of `my_crate::git::Git<alloc::string::String>` (and of `&Git`, `dyn Git`).
pub fn short_type_name(full: &str) -> &str {
    let t = full.trim_start_matches('&').trim_start_matches("mut ");
    let t = t.strip_prefix("dyn ").unwrap_or(t);
    let t = t.split('<').next().unwrap_or(t);
    t.rsplit("::").next().unwrap_or(t)
}

// ---- attribute values: one trait per schema type ----
//
// The macros pass each `attrs(...)` value through the function of its
// attribute's type; the trait bound's message says which Rust types fit.

macro_rules! value_kind {
    ($(#[$doc:meta])* $trait:ident, $key:ty, $message:literal, $label:literal) => {
        $(#[$doc])*
        #[diagnostic::on_unimplemented(
            message = $message,
            label = $label,
            note = "the attribute's type comes from its definition in the schema"
        )]
        pub trait $trait: IntoValue<$key> + Clone {}

        #[diagnostic::do_not_recommend]
        impl<V: IntoValue<$key> + Clone> $trait for V {}
    };
}

value_kind!(
    /// A value of a `string` attribute.
    StringValue, str,
    "`{Self}` is not a string",
    "expected a string (&str, String, &String, Cow<'static, str>, Arc<str>)"
);
value_kind!(
    /// A value of an `int` attribute.
    IntValue, i64,
    "`{Self}` is not an integer",
    "expected an integer (i64, i32, i16, i8, u32, u16, u8; u64, usize, isize saturate)"
);
value_kind!(
    /// A value of a `double` attribute.
    DoubleValue, f64,
    "`{Self}` is not a floating-point number",
    "expected a floating-point number (f64, f32)"
);
value_kind!(
    /// A value of a `boolean` attribute.
    BoolValue, bool,
    "`{Self}` is not a bool",
    "expected a bool"
);
value_kind!(
    /// A value of a `string[]` attribute.
    StringsValue, [String],
    "`{Self}` is not a list of strings",
    "expected a list of strings (Vec<S>, &[S], [S; N] with S: AsRef<str>)"
);
value_kind!(
    /// A value of an `int[]` attribute.
    IntsValue, [i64],
    "`{Self}` is not a list of i64",
    "expected a list of i64 (Vec<i64>, &[i64], [i64; N])"
);
value_kind!(
    /// A value of a `double[]` attribute.
    DoublesValue, [f64],
    "`{Self}` is not a list of f64",
    "expected a list of f64 (Vec<f64>, &[f64], [f64; N])"
);
value_kind!(
    /// A value of a `boolean[]` attribute.
    BoolsValue, [bool],
    "`{Self}` is not a list of bool",
    "expected a list of bool (Vec<bool>, &[bool], [bool; N])"
);
value_kind!(
    /// A value of an `any` attribute.
    AnyAttrValue, AnyValue,
    "`{Self}` is not a string, number, bool or OpenTelemetry value",
    "expected &'static str, String, i64, f64, bool or opentelemetry::Value"
);

// Written out rather than generated, so that the compiler's "required by a
// bound" note shows one plain line.

/// A `string` attribute's pair.
pub fn string_value<V: StringValue>(key: Key<str>, value: &V) -> KeyValue {
    key.value_ref(value)
}

/// An `int` attribute's pair.
pub fn int_value<V: IntValue>(key: Key<i64>, value: &V) -> KeyValue {
    key.value_ref(value)
}

/// A `double` attribute's pair.
pub fn double_value<V: DoubleValue>(key: Key<f64>, value: &V) -> KeyValue {
    key.value_ref(value)
}

/// A `boolean` attribute's pair.
pub fn bool_value<V: BoolValue>(key: Key<bool>, value: &V) -> KeyValue {
    key.value_ref(value)
}

/// A `string[]` attribute's pair.
pub fn strings_value<V: StringsValue>(key: Key<[String]>, value: &V) -> KeyValue {
    key.value_ref(value)
}

/// An `int[]` attribute's pair.
pub fn ints_value<V: IntsValue>(key: Key<[i64]>, value: &V) -> KeyValue {
    key.value_ref(value)
}

/// A `double[]` attribute's pair.
pub fn doubles_value<V: DoublesValue>(key: Key<[f64]>, value: &V) -> KeyValue {
    key.value_ref(value)
}

/// A `boolean[]` attribute's pair.
pub fn bools_value<V: BoolsValue>(key: Key<[bool]>, value: &V) -> KeyValue {
    key.value_ref(value)
}

/// An `any` attribute's pair.
pub fn any_value<V: AnyAttrValue>(key: Key<AnyValue>, value: &V) -> KeyValue {
    key.value_ref(value)
}

/// A value of an enum attribute.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value of `{E}`",
    label = "expected `{E}`, or a string literal naming one of its values",
    note = "the attribute's values come from its definition in the schema"
)]
pub trait EnumValue<E>: IntoValue<E> + Clone {}

#[diagnostic::do_not_recommend]
impl<E, V: IntoValue<E> + Clone> EnumValue<E> for V {}

/// An enum attribute's pair.
pub fn enum_value<E: AttributeEnum, V: EnumValue<E>>(key: Key<E>, value: &V) -> KeyValue {
    key.value_ref(value)
}

// ---- `?` in a `#[track_caller]` function, whose body runs inline ----

/// The `?` operator's split of a value into what continues and what returns.
pub trait Try {
    /// What `x?` evaluates to.
    type Output;
    /// What leaves the function.
    type Residual;
    /// Continue with the output, or break with the residual.
    fn branch(self) -> ControlFlow<Self::Residual, Self::Output>;
}

impl<T, E> Try for Result<T, E> {
    type Output = T;
    type Residual = Result<Infallible, E>;

    #[inline]
    fn branch(self) -> ControlFlow<Self::Residual, T> {
        match self {
            Ok(v) => ControlFlow::Continue(v),
            Err(e) => ControlFlow::Break(Err(e)),
        }
    }
}

impl<T> Try for Option<T> {
    type Output = T;
    type Residual = Option<Infallible>;

    #[inline]
    fn branch(self) -> ControlFlow<Self::Residual, T> {
        match self {
            Some(v) => ControlFlow::Continue(v),
            None => ControlFlow::Break(None),
        }
    }
}

/// The function's result made from a residual, as `?` does (`From` on errors).
pub trait FromResidual<R> {
    /// The result `?` returns.
    fn from_residual(residual: R) -> Self;
}

impl<T, E, F: From<E>> FromResidual<Result<Infallible, E>> for Result<T, F> {
    #[inline]
    fn from_residual(residual: Result<Infallible, E>) -> Self {
        match residual {
            Err(e) => Err(F::from(e)),
        }
    }
}

impl<T> FromResidual<Option<Infallible>> for Option<T> {
    #[inline]
    fn from_residual(_: Option<Infallible>) -> Self {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_type_names() {
        assert_eq!(short_type_name("my_crate::git::Git"), "Git");
        assert_eq!(short_type_name("a::Http<alloc::string::String>"), "Http");
        assert_eq!(short_type_name("&a::b::Shared"), "Shared");
        assert_eq!(short_type_name("dyn a::Tool"), "Tool");
        assert_eq!(short_type_name("Local"), "Local");
    }

    #[test]
    fn one_site_per_type_and_the_same_site_again() {
        static SITE: PerSelf<&'static str> = PerSelf::new("call", |name| name);
        let git = SITE.get("x::Git");
        let http = SITE.get("y::Http<u8>");
        assert_eq!((*git, *http), ("Git::call", "Http::call"));
        assert!(std::ptr::eq(SITE.get("x::Git"), git));
        assert!(std::ptr::eq(SITE.get("y::Http<u8>"), http));
        assert_eq!(SITE.all.lock().unwrap().len(), 2);
    }
}
