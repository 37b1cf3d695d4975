//! Checks macro arguments against the schema and turns them into the typed
//! expressions the expansion uses. Every error points at the user's token.

use crate::attr::AttrArg;
use crate::schema::{self, Schema};
use proc_macro2::TokenStream;
use quote::quote_spanned;
use semtel_codegen::model::{MemberValue, TypeKind};
use semtel_codegen::names;
use syn::{Expr, ExprLit, Lit};

/// Errors collected across all arguments, so one compile shows them all.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    pub fn finish(self) -> Result<(), syn::Error> {
        self.0.map_or(Ok(()), Err)
    }
}

/// `KEY.value(expr)` for each `attrs(...)` entry.
pub fn attributes(schema: &Schema, args: &[AttrArg], errors: &mut Errors) -> Vec<TokenStream> {
    args.iter()
        .filter_map(|a| attribute(schema, a, errors))
        .collect()
}

fn attribute(schema: &Schema, arg: &AttrArg, errors: &mut Errors) -> Option<TokenStream> {
    let id = arg.name.text();
    let Some(def) = schema.registry.attributes.get(&id) else {
        let hint = names::did_you_mean(&id, schema.registry.attributes.keys().map(String::as_str));
        errors.push(syn::Error::new_spanned(
            &arg.name,
            format!("unknown attribute `{id}`{hint}"),
        ));
        return None;
    };
    let span = arg.name.span();
    let key = schema.attribute_path(def, span);
    let value = &arg.value;
    match (&def.ty.kind, literal_str(value)) {
        (TypeKind::Enum(e), Some(lit)) => {
            let text = lit.value();
            let variants = names::variant_names(e);
            let found = e.members.iter().zip(&variants).find(|(m, _)| {
                m.id == text || matches!(&m.value, MemberValue::Str(v) if *v == text)
            });
            match found {
                Some((_, variant)) => {
                    let ty = schema.enum_path(def, span);
                    let v = schema::ident(variant, lit.span());
                    Some(quote_spanned!(span=> #key.value(#ty::#v)))
                }
                None => {
                    let ids: Vec<&str> = e.members.iter().map(|m| m.id.as_str()).collect();
                    errors.push(syn::Error::new(
                        lit.span(),
                        format!(
                            "`{text}` is not a value of `{id}`{}; its values are {}",
                            names::did_you_mean(&text, ids.iter().copied()),
                            ids.join(", ")
                        ),
                    ));
                    None
                }
            }
        }
        (TypeKind::Scalar(semtel_codegen::model::Scalar::String), Some(lit))
            if !def.ty.template =>
        {
            Some(quote_spanned!(span=> #key.value_static(#lit)))
        }
        _ => Some(quote_spanned!(span=> #key.value(#value))),
    }
}

fn literal_str(e: &Expr) -> Option<&syn::LitStr> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s),
        _ => None,
    }
}
