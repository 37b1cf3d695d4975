//! Finds what to instrument: a function, a method, or every method of an
//! `impl` block; merges the other semtel macros on the same function into one
//! expansion; rejects what cannot be instrumented.
//!
//! Every function is emitted twice, instrumented and as written, inside
//! `semtel::__private::select!`, which keeps one of them: the plain one when
//! the build sets `--cfg semtel_passthrough`. On an error only the plain one
//! is emitted, after the errors.

use crate::attr::{Args, Macro};
use crate::check::{self, Errors, Plan};
use crate::expand;
use crate::schema;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Attribute, Block, FnArg, ImplItem, Item, Pat, Signature};

/// The expansion of `#[which(args)]` on `item`.
pub fn expand(which: Macro, args: TokenStream, item: TokenStream) -> TokenStream {
    let parsed: Item = match syn::parse2(item.clone()) {
        Ok(i) => i,
        // The item itself does not parse: leave it as written so the compiler
        // reports the user's own syntax error, and nothing else.
        Err(_) => return item,
    };
    let args = Args::parse(which, args);
    match parsed {
        Item::Fn(f) => {
            let syn::ItemFn {
                mut attrs,
                vis,
                sig,
                block,
            } = f;
            let out = function(which, args, &mut attrs, &sig, &block, None);
            let emit = |body: &Block| quote!(#(#attrs)* #vis #sig #body);
            out.emit(emit)
        }
        Item::Impl(imp) => impl_block(which, args, imp),
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

/// The original tokens, with the errors in front: the function still exists
/// for the rest of the crate and for the IDE.
fn with_error(e: syn::Error, original: TokenStream) -> TokenStream {
    let mut out = e.to_compile_error();
    out.extend(original);
    out
}

/// `select!` keeping `instrumented`, or `plain` under `--cfg semtel_passthrough`.
fn select(krate: &TokenStream, instrumented: TokenStream, plain: TokenStream) -> TokenStream {
    quote!(#krate::__private::select! { { #instrumented } { #plain } })
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

/// Another semtel macro on the same function, taken off its attributes.
struct Sibling {
    which: Macro,
    args: Option<Args>,
    path: syn::Path,
}

/// Takes the other semtel macros off `attrs` (keeping every other attribute),
/// with their arguments and the paths they were written with.
fn take_siblings(
    attrs: &mut Vec<Attribute>,
    krate: Option<&syn::Path>,
    errors: &mut Errors,
) -> Vec<Sibling> {
    let mut out = Vec::new();
    attrs.retain(|a| {
        let Some(which) = Macro::of_path(a.path(), krate) else {
            return true;
        };
        let tokens = match &a.meta {
            syn::Meta::Path(_) => Ok(TokenStream::new()),
            syn::Meta::List(l) => Ok(l.tokens.clone()),
            syn::Meta::NameValue(nv) => Err(syn::Error::new_spanned(
                nv,
                format!("write #[{}(...)]", which.name()),
            )),
        };
        let args = tokens.and_then(|t| Args::parse(which, t));
        let args = args.map_err(|e| errors.push(e)).ok();
        out.push(Sibling {
            which,
            args,
            path: a.path().clone(),
        });
        false
    });
    out
}

/// A function's body both ways, and the errors that leave only the plain one.
struct Function {
    krate: TokenStream,
    instrumented: Option<Block>,
    plain: Block,
    errors: Errors,
}

impl Function {
    /// The function's tokens, written by `emit` from a body.
    fn emit(self, emit: impl Fn(&Block) -> TokenStream) -> TokenStream {
        let plain = emit(&self.plain);
        match (self.errors.finish(), self.instrumented) {
            (Err(e), _) => with_error(e, plain),
            (Ok(()), Some(body)) => select(&self.krate, emit(&body), plain),
            (Ok(()), None) => plain,
        }
    }
}

/// The parameters of `sig` bound to a plain name (`x`, `mut x`).
fn param_names(sig: &Signature) -> Vec<&syn::Ident> {
    sig.inputs
        .iter()
        .filter_map(|a| match a {
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) => Some(&p.ident),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect()
}

/// Whether `ident` occurs anywhere in `tokens`.
fn mentions(tokens: TokenStream, ident: &syn::Ident) -> bool {
    tokens.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == *ident,
        proc_macro2::TokenTree::Group(g) => mentions(g.stream(), ident),
        _ => false,
    })
}

/// `block` with `stmts` in front.
fn prepend(block: &Block, stmts: TokenStream) -> Block {
    let mut b = block.clone();
    if !stmts.is_empty() {
        let front: Block = syn::parse_quote!({ #stmts });
        b.stmts.splice(0..0, front.stmts);
    }
    b
}

/// The body of one function, with every semtel macro on it merged; `self_name`
/// is the `Self` type's name when an attribute on the `impl` block knows it.
fn function(
    which: Macro,
    args: syn::Result<Args>,
    attrs: &mut Vec<Attribute>,
    sig: &Signature,
    block: &Block,
    self_name: Option<&str>,
) -> Function {
    let mut errors = Errors::default();
    let args = args.map_err(|e| errors.push(e)).ok();
    let given_krate = args.as_ref().and_then(|a| a.krate.as_ref());
    let siblings = take_siblings(attrs, given_krate, &mut errors);
    let krate_path = given_krate
        .or_else(|| {
            siblings
                .iter()
                .find_map(|s| s.args.as_ref()?.krate.as_ref())
        })
        .cloned();
    let krate = krate_path.map_or_else(|| quote!(::semtel), |p| p.to_token_stream());
    // The merged macros expand here: still use their imports, and the
    // parameters that only their arguments use, in both bodies.
    let paths = siblings.iter().map(|s| &s.path);
    let mut front = quote!(#( #[allow(unused_imports)] use #paths as _; )*);
    let option_tokens: TokenStream = args
        .iter()
        .chain(siblings.iter().filter_map(|s| s.args.as_ref()))
        .map(Args::expressions)
        .collect();
    let used: Vec<&syn::Ident> = param_names(sig)
        .into_iter()
        .filter(|p| mentions(option_tokens.clone(), p))
        .collect();
    if !used.is_empty() {
        front.extend(quote!(let _ = (#(&#used,)*);));
    }
    let plain = prepend(block, front.clone());
    let mut out = Function {
        krate,
        instrumented: None,
        plain,
        errors,
    };
    let Some(args) = args else {
        return out;
    };
    if let Some(c) = &sig.constness {
        out.errors.at(
            c,
            format!(
                "#[{}] cannot instrument a `const fn`: telemetry needs work at run time",
                which.name()
            ),
        );
        return out;
    }
    let schema = match schema::current() {
        Ok(s) => s,
        Err(e) => {
            out.errors
                .at(&sig.ident, format!("semtel: cannot load the schema: {e}"));
            return out;
        }
    };
    let mut plan = Plan::new(out.krate.clone(), sig, self_name);
    let mut all = vec![(which, &args)];
    all.extend(
        siblings
            .iter()
            .filter_map(|s| Some((s.which, s.args.as_ref()?))),
    );
    let mut seen: Vec<Macro> = Vec::new();
    for (m, a) in all {
        let spans = |x: &Macro| matches!(x, Macro::TracedTask | Macro::AgentStep);
        if seen.contains(&m) || (spans(&m) && seen.iter().any(spans)) {
            out.errors.at(
                &sig.ident,
                format!(
                    "#[{}] is combined with a macro that already makes this function's span",
                    m.name()
                ),
            );
            continue;
        }
        seen.push(m);
        check::add(schema, m, a, &mut plan, &mut out.errors);
    }
    let track_caller = attrs.iter().any(|a| a.path().is_ident("track_caller"));
    if out.errors.is_empty() {
        match expand::body(sig, block, &plan, track_caller) {
            Ok(body) => out.instrumented = Some(prepend_tokens(body, front)),
            Err(e) => out.errors.push(e),
        }
    }
    out
}

/// The instrumented body, as a block with `front` first.
fn prepend_tokens(body: TokenStream, front: TokenStream) -> Block {
    syn::parse_quote!({ #front #body })
}

fn is_skip(attr: &Attribute, krate: Option<&syn::Path>) -> bool {
    Macro::of_path(attr.path(), krate).is_some()
        && matches!(&attr.meta, syn::Meta::List(l) if l.tokens.to_string().trim() == "skip")
}

/// The name of an `impl` block's `Self` type (`Git` of `impl<T> Tool for Git<T>`).
fn self_type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => Some(p.path.segments.last()?.ident.to_string()),
        syn::Type::Reference(r) => self_type_name(&r.elem),
        syn::Type::Paren(p) => self_type_name(&p.elem),
        _ => None,
    }
}

fn impl_block(which: Macro, args: syn::Result<Args>, imp: syn::ItemImpl) -> TokenStream {
    let mut errors = Errors::default();
    let args = match args {
        Ok(a) => a,
        Err(e) => return with_error(e, imp.to_token_stream()),
    };
    if let Some(skip) = &args.skip {
        errors.at(
            skip,
            "`skip` belongs on a method inside an instrumented `impl` block",
        );
    }
    let krate_path = args.krate.as_ref();
    let krate = krate_path.map_or_else(|| quote!(::semtel), |p| p.to_token_stream());
    let self_name = self_type_name(&imp.self_ty);
    let mut plain = imp.clone();
    let mut instrumented = imp;
    for (item, plain_item) in instrumented.items.iter_mut().zip(plain.items.iter_mut()) {
        let (ImplItem::Fn(f), ImplItem::Fn(p)) = (item, plain_item) else {
            continue;
        };
        if let Some(pos) = f.attrs.iter().position(|a| is_skip(a, krate_path)) {
            f.attrs.remove(pos);
            p.attrs.remove(pos);
            continue;
        }
        if f.attrs
            .iter()
            .any(|a| Macro::of_path(a.path(), krate_path).is_some())
            || f.sig.constness.is_some()
        {
            // It expands on its own (and a `const fn` is left as is).
            continue;
        }
        let out = function(
            which,
            Ok(args.clone()),
            &mut f.attrs,
            &f.sig,
            &f.block,
            self_name.as_deref(),
        );
        p.block = out.plain.clone();
        if let Err(e) = out.errors.finish() {
            errors.push(e);
        } else if let Some(b) = out.instrumented {
            f.block = b;
        }
    }
    match errors.finish() {
        Err(e) => with_error(e, plain.to_token_stream()),
        Ok(()) => select(
            &krate,
            instrumented.to_token_stream(),
            plain.to_token_stream(),
        ),
    }
}
