//! Finds what to instrument: a function, a method, or every method of an
//! `impl` block; merges the other semtel macros on the same function into one
//! expansion; rejects what cannot be instrumented.

use crate::attr::{Args, Macro};
use crate::check::{self, Errors, Plan};
use crate::expand;
use crate::schema;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Attribute, Block, ImplItem, Item, Signature};

/// The expansion of `#[which(args)]` on `item`.
pub fn expand(which: Macro, args: TokenStream, item: TokenStream) -> TokenStream {
    let parsed: Item = match syn::parse2(item.clone()) {
        Ok(i) => i,
        // The item itself does not parse: leave it as written so the compiler
        // reports the user's own syntax error, and nothing else.
        Err(_) => return item,
    };
    if cfg!(feature = "passthrough") {
        return passthrough(parsed);
    }
    let args_parsed = Args::parse(which, args);
    match parsed {
        Item::Fn(mut f) => {
            let result =
                args_parsed.and_then(|a| function(which, &a, &mut f.attrs, &f.sig, &f.block));
            match result {
                Ok(body) => {
                    let syn::ItemFn {
                        attrs, vis, sig, ..
                    } = &f;
                    quote!(#(#attrs)* #vis #sig #body)
                }
                Err(e) => with_error(e, f.to_token_stream()),
            }
        }
        Item::Impl(mut imp) => match args_parsed {
            Ok(a) => match impl_block(which, &a, &mut imp) {
                Ok(()) => imp.to_token_stream(),
                Err(e) => with_error(e, imp.to_token_stream()),
            },
            Err(e) => with_error(e, imp.to_token_stream()),
        },
        other => {
            let msg = format!(
                "#[{}] applies to functions, methods and `impl` blocks, not to this item",
                which.name()
            );
            let at = item_keyword(&other);
            with_error(syn::Error::new_spanned(at, msg), other.to_token_stream())
        }
    }
}

/// The item without any semtel attribute: what the `passthrough` feature emits.
fn passthrough(mut item: Item) -> TokenStream {
    let strip = |attrs: &mut Vec<Attribute>| attrs.retain(|a| Macro::of_path(a.path()).is_none());
    match &mut item {
        Item::Fn(f) => strip(&mut f.attrs),
        Item::Impl(imp) => {
            for i in &mut imp.items {
                if let ImplItem::Fn(f) = i {
                    strip(&mut f.attrs);
                }
            }
        }
        _ => {}
    }
    item.to_token_stream()
}

/// The original tokens, with the errors in front: the function still exists
/// for the rest of the crate and for the IDE.
fn with_error(e: syn::Error, original: TokenStream) -> TokenStream {
    let mut out = e.to_compile_error();
    out.extend(original);
    out
}

/// The keyword that introduces an item (`struct`, `const`, ...), for errors.
fn item_keyword(item: &Item) -> TokenStream {
    match item {
        Item::Struct(s) => s.struct_token.to_token_stream(),
        Item::Enum(e) => e.enum_token.to_token_stream(),
        Item::Const(c) => c.const_token.to_token_stream(),
        Item::Static(s) => s.static_token.to_token_stream(),
        Item::Trait(t) => t.trait_token.to_token_stream(),
        Item::Mod(m) => m.mod_token.to_token_stream(),
        Item::Type(t) => t.type_token.to_token_stream(),
        Item::Use(u) => u.use_token.to_token_stream(),
        other => other.to_token_stream().into_iter().take(1).collect(),
    }
}

/// Takes the other semtel macros off `attrs`, with their arguments and the
/// paths they were written with.
fn take_siblings(attrs: &mut Vec<Attribute>) -> syn::Result<Vec<(Macro, Args, syn::Path)>> {
    let mut out = Vec::new();
    let mut kept = Vec::new();
    for a in attrs.drain(..) {
        match Macro::of_path(a.path()) {
            Some(m) => {
                let tokens = match &a.meta {
                    syn::Meta::Path(_) => TokenStream::new(),
                    syn::Meta::List(l) => l.tokens.clone(),
                    syn::Meta::NameValue(nv) => {
                        return Err(syn::Error::new_spanned(
                            nv,
                            format!("write #[{}(...)]", m.name()),
                        ));
                    }
                };
                out.push((m, Args::parse(m, tokens)?, a.path().clone()));
            }
            None => kept.push(a),
        }
    }
    *attrs = kept;
    Ok(out)
}

/// The instrumented body of one function, with every semtel macro on it merged.
fn function(
    which: Macro,
    args: &Args,
    attrs: &mut Vec<Attribute>,
    sig: &Signature,
    block: &Block,
) -> syn::Result<TokenStream> {
    if let Some(c) = &sig.constness {
        return Err(syn::Error::new_spanned(
            c,
            format!(
                "#[{}] cannot instrument a `const fn`: telemetry needs work at run time",
                which.name()
            ),
        ));
    }
    let mut all = vec![(which, args)];
    let siblings = take_siblings(attrs)?;
    all.extend(siblings.iter().map(|(m, a, _)| (*m, a)));
    let schema = schema::current().map_err(|e| {
        syn::Error::new_spanned(&sig.ident, format!("semtel: cannot load the schema: {e}"))
    })?;
    let mut plan = Plan::default();
    let mut errors = Errors::default();
    let mut seen: Vec<Macro> = Vec::new();
    for (m, a) in &all {
        let spans = |x: &Macro| matches!(x, Macro::TracedTask | Macro::AgentStep);
        if seen.contains(m) || (spans(m) && seen.iter().any(spans)) {
            errors.at(
                &sig.ident,
                format!(
                    "#[{}] is combined with a macro that already makes this function's span",
                    m.name()
                ),
            );
            continue;
        }
        seen.push(*m);
        check::add(schema, *m, a, &sig.ident, &mut plan, &mut errors);
    }
    errors.finish()?;
    let body = expand::body(sig, block, &plan);
    // The merged macros expand here; still use their imports (no unused-import warnings).
    let uses = siblings
        .iter()
        .map(|(_, _, path)| quote!(#[allow(unused_imports)] use #path as _;));
    Ok(quote!({ #(#uses)* #body }))
}

fn is_skip(attr: &Attribute) -> bool {
    Macro::of_path(attr.path()).is_some()
        && matches!(&attr.meta, syn::Meta::List(l) if l.tokens.to_string().trim() == "skip")
}

fn impl_block(which: Macro, args: &Args, imp: &mut syn::ItemImpl) -> syn::Result<()> {
    if let Some(skip) = &args.skip {
        return Err(syn::Error::new_spanned(
            skip,
            "`skip` belongs on a method inside an instrumented `impl` block",
        ));
    }
    let mut errors = Errors::default();
    for item in &mut imp.items {
        let ImplItem::Fn(f) = item else { continue };
        if let Some(pos) = f.attrs.iter().position(is_skip) {
            f.attrs.remove(pos);
            continue;
        }
        if f.attrs.iter().any(|a| Macro::of_path(a.path()).is_some()) || f.sig.constness.is_some() {
            // It expands on its own (and a `const fn` is left as is).
            continue;
        }
        match function(which, args, &mut f.attrs, &f.sig, &f.block) {
            Ok(body) => match syn::parse2::<Block>(body) {
                Ok(b) => f.block = b,
                Err(e) => errors.push(e),
            },
            Err(e) => errors.push(e),
        }
    }
    errors.finish()
}
