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

/// The `#[error_type("...")]` on an item, if any.
fn override_of(attrs: &[syn::Attribute]) -> syn::Result<Option<LitStr>> {
    for a in attrs {
        if a.path().is_ident("error_type") {
            return a.parse_args::<LitStr>().map(Some);
        }
    }
    Ok(None)
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
        impl #impl_g ::semtel::ErrorType for #name #ty_g #where_g {
            fn error_type(&self) -> ::std::borrow::Cow<'static, str> {
                #body
            }
        }
    })
}
