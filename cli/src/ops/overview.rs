//! The agent overview: one dashboard over the bundled agent-step, token,
//! context-window, task and queue metrics, in the shape agent orchestrators
//! build by hand (execution rate, active agents, error rate, tokens,
//! context-window use, p95 step duration, tool success, top tools, queue
//! depth, errors by type). Every metric is looked up in the schema and named
//! by the exporter's function; a schema without them gets no overview.

use super::grafana::{Dashboard, Panel, Target, Variable, value_unit};
use super::model::{Model, OpsMetric};
use super::panels::{RATE, heatmap, service_variables};
use super::promql::{Side, aggregate, quantile, rate, ratio, selector, sum_by};
use semtel_conventions::Instrument;
use semtel_conventions::prometheus::{label_name, metric_name};

const STEP_DURATION: &str = "orchestration.step.duration";
const STEP_FAILURES: &str = "orchestration.step.failures";
const TOKENS: &str = "gen_ai.client.token.usage";
const CONTEXT: &str = "orchestration.context_window.utilization";
const QUEUE: &str = "orchestration.queue.depth";
const WORKERS: &str = "orchestration.workers.active";
const TASKS: &str = "orchestration.tasks.completed";
const PENDING: &str = "orchestration.tasks.pending";

/// The label of an attribute.
fn l(attr: &str) -> String {
    label_name(attr)
}

/// `job` and, for metrics that carry it, the agent variable.
fn filters(m: &OpsMetric, extra: &[(&str, &str)]) -> Vec<String> {
    let mut out = vec!["job=~\"$job\"".to_string()];
    let agent = l("gen_ai.agent.name");
    if m.labels.iter().any(|x| x.name == agent) {
        out.push(format!("{agent}=~\"${agent}\""));
    }
    out.extend(extra.iter().map(|(a, v)| format!("{}=\"{v}\"", l(a))));
    out
}

/// The agent overview, or the name of a metric it needs that the schema lacks.
pub fn agent_overview(model: &Model) -> Result<Dashboard, String> {
    let get = |name: &str| {
        model
            .metric(name)
            .ok_or_else(|| format!("the agent overview needs the metric `{name}`"))
    };
    let (steps, failures, tokens) = (get(STEP_DURATION)?, get(STEP_FAILURES)?, get(TOKENS)?);
    let (context, queue, workers) = (get(CONTEXT)?, get(QUEUE)?, get(WORKERS)?);
    let (tasks, pending) = (get(TASKS)?, get(PENDING)?);
    let outcome = |subject: &str| {
        model
            .outcomes
            .iter()
            .find(|o| o.subject == subject)
            .ok_or_else(|| format!("the agent overview needs outcomes of `{subject}`"))
    };
    let (step_outcome, task_outcome) = (outcome("orchestration.step")?, outcome(TASKS)?);

    let agent = l("gen_ai.agent.name");
    let tool = l("gen_ai.tool.name");
    let op = "gen_ai.operation.name";
    let invoke = filters(steps, &[(op, "invoke_agent")]);
    let tool_calls = filters(steps, &[(op, "execute_tool")]);
    let executions = rate(&selector(&steps.prom.count(), &invoke), RATE);
    let by = |labels: &[&str]| -> Vec<String> { labels.iter().map(|s| s.to_string()).collect() };

    let mut variables = service_variables();
    variables.push(Variable::query(
        &agent,
        "Agent",
        format!(
            "label_values({}{{job=~\"$job\"}}, {agent})",
            steps.prom.count()
        ),
        Some(".*"),
    ));
    let failures_sel = selector(&failures.prom.sample(), &filters(failures, &[]));
    let lost: Vec<Target> = [
        ("semtel.spans.dropped", "{span}", "spans dropped"),
        (
            "semtel.span_exports.failed",
            "{batch}",
            "span exports failed",
        ),
        ("semtel.logs.dropped", "{log_record}", "logs dropped"),
    ]
    .iter()
    .map(|(name, unit, legend)| {
        let s = metric_name(name, unit, Instrument::Counter).sample();
        Target::instant(
            format!("sum(increase({s}{{job=~\"$job\"}}[$__range]))"),
            *legend,
        )
    })
    .collect();

    let mut panels = vec![
        Panel::row("Agents"),
        Panel::new("timeseries", "Agent executions", 12)
            .describe("invoke_agent steps per second, by agent.")
            .unit("cps")
            .target(Target::new(
                sum_by(std::slice::from_ref(&agent), &executions),
                format!("{{{{{agent}}}}}"),
            )),
        Panel::new("stat", "Active agents", 6)
            .describe("Agents that ran a step in the last rate interval.")
            .target(Target::new(
                format!(
                    "count({} > 0)",
                    sum_by(std::slice::from_ref(&agent), &executions)
                ),
                "agents",
            )),
        Panel::new("stat", "Busy workers", 6)
            .describe("Workers running a task now.")
            .target(Target::instant(
                aggregate(
                    "sum",
                    &[],
                    &selector(&workers.prom.sample(), &filters(workers, &[])),
                ),
                "workers",
            )),
        Panel::new("stat", "Step errors", 6)
            .describe("Failed agent steps and tool calls per second.")
            .unit("cps")
            .target(Target::new(
                sum_by(&[], &rate(&failures_sel, RATE)),
                "errors/s",
            )),
        Panel::new("stat", "Tokens used", 6)
            .describe("Input and output tokens over the dashboard's time range.")
            .target(Target::instant(
                format!(
                    "sum(increase({}[$__range]))",
                    selector(&tokens.prom.sum(), &filters(tokens, &[]))
                ),
                "tokens",
            )),
        Panel::new("gauge", "Context-window use", 6)
            .describe("The share of each agent's context window in use.")
            .unit(value_unit(&context.def.unit))
            .target(Target::instant(
                aggregate(
                    "avg",
                    std::slice::from_ref(&agent),
                    &selector(&context.prom.sample(), &filters(context, &[])),
                ),
                format!("{{{{{agent}}}}}"),
            )),
        Panel::new("stat", "Telemetry lost", 6)
            .describe(
                "Spans, span batches and log records semtel could not deliver over the time range.",
            )
            .target(lost[0].clone())
            .target(lost[1].clone())
            .target(lost[2].clone()),
        Panel::new("timeseries", "p95 step duration", 12)
            .describe("95th percentile of agent-step and tool-call duration, by agent.")
            .unit(value_unit(&steps.def.unit))
            .target(Target::new(
                quantile(
                    steps,
                    0.95,
                    std::slice::from_ref(&agent),
                    &filters(steps, &[]),
                    RATE,
                ),
                format!("{{{{{agent}}}}}"),
            )),
        heatmap(steps, &filters(steps, &[]), 12),
        Panel::row("Tools"),
        Panel::new("bargauge", "Tool success rate", 12)
            .describe("Share of tool calls that succeeded, by tool.")
            .unit("percentunit")
            .target(Target::new(
                ratio(
                    model,
                    step_outcome,
                    Side::Success,
                    std::slice::from_ref(&tool),
                    &tool_calls,
                    RATE,
                ),
                format!("{{{{{tool}}}}}"),
            )),
        Panel::new("bargauge", "Top tools", 12)
            .describe("The ten most used tools over the time range.")
            .target(Target::instant(
                format!(
                    "topk(10, {})",
                    sum_by(
                        std::slice::from_ref(&tool),
                        &format!(
                            "increase({}[$__range])",
                            selector(&steps.prom.count(), &tool_calls)
                        )
                    )
                ),
                format!("{{{{{tool}}}}}"),
            )),
        Panel::row("Tasks and queues"),
        Panel::new("timeseries", "Task queue depth", 12)
            .describe("Tasks waiting, by queue and priority.")
            .target(Target::new(
                sum_by(
                    &by(&[
                        &l("orchestration.queue.name"),
                        &l("orchestration.task.priority"),
                    ]),
                    &selector(&queue.prom.sample(), &filters(queue, &[])),
                ),
                format!(
                    "{{{{{}}}}} {{{{{}}}}}",
                    l("orchestration.queue.name"),
                    l("orchestration.task.priority")
                ),
            )),
        Panel::new("piechart", "Errors by type", 12)
            .describe("Failed steps over the time range, by error.type.")
            .target(Target::instant(
                sum_by(
                    &[l("error.type")],
                    &format!("increase({failures_sel}[$__range])"),
                ),
                format!("{{{{{}}}}}", l("error.type")),
            )),
        Panel::new("timeseries", "Tasks finished", 12)
            .describe("Tasks reaching a final state per second, by state.")
            .unit("cps")
            .target(Target::new(
                sum_by(
                    &[l("orchestration.task.state")],
                    &rate(&selector(&tasks.prom.sample(), &filters(tasks, &[])), RATE),
                ),
                format!("{{{{{}}}}}", l("orchestration.task.state")),
            )),
        Panel::new("stat", "Task success ratio", 6)
            .describe("Completed / (completed + failed) tasks.")
            .unit("percentunit")
            .target(Target::new(
                ratio(
                    model,
                    task_outcome,
                    Side::Success,
                    &[],
                    &filters(tasks, &[]),
                    RATE,
                ),
                "tasks",
            )),
        Panel::new("stat", "Tasks pending", 6)
            .describe("Tasks waiting to be claimed.")
            .target(Target::instant(
                aggregate(
                    "sum",
                    &[],
                    &selector(&pending.prom.sample(), &filters(pending, &[])),
                ),
                "pending",
            )),
    ];
    for p in &mut panels {
        if p.kind == "heatmap" {
            p.title = "Step duration distribution".into();
        }
    }
    Ok(Dashboard {
        title: "Agent overview".into(),
        uid: "semtel-agent-overview".into(),
        description: "Generated by `semtel dashboards`: agents, tools, tasks and queues from the semtel conventions.".into(),
        tags: vec!["semtel".into(), "agents".into()],
        variables,
        panels,
    })
}
