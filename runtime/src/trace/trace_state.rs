//! The W3C `tracestate` a span carries: received with a remote parent
//! (`TRACESTATE`, a `tracestate` header), inherited unchanged by every
//! descendant, written on exported spans and handed on with the context.
//!
//! A span context stays a small `Copy` value; the trace state travels beside
//! it: in a span, in the thread's entry for the current span, and, for a
//! remote context whose only carrier is its `SpanContext` (an extracted
//! header used as an explicit parent), in a small table of recently received
//! remote trace states, looked up by trace id.

use super::context::SpanContext;
use super::pipeline::Hot;
use opentelemetry::trace::TraceId;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// A trace state as spans carry it: shared, `None` when empty.
pub(crate) type State = Option<Arc<str>>;

/// Remote trace states kept at once (the oldest is forgotten first).
const REMEMBERED: usize = 1024;

#[derive(Default)]
struct Table {
    by_trace: HashMap<TraceId, Arc<str>>,
    order: VecDeque<TraceId>,
}

static ANY: AtomicBool = AtomicBool::new(false);
static TABLE: Mutex<Option<Table>> = Mutex::new(None);

/// A state to carry for `value` (`None` when empty).
pub(crate) fn state(value: &str) -> State {
    (!value.is_empty()).then(|| Arc::from(value))
}

/// Notes that spans of trace `ctx` came with trace state `value` from
/// another process, so that spans started under `ctx` carry it.
pub(crate) fn remember(ctx: SpanContext, value: &str) {
    if value.is_empty() || !ctx.is_valid() {
        return;
    }
    let mut table = TABLE.lock().unwrap_or_else(PoisonError::into_inner);
    let table = table.get_or_insert_with(Table::default);
    if table
        .by_trace
        .insert(ctx.trace_id, Arc::from(value))
        .is_none()
    {
        table.order.push_back(ctx.trace_id);
        if table.order.len() > REMEMBERED {
            if let Some(old) = table.order.pop_front() {
                table.by_trace.remove(&old);
            }
        }
    }
    ANY.store(true, Ordering::Relaxed);
}

/// The trace state received from another process for `trace`, if any.
#[inline]
pub(crate) fn remembered(trace: TraceId) -> State {
    if !ANY.load(Ordering::Relaxed) {
        return None;
    }
    lookup(trace)
}

#[cold]
fn lookup(trace: TraceId) -> State {
    TABLE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .and_then(|t| t.by_trace.get(&trace).cloned())
}

/// The trace state trace `trace` came with from another process: the
/// process's own parent's (`TRACESTATE`), or a remembered remote context's.
#[inline]
pub(crate) fn for_trace(hot: &Hot, trace: TraceId) -> State {
    if trace == hot.process_parent.trace_id {
        hot.process_trace_state.clone()
    } else {
        remembered(trace)
    }
}

/// The trace state of span `ctx`: the one the current thread carries for it
/// (when it is current here), else the one its trace came with from another
/// process.
pub(crate) fn of(ctx: SpanContext) -> State {
    match super::context::state_of(ctx.span_id) {
        Some(Some(state)) => Some(state),
        _ => match super::pipeline::hot() {
            Some(hot) => for_trace(hot, ctx.trace_id),
            None => remembered(ctx.trace_id),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::SpanId;

    #[test]
    fn remembered_states_are_bounded() {
        let ctx = |n: u128| SpanContext {
            trace_id: TraceId::from(n + 1_000_000),
            span_id: SpanId::from(1),
            sampled: true,
            remote: true,
        };
        for n in 0..(REMEMBERED as u128 + 10) {
            remember(ctx(n), "k=v");
        }
        assert_eq!(remembered(ctx(0).trace_id), None, "the oldest is forgotten");
        assert_eq!(
            remembered(ctx(REMEMBERED as u128 + 9).trace_id).as_deref(),
            Some("k=v")
        );
        let t = TABLE.lock().unwrap();
        assert!(t.as_ref().unwrap().by_trace.len() <= REMEMBERED);
    }
}
