//! Checks macro arguments against the schema and turns them into a [`Plan`]
//! of typed expressions. Every error points at the user's token and names the
//! schema item; one mistake gives one error (no follow-on errors about what
//! the mistaken name would have satisfied).

use crate::attr::{Args, AttrArg, CaptureArg, DottedName, Macro};
use crate::schema::Schema;
use crate::value;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use semtel_codegen::model::{Attribute, Metric, Requirement, TypeKind};
use semtel_codegen::names;
use syn::{Expr, Ident, LitStr, Signature};

/// Errors collected across all arguments, so one compile shows them all.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    pub fn at(&mut self, tokens: impl ToTokens, msg: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, msg));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub fn finish(self) -> Result<(), syn::Error> {
        self.0.map_or(Ok(()), Err)
    }
}

/// The name a function is known by in span names and the `function` attribute.
pub enum FnName {
    /// Known now: `execute_task`, or `Git::call` when the `impl` block's
    /// attribute names the type.
    Fixed(String),
    /// A method whose `Self` type is known only where it runs: `call`,
    /// qualified at run time with the type's name.
    Method(String),
}

impl FnName {
    /// `sig`'s name: qualified by `self_name` when known, else by `Self` at
    /// run time when the signature shows it is a method.
    fn of(sig: &Signature, self_name: Option<&str>) -> FnName {
        let name = sig.ident.to_string();
        match self_name {
            Some(ty) => FnName::Fixed(format!("{ty}::{name}")),
            None if sig.receiver().is_some() || mentions_self(sig.to_token_stream()) => {
                FnName::Method(name)
            }
            None => FnName::Fixed(name),
        }
    }

    /// The name, without a qualifier still to come.
    pub fn text(&self) -> &str {
        match self {
            FnName::Fixed(n) | FnName::Method(n) => n,
        }
    }
}

fn mentions_self(ts: TokenStream) -> bool {
    ts.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == "Self",
        proc_macro2::TokenTree::Group(g) => mentions_self(g.stream()),
        _ => false,
    })
}

/// Everything an expansion does, already checked.
pub struct Plan {
    /// The path of the semtel crate (`::semtel`, or the `crate = ...` given).
    pub krate: TokenStream,
    pub function: FnName,
    pub span: Option<SpanPlan>,
    pub metered: Option<MeteredPlan>,
}

impl Plan {
    pub fn new(krate: TokenStream, sig: &Signature, self_name: Option<&str>) -> Plan {
        Plan {
            krate,
            function: FnName::of(sig, self_name),
            span: None,
            metered: None,
        }
    }
}

/// The span around the function.
pub struct SpanPlan {
    /// The name, or a pattern with `{attribute}` placeholders.
    pub name: String,
    /// The name is the function's, still to be qualified with `Self` at run time.
    pub per_self: bool,
    pub kind: TokenStream,
    pub parent: TokenStream,
    /// `(attribute id, KeyValue expression)`.
    pub attrs: Vec<(String, TokenStream)>,
    pub links: Vec<Expr>,
    pub error_type: Option<LitStr>,
    /// Ids of the attributes the step metrics carry (an agent step).
    pub step_metric_attrs: Option<Vec<String>>,
    pub capture_input: Vec<(TokenStream, Expr)>,
    pub capture_output: Option<TokenStream>,
}

/// The function metrics.
pub struct MeteredPlan {
    pub defs: TokenStream,
    pub attrs: Vec<TokenStream>,
}

/// Checks `args` of `which` and adds what they ask for to `plan`.
pub fn add(schema: &Schema, which: Macro, args: &Args, plan: &mut Plan, errors: &mut Errors) {
    let cx = Cx {
        schema,
        krate: &plan.krate,
    };
    match which {
        Macro::TracedTask => plan.span = task(&cx, args, &plan.function, errors),
        Macro::AgentStep => plan.span = step(&cx, args, errors),
        Macro::Metered => plan.metered = crate::meter::metered(&cx, args, errors),
    }
}

/// What checking needs: the schema and where semtel is.
pub struct Cx<'a> {
    pub schema: &'a Schema,
    pub krate: &'a TokenStream,
}

fn kind_tokens(krate: &TokenStream, word: &str, span: Span) -> Option<TokenStream> {
    let v = match word {
        "internal" => "Internal",
        "client" => "Client",
        "server" => "Server",
        "producer" => "Producer",
        "consumer" => "Consumer",
        _ => return None,
    };
    let v = Ident::new(v, span);
    Some(quote_spanned!(span=> #krate::__private::SpanKind::#v))
}

fn internal(krate: &TokenStream) -> TokenStream {
    quote!(#krate::__private::SpanKind::Internal)
}

fn parent(krate: &TokenStream, args: &Args, errors: &mut Errors) -> TokenStream {
    match (&args.parent, &args.root) {
        (Some(_), Some(root)) => {
            errors.at(root, "`root` and `parent` contradict each other; use one");
            quote!(#krate::__private::Parent::Current)
        }
        (Some(p), None) => quote!(#krate::__private::Parent::Explicit(#p)),
        (None, Some(_)) => quote!(#krate::__private::Parent::Root),
        (None, None) => quote!(#krate::__private::Parent::Current),
    }
}

fn task(cx: &Cx, args: &Args, function: &FnName, errors: &mut Errors) -> Option<SpanPlan> {
    let attrs = attributes(cx, &args.attrs, errors);
    let mut name = args
        .name
        .as_ref()
        .map_or_else(|| function.text().to_string(), LitStr::value);
    let mut per_self = args.name.is_none() && matches!(function, FnName::Method(_));
    let mut kind = None;
    if let Some(def_name) = &args.span {
        if let Some(n) = &args.name {
            errors.at(
                n,
                "give either `name` or `span`: a span definition names its spans",
            );
        }
        let id = def_name.text();
        let id = id.strip_prefix("span.").unwrap_or(&id).to_string();
        match cx.schema.registry.spans.get(&id) {
            None => {
                let hint =
                    names::did_you_mean(&id, cx.schema.registry.spans.keys().map(String::as_str));
                errors.at(def_name, format!("unknown span definition `{id}`{hint}"));
            }
            Some(def) => {
                name = def.name.clone();
                per_self = false;
                kind = kind_tokens(cx.krate, def.kind.name(), def_name.span());
                require(&id, def_name, &def.attributes, &attrs, &args.attrs, errors);
            }
        }
    }
    if let Some(k) = &args.kind {
        match kind_tokens(cx.krate, &k.to_string(), k.span()) {
            Some(t) => kind = Some(t),
            None => errors.at(
                k,
                format!(
                    "unknown span kind `{k}`; expected internal, client, server, producer or consumer"
                ),
            ),
        }
    }
    Some(SpanPlan {
        name,
        per_self,
        kind: kind.unwrap_or_else(|| internal(cx.krate)),
        parent: parent(cx.krate, args, errors),
        attrs: attrs.values,
        links: args.links.clone(),
        error_type: args.error_type.clone(),
        step_metric_attrs: None,
        capture_input: Vec::new(),
        capture_output: None,
    })
}

/// Reports required attributes of a span definition that are not given,
/// except one the user evidently meant with a misspelled name (already an
/// error of its own).
fn require(
    id: &str,
    at: &dyn ToTokens,
    uses: &[semtel_codegen::model::AttrUse],
    given: &Checked,
    written: &[AttrArg],
    errors: &mut Errors,
) {
    let missing: Vec<&str> = uses
        .iter()
        .filter(|u| u.requirement == Requirement::Required)
        .map(|u| u.id.as_str())
        .filter(|r| !given.values.iter().any(|(g, _)| g == r))
        .filter(|r| {
            !written
                .iter()
                .filter(|w| given.unknown.contains(&w.name.text()))
                .any(|w| names::closest(&w.name.text(), [*r]).is_some())
        })
        .collect();
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
        errors.at(
            at,
            format!(
                "span definition `{id}` requires {} {}; set {} in `attrs(...)`",
                if missing.len() == 1 {
                    "attribute"
                } else {
                    "attributes"
                },
                list.join(", "),
                if missing.len() == 1 { "it" } else { "them" },
            ),
        );
    }
}

/// The GenAI operations and the span definition and name each uses.
fn operation_span(op: &str) -> (&'static str, &'static str) {
    match op {
        "invoke_agent" => ("gen_ai.invoke_agent", "invoke_agent {gen_ai.agent.name}"),
        "execute_tool" => ("gen_ai.execute_tool", "execute_tool {gen_ai.tool.name}"),
        "create_agent" => ("", "create_agent {gen_ai.agent.name}"),
        "invoke_workflow" => ("", "invoke_workflow {orchestration.workflow.name}"),
        _ => (
            "gen_ai.inference",
            "{gen_ai.operation.name} {gen_ai.request.model}",
        ),
    }
}

fn step(cx: &Cx, args: &Args, errors: &mut Errors) -> Option<SpanPlan> {
    let schema = cx.schema;
    let op_attr = schema.registry.attributes.get("gen_ai.operation.name")?;
    let TypeKind::Enum(ops) = &op_attr.ty.kind else {
        return None;
    };
    let (op, op_span) = match &args.operation {
        Some(w) => (w.to_string(), w.span()),
        None => ("invoke_agent".to_string(), Span::call_site()),
    };
    if !ops.members.iter().any(|m| m.id == op) {
        let ids: Vec<&str> = ops.members.iter().map(|m| m.id.as_str()).collect();
        errors.push(syn::Error::new(
            op_span,
            format!(
                "unknown GenAI operation `{op}`: the values of `gen_ai.operation.name` are {}{}",
                ids.join(", "),
                names::did_you_mean(&op, ids.iter().copied())
            ),
        ));
        return None;
    }
    let op_lit = LitStr::new(&op, op_span);
    let mut written: Vec<AttrArg> = vec![AttrArg {
        name: syn::parse_str("gen_ai.operation.name").ok()?,
        value: syn::parse_quote_spanned!(op_span=> #op_lit),
    }];
    for (field, id) in [
        (&args.agent, "gen_ai.agent.name"),
        (&args.tool, "gen_ai.tool.name"),
        (&args.model, "gen_ai.request.model"),
        (&args.provider, "gen_ai.provider.name"),
    ] {
        if let Some(e) = field {
            let name: DottedName = syn::parse_str(id).ok()?;
            let name = respan_name(name, crate::attr::At::of(e).first);
            written.push(AttrArg {
                name,
                value: e.clone(),
            });
        }
    }
    if let Some(s) = &args.step {
        let name = respan_name(syn::parse_str("orchestration.step.name").ok()?, s.span());
        written.push(AttrArg {
            name,
            value: syn::parse_quote!(#s),
        });
    }
    let mut attrs = attributes(cx, &written, errors);
    let own = attributes(cx, &args.attrs, errors);
    attrs.values.extend(own.values);
    attrs.unknown.extend(own.unknown);
    let (def_id, name) = operation_span(&op);
    let mut kind = internal(cx.krate);
    if let Some(def) = schema.registry.spans.get(def_id) {
        kind = kind_tokens(cx.krate, def.kind.name(), op_span).unwrap_or(kind);
        let at: TokenStream = match &args.operation {
            Some(w) => w.to_token_stream(),
            None => quote_spanned!(Span::call_site()=> agent_step),
        };
        require(def_id, &at, &def.attributes, &attrs, &args.attrs, errors);
    }
    let step_metric_attrs = schema
        .registry
        .metrics
        .get("orchestration.step.duration")
        .map(|m| {
            attrs
                .values
                .iter()
                .map(|(id, _)| id.clone())
                .filter(|id| allowed_on(schema, m, id))
                .collect()
        });
    let (input_key, output_key) = if op == "execute_tool" {
        ("gen_ai.tool.call.arguments", "gen_ai.tool.call.result")
    } else {
        ("gen_ai.input.messages", "gen_ai.output.messages")
    };
    let key = |id: &str, span: Span| {
        schema
            .registry
            .attributes
            .get(id)
            .map(|a| schema.attribute_path(a, cx.krate, crate::attr::At::one(span)))
    };
    let mut capture_input = Vec::new();
    let mut capture_output = None;
    for c in &args.capture {
        match c {
            CaptureArg::Input(k, e) => {
                capture_input.extend(key(input_key, k.span()).map(|p| (p, e.clone())))
            }
            CaptureArg::Output(k) => capture_output = key(output_key, k.span()),
        }
    }
    Some(SpanPlan {
        name: name.to_string(),
        per_self: false,
        kind,
        parent: parent(cx.krate, args, errors),
        attrs: attrs.values,
        links: args.links.clone(),
        error_type: args.error_type.clone(),
        step_metric_attrs,
        capture_input,
        capture_output,
    })
}

fn allowed_on(schema: &Schema, m: &Metric, id: &str) -> bool {
    m.attributes.iter().any(|u| u.id == id)
        && !schema
            .registry
            .attributes
            .get(id)
            .is_some_and(|a| a.high_cardinality)
}

fn respan_name(mut d: DottedName, span: Span) -> DottedName {
    for s in &mut d.segments {
        s.set_span(span);
    }
    for dot in &mut d.dots {
        dot.span = span;
    }
    d
}

/// The attribute `name` stands for, or an error naming the closest one.
pub fn lookup<'s>(
    schema: &'s Schema,
    name: &DottedName,
    errors: &mut Errors,
) -> Option<&'s Attribute> {
    let id = name.text();
    let found = schema.registry.attributes.get(&id);
    if found.is_none() {
        let hint = names::did_you_mean(&id, schema.registry.attributes.keys().map(String::as_str));
        errors.at(name, format!("unknown attribute `{id}`{hint}"));
    }
    found
}

/// The checked `attrs(...)` entries.
#[derive(Default)]
pub struct Checked {
    /// `(id, KeyValue expression)` for each valid entry.
    pub values: Vec<(String, TokenStream)>,
    /// The names that are not attributes of the schema (each already an error).
    pub unknown: Vec<String>,
}

/// `(id, KeyValue expression)` for each `attrs(...)` entry.
pub fn attributes(cx: &Cx, args: &[AttrArg], errors: &mut Errors) -> Checked {
    let mut out = Checked::default();
    for a in args {
        let Some(def) = lookup(cx.schema, &a.name, errors) else {
            out.unknown.push(a.name.text());
            continue;
        };
        if out.values.iter().any(|(id, _)| *id == def.id) {
            errors.at(&a.name, format!("attribute `{}` is set twice", def.id));
            continue;
        }
        if let Some(ts) = value::key_value(cx, a, def, errors) {
            out.values.push((def.id.clone(), ts));
        }
    }
    out
}
