//! `#[derive(ErrorType)]`: `error.type` values from variant names.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, LitStr};

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// What `#[error_type(...)]` says: a value, or where semtel is.
enum Setting {
    Value(LitStr),
    Crate(syn::Path),
}

impl syn::parse::Parse for Setting {
    fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
        if input.peek(syn::Token![crate]) {
            let _: syn::Token![crate] = input.parse()?;
            let _: syn::Token![=] = input.parse()?;
            return input.call(syn::Path::parse_mod_style).map(Setting::Crate);
        }
        input.parse().map(Setting::Value)
    }
}

fn settings(attrs: &[syn::Attribute]) -> syn::Result<Vec<Setting>> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("error_type"))
        .map(|a| a.parse_args::<Setting>())
        .collect()
}

/// The `#[error_type("...")]` on an item, if any.
fn override_of(attrs: &[syn::Attribute]) -> syn::Result<Option<LitStr>> {
    Ok(settings(attrs)?.into_iter().find_map(|s| match s {
        Setting::Value(v) => Some(v),
        Setting::Crate(_) => None,
    }))
}

pub fn error_type(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(ts) => ts,
        Err(e) => e.to_compile_error(),
    }
}

fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let name = &input.ident;
    // `#[error_type(crate = path)]` for a renamed semtel dependency.
    let krate = settings(&input.attrs)?
        .into_iter()
        .find_map(|s| match s {
            Setting::Crate(p) => Some(quote!(#p)),
            Setting::Value(_) => None,
        })
        .unwrap_or_else(|| quote!(::semtel));
    let (impl_g, ty_g, where_g) = input.generics.split_for_impl();
    let body = match &input.data {
        Data::Enum(e) => {
            let mut arms = Vec::new();
            for v in &e.variants {
                let ident = &v.ident;
                let value = match override_of(&v.attrs)? {
                    Some(lit) => lit.value(),
                    None => snake(&ident.to_string()),
                };
                arms.push(quote!(Self::#ident { .. } => #value,));
            }
            quote!(::std::borrow::Cow::Borrowed(match self { #(#arms)* }))
        }
        Data::Struct(_) | Data::Union(_) => {
            let value = match override_of(&input.attrs)? {
                Some(lit) => lit.value(),
                None => snake(&name.to_string()),
            };
            quote!(::std::borrow::Cow::Borrowed(#value))
        }
    };
    Ok(quote! {
        impl #impl_g #krate::ErrorType for #name #ty_g #where_g {
            fn error_type(&self) -> ::std::borrow::Cow<'static, str> {
                #body
            }
        }
    })
}
