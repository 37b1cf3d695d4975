//! Parsing the arguments of `#[traced_task(...)]` into a small AST. Nothing
//! here knows the schema; `check.rs` validates names against it.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token};

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
pub struct AttrArg {
    pub name: DottedName,
    pub value: Expr,
}

impl Parse for AttrArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: DottedName = input.parse()?;
        let _: Token![=] = input.parse()?;
        let value: Expr = input.parse()?;
        Ok(AttrArg { name, value })
    }
}

/// The arguments of `#[traced_task]`.
#[derive(Default)]
pub struct TaskArgs {
    pub name: Option<LitStr>,
    pub attrs: Vec<AttrArg>,
}

/// One `key = value` or `key(...)` option, before it is sorted into [`TaskArgs`].
enum Opt {
    Name(Ident, LitStr),
    Attrs(Ident, Punctuated<AttrArg, Token![,]>),
}

impl Parse for Opt {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = Ident::parse_any(input)?;
        match key.to_string().as_str() {
            "name" => {
                let _: Token![=] = input.parse()?;
                Ok(Opt::Name(key, input.parse()?))
            }
            "attrs" => {
                let content;
                syn::parenthesized!(content in input);
                Ok(Opt::Attrs(
                    key,
                    content.parse_terminated(AttrArg::parse, Token![,])?,
                ))
            }
            other => Err(syn::Error::new(
                key.span(),
                format!("unknown option `{other}` for #[traced_task]; expected `name` or `attrs`"),
            )),
        }
    }
}

impl Parse for TaskArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let opts = Punctuated::<Opt, Token![,]>::parse_terminated(input)?;
        let mut args = TaskArgs::default();
        let mut seen: Vec<String> = Vec::new();
        let mut errors: Option<syn::Error> = None;
        for opt in opts {
            let key = match &opt {
                Opt::Name(k, _) | Opt::Attrs(k, _) => k.clone(),
            };
            if seen.contains(&key.to_string()) {
                let e = syn::Error::new(key.span(), format!("duplicate option `{key}`"));
                match &mut errors {
                    Some(all) => all.combine(e),
                    None => errors = Some(e),
                }
                continue;
            }
            seen.push(key.to_string());
            match opt {
                Opt::Name(_, lit) => args.name = Some(lit),
                Opt::Attrs(_, list) => args.attrs = list.into_iter().collect(),
            }
        }
        match errors {
            Some(e) => Err(e),
            None => Ok(args),
        }
    }
}
