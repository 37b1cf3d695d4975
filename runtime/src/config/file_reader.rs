//! Typed reading of the config file's YAML. A value of the wrong type or out
//! of range is an error naming file, line and column; a key the format does
//! not have is a warning naming the likely intended key, and is ignored.

use semtel_yaml::suggest::Suggester;
use semtel_yaml::{Diagnostic, Location, Node, Value};
use std::time::Duration;

/// The problems found while reading one file.
#[derive(Default)]
pub(super) struct Reader {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    suggest: Suggester,
}

/// A name as messages show it.
fn shown(s: &str) -> String {
    super::shown(s)
}

/// `a, b or c`.
fn one_of(names: &[&str]) -> String {
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

impl Reader {
    pub fn err(&mut self, loc: &Location, msg: impl Into<String>) {
        self.errors.push(Diagnostic::new(loc.clone(), msg));
    }

    /// `; did you mean `x`?` when one of `names` is close to `given`.
    fn hint(&mut self, given: &str, names: &[&str]) -> String {
        self.suggest.did_you_mean(given, names.iter().copied())
    }

    /// The entries of `n`, a mapping (nothing counts as empty) whose keys
    /// should be among `known`: each other key is warned about and ignored.
    /// `what` names the mapping in messages.
    pub fn mapping<'a>(
        &mut self,
        n: &'a Node,
        what: &str,
        known: &[&str],
    ) -> Option<&'a [(Node, Node)]> {
        let entries = match &n.value {
            Value::Map(m) => m.as_slice(),
            Value::Null => &[],
            _ => {
                self.err(
                    &n.loc,
                    format!("{what} must be a mapping, found {}", n.kind()),
                );
                return None;
            }
        };
        for (k, _) in entries {
            let name = k.scalar_text().unwrap_or_default();
            if !known.contains(&name.as_str()) {
                let hint = self.hint(&name, known);
                self.warnings.push(Diagnostic::new(
                    k.loc.clone(),
                    format!(
                        "unknown key `{}` in {what}{hint} (it is ignored; known keys: {})",
                        shown(&name),
                        known.join(", ")
                    ),
                ));
            }
        }
        Some(entries)
    }

    /// The mapping under `key` of `parent`, checked as [`Reader::mapping`].
    pub fn section<'a>(&mut self, parent: &'a Node, key: &str, known: &[&str]) -> Option<&'a Node> {
        let n = parent.get(key)?;
        self.mapping(n, &format!("`{key}`"), known).map(|_| n)
    }

    /// The items of the list under `key` (none when absent or empty).
    pub fn list<'a>(&mut self, parent: &'a Node, key: &str) -> &'a [Node] {
        match parent.get(key) {
            None => &[],
            Some(n) => match &n.value {
                Value::Seq(items) => items,
                Value::Null => &[],
                _ => {
                    self.err(
                        &n.loc,
                        format!("`{key}` must be a list, found {}", n.kind()),
                    );
                    &[]
                }
            },
        }
    }

    /// A mapping with exactly one key, which names one of `kinds`
    /// (`{otlp_http: {...}}`): the kind and its body. `what` names the choice.
    pub fn choice<'a>(
        &mut self,
        n: &'a Node,
        what: &str,
        kinds: &[&str],
    ) -> Option<(&'a str, &'a Node)> {
        let Some([(k, body)]) = n.as_map() else {
            self.err(
                &n.loc,
                format!(
                    "{what} must be a mapping with exactly one key ({}), found {}",
                    one_of(kinds),
                    match n.as_map() {
                        Some(m) => format!("{} keys", m.len()),
                        None => n.kind().to_string(),
                    }
                ),
            );
            return None;
        };
        let kind = k.as_str().unwrap_or_default();
        if !kinds.contains(&kind) {
            let hint = self.hint(kind, kinds);
            self.err(
                &n.loc,
                format!(
                    "unknown {what} `{}`{hint}; expected {}",
                    shown(kind),
                    one_of(kinds)
                ),
            );
            return None;
        }
        Some((kind, body))
    }

    /// The integer under `key`, from `min` to `max`.
    pub fn int(&mut self, n: &Node, key: &str, min: i64, max: i64) -> Option<i64> {
        let v = n.get(key)?;
        match v.value {
            Value::Int(i) if (min..=max).contains(&i) => Some(i),
            _ => {
                let found = match &v.value {
                    Value::Int(i) => i.to_string(),
                    Value::Float(f) => f.to_string(),
                    _ => v.kind().to_string(),
                };
                let range = if max == i64::MAX {
                    format!("at least {min}")
                } else {
                    format!("from {min} to {max}")
                };
                self.err(
                    &v.loc,
                    format!("`{key}` must be a whole number {range}, found {found}"),
                );
                None
            }
        }
    }

    /// A count (a whole number from `min` to `max`) under `key`.
    pub fn count(&mut self, n: &Node, key: &str, min: usize, max: usize) -> Option<usize> {
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        let min = i64::try_from(min).unwrap_or(i64::MAX);
        self.int(n, key, min, max)
            .and_then(|v| usize::try_from(v).ok())
    }

    /// Milliseconds (at least `min`) under `key`.
    pub fn millis(&mut self, n: &Node, key: &str, min: u64) -> Option<Duration> {
        let min = i64::try_from(min).unwrap_or(i64::MAX);
        self.int(n, key, min, i64::MAX)
            .map(|ms| Duration::from_millis(ms.unsigned_abs()))
    }

    /// Text (a number is taken as written) under `key`.
    pub fn text(&mut self, n: &Node, key: &str) -> Option<String> {
        let v = n.get(key)?;
        let t = v.scalar_text();
        if t.is_none() {
            self.err(&v.loc, format!("`{key}` must be text, found {}", v.kind()));
        }
        t
    }

    /// `true` or `false` under `key`.
    pub fn bool(&mut self, n: &Node, key: &str) -> Option<bool> {
        let v = n.get(key)?;
        match v.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.err(
                    &v.loc,
                    format!("`{key}` must be true or false, found {}", v.kind()),
                );
                None
            }
        }
    }

    /// A number from 0 to 1 under `key`.
    pub fn ratio(&mut self, n: &Node, key: &str) -> Option<f64> {
        let v = n.get(key)?;
        match v.value {
            Value::Float(f) if (0.0..=1.0).contains(&f) => Some(f),
            Value::Int(i) if (0..=1).contains(&i) => Some(i as f64),
            _ => {
                self.err(&v.loc, format!("`{key}` must be a number from 0 to 1"));
                None
            }
        }
    }

    /// `name: ..., value: ...` pairs (resource attributes, headers) of the
    /// list under `key`.
    pub fn pairs(&mut self, n: &Node, key: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for item in self.list(n, key) {
            if self
                .mapping(item, &format!("an entry of `{key}`"), &["name", "value"])
                .is_none()
            {
                continue;
            }
            match (self.text(item, "name"), self.text(item, "value")) {
                (Some(k), Some(v)) => out.push((k, v)),
                (None, _) if item.get("name").is_none() => self.err(&item.loc, "missing `name`"),
                (_, None) if item.get("value").is_none() => self.err(&item.loc, "missing `value`"),
                _ => {}
            }
        }
        out
    }
}
