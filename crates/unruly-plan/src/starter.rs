//! `unruly init`: a commented starter scenario that teaches the format and
//! parses as is, optionally with the operations of an OpenAPI 3.0/3.1 spec.

use crate::error::{PlanError, PlanErrors};
use crate::openapi::{read_spec, Spec, SpecOperation};
use crate::scenario::parse_scenario_with_env;
use crate::url::{split_url, target_base_url};
use std::fmt::Write as _;

/// An OpenAPI document: its file name (for errors) and its text (JSON or YAML).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenApiSource {
    /// The name errors use, e.g. `api.yaml`.
    pub name: String,
    /// The document, JSON or YAML.
    pub text: String,
}

/// Writes a commented starter scenario for `target_url` (`http://` assumed
/// without a scheme).
///
/// Without a spec: one `GET /` operation, a closed workload of 10 users for
/// 10 s and two example assumptions. With a spec: an operation for every GET
/// whose path parameters can be filled from examples, and every POST/PUT with
/// an example JSON body; the others are written commented out with a TODO.
/// The result always passes [`crate::parse_scenario`].
pub fn starter_scenario(
    target_url: &str,
    openapi: Option<&OpenApiSource>,
) -> Result<String, PlanErrors> {
    let target = normalize_target(target_url)?;
    let spec = openapi.map(read_spec).transpose()?;
    let text = render(&target, openapi.map(|o| o.name.as_str()), spec.as_ref());
    // The starter must parse as is; this only fails on a bug here.
    parse_scenario_with_env(&text, "starter scenario", &|_| None)?;
    Ok(text)
}

fn normalize_target(target_url: &str) -> Result<String, PlanErrors> {
    let trimmed = target_url.trim();
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("http://{trimmed}")
    };
    target_base_url(&with_scheme, false)
        .map_err(|message| PlanErrors::one(PlanError::whole_file("target URL", message)))
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML literal string when possible (no escapes to read), else a basic one.
fn literal(text: &str) -> String {
    if text.contains('\'') || text.chars().any(char::is_control) {
        quoted(text)
    } else {
        format!("'{text}'")
    }
}

const HEADER: &str = r#"# An unruly scenario: run it with `unruly run THIS_FILE`.
#
# A scenario says what to send ([[operation]]), how hard ([workload]) and what
# must hold ([[assumption]]). Durations are strings: "300ms", "10s", "1.5s", "2m".
# Paths, header values and bodies are templates, filled in per request:
#   {{vu}} user number, {{iteration}} the user's request count, {{seq}} run-wide
#   request number, {{uuid}}, {{random_int(1, 100)}}, {{random_string(8)}},
#   {{env.NAME}} an environment variable (read once; unset is an error).

# Every random choice flows from this seed: same seed, same run (default 1).
seed = 1

[target]
# The service under test: http:// or https://, optionally with a base path.
"#;

const TARGET_KEYS: &str = r#"# No complete answer within this time counts as a timeout error (default "10s").
timeout = "10s"
# Accept any TLS certificate, for self-signed test servers (default false).
insecure = false
# Headers added to every operation (an operation's own header of the same name wins):
# headers = { Authorization = "Bearer {{env.TOKEN}}" }
"#;

const OPERATION_KEYS: &str = r#"
# Each [[operation]] is one kind of request (at least one). Users pick among them
# at random, by weight. Keys:
#   name    = "list users"   name in reports and assumptions (default "METHOD path")
#   method  = "GET"          HTTP method (default GET)
#   path    = "/users"       path and query after the target url; starts with "/"
#   headers = { Accept = "application/json" }   request headers
#   body    = '{"name": "user {{vu}}"}'          request body, or instead:
#   json    = { name = "user {{vu}}" }           a TOML value sent as JSON (adds
#                                                Content-Type: application/json)
#   weight  = 1              relative weight (default 1)
"#;

const WORKLOAD: &str = r#"
[workload]
# "closed" (default): a fixed number of users, each sending its next request
# when the previous answer arrives (plus think time).
# "open": requests arrive at the rates of [[workload.stage]], whatever the
# service does; latency counts from the scheduled time.
model = "closed"
users = 10               # virtual users, each on its own connection
think_time = "0s"        # pause after each answer (default 0)
duration = "10s"         # how long to run (default "10s") ...
# requests = 10000       # ... or stop after this many requests instead
# threads = 4            # OS threads driving connections (default: one per CPU)
#
# An open workload instead (replace model, users, think_time and duration):
# model = "open"
# connections = 50       # connections that carry the arrivals (default 50)
# [[workload.stage]]
# rate = 100             # hold 100 requests/s ...
# duration = "10s"       # ... for 10 s
# [[workload.stage]]
# ramp_to = 500          # then ramp linearly to 500 requests/s ...
# duration = "20s"       # ... over 20 s
# [[workload.stage]]
# spike_to = 2000        # a spike: up to 2000/s in `rise`, hold, back down in `rise`
# duration = "10s"       # must be longer than twice the rise
# rise = "1s"            # (default "1s")

# Assumptions, checked after the run and reported as held or broken:
#   METRIC[("operation name")] OP VALUE
# METRIC: p50 p75 p90 p95 p99 p999 mean max (latencies, VALUE a duration),
# error_rate (a ratio or a percentage: 0.01, 1%), errors, requests, rps.
# OP: < <= > >=. A top-level list works too: assumptions = ['p99 < "300ms"']
"#;

fn render(target: &str, spec_name: Option<&str>, spec: Option<&Spec>) -> String {
    let mut out = String::new();
    out.push_str(HEADER);
    let _ = writeln!(out, "url = {}", quoted(target));
    if let (Some(spec), Some(name)) = (spec, spec_name) {
        if let Some(server) = &spec.server_url {
            let _ = writeln!(out, "# {name} lists this server first: {server}");
        }
    }
    out.push_str(TARGET_KEYS);
    out.push_str(OPERATION_KEYS);

    let mut first_name = None;
    match spec {
        None => {
            out.push_str(
                "\n[[operation]]\nname = \"GET /\"\nmethod = \"GET\"\npath = \"/\"\nheaders = { Accept = \"*/*\" }\nweight = 1\n",
            );
        }
        Some(spec) => {
            let prefix = base_path(target, spec.server_url.as_deref());
            let _ = writeln!(
                out,
                "#\n# From {}{}: every GET whose parameters have examples, every POST and\n# PUT with an example JSON body; the others are commented out with a TODO.",
                spec_name.unwrap_or("the spec"),
                spec.title.as_deref().map(|t| format!(" ({})", one_line(t))).unwrap_or_default()
            );
            if !prefix.is_empty() {
                let _ = writeln!(
                    out,
                    "# Paths start with {prefix}, the base path of the spec's first server."
                );
            }
            for op in &spec.operations {
                let active = op.todo.is_none();
                out.push('\n');
                out.push_str(&operation_block(op, &prefix));
                if active && first_name.is_none() {
                    first_name = Some(operation_name(op));
                }
            }
            if first_name.is_none() {
                out.push_str(
                    "\n# No operation of the spec can run as is yet; this one checks the root.\n[[operation]]\nname = \"GET /\"\npath = \"/\"\n",
                );
            }
        }
    }

    out.push_str(WORKLOAD);
    out.push_str("\n[[assumption]]\ncheck = 'error_rate < 0.01'\n");
    let p99 = match first_name.filter(|n| !n.contains('"')) {
        Some(name) => format!("p99({}) < \"500ms\"", quoted(&name)),
        None => "p99 < \"500ms\"".to_string(),
    };
    let _ = write!(out, "\n[[assumption]]\ncheck = {}\n", literal(&p99));
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn operation_name(op: &SpecOperation) -> String {
    format!("{} {}", op.method, op.spec_path)
}

/// The spec server's base path, to put before each path, when the target
/// has none of its own.
fn base_path(target: &str, server: Option<&str>) -> String {
    let Some(server) = server else {
        return String::new();
    };
    let target_has_path = split_url(target, false).is_ok_and(|u| !u.path_and_query.is_empty());
    let path = if server.starts_with('/') {
        server.to_string()
    } else {
        match split_url(server, false) {
            Ok(u) => u.path_and_query,
            Err(_) => String::new(),
        }
    };
    let path = path.trim_end_matches('/');
    if target_has_path || path.contains(['{', '?', '\'', '"', ' ']) || !path.starts_with('/') {
        String::new()
    } else {
        path.to_string()
    }
}

fn operation_block(op: &SpecOperation, prefix: &str) -> String {
    let mut block = String::new();
    if let Some(summary) = &op.summary {
        let _ = writeln!(block, "# {summary}");
    }
    let mut lines = vec![
        "[[operation]]".to_string(),
        format!("name = {}", quoted(&operation_name(op))),
        format!("method = \"{}\"", op.method),
        format!("path = {}", quoted(&format!("{prefix}{}", op.path))),
    ];
    match &op.body {
        Some(body) => {
            lines.push(
                "headers = { Accept = \"application/json\", Content-Type = \"application/json\" }"
                    .into(),
            );
            lines.push(format!("body = {}", literal(body)));
        }
        None => lines.push("headers = { Accept = \"application/json\" }".into()),
    }
    match &op.todo {
        None => {
            for line in lines {
                block.push_str(&line);
                block.push('\n');
            }
        }
        Some(todo) => {
            let _ = writeln!(block, "# TODO: {}, then uncomment:", one_line(todo));
            for line in lines {
                let _ = writeln!(block, "# {line}");
            }
        }
    }
    block
}
