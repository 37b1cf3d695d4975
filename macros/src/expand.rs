//! Writes the instrumented function: start the span and the measurements,
//! make the span current for the body, record the outcome, end. The body
//! itself is left as written; one wrapper serves every macro on the function.

use crate::check::{MeteredPlan, Plan, SpanPlan};
use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Block, Expr, ReturnType, Signature, Stmt, Type};

/// How the body produces its result.
enum Shape<'a> {
    /// A plain function: the body runs in a closure.
    Sync,
    /// An `async fn`: the body is an async block.
    Async,
    /// `fn ... -> impl Future`: the body returns the future to instrument.
    ReturnsFuture,
    /// A method `#[async_trait]` already rewrote: `Box::pin(async move { .. })`.
    BoxedAsync(&'a syn::ExprAsync, Option<&'a Type>),
}

fn shape<'a>(sig: &'a Signature, block: &'a Block) -> Shape<'a> {
    if sig.asyncness.is_some() {
        return Shape::Async;
    }
    if let Some(inner) = boxed_async(block) {
        return Shape::BoxedAsync(inner, future_output(&sig.output));
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        if let Type::ImplTrait(t) = &**ty {
            if t.bounds.to_token_stream().to_string().contains("Future") {
                return Shape::ReturnsFuture;
            }
        }
    }
    Shape::Sync
}

/// The async block of a body that is exactly `Box::pin(async move { .. })`.
fn boxed_async(block: &Block) -> Option<&syn::ExprAsync> {
    let [Stmt::Expr(Expr::Call(call), None)] = block.stmts.as_slice() else {
        return None;
    };
    let Expr::Path(f) = &*call.func else {
        return None;
    };
    let last = f.path.segments.last()?;
    if last.ident != "pin" || call.args.len() != 1 {
        return None;
    }
    match call.args.first()? {
        Expr::Async(a) => Some(a),
        _ => None,
    }
}

/// `X` of `Pin<Box<dyn Future<Output = X> + ..>>`.
fn future_output(output: &ReturnType) -> Option<&Type> {
    fn find(ty: &Type) -> Option<&Type> {
        match ty {
            Type::Path(p) => p.path.segments.iter().find_map(|seg| match &seg.arguments {
                syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|arg| match arg {
                    syn::GenericArgument::Type(t) => find(t),
                    syn::GenericArgument::AssocType(at) if at.ident == "Output" => Some(&at.ty),
                    _ => None,
                }),
                _ => None,
            }),
            Type::TraitObject(o) => o.bounds.iter().find_map(|b| match b {
                syn::TypeParamBound::Trait(t) => {
                    t.path.segments.iter().find_map(|seg| match &seg.arguments {
                        syn::PathArguments::AngleBracketed(a) => {
                            a.args.iter().find_map(|arg| match arg {
                                syn::GenericArgument::AssocType(at) if at.ident == "Output" => {
                                    Some(&at.ty)
                                }
                                _ => None,
                            })
                        }
                        _ => None,
                    })
                }
                _ => None,
            }),
            _ => None,
        }
    }
    match output {
        ReturnType::Type(_, ty) => find(ty),
        ReturnType::Default => None,
    }
}

/// `: T` for the declared result type, so inference never has to guess it
/// (a diverging body would leave it open); nothing when it names `impl Trait`.
fn annotation(ty: Option<&Type>) -> TokenStream {
    fn mentions_impl(ts: TokenStream) -> bool {
        ts.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == "impl",
            proc_macro2::TokenTree::Group(g) => mentions_impl(g.stream()),
            _ => false,
        })
    }
    match ty {
        Some(t) if !mentions_impl(t.to_token_stream()) => quote_spanned!(t.span()=> : #t),
        _ => quote!(),
    }
}

/// `-> T` for a closure returning the function's result, when `T` can be
/// written there (no `impl Trait`, no elided or named lifetimes): type errors
/// in the body are then reported at the user's expression.
fn closure_return(ty: Option<&Type>) -> TokenStream {
    fn plain(ts: TokenStream) -> bool {
        ts.into_iter().all(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i != "impl" && i != "dyn",
            proc_macro2::TokenTree::Punct(p) => p.as_char() != '&' && p.as_char() != '\'',
            proc_macro2::TokenTree::Group(g) => plain(g.stream()),
            proc_macro2::TokenTree::Literal(_) => true,
        })
    }
    match ty {
        Some(t) if plain(t.to_token_stream()) => quote_spanned!(t.span()=> -> #t),
        _ => quote!(),
    }
}

fn return_type(sig: &Signature) -> Option<Type> {
    match &sig.output {
        ReturnType::Default => Some(syn::parse_quote!(())),
        ReturnType::Type(_, t) => Some((**t).clone()),
    }
}

/// Statements that start the span, the step and the call measurement.
fn setup(plan: &Plan, fn_name: &str) -> TokenStream {
    let mut out = TokenStream::new();
    if let Some(s) = &plan.span {
        out.extend(span_setup(s));
    }
    if let Some(m) = &plan.metered {
        out.extend(metered_setup(m, fn_name));
    }
    out
}

fn span_setup(s: &SpanPlan) -> TokenStream {
    let static_name = if s.name.contains('{') {
        s.name
            .split('{')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string()
    } else {
        s.name.clone()
    };
    let kind = &s.kind;
    let parent = &s.parent;
    let values: Vec<&TokenStream> = s.attrs.iter().map(|(_, v)| v).collect();
    let is_step = s.step_metric_attrs.is_some();
    let need = if is_step {
        quote!(__semtel_span.is_recording() || ::semtel::metrics::enabled())
    } else {
        quote!(__semtel_span.is_recording())
    };
    let step = match &s.step_metric_attrs {
        Some(ids) => quote! {
            let __semtel_step = ::semtel::__private::Step::start(|| {
                const __SEMTEL_STEP_ATTRS: &[&str] = &[#(#ids),*];
                __semtel_attrs
                    .iter()
                    .filter(|kv| __SEMTEL_STEP_ATTRS.contains(&kv.key.as_str()))
                    .cloned()
                    .collect()
            });
        },
        None => quote!(),
    };
    let pattern = if s.name.contains('{') {
        let p = &s.name;
        quote!(__semtel_span.name_from_pattern(#p);)
    } else {
        quote!()
    };
    let links = &s.links;
    let capture: Vec<TokenStream> = s
        .capture_input
        .iter()
        .map(|(key, expr)| quote!(__semtel_span.set_json(#key, &(#expr));))
        .collect();
    let capture = if capture.is_empty() {
        quote!()
    } else {
        quote!(if ::semtel::__private::capture_enabled() { #(#capture)* })
    };
    // Attribute values are built only when something records them: into the
    // span directly, or (for agent steps, whose metrics share them) into a list.
    let (attrs, set_attrs) = if values.is_empty() {
        (quote!(), quote!())
    } else if is_step {
        (
            quote! {
                let __semtel_attrs: ::std::vec::Vec<::semtel::__private::KeyValue> =
                    if #need { ::std::vec![#(#values),*] } else { ::std::vec::Vec::new() };
            },
            quote!(__semtel_span.set_attributes(__semtel_attrs);),
        )
    } else {
        (
            quote!(),
            quote!(__semtel_span.set_attributes([#(#values),*]);),
        )
    };
    quote! {
        static __SEMTEL_SITE: ::semtel::__private::Site = ::semtel::__private::Site {
            name: #static_name,
            kind: #kind,
            scope: ::core::module_path!(),
        };
        let mut __semtel_span = ::semtel::__private::ActiveSpan::start(&__SEMTEL_SITE, #parent);
        #attrs
        #step
        if __semtel_span.is_recording() {
            #set_attrs
            #( __semtel_span.add_link(#links); )*
            #pattern
            #capture
        }
    }
}

fn metered_setup(m: &MeteredPlan, fn_name: &str) -> TokenStream {
    let defs = &m.defs;
    let attrs = &m.attrs;
    let start = if attrs.is_empty() {
        quote!(__SEMTEL_METERED.start())
    } else {
        quote!(__SEMTEL_METERED.start_with(|| ::std::vec![#(#attrs),*]))
    };
    quote! {
        static __SEMTEL_METERED: ::semtel::__private::Metered =
            ::semtel::__private::Metered::new(#defs, #fn_name, ::core::module_path!());
        let __semtel_call = #start;
    }
}

/// Statements that record the outcome once the result is known.
fn outcome(plan: &Plan) -> TokenStream {
    let span = plan.span.as_ref();
    let override_type = span.and_then(|s| s.error_type.as_ref()).map(|lit| {
        quote!(if let ::core::option::Option::Some(f) = &mut __semtel_failure { f.error_type = ::std::borrow::Cow::Borrowed(#lit); })
    });
    let fail_span = span.map(|_| {
        quote!(if let ::core::option::Option::Some(f) = &__semtel_failure {
            __semtel_span.fail(f);
        })
    });
    let capture_output = span.and_then(|s| s.capture_output.as_ref()).map(|key| {
        quote! {
            if __semtel_span.is_recording() && ::semtel::__private::capture_enabled() {
                #[allow(unused_imports, clippy::needless_borrow)]
                use ::semtel::__private::{CaptureOk as _, CaptureValue as _};
                (&&::semtel::__private::Capture(&__semtel_result)).capture_into(&mut __semtel_span, #key);
            }
        }
    });
    let ctx = if span.is_some() {
        quote!(__semtel_span.context())
    } else {
        quote!(::semtel::current_context())
    };
    let step = span.and_then(|s| s.step_metric_attrs.as_ref()).map(|_| {
        quote!(if let ::core::option::Option::Some(s) = __semtel_step {
            s.finish(__semtel_failure.as_ref(), __semtel_ctx);
        })
    });
    let call = plan.metered.as_ref().map(|_| {
        quote!(if let ::core::option::Option::Some(c) = __semtel_call {
            c.finish(__semtel_failure.as_ref(), __semtel_ctx);
        })
    });
    quote! {
        {
            #[allow(unused_imports)]
            use ::semtel::__private::{ClassifiedError as _, DebugError as _, DisplayError as _, NoError as _};
            #[allow(unused_mut, clippy::needless_borrow)]
            let mut __semtel_failure = (&&&::semtel::__private::Outcome(&__semtel_result)).semtel_outcome();
            #override_type
            #fail_span
            #capture_output
            let __semtel_ctx = #ctx;
            let _ = __semtel_ctx;
            #step
            #call
        }
    }
}

/// The instrumented body of a function.
pub fn body(sig: &Signature, block: &Block, plan: &Plan) -> TokenStream {
    let fn_name = sig.ident.to_string();
    let has_span = plan.span.is_some();
    let enter = has_span.then(|| quote!(let __semtel_entered = __semtel_span.enter();));
    let exit = has_span.then(|| quote!(::core::mem::drop(__semtel_entered);));
    let instrument = |fut: TokenStream| {
        if has_span {
            quote!(::semtel::__private::Instrument::new(&mut __semtel_span, #fut).await)
        } else {
            quote!(#fut.await)
        }
    };
    let setup = setup(plan, &fn_name);
    let outcome = outcome(plan);
    match shape(sig, block) {
        Shape::Sync => {
            let ret = return_type(sig);
            let ann = annotation(ret.as_ref());
            let closure_ret = closure_return(ret.as_ref());
            quote_spanned! {block.span()=>
                {
                    #setup
                    #[allow(clippy::let_unit_value, clippy::redundant_closure_call)]
                    let __semtel_result #ann = {
                        #enter
                        let __semtel_result = (move || #closure_ret #block)();
                        #exit
                        __semtel_result
                    };
                    #outcome
                    __semtel_result
                }
            }
        }
        Shape::Async => {
            let ann = annotation(return_type(sig).as_ref());
            let run = instrument(quote!(async move {
                #[allow(clippy::let_unit_value)]
                let __semtel_ret #ann = #block;
                __semtel_ret
            }));
            quote_spanned! {block.span()=>
                {
                    #setup
                    #[allow(clippy::let_unit_value)]
                    let __semtel_result #ann = #run;
                    #outcome
                    __semtel_result
                }
            }
        }
        Shape::ReturnsFuture => {
            let run = instrument(quote!(__semtel_future));
            quote_spanned! {block.span()=>
                {
                    #setup
                    #[allow(clippy::redundant_closure_call)]
                    let __semtel_future = {
                        #enter
                        let f = (move || #block)();
                        #exit
                        f
                    };
                    async move {
                        let __semtel_result = #run;
                        #outcome
                        __semtel_result
                    }
                }
            }
        }
        Shape::BoxedAsync(inner, output) => {
            let ann = annotation(output);
            let run = instrument(quote!(#inner));
            let boxed = &block.stmts[0];
            let Stmt::Expr(Expr::Call(call), _) = boxed else {
                return block.to_token_stream();
            };
            let func = &call.func;
            quote_spanned! {block.span()=>
                {
                    #func(async move {
                        #setup
                        #[allow(clippy::let_unit_value)]
                        let __semtel_result #ann = #run;
                        #outcome
                        __semtel_result
                    })
                }
            }
        }
    }
}
