//! How a function produces its result, read from its signature and body:
//! that decides how the instrumented body is written.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Block, Expr, ReturnType, Signature, Stmt, Type, TypeParamBound};

/// How the body produces its result.
pub enum Shape<'a> {
    /// A plain function: the body runs in a closure, so that `return` and
    /// `?` end the closure and the result is seen.
    Sync,
    /// A `#[track_caller]` function: the body runs inline (a closure would
    /// hide the caller), its `return`s and `?`s rewritten to leave a block.
    Inline,
    /// `-> !`: the body never returns; only a panic ends the span.
    Never,
    /// An `async fn`: the body is an async block.
    Async,
    /// `fn ... -> impl Future<Output = T>`: the body returns the future to
    /// instrument; `boxed` when the future must be `Unpin`.
    ReturnsFuture {
        boxed: bool,
        output: Option<&'a Type>,
    },
    /// A method `#[async_trait]` already rewrote: `Box::pin(async move { .. })`.
    BoxedAsync(&'a syn::ExprAsync, Option<&'a Type>),
}

/// The shape of `sig`'s function, or an error for a return type the
/// instrumentation cannot keep.
pub fn of<'a>(
    sig: &'a Signature,
    attrs_track_caller: bool,
    block: &'a Block,
) -> syn::Result<Shape<'a>> {
    if sig.asyncness.is_some() {
        return Ok(Shape::Async);
    }
    if let Some(inner) = boxed_async(block) {
        return Ok(Shape::BoxedAsync(inner, future_output(&sig.output)));
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        if let Type::Never(_) = &**ty {
            return Ok(Shape::Never);
        }
        if let Type::ImplTrait(t) = &**ty {
            if let Some(boxed) = future_bounds(&t.bounds)? {
                return Ok(Shape::ReturnsFuture {
                    boxed,
                    output: future_output(&sig.output),
                });
            }
        }
    }
    Ok(if attrs_track_caller {
        Shape::Inline
    } else {
        Shape::Sync
    })
}

/// For `impl Future<..> + ...`: whether the future must be boxed (`Unpin`);
/// `None` when the bounds do not name `Future`; an error for a bound the
/// instrumented future (an `async` block) cannot have.
fn future_bounds(
    bounds: &syn::punctuated::Punctuated<TypeParamBound, syn::Token![+]>,
) -> syn::Result<Option<bool>> {
    let name = |b: &TypeParamBound| match b {
        TypeParamBound::Trait(t) => t.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    };
    if !bounds.iter().any(|b| name(b).as_deref() == Some("Future")) {
        return Ok(None);
    }
    let mut boxed = false;
    for b in bounds {
        match name(b).as_deref() {
            None | Some("Future" | "Send" | "Sync") => {}
            Some("Unpin") => boxed = true,
            Some(other) => {
                return Err(syn::Error::new_spanned(
                    b,
                    format!(
                        "the instrumented function returns its future wrapped in an `async` block, \
                         which is not `{other}`; return `impl Future<Output = ..>` \
                         (with `Send`, `Sync` or `Unpin`), or instrument the function that makes it"
                    ),
                ));
            }
        }
    }
    Ok(Some(boxed))
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

/// `X` of `Pin<Box<dyn Future<Output = X> + ..>>` or `impl Future<Output = X>`.
fn future_output(output: &ReturnType) -> Option<&Type> {
    fn output_of(args: &syn::PathArguments) -> Option<&Type> {
        match args {
            syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|arg| match arg {
                syn::GenericArgument::Type(t) => find(t),
                syn::GenericArgument::AssocType(at) if at.ident == "Output" => Some(&at.ty),
                _ => None,
            }),
            _ => None,
        }
    }
    fn bounds(b: &syn::punctuated::Punctuated<TypeParamBound, syn::Token![+]>) -> Option<&Type> {
        b.iter().find_map(|b| match b {
            TypeParamBound::Trait(t) => {
                t.path.segments.iter().find_map(|s| output_of(&s.arguments))
            }
            _ => None,
        })
    }
    fn find(ty: &Type) -> Option<&Type> {
        match ty {
            Type::Path(p) => p.path.segments.iter().find_map(|s| output_of(&s.arguments)),
            Type::TraitObject(o) => bounds(&o.bounds),
            Type::ImplTrait(i) => bounds(&i.bounds),
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
pub fn annotation(ty: Option<&Type>) -> TokenStream {
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
pub fn closure_return(ty: Option<&Type>) -> TokenStream {
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

/// The declared result type (`()` when none is written).
pub fn return_type(sig: &Signature) -> Option<Type> {
    match &sig.output {
        ReturnType::Default => Some(syn::parse_quote!(())),
        ReturnType::Type(_, t) => Some((**t).clone()),
    }
}
