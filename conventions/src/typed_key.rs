//! Attribute keys whose value type is part of the key's type.

use opentelemetry::{Array, Key as OtelKey, KeyValue, StringValue, Value};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// An attribute key that only accepts values of type `T`.
///
/// `T` is `str`, `i64`, `f64`, `bool`, an array of one (`[String]`, `[i64]`, ...)
/// or a generated enum. A value of another type does not compile.
///
/// ```
/// use semtel_conventions::{Key, IntoValue};
/// const TOKENS: Key<i64> = Key::new("gen_ai.usage.input_tokens");
/// let kv = TOKENS.value(42u32);
/// assert_eq!(kv.key.as_str(), "gen_ai.usage.input_tokens");
/// ```
pub struct Key<T: ?Sized> {
    name: &'static str,
    _type: PhantomData<fn(&T)>,
}

impl<T: ?Sized> Key<T> {
    /// A key named `name`.
    pub const fn new(name: &'static str) -> Self {
        Key {
            name,
            _type: PhantomData,
        }
    }

    /// The attribute's name as sent on the wire.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The key-value pair for `value`.
    pub fn value<V: IntoValue<T>>(self, value: V) -> KeyValue {
        KeyValue::new(OtelKey::from_static_str(self.name), value.into_value())
    }

    /// The key-value pair for a borrowed value (cloned), so that recording an
    /// attribute never moves the caller's value.
    pub fn value_ref<V: IntoValue<T> + Clone>(self, value: &V) -> KeyValue {
        self.value(value.clone())
    }
}

impl Key<str> {
    /// The key-value pair for a string that lives for the whole program (no allocation).
    pub fn value_static(self, value: &'static str) -> KeyValue {
        KeyValue::new(OtelKey::from_static_str(self.name), value)
    }
}

impl<T: ?Sized> Clone for Key<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Key<T> {}

impl<T: ?Sized> fmt::Debug for Key<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", self.name)
    }
}

/// A template attribute (`template[...]` in the schema): a key prefix that is
/// completed with a suffix at run time, such as `http.request.header.<name>`.
pub struct TemplateKey<T: ?Sized> {
    prefix: &'static str,
    _type: PhantomData<fn(&T)>,
}

impl<T: ?Sized> TemplateKey<T> {
    /// A template with `prefix` (without the trailing dot).
    pub const fn new(prefix: &'static str) -> Self {
        TemplateKey {
            prefix,
            _type: PhantomData,
        }
    }

    /// The prefix.
    pub const fn prefix(&self) -> &'static str {
        self.prefix
    }

    /// The key-value pair for `<prefix>.<suffix>` = `value`.
    pub fn value<V: IntoValue<T>>(&self, suffix: &str, value: V) -> KeyValue {
        KeyValue::new(format!("{}.{suffix}", self.prefix), value.into_value())
    }
}

impl<T: ?Sized> Clone for TemplateKey<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for TemplateKey<T> {}

impl<T: ?Sized> fmt::Debug for TemplateKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TemplateKey({}.*)", self.prefix)
    }
}

/// The value type of `any` attributes: a string, number, boolean or array.
#[derive(Debug)]
pub enum AnyValue {}

impl IntoValue<AnyValue> for &'static str {
    fn into_value(self) -> Value {
        Value::from(self)
    }
}

impl IntoValue<AnyValue> for String {
    fn into_value(self) -> Value {
        Value::from(self)
    }
}

impl IntoValue<AnyValue> for i64 {
    fn into_value(self) -> Value {
        Value::I64(self)
    }
}

impl IntoValue<AnyValue> for f64 {
    fn into_value(self) -> Value {
        Value::F64(self)
    }
}

impl IntoValue<AnyValue> for bool {
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

impl IntoValue<AnyValue> for Value {
    fn into_value(self) -> Value {
        self
    }
}

/// A generated enum whose variants carry their wire values.
pub trait AttributeEnum: Copy {
    /// The wire value.
    fn to_value(self) -> Value;
}

/// Conversion of a Rust value into the value of a `T`-typed attribute.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the value of a `{T}` attribute",
    label = "expected a value of the attribute's type `{T}`",
    note = "the attribute's type comes from its schema definition"
)]
pub trait IntoValue<T: ?Sized> {
    /// The OpenTelemetry value.
    fn into_value(self) -> Value;
}

impl<E: AttributeEnum> IntoValue<E> for E {
    fn into_value(self) -> Value {
        self.to_value()
    }
}

impl IntoValue<str> for &str {
    fn into_value(self) -> Value {
        Value::String(StringValue::from(self.to_owned()))
    }
}

impl IntoValue<str> for String {
    fn into_value(self) -> Value {
        Value::String(StringValue::from(self))
    }
}

impl IntoValue<str> for &String {
    fn into_value(self) -> Value {
        Value::String(StringValue::from(self.clone()))
    }
}

impl IntoValue<str> for Cow<'static, str> {
    fn into_value(self) -> Value {
        Value::String(StringValue::from(self))
    }
}

impl IntoValue<str> for Arc<str> {
    fn into_value(self) -> Value {
        Value::String(StringValue::from(self))
    }
}

macro_rules! lossless_int {
    ($($t:ty),*) => {$(
        impl IntoValue<i64> for $t {
            fn into_value(self) -> Value {
                Value::I64(i64::from(self))
            }
        }
    )*};
}
lossless_int!(i64, i32, i16, i8, u32, u16, u8);

macro_rules! saturating_int {
    ($($t:ty),*) => {$(
        /// Values above `i64::MAX` saturate.
        impl IntoValue<i64> for $t {
            fn into_value(self) -> Value {
                Value::I64(i64::try_from(self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
saturating_int!(u64, usize, isize);

impl IntoValue<f64> for f64 {
    fn into_value(self) -> Value {
        Value::F64(self)
    }
}

impl IntoValue<f64> for f32 {
    fn into_value(self) -> Value {
        Value::F64(f64::from(self))
    }
}

impl IntoValue<bool> for bool {
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

fn strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Value {
    Value::Array(Array::String(
        items
            .into_iter()
            .map(|s| StringValue::from(s.as_ref().to_owned()))
            .collect(),
    ))
}

impl<S: AsRef<str>> IntoValue<[String]> for Vec<S> {
    fn into_value(self) -> Value {
        strings(self)
    }
}

impl<S: AsRef<str>> IntoValue<[String]> for &[S] {
    fn into_value(self) -> Value {
        strings(self)
    }
}

impl<S: AsRef<str>, const N: usize> IntoValue<[String]> for [S; N] {
    fn into_value(self) -> Value {
        strings(self)
    }
}

macro_rules! scalar_array {
    ($elem:ty, $variant:ident) => {
        impl IntoValue<[$elem]> for Vec<$elem> {
            fn into_value(self) -> Value {
                Value::Array(Array::$variant(self))
            }
        }

        impl IntoValue<[$elem]> for &[$elem] {
            fn into_value(self) -> Value {
                Value::Array(Array::$variant(self.to_vec()))
            }
        }

        impl<const N: usize> IntoValue<[$elem]> for [$elem; N] {
            fn into_value(self) -> Value {
                Value::Array(Array::$variant(self.to_vec()))
            }
        }
    };
}
scalar_array!(i64, I64);
scalar_array!(f64, F64);
scalar_array!(bool, Bool);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_convert() {
        const S: Key<str> = Key::new("s");
        const I: Key<i64> = Key::new("i");
        const A: Key<[String]> = Key::new("a");
        assert_eq!(S.value("x").value, Value::from("x"));
        assert_eq!(I.value(u64::MAX).value, Value::I64(i64::MAX));
        assert_eq!(A.value(["a", "b"]).value.as_str(), r#"["a","b"]"#);
        let t: TemplateKey<str> = TemplateKey::new("http.request.header");
        assert_eq!(
            t.value("x-id", "1").key.as_str(),
            "http.request.header.x-id"
        );
    }
}
