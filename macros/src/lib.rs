//! Attribute macros for semtel. Use them through the `semtel` crate, which
//! re-exports them; the code they generate names `::semtel`.
//!
//! Arguments are parsed (`attr.rs`), checked against the semantic-convention
//! schema (`check.rs`, `schema.rs`), and expanded (`expand.rs`). When an
//! argument is wrong, the errors point at the offending tokens and the
//! function is still emitted unchanged, so the rest of the crate and the IDE
//! keep working.

mod attr;
mod check;
mod expand;
mod schema;

use proc_macro::TokenStream;
use quote::ToTokens;
use syn::ItemFn;

/// Wraps a function (sync or async) in a span.
///
/// - `name = "..."`: the span name (default: the function's name).
/// - `attrs(dotted.attribute.name = <expr>, ...)`: span attributes, checked
///   against the schema: an unknown name or a value of the wrong type does not
///   compile. Expressions may use the arguments; nothing else is recorded.
///
/// A returned `Err` marks the span failed with the error's `Display` text; a
/// panic marks it failed and propagates unchanged.
#[proc_macro_attribute]
pub fn traced_task(args: TokenStream, item: TokenStream) -> TokenStream {
    let item2: proc_macro2::TokenStream = item.clone().into();
    let f: ItemFn = match syn::parse(item) {
        Ok(f) => f,
        Err(e) => {
            let mut out = e.to_compile_error();
            out.extend(item2);
            return out.into();
        }
    };
    match traced_task_impl(args.into(), &f) {
        Ok(ts) => ts.into(),
        Err(e) => {
            let mut out = e.to_compile_error();
            out.extend(f.to_token_stream());
            out.into()
        }
    }
}

fn traced_task_impl(
    args: proc_macro2::TokenStream,
    f: &ItemFn,
) -> syn::Result<proc_macro2::TokenStream> {
    let args: attr::TaskArgs = syn::parse2(args)?;
    let schema = schema::current().map_err(|e| {
        syn::Error::new(
            proc_macro2::Span::call_site(),
            format!("semtel: cannot load the schema: {e}"),
        )
    })?;
    let mut errors = check::Errors::default();
    let attributes = check::attributes(schema, &args.attrs, &mut errors);
    errors.finish()?;
    let plan = expand::Plan {
        name: args
            .name
            .map(|n| n.value())
            .unwrap_or_else(|| f.sig.ident.to_string()),
        attributes,
    };
    Ok(expand::instrumented(f.clone(), &plan))
}
