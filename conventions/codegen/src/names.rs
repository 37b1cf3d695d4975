//! Name handling: valid ids, Rust identifiers, and "did you mean" suggestions.

/// Whether `id` is a valid attribute id: dot-separated segments of lowercase
/// letters, digits and `_`, each starting with a letter.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.split('.').all(|seg| {
            let mut chars = seg.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
                && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

pub use semtel_yaml::suggest::{Suggester, closest, did_you_mean, distance};

const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// A snake_case module name for an id segment (raw identifier for keywords).
pub fn module_ident(seg: &str) -> String {
    match seg {
        "self" | "super" | "crate" | "Self" => format!("{seg}_"),
        _ if KEYWORDS.contains(&seg) => format!("r#{seg}"),
        _ => seg.to_string(),
    }
}

/// An UPPER_SNAKE constant name for an id segment.
pub fn const_ident(seg: &str) -> String {
    let s = seg.to_ascii_uppercase();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{s}")
    } else {
        s
    }
}

/// An UpperCamelCase type or variant name for an id (any of `._-` split words).
pub fn camel_ident(id: &str) -> String {
    let mut out = String::new();
    for word in id.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    if out == "Self" {
        out.push('_');
    }
    out
}

/// The Rust variant names of an enum's members, in member order, made unique.
/// Live members are named first, so a deprecated member whose name collides
/// with a live one (`azure_vm` beside `azure.vm`) gets the suffix.
/// `Custom` is reserved for values the schema does not list.
pub fn variant_names(e: &crate::model::Enum) -> Vec<String> {
    use std::collections::{HashMap, HashSet};
    let mut out = vec![String::new(); e.members.len()];
    let mut seen: HashSet<String> = HashSet::from(["Custom".to_string()]);
    // The suffix each base name (live or deprecated) got last: every smaller
    // one is taken, so many members of one name are numbered in linear time.
    let mut last: HashMap<(String, bool), usize> = HashMap::new();
    let live = (0..e.members.len()).filter(|&i| e.members[i].deprecated.is_none());
    let old = (0..e.members.len()).filter(|&i| e.members[i].deprecated.is_some());
    for i in live.chain(old) {
        let deprecated = e.members[i].deprecated.is_some();
        let base = camel_ident(&e.members[i].id);
        let name = |n: usize| match n {
            1 => base.clone(),
            2 if deprecated => format!("{base}Deprecated"),
            n => format!("{base}{n}"),
        };
        let n = last.entry((base.clone(), deprecated)).or_insert(1);
        let mut v = name(*n);
        while seen.contains(&v) {
            *n += 1;
            v = name(*n);
        }
        seen.insert(v.clone());
        out[i] = v;
    }
    out
}

/// The Rust path segments, below the conventions module, of an attribute's key:
/// `gen_ai.agent.name` is `gen_ai::agent::NAME`.
pub fn attribute_path(id: &str) -> Vec<String> {
    dotted_path(id)
}

/// The Rust path segments of a metric definition, below the conventions module:
/// `gen_ai.client.token.usage` is `metrics::gen_ai::client::token::USAGE`.
pub fn metric_path(name: &str) -> Vec<String> {
    let mut p = vec!["metrics".to_string()];
    p.extend(dotted_path(name));
    p
}

/// The Rust path segments of a span definition, below the conventions module:
/// `gen_ai.invoke_agent` is `spans::gen_ai::INVOKE_AGENT`.
pub fn span_path(id: &str) -> Vec<String> {
    let mut p = vec!["spans".to_string()];
    p.extend(dotted_path(id));
    p
}

/// The name of the Rust enum generated for an enum attribute (`Value` is
/// appended where the name would hide a prelude type, as `result` would).
pub fn enum_name(id: &str) -> String {
    let name = camel_ident(id);
    match name.as_str() {
        "Result" | "Option" | "String" | "Vec" | "Box" | "Some" | "None" | "Ok" | "Err" => {
            format!("{name}Value")
        }
        _ => name,
    }
}

fn dotted_path(id: &str) -> Vec<String> {
    let segs: Vec<&str> = id.split('.').collect();
    let (last, modules) = segs.split_last().unwrap_or((&"", &[]));
    let mut out: Vec<String> = modules.iter().map(|s| module_ident(s)).collect();
    out.push(const_ident(last));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ids() {
        assert!(is_valid_id("gen_ai.agent.name"));
        assert!(is_valid_id("http.response.status_code"));
        assert!(!is_valid_id("Gen_ai.agent"));
        assert!(!is_valid_id("gen_ai..name"));
        assert!(!is_valid_id("gen-ai.name"));
        assert!(!is_valid_id("1abc"));
        assert!(!is_valid_id(""));
    }

    #[test]
    fn variant_names_are_unique_and_stable() {
        use crate::model::{Deprecation, Enum, Member, MemberValue, Scalar};
        let member = |id: &str, deprecated: bool| Member {
            id: id.to_string(),
            value: MemberValue::Str(id.to_string()),
            brief: String::new(),
            note: String::new(),
            stability: String::new(),
            deprecated: deprecated.then(|| Deprecation::Obsoleted {
                note: String::new(),
            }),
        };
        let e = Enum {
            value_type: Scalar::String,
            members: vec![
                member("azure_vm", true),
                member("azure.vm", false),
                member("a2", false),
                member("a", false),
                member("a_", false),
                member("custom", false),
                member("azure-vm", true),
            ],
        };
        assert_eq!(
            variant_names(&e),
            [
                "AzureVmDeprecated",
                "AzureVm",
                "A2",
                "A",
                "A3",
                "Custom2",
                "AzureVm3"
            ]
        );
        // Thousands of members of one name are numbered in linear time.
        let many = Enum {
            value_type: Scalar::String,
            members: (0..3000).map(|i| member(&"_".repeat(i), false)).collect(),
        };
        let names = variant_names(&many);
        assert_eq!((names[0].as_str(), names[2999].as_str()), ("V", "V3000"));
    }

    #[test]
    fn idents() {
        assert_eq!(module_ident("type"), "r#type");
        assert_eq!(module_ident("self"), "self_");
        assert_eq!(const_ident("name"), "NAME");
        assert_eq!(const_ident("1xx"), "_1XX");
        assert_eq!(camel_ident("invoke_agent"), "InvokeAgent");
        assert_eq!(camel_ident("gcp.gen_ai"), "GcpGenAi");
        assert_eq!(camel_ident("2xx"), "V2xx");
    }
}
