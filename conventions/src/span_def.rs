//! Span definitions: name, kind and the attributes each requires.

/// The kinds of span.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SpanKind {
    /// In-process work.
    #[default]
    Internal,
    /// An outgoing request.
    Client,
    /// Handling an incoming request.
    Server,
    /// Sending a message.
    Producer,
    /// Receiving a message.
    Consumer,
}

/// How strongly a span definition asks for an attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// Must be set.
    Required,
    /// Must be set when a condition holds.
    ConditionallyRequired,
    /// Should be set.
    Recommended,
    /// Set only when asked for.
    OptIn,
}

/// A span definition from the schema.
#[derive(Clone, Copy, Debug)]
pub struct SpanDef {
    /// The definition's id.
    pub id: &'static str,
    /// The span name, or its pattern (`invoke_agent {gen_ai.agent.name}`).
    pub name: &'static str,
    /// The span kind.
    pub kind: SpanKind,
    /// The attributes and how strongly each is asked for.
    pub attributes: &'static [(&'static str, Requirement)],
}

impl SpanDef {
    /// The names of the attributes that must be set.
    pub fn required(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.attributes
            .iter()
            .filter(|(_, r)| *r == Requirement::Required)
            .map(|(n, _)| *n)
    }
}
