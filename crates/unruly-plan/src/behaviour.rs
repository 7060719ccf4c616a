//! `[[behaviour]]`: unruly behaviours (bursts, double submits, refresh storms,
//! slow clients), their schedules and their invariants.
//!
//! ```toml
//! [[behaviour]]
//! kind = "burst"                 # burst | double_submit | refresh_storm | slow_clients
//! operation = "POST /accounts/{id}/withdraw"   # the name of an [[operation]]
//! count = 20
//! at = "5s"                      # optional; every = "10s"; times = 3
//! invariant = { read = "GET /accounts/{id}", expect = "$.balance >= 0" }
//! ```

use crate::duration::format_duration;
use crate::scenario::is_header_name;
use crate::toml_view::{closest, Ctx, Entry, Fields, Node};
use std::time::Duration;
use toml_edit::Value;
use unruly_core::{
    placeholders, Behaviour, BehaviourKind, BehaviourSchedule, Expectation, Invariant, SlowMode,
};

/// Requests in a burst by default.
const DEFAULT_BURST_COUNT: i64 = 20;
/// Copies of a double submit by default.
const DEFAULT_SUBMIT_COUNT: i64 = 2;
/// Tabs of a refresh storm by default.
const DEFAULT_TABS: i64 = 20;
/// How long a refresh storm lasts by default.
const DEFAULT_STORM: Duration = Duration::from_secs(2);
/// The share of a refresh storm's requests abandoned by default.
const DEFAULT_ABANDON: f64 = 0.25;
/// Slow clients by default.
const DEFAULT_CLIENTS: i64 = 64;
/// How long slow clients stay by default.
const DEFAULT_SLOW: Duration = Duration::from_secs(5);
/// The pace of slow clients by default, in bytes per second.
const DEFAULT_BYTES_PER_SECOND: i64 = 1;
/// The header `idempotency_key = true` stands for.
const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

const COMMON_KEYS: &[&str] = &["kind", "name", "operation", "at", "every", "times"];
/// Every key some kind takes, in the order they are checked.
const SPECIFIC_KEYS: &[&str] = &[
    "count",
    "idempotency_key",
    "invariant",
    "tabs",
    "duration",
    "abandon",
    "mode",
    "clients",
    "bytes_per_second",
];
const INVARIANT_KEYS: &[&str] = &["read", "expect"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Burst,
    DoubleSubmit,
    RefreshStorm,
    SlowClients,
}

const KINDS: [Kind; 4] = [
    Kind::Burst,
    Kind::DoubleSubmit,
    Kind::RefreshStorm,
    Kind::SlowClients,
];
const KIND_NAMES: &[&str] = &["burst", "double_submit", "refresh_storm", "slow_clients"];
const KIND_LIST: &str = "\"burst\", \"double_submit\", \"refresh_storm\" or \"slow_clients\"";

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Burst => "burst",
            Kind::DoubleSubmit => "double_submit",
            Kind::RefreshStorm => "refresh_storm",
            Kind::SlowClients => "slow_clients",
        }
    }

    /// The keys this kind takes besides the common ones.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Burst => &["count", "invariant"],
            Kind::DoubleSubmit => &["count", "idempotency_key", "invariant"],
            Kind::RefreshStorm => &["tabs", "duration", "abandon"],
            Kind::SlowClients => &["mode", "clients", "duration", "bytes_per_second"],
        }
    }
}

/// A behaviour as read, with what the duplicate-name check needs.
struct BehaviourSpec {
    name: String,
    name_pos: usize,
    /// `None` if any part was wrong (and reported).
    behaviour: Option<Behaviour>,
}

/// Reads every `[[behaviour]]`. `operations` are the names of the scenario's
/// operations (`None` when some could not be read: then names are not
/// checked); `run_end` is the run's length when it is bounded by time.
/// `None` if anything was wrong (all of it is reported).
pub(crate) fn read_behaviours(
    ctx: &mut Ctx<'_>,
    list: Vec<Fields<'_>>,
    operations: Option<&[&str]>,
    run_end: Option<Duration>,
) -> Option<Vec<Behaviour>> {
    let specs: Vec<BehaviourSpec> = list
        .into_iter()
        .enumerate()
        .map(|(i, f)| read_behaviour(ctx, f, i + 1, operations, run_end))
        .collect();
    for (i, spec) in specs.iter().enumerate() {
        if let Some(first) = specs[..i].iter().find(|s| s.name == spec.name) {
            let (line, _) = ctx.line_col(first.name_pos);
            ctx.error(
                spec.name_pos,
                format!(
                    "behaviour name \"{}\" is already used on line {line}: expected each [[behaviour]] to have its own `name`",
                    spec.name
                ),
            );
        }
    }
    specs.into_iter().map(|s| s.behaviour).collect()
}

fn read_behaviour(
    ctx: &mut Ctx<'_>,
    mut f: Fields<'_>,
    number: usize,
    operations: Option<&[&str]>,
    run_end: Option<Duration>,
) -> BehaviourSpec {
    let pos = f.pos;
    let kind = match f.take("kind") {
        None => {
            ctx.error(
                pos,
                format!("[[behaviour]] has no `kind`: expected kind = {KIND_LIST}"),
            );
            None
        }
        Some(e) => match ctx.string(&e) {
            Some(text) => {
                let kind = KINDS.into_iter().find(|k| k.name() == text);
                if kind.is_none() {
                    let mut message =
                        format!("kind \"{text}\" is not a behaviour: expected {KIND_LIST}");
                    if let Some(close) = closest(text, KIND_NAMES) {
                        message.push_str(&format!(" (did you mean \"{close}\"?)"));
                    }
                    ctx.error(e.pos, message);
                }
                kind
            }
            None => None,
        },
    };

    let default_name = format!("behaviour {number}");
    let mut ok = true;
    let (name, name_pos) = match f.take("name") {
        None => (default_name, pos),
        Some(e) => match ctx.string(&e) {
            Some(n) if !n.trim().is_empty() => (n.to_string(), e.pos),
            Some(_) => {
                ctx.error(e.pos, format!("{}: expected a non-empty name", e.what));
                ok = false;
                (default_name, e.pos)
            }
            None => {
                ok = false;
                (default_name, e.pos)
            }
        },
    };

    let operation = match f.take("operation") {
        None => {
            let names = operations.map_or(String::new(), |names| {
                format!(" (one of {})", quoted_list(names))
            });
            ctx.error(
                pos,
                format!("[[behaviour]] has no `operation`: expected operation = the name of an [[operation]]{names}"),
            );
            None
        }
        Some(e) => match ctx.string(&e) {
            Some(op) => match operations {
                Some(names) if !names.contains(&op) => {
                    ctx.error(
                        e.pos,
                        format!(
                            "no operation is named \"{op}\": expected one of {}",
                            quoted_list(names)
                        ),
                    );
                    None
                }
                _ => Some(op.to_string()),
            },
            None => None,
        },
    };

    let schedule = read_schedule(ctx, &mut f, run_end);

    let specific: Vec<(&'static str, Entry<'_>)> = SPECIFIC_KEYS
        .iter()
        .filter_map(|key| f.take(key).map(|e| (*key, e)))
        .collect();
    let allowed: Vec<&str> = match kind {
        Some(kind) => COMMON_KEYS.iter().chain(kind.keys()).copied().collect(),
        None => COMMON_KEYS.iter().chain(SPECIFIC_KEYS).copied().collect(),
    };
    f.finish(ctx, &allowed);

    let Some(kind) = kind else {
        return BehaviourSpec {
            name,
            name_pos,
            behaviour: None,
        };
    };
    for (key, e) in &specific {
        if !kind.keys().contains(key) {
            let owners: Vec<&str> = KINDS
                .into_iter()
                .filter(|k| k.keys().contains(key))
                .map(Kind::name)
                .collect();
            ctx.error(
                e.key_pos,
                format!(
                    "{} does not apply to kind = \"{}\" (it is for {}): expected one of {}",
                    e.what,
                    kind.name(),
                    owners.join(" and "),
                    allowed.join(", ")
                ),
            );
            ok = false;
        }
    }
    let kind = read_kind(ctx, kind, pos, &specific, operation);
    let behaviour = match (ok, kind, schedule) {
        (true, Some(kind), Some(schedule)) => Some(Behaviour {
            name: name.clone(),
            kind,
            schedule,
        }),
        _ => None,
    };
    BehaviourSpec {
        name,
        name_pos,
        behaviour,
    }
}

/// `at`, `every` and `times`.
fn read_schedule(
    ctx: &mut Ctx<'_>,
    f: &mut Fields<'_>,
    run_end: Option<Duration>,
) -> Option<BehaviourSchedule> {
    let at = match f.take("at") {
        None => Some(Duration::ZERO),
        Some(e) => match ctx.duration(&e) {
            Some(at) => match run_end {
                Some(end) if at >= end => {
                    ctx.error(
                        e.pos,
                        format!(
                            "{}: {} is not before the run ends (after {}): expected an earlier time, or a longer run",
                            e.what,
                            format_duration(at),
                            format_duration(end)
                        ),
                    );
                    None
                }
                _ => Some(at),
            },
            None => None,
        },
    };
    let every_e = f.take("every");
    let every = match &every_e {
        None => Some(None),
        Some(e) => positive_duration(ctx, e).map(Some),
    };
    let times = match f.take("times") {
        None if every_e.is_some() => Some(u32::MAX),
        None => Some(1),
        Some(e) => match ctx.integer(&e, 1, i64::from(u32::MAX)) {
            Some(n) if n > 1 && every_e.is_none() => {
                ctx.error(
                    e.pos,
                    format!(
                        "{}: {n} firings need a period: expected every = \"10s\" as well, or times removed",
                        e.what
                    ),
                );
                None
            }
            Some(n) => u32::try_from(n).ok(),
            None => None,
        },
    };
    Some(BehaviourSchedule {
        at: at?,
        every: every?,
        times: times?,
    })
}

/// The kind's own keys, with their defaults.
fn read_kind(
    ctx: &mut Ctx<'_>,
    kind: Kind,
    pos: usize,
    specific: &[(&'static str, Entry<'_>)],
    operation: Option<String>,
) -> Option<BehaviourKind> {
    // Keys of other kinds are reported by the caller.
    let get = |key: &str| {
        specific
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, e)| e)
            .filter(|_| kind.keys().contains(&key))
    };
    match kind {
        Kind::Burst => {
            let count = integer(ctx, get("count"), 2, 1000, DEFAULT_BURST_COUNT);
            let invariant = optional_invariant(ctx, get("invariant"), operation.as_deref());
            Some(BehaviourKind::Burst {
                operation: operation?,
                count: usize::try_from(count?).ok()?,
                invariant: invariant?,
            })
        }
        Kind::DoubleSubmit => {
            let count = integer(ctx, get("count"), 2, 100, DEFAULT_SUBMIT_COUNT);
            let key = idempotency_key(ctx, get("idempotency_key"));
            let invariant = optional_invariant(ctx, get("invariant"), operation.as_deref());
            Some(BehaviourKind::DoubleSubmit {
                operation: operation?,
                count: usize::try_from(count?).ok()?,
                idempotency_key: key?,
                invariant: invariant?,
            })
        }
        Kind::RefreshStorm => {
            let tabs = integer(ctx, get("tabs"), 1, 10_000, DEFAULT_TABS);
            let duration = match get("duration") {
                None => Some(DEFAULT_STORM),
                Some(e) => positive_duration(ctx, e),
            };
            let abandon = share(ctx, get("abandon"));
            Some(BehaviourKind::RefreshStorm {
                operation: operation?,
                tabs: usize::try_from(tabs?).ok()?,
                duration: duration?,
                abandon: abandon?,
            })
        }
        Kind::SlowClients => {
            let mode = match get("mode") {
                None => {
                    ctx.error(
                        pos,
                        "[[behaviour]] of kind = \"slow_clients\" has no `mode`: expected mode = \"headers\" (a slow request head), \"upload\" (a slow body) or \"read\" (slow reading of the answer)",
                    );
                    None
                }
                Some(e) => match ctx.string(e) {
                    Some("headers") => Some(SlowMode::Headers),
                    Some("upload") => Some(SlowMode::Upload),
                    Some("read") => Some(SlowMode::Read),
                    Some(other) => {
                        ctx.error(
                            e.pos,
                            format!("mode \"{other}\" is not a slow-client mode: expected \"headers\", \"upload\" or \"read\""),
                        );
                        None
                    }
                    None => None,
                },
            };
            let clients = integer(ctx, get("clients"), 1, 10_000, DEFAULT_CLIENTS);
            let duration = match get("duration") {
                None => Some(DEFAULT_SLOW),
                Some(e) => positive_duration(ctx, e),
            };
            let pace = integer(
                ctx,
                get("bytes_per_second"),
                1,
                1_000_000_000,
                DEFAULT_BYTES_PER_SECOND,
            );
            Some(BehaviourKind::SlowClients {
                mode: mode?,
                operation: operation?,
                clients: usize::try_from(clients?).ok()?,
                duration: duration?,
                bytes_per_second: u64::try_from(pace?).ok()?,
            })
        }
    }
}

/// An integer in `min..=max`, or `default` when absent.
fn integer(
    ctx: &mut Ctx<'_>,
    e: Option<&Entry<'_>>,
    min: i64,
    max: i64,
    default: i64,
) -> Option<i64> {
    match e {
        None => Some(default),
        Some(e) => ctx.integer(e, min, max),
    }
}

/// A duration above 0.
fn positive_duration(ctx: &mut Ctx<'_>, e: &Entry<'_>) -> Option<Duration> {
    match ctx.duration(e) {
        Some(d) if d.is_zero() => {
            ctx.error(e.pos, format!("{}: expected a duration above 0", e.what));
            None
        }
        other => other,
    }
}

/// `abandon`: a share in `0..=1`.
fn share(ctx: &mut Ctx<'_>, e: Option<&Entry<'_>>) -> Option<f64> {
    let Some(e) = e else {
        return Some(DEFAULT_ABANDON);
    };
    let value = match e.node {
        Node::Value(Value::Integer(i)) => *i.value() as f64,
        Node::Value(Value::Float(f)) => *f.value(),
        _ => {
            ctx.mismatch(e, "a share from 0 to 1, e.g. 0.25");
            return None;
        }
    };
    if (0.0..=1.0).contains(&value) {
        Some(value)
    } else {
        ctx.error(
            e.pos,
            format!(
                "{}: expected a share from 0 to 1, e.g. 0.25, found {value}",
                e.what
            ),
        );
        None
    }
}

/// `idempotency_key`: `true` (the usual header), `false`, or a header name.
fn idempotency_key(ctx: &mut Ctx<'_>, e: Option<&Entry<'_>>) -> Option<Option<String>> {
    let Some(e) = e else {
        return Some(None);
    };
    match e.node {
        Node::Value(Value::Boolean(b)) => Some(b.value().then(|| IDEMPOTENCY_KEY.to_string())),
        Node::Value(Value::String(s)) if is_header_name(s.value()) => Some(Some(s.value().clone())),
        Node::Value(Value::String(s)) => {
            ctx.error(
                e.pos,
                format!(
                    "\"{}\" is not a valid header name: expected letters, digits and `-`, e.g. \"{IDEMPOTENCY_KEY}\" (or true for that one)",
                    s.value()
                ),
            );
            None
        }
        _ => {
            ctx.mismatch(
                e,
                &format!("true, false or a header name such as \"{IDEMPOTENCY_KEY}\""),
            );
            None
        }
    }
}

/// `None` if the invariant is wrong; `Some(None)` if there is none.
fn optional_invariant(
    ctx: &mut Ctx<'_>,
    e: Option<&Entry<'_>>,
    operation: Option<&str>,
) -> Option<Option<Invariant>> {
    match e {
        None => Some(None),
        Some(e) => read_invariant(ctx, e, operation).map(Some),
    }
}

/// `invariant = { read = "GET /accounts/{id}", expect = "$.balance >= 0" }`.
fn read_invariant(ctx: &mut Ctx<'_>, e: &Entry<'_>, operation: Option<&str>) -> Option<Invariant> {
    if !matches!(e.node, Node::Table(_) | Node::Value(Value::InlineTable(_))) {
        ctx.mismatch(
            e,
            "a table such as { read = \"GET /accounts/{id}\", expect = \"$.balance >= 0\" }",
        );
        return None;
    }
    let mut f = ctx.table(e, "the invariant")?;
    let pos = f.pos;
    let read_e = f.take("read");
    let expect_e = f.take("expect");
    f.finish(ctx, INVARIANT_KEYS);
    let read = match &read_e {
        None => {
            ctx.error(
                pos,
                "the invariant has no `read`: expected e.g. read = \"GET /accounts/{id}\"",
            );
            None
        }
        Some(e) => ctx
            .string(e)
            .and_then(|text| read_request(ctx, e, text, operation)),
    };
    let expect = match &expect_e {
        None => {
            ctx.error(
                pos,
                "the invariant has no `expect`: expected e.g. expect = \"$.balance >= 0\"",
            );
            None
        }
        Some(e) => ctx
            .string(e)
            .and_then(|text| match Expectation::parse(text) {
                Ok(expect) => Some((expect, text.trim().to_string())),
                Err(err) => {
                    ctx.error_in_string(e, byte_offset(text, err.offset), err.message);
                    None
                }
            }),
    };
    let (read_method, read_path) = read?;
    let (expect, written) = expect?;
    Some(Invariant {
        read_method,
        read_path,
        expect,
        written,
    })
}

/// `METHOD /path`, whose `{name}` placeholders all appear in the operation
/// name (when it is known).
fn read_request(
    ctx: &mut Ctx<'_>,
    e: &Entry<'_>,
    text: &str,
    operation: Option<&str>,
) -> Option<(String, String)> {
    let start = text.len() - text.trim_start().len();
    // `text` up to its trailing whitespace (all of it when it is blank).
    let body = &text[..start + text.trim().len()];
    let Some(space) = body[start..].find(char::is_whitespace) else {
        let message = if body[start..].starts_with('/') {
            format!(
                "{}: \"{text}\" has no method: expected \"METHOD /path\", e.g. \"GET {}\"",
                e.what,
                body.trim_start()
            )
        } else {
            format!(
                "{}: \"{text}\" is not \"METHOD /path\": expected e.g. \"GET /accounts/{{id}}\"",
                e.what
            )
        };
        ctx.error(e.pos, message);
        return None;
    };
    let method = &body[start..start + space];
    if !method.chars().all(|c| c.is_ascii_alphabetic()) {
        ctx.error_in_string(
            e,
            start,
            format!("\"{method}\" is not an HTTP method: expected letters A-Z, e.g. \"GET\""),
        );
        return None;
    }
    let after = &body[start + space..];
    let path_start = start + space + (after.len() - after.trim_start().len());
    let path = &body[path_start..];
    if !path.starts_with('/') {
        ctx.error_in_string(
            e,
            path_start,
            format!("the path \"{path}\" must start with `/`: expected e.g. \"{method} /{path}\""),
        );
        return None;
    }
    if let Some(i) = path.find(|c: char| c.is_whitespace() || c.is_control()) {
        ctx.error_in_string(
            e,
            path_start + i,
            "a path cannot contain spaces or control characters: expected them percent-encoded, e.g. %20",
        );
        return None;
    }
    let found = placeholders(path);
    let mut ok = true;
    // Every brace belongs to a placeholder.
    let mut covered = found.iter().map(|(at, name)| *at..*at + name.len() + 2);
    let mut next = covered.next();
    for (i, c) in path.char_indices() {
        while next.as_ref().is_some_and(|r| r.end <= i) {
            next = covered.next();
        }
        let inside = next.as_ref().is_some_and(|r| r.contains(&i));
        if (c == '{' || c == '}') && !inside {
            ctx.error_in_string(
                e,
                path_start + i,
                format!("`{c}` in the path of `read` is not part of a placeholder: expected placeholders such as {{id}} (letters, digits, `_`, `-`, `.`)"),
            );
            ok = false;
            break;
        }
    }
    if let Some(operation) = operation {
        let known: Vec<&str> = placeholders(operation)
            .into_iter()
            .map(|(_, name)| name)
            .collect();
        for (at, name) in &found {
            if known.contains(name) {
                continue;
            }
            let message = if known.is_empty() {
                format!("placeholder {{{name}}} in `read` does not appear in the operation \"{operation}\", which has none: expected a path without placeholders, or an operation whose name has {{{name}}}")
            } else {
                let list = known
                    .iter()
                    .map(|n| format!("{{{n}}}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("placeholder {{{name}}} in `read` does not appear in the operation \"{operation}\": expected one of {list}")
            };
            ctx.error_in_string(e, path_start + at, message);
            ok = false;
        }
    }
    ok.then(|| (method.to_ascii_uppercase(), path.to_string()))
}

/// The byte offset of character `chars` of `text` (its length past the end).
fn byte_offset(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i)
}

fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_offsets_of_characters() {
        assert_eq!(byte_offset("aéb", 2), 3);
        assert_eq!(byte_offset("ab", 5), 2);
    }
}
