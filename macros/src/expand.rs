//! Writes the instrumented function: start a span, make it current for the
//! body, record the outcome, end it. The body itself is left as written.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::ItemFn;
use syn::spanned::Spanned;

/// What the expansion needs, already checked against the schema.
pub struct Plan {
    /// The span name.
    pub name: String,
    /// `KEY.value(expr)` expressions, evaluated when the span starts.
    pub attributes: Vec<TokenStream>,
}

/// The function with its body wrapped in a span.
pub fn instrumented(f: ItemFn, plan: &Plan) -> TokenStream {
    let name = &plan.name;
    let body = &f.block;
    let setters = &plan.attributes;
    let set_attrs = if setters.is_empty() {
        quote!()
    } else {
        quote! {
            __semtel_span.set_with(|__semtel_attrs| {
                #( __semtel_attrs.push(#setters); )*
            });
        }
    };
    let start = quote! {
        static __SEMTEL_SITE: ::semtel::__private::Site = ::semtel::__private::Site {
            name: #name,
            kind: ::semtel::__private::SpanKind::Internal,
            scope: ::core::module_path!(),
        };
        let mut __semtel_span = ::semtel::__private::ActiveSpan::start(
            &__SEMTEL_SITE,
            ::semtel::__private::Parent::Current,
        );
        #set_attrs
    };
    let run = if f.sig.asyncness.is_some() {
        quote_spanned! {body.span()=>
            ::semtel::__private::Instrument::new(&mut __semtel_span, async move #body).await
        }
    } else {
        quote_spanned! {body.span()=>
            {
                let __semtel_entered = __semtel_span.enter();
                #[allow(clippy::redundant_closure_call, clippy::let_unit_value)]
                let __semtel_result = (move || #body)();
                ::core::mem::drop(__semtel_entered);
                __semtel_result
            }
        }
    };
    let annotation = result_type(&f.sig.output);
    let new_body = quote! {
        {
            #start
            #[allow(clippy::let_unit_value)]
            let __semtel_result #annotation = #run;
            {
                #[allow(unused_imports)]
                use ::semtel::__private::{OtherOutcome as _, ResultOutcome as _};
                (&&::semtel::__private::Outcome(&__semtel_result)).record(&mut __semtel_span);
            }
            __semtel_result
        }
    };
    let ItemFn {
        attrs, vis, sig, ..
    } = &f;
    quote!(#(#attrs)* #vis #sig #new_body)
}

/// `: T` for the declared return type, so inference never has to guess it
/// (a diverging body would leave it open); nothing when it names `impl Trait`.
fn result_type(output: &syn::ReturnType) -> TokenStream {
    match output {
        syn::ReturnType::Default => quote!(: ()),
        syn::ReturnType::Type(_, ty) if !mentions_impl_trait(ty) => quote!(: #ty),
        syn::ReturnType::Type(..) => quote!(),
    }
}

fn mentions_impl_trait(ty: &syn::Type) -> bool {
    fn walk(ts: TokenStream) -> bool {
        ts.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == "impl",
            proc_macro2::TokenTree::Group(g) => walk(g.stream()),
            _ => false,
        })
    }
    walk(ty.to_token_stream())
}
