//! `deploy/`: every part a program on this machine can check. promtool
//! checks the Prometheus configuration and the generated rules and runs
//! their unit tests; docker-compose (v1, which needs no engine for `config`)
//! validates the Compose file; the collector configuration, the Grafana
//! provisioning and the dashboards are parsed and checked for what the
//! collector, Prometheus and Grafana need.

use semtel_codegen::yaml::Node;
use semtel_tests::collector::TempDir;
use semtel_tests::prometheus::promtool;
use semtel_tests::{find_tool, workspace_root};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

fn deploy() -> PathBuf {
    workspace_root().join("deploy")
}

fn yaml(path: &Path) -> Node {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: Arc<Path> = Arc::from(path);
    Node::parse(&text, &file).unwrap_or_else(|d| panic!("{d}"))
}

fn strings(n: Option<&Node>) -> Vec<String> {
    n.and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.scalar_text())
        .collect()
}

fn text(n: &Node) -> String {
    n.scalar_text().unwrap_or_default()
}

fn keys(n: Option<&Node>) -> Vec<String> {
    n.and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, _)| k.as_str().map(String::from))
        .collect()
}

#[test]
fn promtool_accepts_the_prometheus_config_and_its_rules() {
    let config = deploy().join("prometheus/prometheus.yml");
    let (code, out) = promtool(&["check", "config", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    // The rule files the config names were found and checked with it.
    assert!(
        out.contains("semtel.rules.yml") && out.contains("SUCCESS: 25 rules found"),
        "{out}"
    );
    let rules = deploy().join("prometheus/rules/semtel.rules.yml");
    let (code, out) = promtool(&["check", "rules", rules.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn rule_unit_tests_pass_cover_every_alert_and_can_fail() {
    let tests = deploy().join("prometheus/tests/semtel.rules.test.yml");
    let (code, out) = promtool(&["test", "rules", tests.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let rules =
        std::fs::read_to_string(deploy().join("prometheus/rules/semtel.rules.yml")).unwrap();
    let tested = std::fs::read_to_string(&tests).unwrap();
    for alert in rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
    {
        assert!(
            tested.contains(&format!("alertname: {alert}\n")),
            "{alert} has no unit test in {}",
            tests.display()
        );
    }
    // With the failure-rate threshold raised, coder's 25% no longer fires
    // and the unit tests say so.
    let tmp = TempDir::new("semtel-rules-mutant");
    for d in ["rules", "tests"] {
        std::fs::create_dir_all(tmp.0.join(d)).unwrap();
    }
    let changed = rules.replace(
        "orchestration_step:failure_ratio_rate5m > 0.1'",
        "orchestration_step:failure_ratio_rate5m > 0.3'",
    );
    assert_ne!(changed, rules, "the mutation applies");
    std::fs::write(tmp.0.join("rules/semtel.rules.yml"), changed).unwrap();
    std::fs::write(tmp.0.join("tests/t.yml"), &tested).unwrap();
    let (code, out) = promtool(&["test", "rules", tmp.0.join("tests/t.yml").to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("alertname: AgentStepFailureRate"), "{out}");
}

#[test]
fn docker_compose_validates_the_stack_and_rejects_a_broken_one() {
    let compose = find_tool(
        "SEMTEL_DOCKER_COMPOSE",
        &[PathBuf::from("/usr/bin/docker-compose")],
        "docker-compose",
    );
    let file = deploy().join("docker-compose.yaml");
    let run = |f: &Path| {
        let out = Command::new(&compose)
            .args(["-f", f.to_str().unwrap(), "config", "-q"])
            .output()
            .expect("run docker-compose");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = run(&file);
    assert!(ok, "{err}");
    let tmp = TempDir::new("semtel-compose");
    let broken = tmp.0.join("docker-compose.yaml");
    let original = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &broken,
        original.replace("    image: prom/prometheus", "    imagee: prom/prometheus"),
    )
    .unwrap();
    let (ok, err) = run(&broken);
    assert!(!ok && err.contains("imagee"), "{err}");

    // What the services need, beyond the Compose schema.
    let c = yaml(&file);
    let services = c.get("services").expect("services");
    assert_eq!(
        keys(Some(services)),
        ["clickhouse", "otel-collector", "prometheus", "grafana"]
    );
    let image = |s: &str| {
        services
            .get(s)
            .and_then(|s| s.get("image"))
            .and_then(Node::scalar_text)
            .unwrap()
    };
    assert!(image("otel-collector").starts_with("otel/opentelemetry-collector-contrib:"));
    let prometheus = strings(services.get("prometheus").and_then(|p| p.get("command")));
    assert!(
        prometheus.contains(&"--enable-feature=exemplar-storage".to_string()),
        "{prometheus:?}"
    );
    for (service, s) in services.as_map().unwrap() {
        for v in strings(s.get("volumes")) {
            if let Some(src) = v.strip_prefix("./") {
                let src = src.split(':').next().unwrap();
                assert!(
                    deploy().join(src).exists(),
                    "{}: mounts ./{src}, which is missing",
                    text(service)
                );
            }
        }
    }
}

#[test]
fn the_collector_pipelines_use_only_defined_components() {
    let c = yaml(&deploy().join("otel-collector/config.yaml"));
    let pipelines = c
        .get("service")
        .and_then(|s| s.get("pipelines"))
        .expect("pipelines");
    assert_eq!(keys(Some(pipelines)), ["traces", "metrics", "logs"]);
    for (name, p) in pipelines.as_map().unwrap() {
        let name = text(name);
        for (kind, section) in [
            ("receivers", "receivers"),
            ("processors", "processors"),
            ("exporters", "exporters"),
        ] {
            let defined = keys(c.get(section));
            for used in strings(p.get(kind)) {
                assert!(
                    defined.contains(&used),
                    "{name}: {kind} `{used}` is not defined under `{section}`"
                );
            }
        }
        assert_eq!(strings(p.get("receivers")), ["otlp"], "{name}");
        assert_eq!(
            strings(p.get("processors")),
            ["memory_limiter", "batch"],
            "{name}: memory_limiter first"
        );
        let exporters = strings(p.get("exporters"));
        assert!(
            exporters.contains(&"clickhouse".to_string()),
            "{name}: {exporters:?}"
        );
    }
    assert!(
        strings(pipelines.get("metrics").and_then(|m| m.get("exporters")))
            .contains(&"prometheus".to_string())
    );
    let ch = c
        .get("exporters")
        .and_then(|e| e.get("clickhouse"))
        .unwrap();
    assert_eq!(text(ch.get("traces_table_name").unwrap()), "otel_traces");
    assert!(text(ch.get("endpoint").unwrap()).starts_with("tcp://clickhouse:9000"));
}

#[test]
fn grafana_is_provisioned_with_both_data_sources_and_the_dashboards() {
    let g = deploy().join("grafana/provisioning");
    let ds = yaml(&g.join("datasources/datasources.yaml"));
    let sources = ds
        .get("datasources")
        .and_then(Node::as_seq)
        .expect("datasources");
    let by_type = |t: &str| {
        sources
            .iter()
            .find(|s| s.get("type").map(text).as_deref() == Some(t))
    };
    let prom = by_type("prometheus").expect("a Prometheus data source");
    let ch = by_type("grafana-clickhouse-datasource").expect("a ClickHouse data source");
    assert_eq!(text(prom.get("url").unwrap()), "http://prometheus:9090");
    let dest = prom
        .get("jsonData")
        .and_then(|j| j.get("exemplarTraceIdDestinations"))
        .and_then(Node::as_seq)
        .and_then(|d| d.first())
        .expect("exemplar links");
    assert_eq!(text(dest.get("name").unwrap()), "trace_id");
    assert_eq!(
        text(dest.get("datasourceUid").unwrap()),
        text(ch.get("uid").unwrap())
    );
    let dashboards = yaml(&g.join("dashboards/dashboards.yaml"));
    let provider = dashboards
        .get("providers")
        .and_then(Node::as_seq)
        .and_then(|p| p.first())
        .unwrap();
    let path = text(provider.get("options").and_then(|o| o.get("path")).unwrap());
    let compose = std::fs::read_to_string(deploy().join("docker-compose.yaml")).unwrap();
    assert!(
        compose.contains(&format!("./grafana/dashboards:{path}:ro")),
        "{path}"
    );
}

#[test]
fn every_dashboard_has_the_structure_grafana_needs() {
    let dir = deploy().join("grafana/dashboards");
    let mut uids = Vec::new();
    let mut count = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        let d: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|err| panic!("{}: {err}", e.path().display()));
        let problems = semtel_tests::grafana::structure_problems(&d);
        assert!(
            problems.is_empty(),
            "{}:\n{}",
            e.path().display(),
            problems.join("\n")
        );
        uids.push(d["uid"].as_str().unwrap().to_string());
        count += 1;
    }
    assert_eq!(count, 4);
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), count, "dashboard uids are unique");
}
