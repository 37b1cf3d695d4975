//! Writes the instrumented function: start the span and the measurements,
//! make the span current for the body, record the outcome, end. The body
//! itself is left as written; one wrapper serves every macro on the function.

use crate::check::{FnName, MeteredPlan, Plan, SpanPlan};
use crate::inline;
use crate::shape::{self, Shape};
use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Block, Expr, Signature, Stmt};

/// `static NAME: ... = ...;` for a per-call-site value: fixed, or one per
/// `Self` type for a method whose type is known only at run time.
struct Site<'a> {
    plan: &'a Plan,
    per_self: bool,
}

impl Site<'_> {
    /// The static `name` of type `ty` built by `make` from a name expression,
    /// and the expression that reaches the value for this call.
    fn define(
        &self,
        name: &syn::Ident,
        ty: TokenStream,
        fixed: &str,
        make: impl Fn(TokenStream) -> TokenStream,
    ) -> (TokenStream, TokenStream) {
        let k = &self.plan.krate;
        if self.per_self {
            let made = make(quote!(name));
            (
                quote! {
                    static #name: #k::__private::PerSelf<#ty> =
                        #k::__private::PerSelf::new(#fixed, |name| #made);
                },
                quote!(#name.get(::core::any::type_name::<Self>())),
            )
        } else {
            let made = make(quote!(#fixed));
            (quote!(static #name: #ty = #made;), quote!(&#name))
        }
    }
}

/// Statements that start the span, the step and the call measurement.
fn setup(plan: &Plan) -> TokenStream {
    let mut out = TokenStream::new();
    if let Some(s) = &plan.span {
        out.extend(span_setup(plan, s));
    }
    if let Some(m) = &plan.metered {
        out.extend(metered_setup(plan, m));
    }
    out
}

fn span_setup(plan: &Plan, s: &SpanPlan) -> TokenStream {
    let k = &plan.krate;
    let static_name = match s.name.split_once('{') {
        Some((head, _)) => head.trim().to_string(),
        None => s.name.clone(),
    };
    let kind = &s.kind;
    let parent = &s.parent;
    let values: Vec<&TokenStream> = s.attrs.iter().map(|(_, v)| v).collect();
    let is_step = s.step_metric_attrs.is_some();
    let need = if is_step {
        quote!(__semtel_span.is_recording() || #k::metrics::enabled())
    } else {
        quote!(__semtel_span.is_recording())
    };
    let step = match &s.step_metric_attrs {
        Some(ids) => quote! {
            let __semtel_step = #k::__private::Step::start(|| {
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
        quote!(if #k::__private::capture_enabled() { #(#capture)* })
    };
    // Attribute values are built only when something records them: into the
    // span directly, or (for agent steps, whose metrics share them) into a list.
    let (attrs, set_attrs) = if values.is_empty() {
        (quote!(), quote!())
    } else if is_step {
        (
            quote! {
                let __semtel_attrs: ::std::vec::Vec<#k::__private::KeyValue> =
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
    let site = Site {
        plan,
        per_self: s.per_self,
    };
    let (define, get) = site.define(
        &syn::Ident::new("__SEMTEL_SITE", proc_macro2::Span::call_site()),
        quote!(#k::__private::Site),
        &static_name,
        |name| quote!(#k::__private::Site { name: #name, kind: #kind, scope: ::core::module_path!() }),
    );
    let recording = quote! {
        #set_attrs
        #( __semtel_span.add_link(#links); )*
        #pattern
        #capture
    };
    let recording =
        (!recording.is_empty()).then(|| quote!(if __semtel_span.is_recording() { #recording }));
    quote! {
        #define
        let mut __semtel_span = #k::__private::ActiveSpan::start(#get, #parent);
        #attrs
        #step
        #recording
    }
}

fn metered_setup(plan: &Plan, m: &MeteredPlan) -> TokenStream {
    let k = &plan.krate;
    let defs = &m.defs;
    let attrs = &m.attrs;
    let site = Site {
        plan,
        per_self: matches!(plan.function, FnName::Method(_)),
    };
    let (define, get) = site.define(
        &syn::Ident::new("__SEMTEL_METERED", proc_macro2::Span::call_site()),
        quote!(#k::__private::Metered),
        plan.function.text(),
        |name| quote!(#k::__private::Metered::new(#defs, #name, ::core::module_path!())),
    );
    let start = if attrs.is_empty() {
        quote!(#k::__private::Metered::start(#get))
    } else {
        quote!(#k::__private::Metered::start_with(#get, || ::std::vec![#(#attrs),*]))
    };
    quote! {
        #define
        let __semtel_call = #start;
    }
}

/// Statements that record the outcome once the result is known.
fn outcome(plan: &Plan) -> TokenStream {
    let k = &plan.krate;
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
            if __semtel_span.is_recording() && #k::__private::capture_enabled() {
                #[allow(unused_imports, clippy::needless_borrow)]
                use #k::__private::{CaptureOk as _, CaptureValue as _};
                (&&#k::__private::Capture(&__semtel_result)).capture_into(&mut __semtel_span, #key);
            }
        }
    });
    let ctx = if span.is_some() {
        quote!(__semtel_span.context())
    } else {
        quote!(#k::current_context())
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
            use #k::__private::{ClassifiedError as _, DebugError as _, DisplayError as _, NoError as _};
            #[allow(unused_mut, clippy::needless_borrow)]
            let mut __semtel_failure = (&&&#k::__private::Outcome(&__semtel_result)).semtel_outcome();
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

/// The instrumented body of a function; `track_caller` when it carries
/// `#[track_caller]`.
pub fn body(
    sig: &Signature,
    block: &Block,
    plan: &Plan,
    track_caller: bool,
) -> syn::Result<TokenStream> {
    let k = &plan.krate;
    let has_span = plan.span.is_some();
    let enter = has_span.then(|| quote!(let __semtel_entered = __semtel_span.enter();));
    let exit = has_span.then(|| quote!(::core::mem::drop(__semtel_entered);));
    let instrument = |fut: TokenStream| {
        if has_span {
            quote!(#k::__private::Instrument::new(&mut __semtel_span, #fut).await)
        } else {
            quote!(#fut.await)
        }
    };
    let setup = setup(plan);
    let outcome = outcome(plan);
    let out = match shape::of(sig, track_caller, block)? {
        Shape::Sync => {
            let ret = shape::return_type(sig);
            let ann = shape::annotation(ret.as_ref());
            let closure_ret = shape::closure_return(ret.as_ref());
            quote_spanned! {block.span()=>
                #setup
                #[allow(clippy::let_unit_value, clippy::redundant_closure_call)]
                // The guard ends with this block, where it stands (moving it
                // into `drop` would copy it first).
                let __semtel_result #ann = {
                    #enter
                    (move || #closure_ret #block)()
                };
                #outcome
                __semtel_result
            }
        }
        Shape::Inline => {
            let ann = shape::annotation(shape::return_type(sig).as_ref());
            let body = inline::labelled(&inline::rewrite(block, k)?);
            quote_spanned! {block.span()=>
                #setup
                #[allow(clippy::let_unit_value)]
                let __semtel_result #ann = {
                    #enter
                    #[allow(clippy::let_unit_value)]
                    let __semtel_result #ann = #body;
                    #exit
                    __semtel_result
                };
                #outcome
                __semtel_result
            }
        }
        Shape::Never => quote_spanned! {block.span()=>
            #setup
            #enter
            #block
        },
        Shape::Async => {
            let ann = shape::annotation(shape::return_type(sig).as_ref());
            let run = instrument(quote!(async move {
                #[allow(clippy::let_unit_value)]
                let __semtel_ret #ann = #block;
                __semtel_ret
            }));
            quote_spanned! {block.span()=>
                #setup
                #[allow(clippy::let_unit_value)]
                let __semtel_result #ann = #run;
                #outcome
                __semtel_result
            }
        }
        Shape::ReturnsFuture { boxed, output } => {
            let ann = shape::annotation(output);
            let run = instrument(quote!(__semtel_future));
            let future = quote! {
                async move {
                    let __semtel_result #ann = #run;
                    #outcome
                    __semtel_result
                }
            };
            let future = if boxed {
                quote!(::std::boxed::Box::pin(#future))
            } else {
                future
            };
            quote_spanned! {block.span()=>
                #setup
                #[allow(clippy::redundant_closure_call)]
                let __semtel_future = {
                    #enter
                    let f = (move || #block)();
                    #exit
                    f
                };
                #future
            }
        }
        Shape::BoxedAsync(inner, output) => {
            let ann = shape::annotation(output);
            let run = instrument(quote!(#inner));
            let Some(Stmt::Expr(Expr::Call(call), _)) = block.stmts.first() else {
                return Ok(block.to_token_stream());
            };
            let func = &call.func;
            quote_spanned! {block.span()=>
                #func(async move {
                    #setup
                    #[allow(clippy::let_unit_value)]
                    let __semtel_result #ann = #run;
                    #outcome
                    __semtel_result
                })
            }
        }
    };
    Ok(out)
}
