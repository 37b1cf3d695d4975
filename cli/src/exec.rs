//! `semtel exec`: runs a command inside one span.
//!
//! The span is a child of the `TRACEPARENT` in semtel's own environment (if
//! any); the command gets `TRACEPARENT`/`TRACESTATE`/`BAGGAGE` naming that
//! span, so an instrumented command continues the trace. Standard input,
//! output and error are inherited, never read. The exit status is the
//! command's (its code, or 128+N when signal N killed it), whatever happens
//! to the telemetry.

use clap::{Args, ValueEnum};
use opentelemetry::KeyValue;
use semtel::conventions::SpanKind;
use semtel::trace::{ActiveSpan, Parent};
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;

mod signals;

/// `semtel exec` options.
#[derive(Args)]
#[command(after_help = "\
The span follows the OpenTelemetry CLI span conventions: process.executable.name,
process.pid, process.command, process.exit.code and, on failure, error.type (the
exit code, or the signal's name) with an error status. Exports use the same
OTEL_* variables and OTEL_CONFIG_FILE as the library; the span is exported before
exit, within OTEL_EXPORTER_OTLP_TIMEOUT, and an unreachable collector never changes
the exit status.

Exit status: the command's own; 128+N when signal N killed it; 127 when it is not
found; 126 when it cannot be executed.")]
pub struct ExecArgs {
    /// The span name (default: the command's file name)
    #[arg(long)]
    name: Option<String>,
    /// The span kind
    #[arg(long, value_enum, default_value_t = Kind::Client)]
    kind: Kind,
    /// Span attributes, as comma-separated key=value pairs (string values)
    #[arg(long, value_name = "K=V,...", value_delimiter = ',')]
    attrs: Vec<String>,
    /// Span attributes from environment variables, as KEY=VAR pairs (an unset variable is left out)
    #[arg(long, value_name = "KEY=VAR,...", value_delimiter = ',')]
    attrs_from_env: Vec<String>,
    /// Also record the arguments as process.command_args (they may hold secrets)
    #[arg(long)]
    record_args: bool,
    /// Write {"trace_id":...,"span_id":...} of the span to FILE (`-`: standard output) before the command starts
    #[arg(long, value_name = "FILE|-")]
    print_context: Option<PathBuf>,
    /// The command and its arguments
    #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// `--kind` values.
#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Internal,
    Client,
    Server,
    Producer,
    Consumer,
}

impl From<Kind> for SpanKind {
    fn from(k: Kind) -> SpanKind {
        match k {
            Kind::Internal => SpanKind::Internal,
            Kind::Client => SpanKind::Client,
            Kind::Server => SpanKind::Server,
            Kind::Producer => SpanKind::Producer,
            Kind::Consumer => SpanKind::Consumer,
        }
    }
}

fn warn(msg: std::fmt::Arguments<'_>) {
    eprintln!("semtel exec: {msg}");
}

/// `key=value` pairs as attributes; a pair without `=` is reported and skipped.
fn attributes(args: &ExecArgs) -> Vec<KeyValue> {
    let mut out = Vec::new();
    for pair in args.attrs.iter().filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                out.push(KeyValue::new(k.trim().to_string(), v.to_string()))
            }
            _ => warn(format_args!(
                "--attrs `{pair}` is not key=value; the attribute is left out"
            )),
        }
    }
    for pair in args.attrs_from_env.iter().filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((k, var)) if !k.trim().is_empty() => match std::env::var(var.trim()) {
                Ok(v) => out.push(KeyValue::new(k.trim().to_string(), v)),
                Err(_) => warn(format_args!(
                    "--attrs-from-env: the variable `{var}` is not set (or not UTF-8); attribute `{k}` is left out"
                )),
            },
            _ => warn(format_args!(
                "--attrs-from-env `{pair}` is not KEY=VAR; the attribute is left out"
            )),
        }
    }
    out
}

/// Installs telemetry the way the library does, with the span exported
/// within the OTLP timeout at exit. `None` (with a warning) when the
/// configuration file is unusable: the command still runs.
fn telemetry() -> Option<semtel::Telemetry> {
    let builder = || {
        semtel::builder()
            .default_metrics_exporter(semtel::MetricsExporter::None)
            .default_logs_exporter(semtel::LogsExporter::None)
    };
    let deadline = match builder().resolve() {
        Ok((cfg, _)) => cfg.batch.export_timeout.min(cfg.traces_otlp.timeout),
        Err(e) => {
            warn(format_args!("{e}; the command runs without a span"));
            return None;
        }
    };
    builder()
        .export_timeout(deadline.max(Duration::from_millis(1)))
        .init()
        .inspect_err(|e| warn(format_args!("{e}; the command runs without a span")))
        .ok()
}

fn print_context(target: &std::path::Path, span: &ActiveSpan) {
    let ctx = span.context();
    let line = format!(
        "{{\"trace_id\":\"{}\",\"span_id\":\"{}\"}}\n",
        ctx.trace_id, ctx.span_id
    );
    let written = if target.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(line.as_bytes()).and_then(|()| out.flush())
    } else {
        std::fs::write(target, line)
    };
    if let Err(e) = written {
        warn(format_args!(
            "cannot write the trace context to {}: {e}",
            target.display()
        ));
    }
}

/// The conventional name of signal `n` (`SIGTERM`), or `SIG<n>`.
fn signal_name(n: i32) -> String {
    let known = [
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGQUIT, "SIGQUIT"),
        (libc::SIGILL, "SIGILL"),
        (libc::SIGABRT, "SIGABRT"),
        (libc::SIGBUS, "SIGBUS"),
        (libc::SIGFPE, "SIGFPE"),
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGUSR1, "SIGUSR1"),
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGUSR2, "SIGUSR2"),
        (libc::SIGPIPE, "SIGPIPE"),
        (libc::SIGALRM, "SIGALRM"),
        (libc::SIGTERM, "SIGTERM"),
    ];
    known
        .iter()
        .find(|(k, _)| *k == n)
        .map(|(_, name)| name.to_string())
        .unwrap_or_else(|| format!("SIG{n}"))
}

/// Runs `semtel exec`; returns the command's exit status.
pub fn run(args: ExecArgs) -> ExitCode {
    let program = args.command[0].clone();
    let program_text = program.to_string_lossy().into_owned();
    let executable = std::path::Path::new(&program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| program_text.clone());
    // Signals arriving from here on are forwarded once the command runs.
    let forwarder = signals::Forwarder::install();
    let telemetry = telemetry();
    let name = args.name.clone().unwrap_or_else(|| executable.clone());
    let mut span = ActiveSpan::start_parts(
        name.into(),
        args.kind.into(),
        "semtel_cli::exec",
        Parent::Current,
    );
    let mut attrs = vec![
        KeyValue::new("process.executable.name", executable),
        KeyValue::new("process.command", program_text.clone()),
    ];
    if args.record_args {
        let all: Vec<opentelemetry::StringValue> = args
            .command
            .iter()
            .map(|a| a.to_string_lossy().into_owned().into())
            .collect();
        attrs.push(KeyValue::new(
            "process.command_args",
            opentelemetry::Value::Array(all.into()),
        ));
    }
    attrs.extend(attributes(&args));
    span.set_attributes(attrs);
    if let Some(target) = &args.print_context {
        print_context(target, &span);
    }
    let mut cmd = Command::new(&program);
    cmd.args(&args.command[1..]);
    {
        let _current = span.enter();
        for (k, v) in semtel::propagation::env_vars() {
            cmd.env(k, v);
        }
    }
    let status = match cmd.spawn() {
        Ok(mut child) => {
            span.set_attributes([KeyValue::new("process.pid", i64::from(child.id()))]);
            forwarder.forward_to(child.id());
            let waited = child.wait();
            forwarder.stop();
            waited
        }
        Err(e) => Err(e),
    };
    let code = match status {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => {
                if code != 0 {
                    span.set_attributes([KeyValue::new("error.type", code.to_string())]);
                    span.set_error(format!("exit code {code}"));
                }
                code
            }
            (None, Some(sig)) => {
                let signame = signal_name(sig);
                span.set_attributes([KeyValue::new("error.type", signame.clone())]);
                span.set_error(format!("killed by signal {sig} ({signame})"));
                128 + sig
            }
            (None, None) => 1,
        },
        Err(e) => {
            let (code, what) = match e.kind() {
                std::io::ErrorKind::NotFound => (127, "command not found"),
                std::io::ErrorKind::PermissionDenied => (126, "permission denied"),
                _ if e.raw_os_error() == Some(libc::ENOEXEC) => (126, "not an executable"),
                _ => (126, "cannot be executed"),
            };
            eprintln!("semtel exec: {program_text}: {what} ({e})");
            span.set_attributes([KeyValue::new("error.type", code.to_string())]);
            span.set_error(format!("{program_text}: {what}"));
            code
        }
    };
    span.set_attributes([KeyValue::new("process.exit.code", i64::from(code))]);
    drop(span);
    drop(telemetry);
    ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1))
}
