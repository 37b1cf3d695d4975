//! The schema the macros check against: the bundled conventions, plus the
//! calling crate's own when its build script generated them (found through
//! `OUT_DIR`). Loaded once per compiler process and shared.

use crate::attr::{At, respan};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use semtel_codegen::model::{Attribute, Metric, Registry};
use semtel_codegen::names;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// A resolved schema and where its generated items live.
pub struct Schema {
    pub registry: Registry,
    /// The path of the crate's own generated module, if it has one.
    user_module: Option<String>,
}

impl Schema {
    /// A schema of the bundled conventions' kind (no module of the crate's own).
    #[cfg(test)]
    pub fn of(registry: Registry) -> Schema {
        Schema {
            registry,
            user_module: None,
        }
    }

    /// The Rust path (spanned at `span`) of the module holding `imported` or
    /// local items; `krate` is the path of the semtel crate.
    pub fn root(&self, imported: bool, krate: &TokenStream, span: Span) -> TokenStream {
        match (&self.user_module, imported) {
            (Some(m), false) => {
                let path: syn::Path =
                    syn::parse_str(m).unwrap_or_else(|_| syn::parse_quote!(crate::semconv));
                respan(path.to_token_stream(), span)
            }
            _ => respan(quote!(#krate::conventions), span),
        }
    }

    /// `root::seg::...::last`, the root and inner segments at `at.first`,
    /// the last one at `at.last`.
    fn path(&self, imported: bool, krate: &TokenStream, segs: &[String], at: At) -> TokenStream {
        let mut ts = self.root(imported, krate, at.first);
        for (i, seg) in segs.iter().enumerate() {
            let span = if i + 1 == segs.len() {
                at.last
            } else {
                at.first
            };
            let ident = ident(seg, span);
            ts.extend(quote_spanned!(at.first=> ::));
            ts.extend(quote!(#ident));
        }
        ts
    }

    /// The path of an attribute's key constant.
    pub fn attribute_path(&self, a: &Attribute, krate: &TokenStream, at: At) -> TokenStream {
        self.path(a.imported, krate, &names::attribute_path(&a.id), at)
    }

    /// The path of a metric definition's constant.
    pub fn metric_path(&self, m: &Metric, krate: &TokenStream, at: At) -> TokenStream {
        self.path(m.imported, krate, &names::metric_path(&m.name), at)
    }

    /// The path of an enum attribute's generated type.
    pub fn enum_path(&self, a: &Attribute, krate: &TokenStream, at: At) -> TokenStream {
        let mut segs = names::attribute_path(&a.id);
        segs.pop();
        segs.push(names::enum_name(&a.id));
        self.path(a.imported, krate, &segs, at)
    }
}

/// An identifier that may be a raw identifier (`r#type`).
pub fn ident(s: &str, span: Span) -> syn::Ident {
    match s.strip_prefix("r#") {
        Some(raw) => syn::Ident::new_raw(raw, span),
        None => syn::Ident::new(s, span),
    }
}

static CACHE: OnceLock<Mutex<HashMap<String, &'static Schema>>> = OnceLock::new();

/// The schema for the crate being compiled.
pub fn current() -> Result<&'static Schema, String> {
    let manifest = std::env::var_os("OUT_DIR")
        .map(|d| std::path::Path::new(&d).join(semtel_codegen::MANIFEST_FILE))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut cache = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(s) = cache.get(&manifest) {
        return Ok(s);
    }
    let schema = if manifest.is_empty() {
        Schema {
            registry: semtel_codegen::bundled().map_err(|e| e.to_string())?,
            user_module: None,
        }
    } else {
        let user = semtel_codegen::load_manifest(&manifest).map_err(|e| e.to_string())?;
        Schema {
            registry: user.registry,
            user_module: Some(user.module),
        }
    };
    let leaked: &'static Schema = Box::leak(Box::new(schema));
    cache.insert(manifest, leaked);
    Ok(leaked)
}
