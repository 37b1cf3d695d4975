//! One `name = <expr>` of `attrs(...)` as a typed `KeyValue` expression.
//!
//! String literals are checked here (enum values by name); any other
//! expression goes through a helper of `semtel::__private` that accepts the
//! Rust types of the attribute's schema type, so a value of the wrong type is
//! one error that says which types fit, under the whole name and the whole
//! expression.

use crate::attr::{At, AttrArg, respan};
use crate::check::{Cx, Errors};
use crate::schema;
use proc_macro2::{Delimiter, Group, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use semtel_codegen::model::{Attribute, MemberValue, Scalar, TypeKind};
use semtel_codegen::names;
use syn::{Expr, ExprLit, Lit, LitStr};

/// The `KeyValue` expression for `arg`, an attribute of type `def`.
pub fn key_value(
    cx: &Cx,
    arg: &AttrArg,
    def: &Attribute,
    errors: &mut Errors,
) -> Option<TokenStream> {
    if def.ty.template {
        errors.at(
            &arg.name,
            format!(
                "`{}` is a template attribute (its key takes a suffix, `{}.<name>`); it cannot be set in `attrs(...)`",
                def.id, def.id
            ),
        );
        return None;
    }
    let at = arg.name.at();
    let key = cx.schema.attribute_path(def, cx.krate, at);
    let value = &arg.value;
    match (&def.ty.kind, literal_str(value)) {
        (TypeKind::Enum(e), Some(lit)) => {
            let text = lit.value();
            let variants = names::variant_names(e);
            let found = e.members.iter().zip(&variants).find(|(m, _)| {
                m.id == text || matches!(&m.value, MemberValue::Str(v) if *v == text)
            });
            if let Some((_, variant)) = found {
                let ty = cx.schema.enum_path(def, cx.krate, at);
                let v = schema::ident(variant, lit.span());
                return Some(quote_spanned!(at.first=> #key.value(#ty::#v)));
            }
            let ids: Vec<&str> = e.members.iter().map(|m| m.id.as_str()).collect();
            errors.push(syn::Error::new(
                lit.span(),
                format!(
                    "`{text}` is not a value of `{}`, whose values are {}{}",
                    def.id,
                    ids.join(", "),
                    names::did_you_mean(&text, ids.iter().copied())
                ),
            ));
            None
        }
        (TypeKind::Scalar(Scalar::String), Some(lit)) => {
            Some(quote_spanned!(at.first=> #key.value_static(#lit)))
        }
        (kind, _) => {
            let helper = helper(kind);
            let call = respan(quote!(#helper), at.last);
            let krate = cx.krate;
            let path = respan(quote!(#krate::__private::), at.first);
            let path = quote!(#path #call);
            let arg = borrowed(value, at);
            Some(quote!(#path(#key, #arg)))
        }
    }
}

/// The `semtel::__private` function that makes a value of `kind`.
fn helper(kind: &TypeKind) -> syn::Ident {
    let name = match kind {
        TypeKind::Scalar(Scalar::String) => "string_value",
        TypeKind::Scalar(Scalar::Int) => "int_value",
        TypeKind::Scalar(Scalar::Double) => "double_value",
        TypeKind::Scalar(Scalar::Boolean) => "bool_value",
        TypeKind::Array(Scalar::String) => "strings_value",
        TypeKind::Array(Scalar::Int) => "ints_value",
        TypeKind::Array(Scalar::Double) => "doubles_value",
        TypeKind::Array(Scalar::Boolean) => "bools_value",
        TypeKind::Enum(_) => "enum_value",
        TypeKind::Any => "any_value",
    };
    syn::Ident::new(name, proc_macro2::Span::call_site())
}

/// `&(expr)`, starting at the name's first token (`name`) and ending at the
/// expression's last, so a type error underlines `name = expr` whole.
fn borrowed(e: &Expr, name: At) -> TokenStream {
    let mut group = Group::new(Delimiter::Parenthesis, e.to_token_stream());
    group.set_span(At::of(e).last);
    let amp = quote_spanned!(name.first=> &);
    quote!(#amp #group)
}

fn literal_str(e: &Expr) -> Option<&LitStr> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    #[test]
    fn a_template_attribute_cannot_be_set_in_attrs() {
        let mut registry = semtel_codegen::bundled().unwrap();
        let def = registry.attributes.get_mut("gen_ai.agent.name").unwrap();
        def.ty.template = true;
        let def = def.clone();
        let schema = Schema::of(registry);
        let krate = quote!(::semtel);
        let cx = Cx {
            schema: &schema,
            krate: &krate,
        };
        let arg: AttrArg = syn::parse_quote!(gen_ai.agent.name = name);
        let mut errors = Errors::default();
        assert!(key_value(&cx, &arg, &def, &mut errors).is_none());
        let message = errors.finish().unwrap_err().to_string();
        assert!(
            message.contains("`gen_ai.agent.name` is a template attribute"),
            "{message}"
        );
    }
}
