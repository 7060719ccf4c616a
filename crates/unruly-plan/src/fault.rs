//! `[[dependency]]` and `[[fault]]`: dependencies put behind fault proxies for the run,
//! and faults put on them on a schedule, with the fault proxy's own types and attributes.
//!
//! ```toml
//! [[dependency]]
//! name = "shipping"
//! listen = "127.0.0.1:7001"      # what the target calls
//! upstream = "127.0.0.1:7000"    # where the dependency is
//!
//! [[fault]]
//! dependency = "shipping"
//! at = "10s"
//! for = "5s"
//! type = "latency"               # a Toxiproxy toxic, "down", or an HTTP fault
//! attributes = { latency = 5000 }
//! ```

use crate::toml_view::{closest, to_json, Ctx, Fields};
use std::time::Duration;
use unruly_core::{DependencyProxy, FaultAction, ScheduledFault};
use unruly_faults::{HttpFault, Toxic, HTTP_FAULT_TYPES, TOXIC_TYPES};

const DEPENDENCY_KEYS: &[&str] = &["name", "listen", "upstream"];
const SCHEDULE_KEYS: &[&str] = &["name", "dependency", "at", "for", "type"];
const TOXIC_KEYS: &[&str] = &["stream", "toxicity", "attributes"];
const HTTP_KEYS: &[&str] = &["method", "path", "percent", "attributes"];

/// The `[[dependency]]` tables.
pub(crate) fn read_dependencies(
    ctx: &mut Ctx<'_>,
    list: Vec<Fields<'_>>,
) -> Option<Vec<DependencyProxy>> {
    let mut dependencies: Vec<Option<DependencyProxy>> = Vec::new();
    for mut f in list {
        let pos = f.pos;
        let mut text =
            |ctx: &mut Ctx<'_>, key: &str, example: &str, address: bool| match f.take(key) {
                None => {
                    ctx.error(
                        pos,
                        format!("[[dependency]] has no `{key}`: expected {key} = \"{example}\""),
                    );
                    None
                }
                Some(e) => {
                    let value = ctx.string(&e)?;
                    let valid = if address {
                        value.rsplit_once(':').is_some_and(|(host, port)| {
                            !host.is_empty() && port.parse::<u16>().is_ok()
                        })
                    } else {
                        !value.trim().is_empty()
                    };
                    if !valid {
                        ctx.error(
                            e.pos,
                            format!(
                                "{}: \"{value}\" is not valid: expected e.g. \"{example}\"",
                                e.what
                            ),
                        );
                        return None;
                    }
                    Some((value.to_owned(), e.pos))
                }
            };
        let name = text(ctx, "name", "payments", false);
        let listen = text(ctx, "listen", "127.0.0.1:7001", true);
        let upstream = text(ctx, "upstream", "127.0.0.1:7000", true);
        if let Some((name, name_pos)) = &name {
            if dependencies.iter().flatten().any(|d| &d.name == name) {
                ctx.error(*name_pos, format!("dependency name \"{name}\" is used twice: expected each [[dependency]] to have its own name"));
            }
        }
        f.finish(ctx, DEPENDENCY_KEYS);
        dependencies.push(match (name, listen, upstream) {
            (Some((name, _)), Some((listen, _)), Some((upstream, _))) => Some(DependencyProxy {
                name,
                listen,
                upstream,
            }),
            _ => None,
        });
    }
    dependencies.into_iter().collect()
}

/// The `[[fault]]` tables, on the dependencies declared.
pub(crate) fn read_faults(
    ctx: &mut Ctx<'_>,
    list: Vec<Fields<'_>>,
    dependencies: &[String],
    run_end: Option<Duration>,
) -> Option<Vec<ScheduledFault>> {
    let faults: Vec<Option<ScheduledFault>> = list
        .into_iter()
        .enumerate()
        .map(|(index, f)| read_fault(ctx, f, index + 1, dependencies, run_end))
        .collect();
    faults.into_iter().collect()
}

fn read_fault(
    ctx: &mut Ctx<'_>,
    mut f: Fields<'_>,
    number: usize,
    dependencies: &[String],
    run_end: Option<Duration>,
) -> Option<ScheduledFault> {
    let pos = f.pos;
    let declared = if dependencies.is_empty() {
        "no [[dependency]] is declared".to_owned()
    } else {
        format!(
            "one of {}",
            dependencies
                .iter()
                .map(|d| format!("\"{d}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let dependency = match f.take("dependency") {
        None => {
            ctx.error(pos, format!("[[fault]] has no `dependency`: expected the name of a [[dependency]] ({declared})"));
            None
        }
        Some(e) => match ctx.string(&e) {
            Some(name) if dependencies.iter().any(|d| d == name) => Some(name.to_owned()),
            Some(name) => {
                ctx.error(
                    e.pos,
                    format!("no [[dependency]] is named \"{name}\": expected {declared}"),
                );
                None
            }
            None => None,
        },
    };
    let at = match f.take("at") {
        None => Some(Duration::ZERO),
        Some(e) => {
            let at = ctx.duration(&e)?;
            if run_end.is_some_and(|end| at >= end) {
                ctx.error(e.pos, format!("{}: the fault would start after the run ends: expected an earlier time, or a longer run", e.what));
                return None;
            }
            Some(at)
        }
    };
    let duration = match f.take("for") {
        None => {
            ctx.error(
                pos,
                "[[fault]] has no `for`: expected how long it lasts, e.g. for = \"10s\"",
            );
            None
        }
        Some(e) => ctx.duration(&e).filter(|d| {
            let positive = !d.is_zero();
            if !positive {
                ctx.error(
                    e.pos,
                    format!("{}: expected a duration longer than zero", e.what),
                );
            }
            positive
        }),
    };
    let type_list = format!(
        "\"down\", a toxic ({}) or an HTTP fault ({})",
        TOXIC_TYPES.join(", "),
        HTTP_FAULT_TYPES.join(", ")
    );
    let (kind, type_pos) = match f.take("type") {
        None => {
            ctx.error(
                pos,
                format!("[[fault]] has no `type`: expected {type_list}"),
            );
            (None, pos)
        }
        Some(e) => match ctx.string(&e) {
            Some(text) => {
                let known: Vec<&str> = std::iter::once("down")
                    .chain(TOXIC_TYPES)
                    .chain(HTTP_FAULT_TYPES)
                    .collect();
                if known.contains(&text) {
                    (Some(text.to_owned()), e.pos)
                } else {
                    let mut message =
                        format!("type \"{text}\" is not a fault: expected {type_list}");
                    if let Some(close) = closest(text, &known) {
                        message.push_str(&format!(" (did you mean \"{close}\"?)"));
                    }
                    ctx.error(e.pos, message);
                    (None, e.pos)
                }
            }
            None => (None, e.pos),
        },
    };
    let name = match f.take("name") {
        Some(e) => ctx.string(&e).map(str::to_owned),
        None => Some(match (&dependency, &kind) {
            (Some(dependency), Some(kind)) => format!("{dependency} {kind}"),
            _ => format!("fault {number}"),
        }),
    };
    let kind = kind?;
    let is_toxic = TOXIC_TYPES.contains(&kind.as_str());
    let extra: &[&str] = match kind.as_str() {
        "down" => &[],
        _ if is_toxic => TOXIC_KEYS,
        _ => HTTP_KEYS,
    };
    let mut body = serde_json::Map::new();
    body.insert("name".to_owned(), format!("unruly_fault_{number}").into());
    body.insert("type".to_owned(), kind.clone().into());
    let mut bad = false;
    for key in extra {
        let Some(e) = f.take(key) else { continue };
        match to_json(e.node)
            .ok()
            .and_then(|json| serde_json::from_str(&json).ok())
        {
            Some(value) => {
                body.insert((*key).to_owned(), value);
            }
            None => {
                ctx.error(
                    e.pos,
                    format!("{}: expected a value that JSON can hold", e.what),
                );
                bad = true;
            }
        }
    }
    let known: Vec<&str> = SCHEDULE_KEYS.iter().chain(extra).copied().collect();
    f.finish(ctx, &known);
    let body = serde_json::Value::Object(body).to_string();
    let action = match kind.as_str() {
        "down" => FaultAction::Down,
        _ if is_toxic => match Toxic::from_json(body.as_bytes()) {
            Ok(_) => FaultAction::Toxic(body),
            Err(error) => {
                ctx.error(
                    type_pos,
                    format!("[[fault]] of type \"{kind}\": {}", error.error),
                );
                return None;
            }
        },
        _ => match HttpFault::from_json(body.as_bytes()) {
            Ok(_) => FaultAction::Http(body),
            Err(error) => {
                ctx.error(
                    type_pos,
                    format!("[[fault]] of type \"{kind}\": {}", error.error),
                );
                return None;
            }
        },
    };
    if bad {
        return None;
    }
    Some(ScheduledFault {
        name: name?,
        dependency: dependency?,
        at: at?,
        duration: duration?,
        action,
    })
}
