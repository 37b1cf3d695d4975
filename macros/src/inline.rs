//! The body of a `#[track_caller]` function, made to run inline.
//!
//! Other functions run their body in a closure so that `return` and `?` end
//! the closure and the result is seen; a closure would hide the caller from
//! `Location::caller()`. Here the body becomes a labelled block instead: its
//! own `return e` becomes `break 'label e` and `x?` a `match` that breaks
//! with the residual (`semtel::__private::Try`, for `Result` and `Option`).
//! A `return` hidden inside an unknown macro (`anyhow::bail!`) would leave
//! the function unseen, so such macros are an error there.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, Lifetime, Token};

/// Macros known never to return from the function they are written in: their
/// arguments are expressions, rewritten like the rest of the body.
const KNOWN: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "panic",
    "unreachable",
    "todo",
    "unimplemented",
    "format",
    "format_args",
    "print",
    "println",
    "eprint",
    "eprintln",
    "write",
    "writeln",
    "vec",
    "matches",
    "dbg",
    "concat",
    "stringify",
    "line",
    "column",
    "file",
    "module_path",
    "cfg",
    "env",
    "option_env",
    "include_str",
    "include_bytes",
    "trace",
    "debug",
    "info",
    "warn",
    "error",
    "event",
    "anyhow",
    "eyre",
    "format_err",
];

/// The label the rewritten body leaves by.
pub fn label() -> Lifetime {
    Lifetime::new("'__semtel_body", Span::mixed_site())
}

/// `block` with its own `return`s and `?`s leaving `label()` instead of the
/// function; `krate` is the path of semtel.
pub fn rewrite(block: &Block, krate: &TokenStream) -> syn::Result<Block> {
    let mut b = block.clone();
    let mut r = Rewriter {
        krate,
        label: label(),
        errors: None,
    };
    r.visit_block_mut(&mut b);
    match r.errors {
        Some(e) => Err(e),
        None => Ok(b),
    }
}

struct Rewriter<'a> {
    krate: &'a TokenStream,
    label: Lifetime,
    errors: Option<syn::Error>,
}

impl Rewriter<'_> {
    fn error(&mut self, e: syn::Error) {
        match &mut self.errors {
            Some(all) => all.combine(e),
            None => self.errors = Some(e),
        }
    }

    fn try_match(&self, inner: &Expr, span: Span) -> Expr {
        let (k, label) = (self.krate, &self.label);
        syn::parse_quote_spanned! {span=>
            match #k::__private::Try::branch(#inner) {
                ::core::ops::ControlFlow::Continue(v) => v,
                ::core::ops::ControlFlow::Break(r) => {
                    let r = #k::__private::FromResidual::from_residual(r);
                    break #label r
                }
            }
        }
    }
}

/// Whether `tokens` hold a `return` or a `?` (a token stream not parsed as
/// expressions cannot be rewritten).
fn leaves(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == "return",
        proc_macro2::TokenTree::Punct(p) => p.as_char() == '?',
        proc_macro2::TokenTree::Group(g) => leaves(g.stream()),
        proc_macro2::TokenTree::Literal(_) => false,
    })
}

impl VisitMut for Rewriter<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        visit_mut::visit_expr_mut(self, e);
        match e {
            Expr::Return(r) => {
                let label = &self.label;
                // `break 'l ::path` would read as a label `'l:`.
                let value = r.expr.as_ref().map(|v| {
                    if v.to_token_stream().to_string().starts_with("::") {
                        quote!((#v))
                    } else {
                        v.to_token_stream()
                    }
                });
                let span = r.return_token.span;
                *e = syn::parse_quote_spanned!(span=> break #label #value);
            }
            Expr::Try(t) => {
                let span = t.question_token.span;
                *e = self.try_match(&t.expr, span);
            }
            _ => {}
        }
    }

    // Their `return` and `?` are their own.
    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
    fn visit_expr_async_mut(&mut self, _: &mut syn::ExprAsync) {}
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        let name = m
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        if !KNOWN.contains(&name.as_str()) {
            self.error(syn::Error::new_spanned(
                &m.path,
                format!(
                    "`{name}!` may return from this `#[track_caller]` function where the \
                     instrumentation cannot see the result (its body runs inline so that \
                     `Location::caller()` reports the caller); write the `return` or `?` \
                     out, or call the macro from a helper function"
                ),
            ));
            return;
        }
        let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
        match m.parse_body_with(parser) {
            Ok(mut args) => {
                for a in args.iter_mut() {
                    self.visit_expr_mut(a);
                }
                m.tokens = args.into_token_stream();
            }
            Err(_) if leaves(m.tokens.clone()) => self.error(syn::Error::new(
                m.tokens.span(),
                format!(
                    "a `return` or `?` inside `{name}!` of a `#[track_caller]` function \
                     cannot be seen by the instrumentation; compute the value before the macro"
                ),
            )),
            Err(_) => {}
        }
    }
}

/// `'label: { body }` as the value of the function's result.
pub fn labelled(block: &Block) -> TokenStream {
    let label = label();
    quote_spanned!(block.span()=> #label: #block)
}
