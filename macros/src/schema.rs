//! The schema the macros check against: the bundled conventions, plus the
//! calling crate's own when its build script generated them (found through
//! `OUT_DIR`). Loaded once per compiler process and shared.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
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
    /// The Rust path (spanned at `span`) of the module holding `imported` or local items.
    pub fn root(&self, imported: bool, span: Span) -> TokenStream {
        match (&self.user_module, imported) {
            (Some(m), false) => {
                let path: syn::Path =
                    syn::parse_str(m).unwrap_or_else(|_| syn::parse_quote!(crate::semconv));
                let mut ts = TokenStream::new();
                for (i, seg) in path.segments.iter().enumerate() {
                    let ident = syn::Ident::new(&seg.ident.to_string(), span);
                    if i == 0 && path.leading_colon.is_none() {
                        ts.extend(quote_spanned!(span=> #ident));
                    } else {
                        ts.extend(quote_spanned!(span=> :: #ident));
                    }
                }
                ts
            }
            _ => quote_spanned!(span=> ::semtel::conventions),
        }
    }

    /// The path of an attribute's key constant.
    pub fn attribute_path(&self, a: &Attribute, span: Span) -> TokenStream {
        let mut ts = self.root(a.imported, span);
        for seg in names::attribute_path(&a.id) {
            let ident = ident(&seg, span);
            ts.extend(quote_spanned!(span=> :: #ident));
        }
        ts
    }

    /// The path of a metric definition's constant.
    pub fn metric_path(&self, m: &Metric, span: Span) -> TokenStream {
        let mut ts = self.root(m.imported, span);
        for seg in names::metric_path(&m.name) {
            let ident = ident(&seg, span);
            ts.extend(quote_spanned!(span=> :: #ident));
        }
        ts
    }

    /// The path of an enum attribute's generated type.
    pub fn enum_path(&self, a: &Attribute, span: Span) -> TokenStream {
        let mut ts = self.root(a.imported, span);
        let segs = names::attribute_path(&a.id);
        for seg in &segs[..segs.len() - 1] {
            let ident = ident(seg, span);
            ts.extend(quote_spanned!(span=> :: #ident));
        }
        let ty = ident(&names::enum_name(&a.id), span);
        ts.extend(quote_spanned!(span=> :: #ty));
        ts
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
