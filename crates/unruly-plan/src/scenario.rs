//! Scenario files: `unruly run FILE`.
//!
//! A scenario is a TOML file that says what to send (operations), how hard
//! (workload) and what must hold (assumptions). Durations are strings such as
//! `"300ms"`, `"10s"`, `"1.5s"`, `"2m"`. Paths, header values and bodies are
//! templates: they may use `{{vu}}`, `{{iteration}}`, `{{seq}}`, `{{uuid}}`,
//! `{{random_int(LOW, HIGH)}}`, `{{random_string(LEN)}}` and `{{env.NAME}}`
//! (read once when the scenario is loaded; an unset variable is an error).
//!
//! ```toml
//! seed = 42                      # optional, default 1: same seed, same run
//!
//! [target]
//! url = "http://127.0.0.1:8080"  # required; http:// or https://; trailing slash removed
//! timeout = "10s"                # optional per-request timeout, default "10s"
//! insecure = false               # optional: accept any TLS certificate
//! headers = { Authorization = "Bearer {{env.TOKEN}}" }   # optional, added to every operation
//! health = "/health"             # optional path, starts with "/", probed throughout the run:
//!                                # failing while a behaviour or fault runs is `unavailable`
//!
//! [[operation]]                  # at least one
//! name = "list products"         # optional, default "METHOD path", e.g. "GET /products"
//! method = "GET"                 # optional, default GET; letters A-Z (upper-cased)
//! path = "/products?page={{random_int(1, 5)}}"   # required, starts with "/"; a template
//! headers = { Accept = "application/json" }       # optional; values are templates
//! weight = 3                     # optional, default 1; users pick operations at random
//!                                # by weight (at least one must be above 0)
//!
//! [[operation]]
//! method = "POST"
//! path = "/orders"
//! body = '{"user": "u{{vu}}"}'   # optional template; or `json = { user = "u{{vu}}" }`:
//!                                # a TOML value sent as JSON, with
//!                                # Content-Type: application/json unless a header sets it
//!
//! [workload]                     # optional; default: closed model, 10 users, 10s
//! model = "open"                 # "closed" (default) or "open"
//! connections = 50               # open: connections that carry the arrivals, default 50
//! threads = 2                    # optional OS threads, default: number of CPUs
//! # closed model keys instead:
//! #   users = 10                 # virtual users, each on its own connection (>= 1)
//! #   think_time = "100ms"       # pause after each answer, default 0
//! #   duration = "30s"           # default "10s"; or `requests = 10000` (not both)
//!
//! # open model: arrival-rate stages, run in order; the run lasts their sum
//! [[workload.stage]]
//! rate = 100                     # hold 100 requests/s ...
//! duration = "10s"               # ... for 10 s
//! [[workload.stage]]
//! ramp_to = 1000                 # ramp linearly from the previous stage's end rate
//! duration = "20s"               # (0 at the start) to 1000 requests/s over 20 s
//! [[workload.stage]]
//! spike_to = 5000                # spike: up to 5000/s in `rise`, hold, back down in
//! duration = "10s"               # `rise`; duration must exceed twice the rise
//! rise = "1s"                    # optional, default "1s"
//!
//! [[assumption]]                 # or a top-level list:
//! check = 'p99("list products") < "300ms"'   # assumptions = ['p99 < "300ms"', 'error_rate < 0.1%']
//! ```
//!
//! Unknown keys are errors; so are closed-model keys (`users`, `think_time`,
//! `duration`, `requests`) in an open workload and open-model keys
//! (`connections`, `stage`) in a closed one. See [`crate::parse_assumption`]
//! for the assumption grammar.
//!
//! `[[behaviour]]` tables add unruly behaviours, each fired on its schedule
//! (`at`, default 0; `every`; `times`, default 1, or until the run ends with
//! `every`) and naming one of the scenario's operations:
//!
//! ```toml
//! [[behaviour]]
//! kind = "burst"                 # `count` requests at once (20, 2-1000)
//! operation = "POST /accounts/{id}/withdraw"
//! name = "withdraw race"         # optional, default "behaviour N"
//! at = "5s"
//! invariant = { read = "GET /accounts/{id}", expect = "$.balance >= 0" }
//!
//! [[behaviour]]
//! kind = "double_submit"         # `count` copies (2, 2-100), then one more
//! operation = "POST /accounts/{id}/withdraw"
//! idempotency_key = true         # or a header name; true is "Idempotency-Key"
//!
//! [[behaviour]]
//! kind = "refresh_storm"         # tabs (20), duration ("2s"), abandon (0.25)
//! operation = "GET /accounts/{id}"
//!
//! [[behaviour]]
//! kind = "slow_clients"          # mode (required), clients (64), duration ("5s"),
//! mode = "read"                  # bytes_per_second (1)
//! operation = "GET /accounts/{id}"
//! ```
//!
//! An invariant's `read` is `METHOD /path`; its `{name}` placeholders must
//! appear in the operation's name. `expect` is an [`unruly_core::Expectation`]
//! (see [`unruly_core::expectation`] for the grammar). Only bursts and
//! double submits take an invariant.

use crate::assumption::parse_located;
use crate::behaviour::read_behaviours;
use crate::error::{PlanError, PlanErrors};
use crate::fault::{read_dependencies, read_faults};
use crate::position::line_col;
use crate::toml_view::{to_json, Ctx, Entry, Fields};
use crate::url::target_base_url;
use crate::workload::{default_threads, read_workload};
use std::path::Path;
use std::time::Duration;
use toml_edit::ImDocument;
use unruly_core::{Assumption, Operation, Plan, Target, Template};

/// Largest response body a plan accepts by default: 16 MiB.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;
/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default seed.
pub const DEFAULT_SEED: u64 = 1;

const TOP_KEYS: &[&str] = &[
    "seed",
    "target",
    "operation",
    "workload",
    "assumption",
    "assumptions",
    "behaviour",
    "dependency",
    "fault",
];
const TARGET_KEYS: &[&str] = &["url", "timeout", "insecure", "headers", "health"];
const OPERATION_KEYS: &[&str] = &[
    "name", "method", "path", "headers", "body", "json", "weight",
];

/// Reads and parses the scenario at `path`; an unreadable file is one error
/// naming the path. `{{env.NAME}}` is read from the process environment.
pub fn load_scenario(path: &Path) -> Result<Plan, PlanErrors> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|e| {
        PlanErrors::one(PlanError::whole_file(
            file.clone(),
            format!("cannot read the scenario: {e}"),
        ))
    })?;
    parse_scenario(&source, &file)
}

/// Parses a scenario; `file_name` is used in errors. `{{env.NAME}}` is read
/// from the process environment.
pub fn parse_scenario(source: &str, file_name: &str) -> Result<Plan, PlanErrors> {
    parse_scenario_with_env(source, file_name, &|name| std::env::var(name).ok())
}

/// Like [`parse_scenario`], with `env` answering `{{env.NAME}}` lookups
/// (for tests and embedders that do not want the process environment).
pub fn parse_scenario_with_env(
    source: &str,
    file_name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, PlanErrors> {
    let doc = ImDocument::parse(source).map_err(|e| syntax_error(source, file_name, &e))?;
    let mut ctx = Ctx::new(source, file_name, env);
    let plan = read_plan(&mut ctx, doc.as_table());
    match plan {
        Some(plan) if !ctx.has_errors() => Ok(plan),
        Some(_) => Err(ctx.into_errors()),
        None => {
            if !ctx.has_errors() {
                // Every path that gives up reports why; this is a safety net.
                ctx.error_whole_file(
                    "the scenario is incomplete: expected [target] and [[operation]]",
                );
            }
            Err(ctx.into_errors())
        }
    }
}

fn syntax_error(source: &str, file: &str, e: &toml_edit::TomlError) -> PlanErrors {
    let (line, column) = e.span().map_or((1, 1), |span| line_col(source, span.start));
    let message = e
        .message()
        .trim()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    PlanErrors::one(PlanError {
        file: file.to_string(),
        line,
        column,
        message: format!("invalid TOML: {message}"),
    })
}

struct TargetSpec {
    base_url: Option<String>,
    timeout: Duration,
    insecure: bool,
    headers: Vec<(String, Template)>,
    health: Option<String>,
}

struct OperationSpec {
    name: Option<String>,
    pos: usize,
    /// `None` if any part was wrong (and reported).
    operation: Option<Operation>,
    json_body: bool,
}

fn read_plan(ctx: &mut Ctx<'_>, root: &toml_edit::Table) -> Option<Plan> {
    let mut top = Fields::of_table(root, "", 0);
    let seed = match top.take("seed") {
        None => Some(DEFAULT_SEED),
        Some(e) => ctx.integer(&e, 0, i64::MAX).map(|s| s as u64),
    };
    let target = match top.take("target") {
        Some(e) => ctx.table(&e, "[target]").map(|f| read_target(ctx, f)),
        None => {
            ctx.error_whole_file(
                "missing [target]: expected a [target] table with url = \"http://127.0.0.1:8080\"",
            );
            None
        }
    };
    let operations: Vec<OperationSpec> = match top.take("operation") {
        Some(e) => {
            let list = ctx.tables(&e, "[[operation]]");
            if list.is_empty() {
                ctx.error(e.pos, "no operations: expected at least one [[operation]]");
            }
            list.into_iter().map(|f| read_operation(ctx, f)).collect()
        }
        None => {
            ctx.error_whole_file(
                "no [[operation]]: expected at least one, e.g. [[operation]] with path = \"/\"",
            );
            Vec::new()
        }
    };
    let workload = match top.take("workload") {
        Some(e) => match ctx.table(&e, "[workload]") {
            Some(f) => read_workload(ctx, Some(f)),
            None => None,
        },
        None => read_workload(ctx, None),
    };
    let mut assumption_texts: Vec<Entry<'_>> = Vec::new();
    if let Some(e) = top.take("assumptions") {
        assumption_texts.extend(ctx.array(&e, "an array of strings, e.g. ['p99 < \"300ms\"']"));
    }
    if let Some(e) = top.take("assumption") {
        for mut f in ctx.tables(&e, "[[assumption]]") {
            match f.take("check") {
                Some(check) => assumption_texts.push(check),
                None => ctx.error(
                    f.pos,
                    "[[assumption]] has no `check`: expected e.g. check = 'p99 < \"300ms\"'",
                ),
            }
            f.finish(ctx, &["check"]);
        }
    }
    let behaviour_e = top.take("behaviour");
    let dependency_e = top.take("dependency");
    let fault_e = top.take("fault");
    top.finish(ctx, TOP_KEYS);

    check_operation_set(ctx, &operations);
    let names: Option<Vec<&str>> = operations.iter().map(|o| o.name.as_deref()).collect();
    let assumptions: Vec<Option<Assumption>> = assumption_texts
        .iter()
        .map(|e| read_assumption(ctx, e, names.as_deref()))
        .collect();
    let behaviours = match &behaviour_e {
        None => Some(Vec::new()),
        Some(e) => {
            let list = ctx.tables(e, "[[behaviour]]");
            let run_end = workload.as_ref().and_then(|w| w.stop.duration());
            read_behaviours(ctx, list, names.as_deref(), run_end)
        }
    };

    let dependencies = match &dependency_e {
        None => Some(Vec::new()),
        Some(e) => {
            let list = ctx.tables(e, "[[dependency]]");
            read_dependencies(ctx, list)
        }
    };
    let faults = match &fault_e {
        None => Some(Vec::new()),
        Some(e) => {
            let list = ctx.tables(e, "[[fault]]");
            let names: Vec<String> = dependencies
                .iter()
                .flatten()
                .map(|d| d.name.clone())
                .collect();
            let run_end = workload.as_ref().and_then(|w| w.stop.duration());
            read_faults(ctx, list, &names, run_end)
        }
    };

    let target = target?;
    let base_url = target.base_url?;
    let mut built = Vec::new();
    for spec in operations {
        let mut op = spec.operation?;
        op.headers = merge_headers(&target.headers, op.headers, spec.json_body);
        built.push(op);
    }
    let workload = workload?;
    Some(Plan {
        target: Target {
            base_url,
            health: target.health,
        },
        operations: built,
        workload: workload.workload,
        stop: workload.stop,
        timeout: target.timeout,
        threads: workload.threads.unwrap_or_else(default_threads),
        max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        seed: seed?,
        insecure: target.insecure,
        assumptions: assumptions.into_iter().collect::<Option<Vec<_>>>()?,
        behaviours: behaviours?,
        dependencies: dependencies?,
        faults: faults?,
    })
}

fn read_target(ctx: &mut Ctx<'_>, mut f: Fields<'_>) -> TargetSpec {
    let base_url = match f.take("url") {
        None => {
            ctx.error(
                f.pos,
                "[target] has no `url`: expected e.g. url = \"http://127.0.0.1:8080\"",
            );
            None
        }
        Some(e) => ctx
            .string(&e)
            .and_then(|url| match target_base_url(url, false) {
                Ok(base) => Some(base),
                Err(message) => {
                    ctx.error(e.pos, message);
                    None
                }
            }),
    };
    let timeout = match f.take("timeout") {
        None => DEFAULT_TIMEOUT,
        Some(e) => match ctx.duration(&e) {
            Some(d) if d.is_zero() => {
                ctx.error(e.pos, format!("{}: expected a duration above 0", e.what));
                DEFAULT_TIMEOUT
            }
            Some(d) => d,
            None => DEFAULT_TIMEOUT,
        },
    };
    let insecure = f
        .take("insecure")
        .and_then(|e| ctx.boolean(&e))
        .unwrap_or(false);
    let headers = match f.take("headers") {
        None => Vec::new(),
        Some(e) => read_headers(ctx, &e, "[target] headers").unwrap_or_default(),
    };
    let health = f.take("health").and_then(|e| read_health(ctx, &e));
    f.finish(ctx, TARGET_KEYS);
    TargetSpec {
        base_url,
        timeout,
        insecure,
        headers,
        health,
    }
}

/// `[target] health`: a path starting with `/`, without spaces.
fn read_health(ctx: &mut Ctx<'_>, e: &Entry<'_>) -> Option<String> {
    let path = ctx.string(e)?;
    if !path.starts_with('/') {
        ctx.error_in_string(
            e,
            0,
            format!("health path \"{path}\" must start with `/`: expected a path on the target, e.g. \"/health\""),
        );
        return None;
    }
    if let Some(offset) = path.find(|c: char| c.is_whitespace() || c.is_control()) {
        ctx.error_in_string(
            e,
            offset,
            "a path cannot contain spaces or control characters: expected them percent-encoded, e.g. %20",
        );
        return None;
    }
    Some(path.to_string())
}

fn read_operation(ctx: &mut Ctx<'_>, mut f: Fields<'_>) -> OperationSpec {
    let pos = f.pos;
    let mut ok = true;
    let mut name_pos = pos;
    let name = match f.take("name") {
        None => None,
        Some(e) => {
            name_pos = e.pos;
            match ctx.string(&e) {
                Some(n) if n.trim().is_empty() => {
                    ctx.error(e.pos, format!("{}: expected a non-empty name", e.what));
                    ok = false;
                    None
                }
                Some(n) => Some(n.to_string()),
                None => {
                    ok = false;
                    None
                }
            }
        }
    };
    let (method, method_raw) = match f.take("method") {
        None => (Some("GET".to_string()), Some("GET".to_string())),
        Some(e) => match ctx.string(&e) {
            Some(m) if !m.is_empty() && m.chars().all(|c| c.is_ascii_alphabetic()) => {
                (Some(m.to_ascii_uppercase()), Some(m.to_ascii_uppercase()))
            }
            Some(m) => {
                ctx.error(
                    e.pos,
                    format!("\"{m}\" is not an HTTP method: expected letters A-Z, e.g. \"GET\" or \"POST\""),
                );
                (None, Some(m.to_string()))
            }
            None => (None, None),
        },
    };
    let (path, path_raw) = match f.take("path") {
        None => {
            ctx.error(
                pos,
                "[[operation]] has no `path`: expected e.g. path = \"/products\"",
            );
            (None, None)
        }
        Some(e) => match ctx.string(&e) {
            Some(raw) => {
                if name.is_none() {
                    name_pos = e.pos;
                }
                (read_path(ctx, &e, raw), Some(raw.to_string()))
            }
            None => (None, None),
        },
    };
    let headers = match f.take("headers") {
        None => Some(Vec::new()),
        Some(e) => read_headers(ctx, &e, "[[operation]] headers"),
    };
    let body_e = f.take("body");
    let json_e = f.take("json");
    let mut json_body = false;
    let body = match (&body_e, &json_e) {
        (Some(_), Some(j)) => {
            ctx.error(
                j.key_pos,
                "`body` and `json` are both set in [[operation]]: expected one of them",
            );
            None
        }
        (Some(e), None) => ctx
            .string(e)
            .and_then(|text| ctx.template(e, text))
            .map(Some),
        (None, Some(e)) => {
            json_body = true;
            read_json(ctx, e).map(Some)
        }
        (None, None) => Some(None),
    };
    let weight = match f.take("weight") {
        None => Some(1),
        Some(e) => ctx.integer(&e, 0, i64::from(u32::MAX)).map(|w| w as u32),
    };
    f.finish(ctx, OPERATION_KEYS);

    let name = name.or_else(|| Some(format!("{} {}", method_raw?, path_raw?)));
    let operation = match (ok, &name, method, path, headers, body, weight) {
        (true, Some(name), Some(method), Some(path), Some(headers), Some(body), Some(weight)) => {
            Some(Operation {
                name: name.clone(),
                method,
                path,
                headers,
                body,
                weight,
            })
        }
        _ => None,
    };
    OperationSpec {
        name,
        pos: name_pos,
        operation,
        json_body,
    }
}

fn read_path(ctx: &mut Ctx<'_>, e: &Entry<'_>, raw: &str) -> Option<Template> {
    if !raw.starts_with('/') {
        ctx.error_in_string(
            e,
            0,
            format!("path \"{raw}\" must start with `/`: expected e.g. \"/{raw}\""),
        );
        return None;
    }
    if let Some(offset) = space_outside_variables(raw) {
        ctx.error_in_string(
            e,
            offset,
            "a path cannot contain spaces or control characters: expected them percent-encoded, e.g. %20",
        );
        return None;
    }
    ctx.template(e, raw)
}

/// Byte offset of the first space or control character outside `{{...}}`.
fn space_outside_variables(text: &str) -> Option<usize> {
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with("{{") {
            if let Some(close) = rest.find("}}") {
                i += close + 2;
                continue;
            }
        }
        let c = rest.chars().next()?;
        if c.is_whitespace() || c.is_control() {
            return Some(i);
        }
        i += c.len_utf8();
    }
    None
}

fn read_json(ctx: &mut Ctx<'_>, e: &Entry<'_>) -> Option<Template> {
    let value = match to_json(e.node) {
        Ok(v) => v,
        Err(why) => {
            ctx.error(e.pos, format!("{}: {why}", e.what));
            return None;
        }
    };
    if !ctx.templates_in(e) {
        return None;
    }
    match Template::parse(&value) {
        Ok(mut t) => {
            let env = ctx.env();
            let _ = t.resolve_env(|name| Some(env(name).unwrap_or_default()));
            Some(match t.as_literal() {
                Some(text) => Template::literal(&text),
                None => t,
            })
        }
        Err(err) => {
            ctx.error(e.pos, format!("{}: {}", e.what, err.message));
            None
        }
    }
}

/// Whether `name` is an HTTP header name (an RFC 9110 token).
pub(crate) fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

fn read_headers(
    ctx: &mut Ctx<'_>,
    e: &Entry<'_>,
    context: &str,
) -> Option<Vec<(String, Template)>> {
    let mut fields = ctx.table(e, context)?;
    let mut out = Vec::new();
    let mut ok = true;
    for (name, entry) in fields.take_all() {
        if !is_header_name(&name) {
            ctx.error(
                entry.key_pos,
                format!("\"{name}\" is not a valid header name: expected letters, digits and `-`, e.g. \"X-Request-Id\""),
            );
            ok = false;
            continue;
        }
        let Some(text) = ctx.string(&entry) else {
            ok = false;
            continue;
        };
        if let Some(offset) = text.find(['\r', '\n']) {
            ctx.error_in_string(
                &entry,
                offset,
                "a header value cannot contain a line break: expected a single line",
            );
            ok = false;
            continue;
        }
        match ctx.template(&entry, text) {
            Some(t) => out.push((name, t)),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// Target headers first (unless the operation sets the same name, in any
/// case), then the operation's; a JSON body adds `Content-Type` if missing.
fn merge_headers(
    target: &[(String, Template)],
    own: Vec<(String, Template)>,
    json_body: bool,
) -> Vec<(String, Template)> {
    let mut merged: Vec<(String, Template)> = target
        .iter()
        .filter(|(name, _)| !own.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)))
        .cloned()
        .collect();
    merged.extend(own);
    if json_body
        && !merged
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        merged.push((
            "Content-Type".to_string(),
            Template::literal("application/json"),
        ));
    }
    merged
}

/// Duplicate names and all-zero weights.
fn check_operation_set(ctx: &mut Ctx<'_>, operations: &[OperationSpec]) {
    for (i, op) in operations.iter().enumerate() {
        let Some(name) = &op.name else { continue };
        if let Some(first) = operations[..i]
            .iter()
            .find(|o| o.name.as_deref() == Some(name))
        {
            let (line, _) = line_col_of(ctx, first.pos);
            ctx.error(
                op.pos,
                format!("operation name \"{name}\" is already used on line {line}: expected each [[operation]] to have its own `name`"),
            );
        }
    }
    let weights: Option<Vec<u32>> = operations
        .iter()
        .map(|o| o.operation.as_ref().map(|op| op.weight))
        .collect();
    if let (Some(weights), Some(first)) = (weights, operations.first()) {
        if weights.iter().all(|w| *w == 0) {
            ctx.error(
                first.pos,
                "every [[operation]] has weight 0: expected at least one weight above 0",
            );
        }
    }
}

fn line_col_of(ctx: &Ctx<'_>, pos: usize) -> (usize, usize) {
    ctx.line_col(pos)
}

fn read_assumption(ctx: &mut Ctx<'_>, e: &Entry<'_>, names: Option<&[&str]>) -> Option<Assumption> {
    let text = ctx.string(e)?;
    let (assumption, op_offset) = match parse_located(text) {
        Ok(parsed) => parsed,
        Err(err) => {
            ctx.error_in_string(e, err.offset, err.message);
            return None;
        }
    };
    if let (Some(op), Some(names)) = (&assumption.operation, names) {
        if !names.contains(&op.as_str()) {
            let known = names
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ");
            ctx.error_in_string(
                e,
                op_offset.unwrap_or(0),
                format!("no operation is named \"{op}\": expected one of {known}"),
            );
            return None;
        }
    }
    Some(assumption)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_headers_case_insensitively() {
        let t = |s: &str| Template::literal(s);
        let merged = merge_headers(
            &[("accept".into(), t("a")), ("X-Token".into(), t("b"))],
            vec![("Accept".into(), t("c"))],
            true,
        );
        let names: Vec<&str> = merged.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["X-Token", "Accept", "Content-Type"]);
        assert_eq!(merged[1].1, t("c"));
    }

    #[test]
    fn header_names_are_tokens() {
        assert!(is_header_name("X-Request-Id"));
        assert!(!is_header_name("Bad Header"));
        assert!(!is_header_name(""));
    }
}
