//! Checks macro arguments against the schema and turns them into a [`Plan`]
//! of typed expressions. Every error points at the user's token and names the
//! schema item.

use crate::attr::{Args, AttrArg, CaptureArg, DottedName, Macro};
use crate::schema::{self, Schema};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use semtel_codegen::model::{
    Attribute, Instrument, MemberValue, Metric, Requirement, Scalar, TypeKind,
};
use semtel_codegen::names;
use syn::{Expr, ExprLit, Ident, Lit, LitStr};

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

    pub fn finish(self) -> Result<(), syn::Error> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Everything an expansion does, already checked.
#[derive(Default)]
pub struct Plan {
    pub span: Option<SpanPlan>,
    pub metered: Option<MeteredPlan>,
}

/// The span around the function.
pub struct SpanPlan {
    /// The name, or a pattern with `{attribute}` placeholders.
    pub name: String,
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
pub fn add(
    schema: &Schema,
    which: Macro,
    args: &Args,
    fn_name: &Ident,
    plan: &mut Plan,
    errors: &mut Errors,
) {
    match which {
        Macro::TracedTask => plan.span = task(schema, args, fn_name, errors),
        Macro::AgentStep => plan.span = step(schema, args, errors),
        Macro::Metered => plan.metered = metered(schema, args, errors),
    }
}

fn kind_tokens(word: &str, span: Span) -> Option<TokenStream> {
    let v = match word {
        "internal" => "Internal",
        "client" => "Client",
        "server" => "Server",
        "producer" => "Producer",
        "consumer" => "Consumer",
        _ => return None,
    };
    let v = Ident::new(v, span);
    Some(quote_spanned!(span=> ::semtel::__private::SpanKind::#v))
}

fn parent(args: &Args, errors: &mut Errors) -> TokenStream {
    match (&args.parent, &args.root) {
        (Some(_), Some(root)) => {
            errors.at(root, "`root` and `parent` contradict each other; use one");
            quote!(::semtel::__private::Parent::Current)
        }
        (Some(p), None) => quote!(::semtel::__private::Parent::Explicit(#p)),
        (None, Some(_)) => quote!(::semtel::__private::Parent::Root),
        (None, None) => quote!(::semtel::__private::Parent::Current),
    }
}

fn task(schema: &Schema, args: &Args, fn_name: &Ident, errors: &mut Errors) -> Option<SpanPlan> {
    let attrs = attributes(schema, &args.attrs, errors);
    let mut name = args
        .name
        .as_ref()
        .map_or_else(|| fn_name.to_string(), LitStr::value);
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
        match schema.registry.spans.get(&id) {
            None => {
                let hint =
                    names::did_you_mean(&id, schema.registry.spans.keys().map(String::as_str));
                errors.at(def_name, format!("unknown span definition `{id}`{hint}"));
            }
            Some(def) => {
                name = def.name.clone();
                kind = kind_tokens(def.kind.name(), def_name.span());
                require(&id, def_name, &def.attributes, &attrs, &[], errors);
            }
        }
    }
    if let Some(k) = &args.kind {
        match kind_tokens(&k.to_string(), k.span()) {
            Some(t) => kind = Some(t),
            None => errors.at(k, format!("unknown span kind `{k}`; expected internal, client, server, producer or consumer")),
        }
    }
    Some(SpanPlan {
        name,
        kind: kind.unwrap_or_else(|| quote!(::semtel::__private::SpanKind::Internal)),
        parent: parent(args, errors),
        attrs,
        links: args.links.clone(),
        error_type: args.error_type.clone(),
        step_metric_attrs: None,
        capture_input: Vec::new(),
        capture_output: None,
    })
}

/// Reports required attributes of a span definition that are not given.
fn require(
    id: &str,
    at: &dyn ToTokens,
    uses: &[semtel_codegen::model::AttrUse],
    given: &[(String, TokenStream)],
    implied: &[&str],
    errors: &mut Errors,
) {
    let missing: Vec<&str> = uses
        .iter()
        .filter(|u| u.requirement == Requirement::Required)
        .map(|u| u.id.as_str())
        .filter(|r| !given.iter().any(|(g, _)| g == r) && !implied.contains(r))
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

fn step(schema: &Schema, args: &Args, errors: &mut Errors) -> Option<SpanPlan> {
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
            let name = respan(name, expr_span(e));
            written.push(AttrArg {
                name,
                value: e.clone(),
            });
        }
    }
    if let Some(s) = &args.step {
        let name = respan(syn::parse_str("orchestration.step.name").ok()?, s.span());
        written.push(AttrArg {
            name,
            value: syn::parse_quote!(#s),
        });
    }
    let mut attrs = attributes(schema, &written, errors);
    attrs.extend(attributes(schema, &args.attrs, errors));
    let (def_id, name) = operation_span(&op);
    let mut kind = quote!(::semtel::__private::SpanKind::Internal);
    if let Some(def) = schema.registry.spans.get(def_id) {
        kind = kind_tokens(def.kind.name(), op_span).unwrap_or(kind);
        let at: TokenStream = match &args.operation {
            Some(w) => w.to_token_stream(),
            None => quote_spanned!(Span::call_site()=> agent_step),
        };
        require(def_id, &at, &def.attributes, &attrs, &[], errors);
    }
    let step_metric_attrs = schema
        .registry
        .metrics
        .get("orchestration.step.duration")
        .map(|m| {
            attrs
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
            .map(|a| schema.attribute_path(a, span))
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
        kind,
        parent: parent(args, errors),
        attrs,
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

fn respan(mut d: DottedName, span: Span) -> DottedName {
    for s in &mut d.segments {
        s.set_span(span);
    }
    for dot in &mut d.dots {
        dot.span = span;
    }
    d
}

fn expr_span(e: &Expr) -> Span {
    e.to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}

const ROLES: [(&str, Instrument); 4] = [
    ("duration", Instrument::Histogram),
    ("calls", Instrument::Counter),
    ("errors", Instrument::Counter),
    ("in_flight", Instrument::UpDownCounter),
];

fn metered(schema: &Schema, args: &Args, errors: &mut Errors) -> Option<MeteredPlan> {
    let bound = [&args.duration, &args.calls, &args.errors, &args.in_flight];
    let mut defs: Vec<(&str, Option<&Metric>, Option<&DottedName>)> = Vec::new();
    for ((role, want), given) in ROLES.iter().zip(bound) {
        let Some(name) = given else {
            defs.push((role, None, None));
            continue;
        };
        let text = name.text();
        match schema.registry.metrics.get(&text) {
            None => {
                let hint =
                    names::did_you_mean(&text, schema.registry.metrics.keys().map(String::as_str));
                errors.at(name, format!("unknown metric `{text}`{hint}"));
            }
            Some(m) if m.instrument != *want => errors.at(
                name,
                format!(
                    "metric `{text}` is a {}, but `{role}` records into a {}",
                    m.instrument.name(),
                    want.name()
                ),
            ),
            Some(m) => defs.push((role, Some(m), Some(name))),
        }
    }
    let any_bound = defs.iter().any(|(_, m, _)| m.is_some());
    let checked: Vec<&Metric> = if any_bound {
        defs.iter().filter_map(|(_, m, _)| *m).collect()
    } else {
        [
            "function.calls",
            "function.calls.duration",
            "function.calls.concurrent",
        ]
        .iter()
        .filter_map(|n| schema.registry.metrics.get(*n))
        .collect()
    };
    let mut attrs = Vec::new();
    for a in &args.attrs {
        let Some(def) = lookup(schema, &a.name, errors) else {
            continue;
        };
        if def.high_cardinality {
            errors.at(
                &a.name,
                format!(
                    "attribute `{}` is high-cardinality (so marked in the schema) and cannot be a metric attribute",
                    def.id
                ),
            );
            continue;
        }
        if let Some(m) = checked
            .iter()
            .find(|m| !m.attributes.iter().any(|u| u.id == def.id))
        {
            let allowed: Vec<String> = m.attributes.iter().map(|u| format!("`{}`", u.id)).collect();
            errors.at(
                &a.name,
                format!(
                    "attribute `{}` is not allowed on metric `{}`; its attributes are {}",
                    def.id,
                    m.name,
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ),
            );
            continue;
        }
        attrs.extend(attribute(schema, a, def, errors));
    }
    let defs_tokens = if any_bound {
        let field = |role: &str| -> TokenStream {
            match defs.iter().find(|(r, m, _)| *r == role && m.is_some()) {
                Some((_, Some(m), Some(n))) => {
                    let path = schema.metric_path(m, n.span());
                    quote!(::core::option::Option::Some(::semtel::__private::Descriptor2::of(&#path)))
                }
                _ => quote!(::core::option::Option::None),
            }
        };
        let (d, c, e, f) = (
            field("duration"),
            field("calls"),
            field("errors"),
            field("in_flight"),
        );
        quote!(::semtel::__private::MeteredDefs { duration: #d, calls: #c, errors: #e, in_flight: #f, bound: true })
    } else {
        quote!(::semtel::__private::MeteredDefs::DEFAULT)
    };
    Some(MeteredPlan {
        defs: defs_tokens,
        attrs,
    })
}

fn lookup<'s>(schema: &'s Schema, name: &DottedName, errors: &mut Errors) -> Option<&'s Attribute> {
    let id = name.text();
    let found = schema.registry.attributes.get(&id);
    if found.is_none() {
        let hint = names::did_you_mean(&id, schema.registry.attributes.keys().map(String::as_str));
        errors.at(name, format!("unknown attribute `{id}`{hint}"));
    }
    found
}

/// `(id, KEY.value(expr))` for each `attrs(...)` entry.
pub fn attributes(
    schema: &Schema,
    args: &[AttrArg],
    errors: &mut Errors,
) -> Vec<(String, TokenStream)> {
    let mut out: Vec<(String, TokenStream)> = Vec::new();
    for a in args {
        let Some(def) = lookup(schema, &a.name, errors) else {
            continue;
        };
        if out.iter().any(|(id, _)| *id == def.id) {
            errors.at(&a.name, format!("attribute `{}` is set twice", def.id));
            continue;
        }
        if let Some(ts) = attribute(schema, a, def, errors) {
            out.push((def.id.clone(), ts));
        }
    }
    out
}

fn attribute(
    schema: &Schema,
    arg: &AttrArg,
    def: &Attribute,
    errors: &mut Errors,
) -> Option<TokenStream> {
    let span = arg.name.span();
    let key = schema.attribute_path(def, span);
    let value = &arg.value;
    match (&def.ty.kind, literal_str(value)) {
        (TypeKind::Enum(e), Some(lit)) => {
            let text = lit.value();
            let variants = names::variant_names(e);
            let found = e.members.iter().zip(&variants).find(|(m, _)| {
                m.id == text || matches!(&m.value, MemberValue::Str(v) if *v == text)
            });
            if let Some((_, variant)) = found {
                let ty = schema.enum_path(def, span);
                let v = schema::ident(variant, lit.span());
                return Some(quote_spanned!(span=> #key.value(#ty::#v)));
            }
            let ids: Vec<&str> = e.members.iter().map(|m| m.id.as_str()).collect();
            errors.push(syn::Error::new(
                lit.span(),
                format!(
                    "`{text}` is not a value of `{}`, whose values are {}{}",
                    def.id,
                    ids.join(", "),
                    names::did_you_mean(&text, ids.iter().copied())
                ),
            ));
            None
        }
        (TypeKind::Scalar(Scalar::String), Some(lit)) if !def.ty.template => {
            Some(quote_spanned!(span=> #key.value_static(#lit)))
        }
        _ => {
            let by_ref = quote_spanned!(expr_span(value)=> &(#value));
            Some(quote_spanned!(span=> #key.value_ref(#by_ref)))
        }
    }
}

fn literal_str(e: &Expr) -> Option<&LitStr> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s),
        _ => None,
    }
}
