//! `[workload]` and `[[workload.stage]]`: how requests arrive and when the run stops.

use crate::duration::format_duration;
use crate::toml_view::{Ctx, Entry, Fields};
use std::time::Duration;
use unruly_core::{Stage, StopCondition, Workload};

/// Most users or connections a plan may ask for.
pub(crate) const MAX_CONNECTIONS: usize = 1_000_000;

const WORKLOAD_KEYS: &[&str] = &[
    "model",
    "users",
    "think_time",
    "duration",
    "requests",
    "connections",
    "threads",
    "stage",
];
const STAGE_KEYS: &[&str] = &["rate", "ramp_to", "spike_to", "duration", "rise"];

/// Default closed-model users.
pub(crate) const DEFAULT_USERS: usize = 10;
/// Default run length.
pub(crate) const DEFAULT_DURATION: Duration = Duration::from_secs(10);
/// Default open-model connections.
pub(crate) const DEFAULT_CONNECTIONS: usize = 50;
/// Default spike rise time.
const DEFAULT_RISE: Duration = Duration::from_secs(1);

/// The workload part of a plan.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WorkloadPlan {
    pub workload: Workload,
    pub stop: StopCondition,
    pub threads: Option<usize>,
}

/// The OS threads to use when none are given: one per CPU.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[derive(Clone, Copy, PartialEq)]
enum Model {
    Closed,
    Open,
}

/// Reads `[workload]` (absent: closed, 10 users, 10 s).
pub(crate) fn read_workload(ctx: &mut Ctx<'_>, fields: Option<Fields<'_>>) -> Option<WorkloadPlan> {
    let Some(mut f) = fields else {
        return Some(WorkloadPlan {
            workload: Workload::Closed {
                users: DEFAULT_USERS,
                think_time: Duration::ZERO,
            },
            stop: StopCondition::Duration(DEFAULT_DURATION),
            threads: None,
        });
    };
    let mut ok = true;
    let model = match f.take("model") {
        None => Some(Model::Closed),
        Some(e) => match ctx.string(&e) {
            Some("closed") => Some(Model::Closed),
            Some("open") => Some(Model::Open),
            Some(other) => {
                ctx.error(
                    e.pos,
                    format!("model \"{other}\" is not a workload model: expected \"closed\" or \"open\""),
                );
                None
            }
            None => None,
        },
    };
    let users_e = f.take("users");
    let think_e = f.take("think_time");
    let duration_e = f.take("duration");
    let requests_e = f.take("requests");
    let connections_e = f.take("connections");
    let threads_e = f.take("threads");
    let stage_e = f.take("stage");
    let workload_pos = f.pos;
    f.finish(ctx, WORKLOAD_KEYS);

    let count = |ctx: &mut Ctx<'_>, e: &Option<Entry<'_>>, default: usize, ok: &mut bool| match e {
        None => default,
        Some(e) => match ctx.integer(e, 1, MAX_CONNECTIONS as i64) {
            Some(n) => n as usize,
            None => {
                *ok = false;
                default
            }
        },
    };
    let users = count(ctx, &users_e, DEFAULT_USERS, &mut ok);
    let connections = count(ctx, &connections_e, DEFAULT_CONNECTIONS, &mut ok);
    let threads = match &threads_e {
        None => None,
        Some(e) => {
            let n = ctx.integer(e, 1, 65_536).map(|n| n as usize);
            ok &= n.is_some();
            n
        }
    };
    let think_time = match &think_e {
        None => Duration::ZERO,
        Some(e) => ctx.duration(e).unwrap_or_else(|| {
            ok = false;
            Duration::ZERO
        }),
    };
    let duration = match &duration_e {
        None => DEFAULT_DURATION,
        Some(e) => match ctx.duration(e) {
            Some(d) if d.is_zero() => {
                ctx.error(e.pos, format!("{}: expected a duration above 0", e.what));
                ok = false;
                d
            }
            Some(d) => d,
            None => {
                ok = false;
                DEFAULT_DURATION
            }
        },
    };
    let requests = match &requests_e {
        None => None,
        Some(e) => {
            let n = ctx.integer(e, 1, i64::MAX).map(|n| n as u64);
            ok &= n.is_some();
            n
        }
    };
    let stages = match &stage_e {
        None => Some(Vec::new()),
        Some(e) => {
            let list = ctx.tables(e, "[[workload.stage]]");
            if list.is_empty() {
                ctx.error(
                    e.pos,
                    format!("{}: expected at least one [[workload.stage]]", e.what),
                );
                None
            } else {
                read_stages(ctx, list)
            }
        }
    };
    ok &= stages.is_some();

    let model = model?;
    let wrong_model = |ctx: &mut Ctx<'_>, e: &Option<Entry<'_>>, why: &str| -> bool {
        match e {
            Some(e) => {
                ctx.error(e.key_pos, format!("{} {why}", e.what));
                true
            }
            None => false,
        }
    };
    match model {
        Model::Closed => {
            let closed_only = "applies to the open model: expected it removed, or model = \"open\"";
            ok &= !wrong_model(ctx, &connections_e, closed_only);
            ok &= !wrong_model(ctx, &stage_e, closed_only);
            if let (Some(_), Some(r)) = (&duration_e, &requests_e) {
                ctx.error(
                    r.key_pos,
                    "`duration` and `requests` are both set in [workload]: expected one of them",
                );
                ok = false;
            }
            let stop = match requests {
                Some(n) => StopCondition::Requests(n),
                None => StopCondition::Duration(duration),
            };
            ok.then_some(WorkloadPlan {
                workload: Workload::Closed { users, think_time },
                stop,
                threads,
            })
        }
        Model::Open => {
            let open_only =
                "applies to the closed model: expected it removed, or model = \"closed\"";
            ok &= !wrong_model(ctx, &users_e, open_only);
            ok &= !wrong_model(ctx, &think_e, open_only);
            let by_stages = "does not apply to the open model: it runs for the sum of its [[workload.stage]] durations";
            ok &= !wrong_model(ctx, &duration_e, by_stages);
            ok &= !wrong_model(ctx, &requests_e, by_stages);
            let stages = stages.unwrap_or_default();
            if stage_e.is_none() {
                ctx.error(
                    workload_pos,
                    "the open model needs at least one [[workload.stage]]: expected e.g. [[workload.stage]] with rate = 100 and duration = \"10s\"",
                );
                ok = false;
            }
            let total = stages.iter().map(Stage::duration).sum();
            ok.then_some(WorkloadPlan {
                workload: Workload::Open {
                    connections,
                    stages,
                },
                stop: StopCondition::Duration(total),
                threads,
            })
        }
    }
}

/// Reads the stages in order; `None` if any is wrong (all are reported).
fn read_stages(ctx: &mut Ctx<'_>, list: Vec<Fields<'_>>) -> Option<Vec<Stage>> {
    let mut stages = Vec::new();
    let mut ok = true;
    let mut prev = 0.0;
    for mut f in list {
        let kinds: Vec<(&str, Entry<'_>)> = ["rate", "ramp_to", "spike_to"]
            .into_iter()
            .filter_map(|k| f.take(k).map(|e| (k, e)))
            .collect();
        let duration_e = f.take("duration");
        let rise_e = f.take("rise");
        let pos = f.pos;
        f.finish(ctx, STAGE_KEYS);

        let duration = match &duration_e {
            None => {
                ctx.error(
                    pos,
                    "[[workload.stage]] has no `duration`: expected e.g. duration = \"10s\"",
                );
                None
            }
            Some(e) => match ctx.duration(e) {
                Some(d) if d.is_zero() => {
                    ctx.error(e.pos, format!("{}: expected a duration above 0", e.what));
                    None
                }
                other => other,
            },
        };
        let (kind, rate) = match kinds.as_slice() {
            [] => {
                ctx.error(
                    pos,
                    "[[workload.stage]] has no rate: expected one of `rate` (hold), `ramp_to` (ramp) or `spike_to` (spike)",
                );
                ok = false;
                continue;
            }
            [(kind, e)] => (*kind, ctx.rate(e)),
            [(first, _), (second, e), ..] => {
                ctx.error(
                    e.key_pos,
                    format!("`{first}` and `{second}` are both set in [[workload.stage]]: expected one of rate, ramp_to, spike_to"),
                );
                ok = false;
                continue;
            }
        };
        let rise = match &rise_e {
            Some(e) if kind != "spike_to" => {
                ctx.error(
                    e.key_pos,
                    format!("{} only applies to a `spike_to` stage", e.what),
                );
                None
            }
            Some(e) => match ctx.duration(e) {
                Some(d) if d.is_zero() => {
                    ctx.error(e.pos, format!("{}: expected a duration above 0", e.what));
                    None
                }
                other => other,
            },
            None => Some(DEFAULT_RISE),
        };
        let (Some(rate), Some(duration), Some(rise)) = (rate, duration, rise) else {
            ok = false;
            continue;
        };
        match kind {
            "rate" => stages.push(Stage::Hold { rate, duration }),
            "ramp_to" => stages.push(Stage::Ramp {
                from: prev,
                to: rate,
                duration,
            }),
            _ => {
                if duration <= rise * 2 {
                    let at = duration_e.as_ref().map_or(pos, |e| e.pos);
                    ctx.error(
                        at,
                        format!(
                            "a spike lasting {} must last longer than twice its rise ({}): expected a duration above {}",
                            format_duration(duration),
                            format_duration(rise),
                            format_duration(rise * 2)
                        ),
                    );
                    ok = false;
                    continue;
                }
                stages.push(Stage::Ramp {
                    from: prev,
                    to: rate,
                    duration: rise,
                });
                stages.push(Stage::Hold {
                    rate,
                    duration: duration - rise * 2,
                });
                stages.push(Stage::Ramp {
                    from: rate,
                    to: prev,
                    duration: rise,
                });
                continue;
            }
        }
        prev = rate;
    }
    ok.then_some(stages)
}
