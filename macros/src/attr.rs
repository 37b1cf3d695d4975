//! Parsing the arguments of `#[traced_task]`, `#[agent_step]` and
//! `#[metered]` into a small AST. Nothing here knows the schema; `check.rs`
//! validates names against it.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token};

/// Which macro is being parsed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Macro {
    TracedTask,
    AgentStep,
    Metered,
}

impl Macro {
    pub fn name(self) -> &'static str {
        match self {
            Macro::TracedTask => "traced_task",
            Macro::AgentStep => "agent_step",
            Macro::Metered => "metered",
        }
    }

    /// The macro an attribute path names, if it is one of ours: a bare
    /// `metered` (as imported from semtel), `semtel::metered`,
    /// `semtel_macros::metered`, or `<krate>::metered` for the path given as
    /// `crate = ...`. `other_crate::metered` is someone else's.
    pub fn of_path(path: &syn::Path, krate: Option<&syn::Path>) -> Option<Macro> {
        let last = path.segments.last()?;
        let which = match last.ident.to_string().as_str() {
            "traced_task" => Macro::TracedTask,
            "agent_step" => Macro::AgentStep,
            "metered" => Macro::Metered,
            _ => return None,
        };
        let prefix: Vec<String> = path
            .segments
            .iter()
            .rev()
            .skip(1)
            .rev()
            .map(|s| s.ident.to_string())
            .collect();
        let ours = match prefix.as_slice() {
            [] => path.leading_colon.is_none(),
            [one] if one == "semtel" || one == "semtel_macros" => true,
            _ => krate.is_some_and(|k| {
                let k: Vec<String> = k.segments.iter().map(|s| s.ident.to_string()).collect();
                k == prefix
            }),
        };
        ours.then_some(which)
    }

    fn options(self) -> &'static [(&'static str, Shape)] {
        use Shape::*;
        match self {
            Macro::TracedTask => &[
                ("name", Lit),
                ("span", Dotted),
                ("kind", Word),
                ("parent", Value),
                ("root", Flag),
                ("links", Values),
                ("attrs", Attrs),
                ("error_type", Lit),
                ("skip", Flag),
                ("crate", Crate),
            ],
            Macro::AgentStep => &[
                ("operation", Word),
                ("agent", Value),
                ("tool", Value),
                ("model", Value),
                ("provider", Value),
                ("step", Lit),
                ("attrs", Attrs),
                ("capture", Capture),
                ("parent", Value),
                ("root", Flag),
                ("links", Values),
                ("error_type", Lit),
                ("crate", Crate),
            ],
            Macro::Metered => &[
                ("duration", Dotted),
                ("calls", Dotted),
                ("errors", Dotted),
                ("in_flight", Dotted),
                ("attrs", Attrs),
                ("crate", Crate),
            ],
        }
    }
}

/// What follows an option's key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `key = "literal"`
    Lit,
    /// `key = dotted.schema.name`
    Dotted,
    /// `key = identifier`
    Word,
    /// `key = <expr>`
    Value,
    /// `key`
    Flag,
    /// `key(<expr>, ...)`
    Values,
    /// `key(dotted.name = <expr>, ...)`
    Attrs,
    /// `key(input = <expr>, output)`
    Capture,
    /// `crate = path` or `crate = "path"`
    Crate,
}

/// A dotted schema name as written (`gen_ai.agent.name`), keeping its tokens
/// so errors point at exactly what the user wrote.
#[derive(Clone)]
pub struct DottedName {
    pub segments: Vec<Ident>,
    pub dots: Vec<Token![.]>,
}

impl DottedName {
    /// The name as the schema spells it.
    pub fn text(&self) -> String {
        self.segments
            .iter()
            .map(|s| s.unraw().to_string())
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The span of the first segment (for generated tokens that stand for the name).
    pub fn span(&self) -> Span {
        self.segments[0].span()
    }

    /// Where the whole name was written.
    pub fn at(&self) -> At {
        At::of(self)
    }
}

/// Where something was written: the spans of its first and last tokens.
/// Generated code that starts at `first` and ends at `last` makes the
/// compiler's errors underline all of it (a span cannot be joined on stable).
#[derive(Clone, Copy)]
pub struct At {
    pub first: Span,
    pub last: Span,
}

impl At {
    /// The first and last tokens of `tokens`.
    pub fn of(tokens: impl ToTokens) -> At {
        let mut iter = tokens.into_token_stream().into_iter();
        let first = iter.next().map_or_else(Span::call_site, |t| t.span());
        let last = iter.last().map_or(first, |t| t.span());
        At { first, last }
    }

    /// Both ends at one span.
    pub fn one(span: Span) -> At {
        At {
            first: span,
            last: span,
        }
    }
}

/// `tokens` with every span set to `span`.
pub fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut t| {
            if let proc_macro2::TokenTree::Group(g) = &t {
                let mut n = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                n.set_span(span);
                t = n.into();
            } else {
                t.set_span(span);
            }
            t
        })
        .collect()
}

impl Parse for DottedName {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut segments = vec![Ident::parse_any(input)?];
        let mut dots = Vec::new();
        while input.peek(Token![.]) {
            dots.push(input.parse()?);
            segments.push(Ident::parse_any(input)?);
        }
        Ok(DottedName { segments, dots })
    }
}

impl ToTokens for DottedName {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        for (i, seg) in self.segments.iter().enumerate() {
            if i > 0 {
                self.dots[i - 1].to_tokens(tokens);
            }
            seg.to_tokens(tokens);
        }
    }
}

/// `dotted.name = <expr>`.
#[derive(Clone)]
pub struct AttrArg {
    pub name: DottedName,
    pub value: Expr,
}

impl Parse for AttrArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: DottedName = input.parse()?;
        let _: Token![=] = input.parse()?;
        Ok(AttrArg {
            name,
            value: input.parse()?,
        })
    }
}

/// One entry of `capture(...)`: `input = <expr>` or `output`.
#[derive(Clone)]
pub enum CaptureArg {
    Input(Ident, Expr),
    Output(Ident),
}

impl Parse for CaptureArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = Ident::parse_any(input)?;
        match key.to_string().as_str() {
            "input" => {
                let _: Token![=] = input.parse()?;
                Ok(CaptureArg::Input(key, input.parse()?))
            }
            "output" => Ok(CaptureArg::Output(key)),
            other => Err(syn::Error::new(
                key.span(),
                format!("unknown capture `{other}`; expected `input = <expr>` or `output`"),
            )),
        }
    }
}

/// Every option of one macro invocation, as written.
#[derive(Default, Clone)]
pub struct Args {
    pub name: Option<LitStr>,
    pub span: Option<DottedName>,
    pub kind: Option<Ident>,
    pub parent: Option<Expr>,
    pub root: Option<Ident>,
    pub links: Vec<Expr>,
    pub attrs: Vec<AttrArg>,
    pub error_type: Option<LitStr>,
    pub skip: Option<Ident>,
    pub operation: Option<Ident>,
    pub agent: Option<Expr>,
    pub tool: Option<Expr>,
    pub model: Option<Expr>,
    pub provider: Option<Expr>,
    pub step: Option<LitStr>,
    pub capture: Vec<CaptureArg>,
    pub duration: Option<DottedName>,
    pub calls: Option<DottedName>,
    pub errors: Option<DottedName>,
    pub in_flight: Option<DottedName>,
    /// `crate = path`: where semtel is, for a renamed dependency.
    pub krate: Option<syn::Path>,
}

impl Args {
    /// Parses the arguments of `which`; every problem is reported at its token.
    pub fn parse(which: Macro, tokens: TokenStream) -> syn::Result<Args> {
        let parser = |input: ParseStream| parse_args(which, input);
        syn::parse::Parser::parse2(parser, tokens)
    }

    /// Every expression the options hold, as tokens (to find the
    /// parameters they use).
    pub fn expressions(&self) -> TokenStream {
        let mut out = TokenStream::new();
        let single = [
            &self.parent,
            &self.agent,
            &self.tool,
            &self.model,
            &self.provider,
        ];
        for e in single.into_iter().flatten().chain(&self.links) {
            e.to_tokens(&mut out);
        }
        for a in &self.attrs {
            a.value.to_tokens(&mut out);
        }
        for c in &self.capture {
            if let CaptureArg::Input(_, e) = c {
                e.to_tokens(&mut out);
            }
        }
        out
    }
}

fn parse_args(which: Macro, input: ParseStream) -> syn::Result<Args> {
    let mut args = Args::default();
    let mut seen: Vec<String> = Vec::new();
    let mut errors: Option<syn::Error> = None;
    let push = |e: syn::Error, errors: &mut Option<syn::Error>| match errors {
        Some(all) => all.combine(e),
        None => *errors = Some(e),
    };
    while !input.is_empty() {
        let key = Ident::parse_any(input)?;
        let k = key.to_string();
        let options = which.options();
        let Some((_, shape)) = options.iter().find(|(n, _)| *n == k) else {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            let hint = semtel_codegen::names::did_you_mean(&k, names.iter().copied());
            push(
                syn::Error::new(
                    key.span(),
                    format!(
                        "unknown option `{k}` for #[{}] (options: {}){hint}",
                        which.name(),
                        names.join(", ")
                    ),
                ),
                &mut errors,
            );
            // Skip to the next top-level comma.
            while !input.is_empty() && !input.peek(Token![,]) {
                let _: proc_macro2::TokenTree = input.parse()?;
            }
            if !input.is_empty() {
                let _: Token![,] = input.parse()?;
            }
            continue;
        };
        if seen.contains(&k) {
            push(
                syn::Error::new(key.span(), format!("duplicate option `{k}`")),
                &mut errors,
            );
        }
        seen.push(k.clone());
        parse_value(&mut args, &key, *shape, input)?;
        if !input.is_empty() {
            let _: Token![,] = input.parse()?;
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(args),
    }
}

fn parse_value(args: &mut Args, key: &Ident, shape: Shape, input: ParseStream) -> syn::Result<()> {
    let k = key.to_string();
    match shape {
        Shape::Flag => {
            let slot = match k.as_str() {
                "root" => &mut args.root,
                _ => &mut args.skip,
            };
            *slot = Some(key.clone());
        }
        Shape::Values | Shape::Attrs | Shape::Capture => {
            let content;
            syn::parenthesized!(content in input);
            match shape {
                Shape::Values => {
                    args.links = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?
                        .into_iter()
                        .collect()
                }
                Shape::Attrs => {
                    args.attrs = Punctuated::<AttrArg, Token![,]>::parse_terminated(&content)?
                        .into_iter()
                        .collect()
                }
                _ => {
                    args.capture = Punctuated::<CaptureArg, Token![,]>::parse_terminated(&content)?
                        .into_iter()
                        .collect()
                }
            }
        }
        Shape::Crate => {
            let _: Token![=] = input.parse()?;
            args.krate = Some(if input.peek(LitStr) {
                input
                    .parse::<LitStr>()?
                    .parse_with(syn::Path::parse_mod_style)?
            } else {
                input.call(syn::Path::parse_mod_style)?
            });
        }
        Shape::Lit | Shape::Dotted | Shape::Word | Shape::Value => {
            let _: Token![=] = input.parse()?;
            match shape {
                Shape::Lit => {
                    let lit: LitStr = input.parse()?;
                    *match k.as_str() {
                        "name" => &mut args.name,
                        "step" => &mut args.step,
                        _ => &mut args.error_type,
                    } = Some(lit);
                }
                Shape::Dotted => {
                    let d: DottedName = input.parse()?;
                    *match k.as_str() {
                        "span" => &mut args.span,
                        "duration" => &mut args.duration,
                        "calls" => &mut args.calls,
                        "errors" => &mut args.errors,
                        _ => &mut args.in_flight,
                    } = Some(d);
                }
                Shape::Word => {
                    let w = Ident::parse_any(input)?;
                    *match k.as_str() {
                        "kind" => &mut args.kind,
                        _ => &mut args.operation,
                    } = Some(w);
                }
                _ => {
                    let e: Expr = input.parse()?;
                    *match k.as_str() {
                        "parent" => &mut args.parent,
                        "agent" => &mut args.agent,
                        "tool" => &mut args.tool,
                        "model" => &mut args.model,
                        _ => &mut args.provider,
                    } = Some(e);
                }
            }
        }
    }
    Ok(())
}
