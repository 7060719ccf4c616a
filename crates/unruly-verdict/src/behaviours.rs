//! Findings from a scenario's behaviours: what their firings saw (copies
//! released together, invariant reads, storms, slow clients, and the health
//! probe meanwhile), judged.
//!
//! * `race_condition`: a burst or a double submit whose invariant held on the
//!   read before the copies went out and fails on the read after.
//! * `duplicate_side_effect`: a double submit whose copies and repeat created
//!   more than one resource (distinct `id`s in 2xx JSON bodies, or distinct
//!   `Location` headers), with the rule of the IETF Idempotency-Key draft
//!   (draft-ietf-httpapi-idempotency-key-header) that broke.
//! * `resource_exhaustion`: a refresh storm or slow clients during which the
//!   health probe failed, or a storm whose requests (abandoned ones aside) got
//!   5xx answers or no answer. The health failures behind such a finding are
//!   [`BehaviourVerdict::explained`], so that they are not reported again as
//!   `unavailable`.
//!
//! Everything here is pure: the firings and the health probe's tallies come in
//! as arguments.

use crate::curl::{curl_command, shell_quote};
use crate::evidence::{request_text, EVIDENCE_BODY_BYTES};
use crate::leaks::{cap_text, mask_secrets};
use crate::redact::redact_headers;
use std::collections::{BTreeMap, BTreeSet};
use unruly_core::{
    Behaviour, BehaviourKind, CrowdSeen, Evidence, Exchange, Finding, FindingKind, Firing,
    HealthSeen, HealthTally, Invariant, InvariantRead, RequestRecord, Seen, Severity, SlowMode,
    StormSeen, Submissions,
};

/// The draft every idempotency rule comes from.
const DRAFT: &str = "the IETF Idempotency-Key draft (draft-ietf-httpapi-idempotency-key-header)";
/// Bytes of one answer quoted in a list of answers.
const ANSWER_BYTES: usize = 200;
/// Answers listed one by one in an excerpt (the rest are counted).
const LISTED_ANSWERS: usize = 10;
/// Seconds a health check of a reproduction waits.
const HEALTH_MAX_TIME_S: u32 = 2;

/// The findings of a scenario's behaviours.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BehaviourVerdict {
    /// The findings, ids numbered from the `first_id` given, by first sight.
    pub findings: Vec<Finding>,
    /// Names of behaviours whose health-probe failures a finding here already
    /// explains (`resource_exhaustion`): forget them before reporting
    /// `unavailable`.
    pub explained: Vec<String>,
}

/// Judges the `firings` of `behaviours` (a plan's, indexed as in the plan),
/// with what the health probe saw meanwhile if it ran. Finding ids are
/// `F{first_id}`, `F{first_id + 1}`, … in order of first sight.
pub fn judge_behaviours(
    behaviours: &[Behaviour],
    firings: &[Firing],
    health: Option<&HealthSeen>,
    seed: u64,
    first_id: usize,
) -> BehaviourVerdict {
    let mut found: Vec<(usize, Finding)> = Vec::new();
    let mut explained = Vec::new();
    for (index, behaviour) in behaviours.iter().enumerate() {
        let mine: Vec<&Firing> = firings.iter().filter(|f| f.behaviour == index).collect();
        let tally = health.and_then(|h| h.during.get(&behaviour.name));
        match &behaviour.kind {
            BehaviourKind::Burst { invariant, .. } => {
                if let Some(invariant) = invariant {
                    found.extend(race(behaviour, invariant, &mine).map(|f| (index, f)));
                }
            }
            BehaviourKind::DoubleSubmit { invariant, .. } => {
                if let Some(invariant) = invariant {
                    found.extend(race(behaviour, invariant, &mine).map(|f| (index, f)));
                }
                found.extend(duplicates(behaviour, &mine).map(|f| (index, f)));
            }
            BehaviourKind::RefreshStorm { .. } | BehaviourKind::SlowClients { .. } => {
                if let Some(finding) = exhaustion(behaviour, &mine, tally, health) {
                    if tally.is_some_and(|t| t.failures > t.refused) {
                        explained.push(behaviour.name.clone());
                    }
                    found.push((index, finding));
                }
            }
        }
    }
    found.sort_by(|(a_index, a), (b_index, b)| {
        a.first_seen_s
            .total_cmp(&b.first_seen_s)
            .then(a_index.cmp(b_index))
            .then(a.kind.cmp(&b.kind))
    });
    let findings = found
        .into_iter()
        .enumerate()
        .map(|(i, (_, mut finding))| {
            finding.id = format!("F{}", first_id + i);
            finding.seed = seed;
            finding
        })
        .collect();
    BehaviourVerdict {
        findings,
        explained,
    }
}

/// What an invariant read showed: `Some((holds, observed))` when its answer
/// was a 2xx JSON document, `None` when it cannot be judged.
fn judge_read(
    invariant: &Invariant,
    read: &Option<Result<InvariantRead, String>>,
) -> Option<(bool, String)> {
    let read = read.as_ref()?.as_ref().ok()?;
    if !read.answer.is_success() || !read.answer.body_complete {
        return None;
    }
    let document: serde_json::Value = serde_json::from_str(&read.answer.body).ok()?;
    let evaluation = invariant.expect.evaluate(&document);
    Some((evaluation.holds, evaluation.observed))
}

/// `race_condition`: the invariant held before the copies and fails after.
fn race(behaviour: &Behaviour, invariant: &Invariant, firings: &[&Firing]) -> Option<Finding> {
    let mut broken = firings.iter().filter_map(|firing| {
        let Seen::Submissions(seen) = &firing.seen else {
            return None;
        };
        let (held, before) = judge_read(invariant, &seen.read_before)?;
        let (holds, after) = judge_read(invariant, &seen.read_after)?;
        (held && !holds).then_some((*firing, seen, before, after))
    });
    let (firing, seen, before, after) = broken.next()?;
    let count = 1 + broken.count() as u64;
    let read = seen.read_after.as_ref()?.as_ref().ok()?;
    let operation = behaviour.kind.operation();
    let copies = seen.copies.len();
    let what = match (&behaviour.kind, &seen.idempotency_key) {
        (BehaviourKind::DoubleSubmit { .. }, Some(_)) => {
            "copies of one submission (with one Idempotency-Key)"
        }
        (BehaviourKind::DoubleSubmit { .. }, None) => "copies of one submission",
        _ => "identical requests",
    };
    let summary = format!(
        "{copies} {what} to {operation} released together (behaviour \"{name}\") broke the \
         invariant `{expect}` on {read}: {after} (it held before: {before}).",
        name = behaviour.name,
        expect = invariant.written,
        read = request_line(&read.request),
    );
    let mut excerpt = format!(
        "copies: {} released within {:.2} ms: {}",
        copies,
        seen.release_spread_ms,
        outcomes(&seen.copies)
    );
    if let Some(repeat) = &seen.repeat {
        excerpt.push_str(&format!("\nrepeat: {}", answer_line(repeat)));
    }
    if let Some(Ok(before)) = &seen.read_before {
        excerpt.push_str(&format!("\nread before: {}", answer_line(&before.answer)));
    }
    excerpt.push_str(&format!("\nread after: {}", answer_line(&read.answer)));
    let mut measurements = copy_counts(&seen.copies);
    measurements.insert("release_spread_ms".into(), seen.release_spread_ms);
    Some(Finding {
        id: String::new(),
        kind: FindingKind::RaceCondition,
        severity: Severity::Critical,
        operation: operation.to_owned(),
        summary,
        evidence: Evidence {
            request: request_text(&seen.request),
            status: read.answer.status,
            error: read.answer.error,
            excerpt: Some(cap_text(&excerpt, 4 * EVIDENCE_BODY_BYTES)),
            latency_ms: None,
            measurements,
        },
        reproduce: submissions_script(seen, Show::Status, Some(&read.request)),
        seed: 0,
        first_seen_s: firing.ended_s,
        count,
    })
}

/// `duplicate_side_effect`: a double submit that created more than one
/// resource.
fn duplicates(behaviour: &Behaviour, firings: &[&Firing]) -> Option<Finding> {
    let mut seen_dupes = firings.iter().filter_map(|firing| {
        let Seen::Submissions(seen) = &firing.seen else {
            return None;
        };
        let from_copies: Vec<String> = seen.copies.iter().filter_map(resource).collect();
        let from_repeat = seen.repeat.as_ref().and_then(resource);
        let distinct: BTreeSet<&String> = from_copies.iter().chain(from_repeat.iter()).collect();
        (distinct.len() > 1).then(|| {
            let copies_distinct = from_copies.iter().collect::<BTreeSet<_>>().len();
            let repeat_new = from_repeat
                .as_ref()
                .filter(|r| !from_copies.contains(r))
                .cloned();
            let distinct: Vec<String> = distinct.into_iter().cloned().collect();
            (*firing, seen, distinct, copies_distinct, repeat_new)
        })
    });
    let (firing, seen, distinct, copies_distinct, repeat_new) = seen_dupes.next()?;
    let count = 1 + seen_dupes.count() as u64;
    let operation = behaviour.kind.operation();
    let sent = seen.copies.len() + usize::from(seen.repeat.is_some());
    let list = distinct.join(", ");
    let (severity, summary) = match &seen.idempotency_key {
        Some((header, _)) => {
            let mut broke = Vec::new();
            if copies_distinct > 1 {
                broke.push(format!(
                    "a request whose key is still in flight must be refused with 409 Conflict, \
                     yet {copies_distinct} of the {} copies sent together were each carried out",
                    seen.copies.len()
                ));
            }
            if let Some(new) = &repeat_new {
                broke.push(format!(
                    "a request repeating a key already used must get the first answer again, \
                     yet the repeat created {new}"
                ));
            }
            (
                Severity::High,
                format!(
                    "{sent} submissions of {operation} with the same {header} header (behaviour \
                     \"{name}\") created {n} different resources ({list}): the key was not \
                     honoured; {DRAFT} says {rules}.",
                    name = behaviour.name,
                    n = distinct.len(),
                    rules = broke.join("; and ")
                ),
            )
        }
        None => (
            Severity::Medium,
            format!(
                "{sent} identical submissions of {operation} without an Idempotency-Key (a double \
                 click; behaviour \"{name}\") created {n} different resources ({list}): nothing \
                 lets the service tell a repeat from a new request, as an Idempotency-Key \
                 ({DRAFT}) would.",
                name = behaviour.name,
                n = distinct.len(),
            ),
        ),
    };
    let mut lines: Vec<String> = seen
        .copies
        .iter()
        .take(LISTED_ANSWERS)
        .enumerate()
        .map(|(i, copy)| format!("copy {}: {}", i + 1, answer_line(copy)))
        .collect();
    if seen.copies.len() > LISTED_ANSWERS {
        lines.push(format!(
            "… {} more copies: {}",
            seen.copies.len() - LISTED_ANSWERS,
            outcomes(&seen.copies[LISTED_ANSWERS..])
        ));
    }
    if let Some(repeat) = &seen.repeat {
        lines.push(format!("repeat: {}", answer_line(repeat)));
    }
    let mut measurements = copy_counts(&seen.copies);
    measurements.insert("distinct_resources".into(), distinct.len() as f64);
    measurements.insert(
        "repeat_2xx".into(),
        f64::from(u8::from(
            seen.repeat.as_ref().is_some_and(Exchange::is_success),
        )),
    );
    Some(Finding {
        id: String::new(),
        kind: FindingKind::DuplicateSideEffect,
        severity,
        operation: operation.to_owned(),
        summary,
        evidence: Evidence {
            request: request_text(&seen.request),
            status: seen.repeat.as_ref().and_then(|r| r.status),
            error: seen.repeat.as_ref().and_then(|r| r.error),
            excerpt: Some(cap_text(&lines.join("\n"), 4 * EVIDENCE_BODY_BYTES)),
            latency_ms: None,
            measurements,
        },
        reproduce: submissions_script(seen, Show::Body, None),
        seed: 0,
        first_seen_s: firing.ended_s,
        count,
    })
}

/// The resource an answer created: its JSON `id`, else its `Location`;
/// `None` for an answer that is not a 2xx or names no resource.
fn resource(answer: &Exchange) -> Option<String> {
    if !answer.is_success() {
        return None;
    }
    let id = serde_json::from_str::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|doc| match doc.get("id")? {
            serde_json::Value::String(s) => Some(format!("id \"{s}\"")),
            serde_json::Value::Null => None,
            other => Some(format!("id {other}")),
        });
    id.or_else(|| {
        answer
            .location
            .as_ref()
            .filter(|l| !l.trim().is_empty())
            .map(|l| format!("Location {}", l.trim()))
    })
}

/// `resource_exhaustion`: a storm or slow clients during which the health
/// probe failed, or a storm whose own requests failed.
fn exhaustion(
    behaviour: &Behaviour,
    firings: &[&Firing],
    tally: Option<&HealthTally>,
    health: Option<&HealthSeen>,
) -> Option<Finding> {
    // Refused connections say the target is gone, not busy: that is for
    // `unavailable` (or a crash) to say.
    let health_failed = tally.filter(|t| t.failures > t.refused);
    let storms: Vec<(&Firing, &StormSeen)> = firings
        .iter()
        .filter_map(|f| match &f.seen {
            Seen::Storm(storm) => Some((*f, storm)),
            _ => None,
        })
        .collect();
    let storm_problems: u64 = storms
        .iter()
        .map(|(_, s)| {
            s.problems()
                .saturating_sub(s.failures.get("connect").copied().unwrap_or(0))
        })
        .sum();
    if health_failed.is_none() && storm_problems == 0 {
        return None;
    }
    let operation = behaviour.kind.operation();
    let health_part = health_failed.map(|t| {
        let first = t
            .first_failure
            .as_ref()
            .map(|(at, what)| format!(" (first at {at:.1}s: {what})"))
            .unwrap_or_default();
        format!(
            "the health probe failed {} of {} times while it ran{first}",
            t.failures, t.probes
        )
    });
    let mut measurements = BTreeMap::new();
    if let Some(t) = tally {
        measurements.insert("health_probes".into(), t.probes as f64);
        measurements.insert("health_failures".into(), t.failures as f64);
    }
    let first_health = health_failed
        .and_then(|t| t.first_failure.as_ref())
        .map(|(at, _)| *at);
    let health_request = health.map(|h| &h.request);
    match &behaviour.kind {
        BehaviourKind::RefreshStorm {
            tabs,
            duration,
            abandon,
            ..
        } => {
            let requests: u64 = storms.iter().map(|(_, s)| s.requests).sum();
            let abandoned: u64 = storms.iter().map(|(_, s)| s.abandoned).sum();
            let mut parts = Vec::new();
            let first_storm = storms
                .iter()
                .find_map(|(f, s)| s.first_problem.as_ref().map(|p| (*f, s, p)));
            if storm_problems > 0 {
                let first = first_storm
                    .map(|(_, _, (at, what))| format!(" (first {at:.1}s into it: {what})"))
                    .unwrap_or_default();
                parts.push(format!(
                    "{storm_problems} of its {requests} answered requests got a 5xx or no answer{first}"
                ));
            }
            parts.extend(health_part);
            let summary = format!(
                "A refresh storm of {tabs} tabs on {operation} ({pct:.0}% abandoned; behaviour \
                 \"{name}\") exhausted the service: {parts}.",
                pct = abandon * 100.0,
                name = behaviour.name,
                parts = parts.join("; ")
            );
            let (_, sample) = storms.first().copied()?;
            let statuses = sample_statuses(&storms);
            measurements.insert("tabs".into(), *tabs as f64);
            measurements.insert("storm_requests".into(), requests as f64);
            measurements.insert("storm_problems".into(), storm_problems as f64);
            measurements.insert("abandoned".into(), abandoned as f64);
            measurements.insert("storm_p99_ms".into(), sample.latency_ms.p99);
            let first_seen_s = first_storm
                .map(|(f, _, (at, _))| f.started_s + at)
                .into_iter()
                .chain(first_health)
                .fold(f64::INFINITY, f64::min);
            Some(Finding {
                id: String::new(),
                kind: FindingKind::ResourceExhaustion,
                severity: Severity::High,
                operation: operation.to_owned(),
                summary,
                evidence: Evidence {
                    request: request_text(&sample.request),
                    status: None,
                    error: None,
                    excerpt: Some(statuses),
                    latency_ms: Some(sample.latency_ms.p99).filter(|l| l.is_finite()),
                    measurements,
                },
                reproduce: storm_script(&sample.request, *tabs, *duration, health_request),
                seed: 0,
                first_seen_s: finite_or(
                    first_seen_s,
                    storms.first().map_or(0.0, |(f, _)| f.started_s),
                ),
                count: storm_problems + health_failed.map_or(0, |t| t.failures),
            })
        }
        BehaviourKind::SlowClients {
            mode,
            clients,
            duration,
            bytes_per_second,
            ..
        } => {
            let crowd = firings.iter().find_map(|f| match &f.seen {
                Seen::Crowd(crowd) => Some(crowd),
                _ => None,
            })?;
            let health_part = health_part?;
            let summary = format!(
                "{clients} slow clients on {operation} ({how} at {bytes_per_second} byte/s; \
                 behaviour \"{name}\") exhausted the service: {health_part}.",
                how = slow_mode_text(*mode),
                name = behaviour.name,
            );
            measurements.insert("clients".into(), *clients as f64);
            measurements.insert("bytes_per_second".into(), *bytes_per_second as f64);
            measurements.insert("connected".into(), crowd.connected as f64);
            measurements.insert("cut_by_server".into(), crowd.cut_by_server as f64);
            measurements.insert("answered".into(), crowd.answered as f64);
            let first_seen_s = first_health
                .or_else(|| firings.first().map(|f| f.started_s))
                .unwrap_or(0.0);
            Some(Finding {
                id: String::new(),
                kind: FindingKind::ResourceExhaustion,
                severity: Severity::High,
                operation: operation.to_owned(),
                summary,
                evidence: Evidence {
                    request: request_text(&crowd.request),
                    status: None,
                    error: None,
                    excerpt: Some(crowd_text(crowd, *mode)),
                    latency_ms: None,
                    measurements,
                },
                reproduce: slow_script(
                    &crowd.request,
                    *mode,
                    *clients,
                    *duration,
                    *bytes_per_second,
                    health_request,
                ),
                seed: 0,
                first_seen_s,
                count: health_failed.map_or(0, |t| t.failures),
            })
        }
        BehaviourKind::Burst { .. } | BehaviourKind::DoubleSubmit { .. } => None,
    }
}

fn finite_or(value: f64, fallback: f64) -> f64 {
    if value.is_finite() {
        value
    } else {
        fallback
    }
}

/// How a slow mode is slow, in words.
fn slow_mode_text(mode: SlowMode) -> &'static str {
    match mode {
        SlowMode::Headers => "mode headers: the request head sent",
        SlowMode::Upload => "mode upload: the body sent",
        SlowMode::Read => "mode read: the answer read",
    }
}

fn crowd_text(crowd: &CrowdSeen, mode: SlowMode) -> String {
    format!(
        "mode {}: {} clients started, {} connected, {} could not connect, {} cut off by the \
         server, {} answered; {} bytes sent; held {:.1}s",
        mode.name(),
        crowd.started,
        crowd.connected,
        crowd.connect_failures,
        crowd.cut_by_server,
        crowd.answered,
        crowd.bytes_sent,
        crowd.held_ms / 1000.0
    )
}

fn sample_statuses(storms: &[(&Firing, &StormSeen)]) -> String {
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    for (_, storm) in storms {
        for (status, n) in &storm.statuses {
            *statuses.entry(status.to_string()).or_default() += n;
        }
        for (class, n) in &storm.failures {
            *statuses.entry(class.clone()).or_default() += n;
        }
    }
    let answers = statuses
        .iter()
        .map(|(what, n)| format!("{what} ×{n}"))
        .collect::<Vec<_>>()
        .join(" · ");
    let mut text = format!("answers: {answers}");
    if let Some((at, what)) = storms.iter().find_map(|(_, s)| s.first_problem.as_ref()) {
        text.push_str(&format!("\nfirst problem {at:.2}s into the storm: {what}"));
    }
    text
}

/// `2xx`/failure counts of copies, as measurements.
fn copy_counts(copies: &[Exchange]) -> BTreeMap<String, f64> {
    let mut measurements = BTreeMap::new();
    measurements.insert("copies".into(), copies.len() as f64);
    measurements.insert(
        "copies_2xx".into(),
        copies.iter().filter(|c| c.is_success()).count() as f64,
    );
    measurements.insert(
        "copies_without_answer".into(),
        copies.iter().filter(|c| c.status.is_none()).count() as f64,
    );
    measurements
}

/// The answers' outcomes counted: `200 ×18 · 409 ×2`.
fn outcomes(answers: &[Exchange]) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for answer in answers {
        let key = match (answer.status, answer.error) {
            (Some(status), _) => status.to_string(),
            (None, Some(class)) => class.as_str().to_owned(),
            (None, None) => "no answer".to_owned(),
        };
        *counts.entry(key).or_default() += 1;
    }
    counts
        .iter()
        .map(|(what, n)| format!("{what} ×{n}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// One answer on one line: its status and the start of its body (secrets
/// masked), or its failure.
fn answer_line(answer: &Exchange) -> String {
    match answer.status {
        Some(status) => {
            let body = answer.body.split_whitespace().collect::<Vec<_>>().join(" ");
            let body = mask_secrets(&cap_text(&body, ANSWER_BYTES));
            format!("{status} {body}").trim_end().to_owned()
        }
        None => format!(
            "no answer ({}: {})",
            answer.error.map_or("error", |c| c.as_str()),
            cap_text(answer.error_detail.as_deref().unwrap_or(""), ANSWER_BYTES)
        ),
    }
}

/// `GET /accounts/42`: a request's method and its URL's path.
fn request_line(request: &RequestRecord) -> String {
    let path = request
        .url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/");
    format!("{} {path}", request.method)
}

/// What the parallel copies of a reproduction print.
#[derive(Clone, Copy)]
enum Show {
    /// The status code of each.
    Status,
    /// The body of each (where the created ids are).
    Body,
}

/// The copies as a bash script: sent in parallel, then the repeat (a double
/// submit's) and the invariant read if any. A shared idempotency key is
/// replaced by a fresh one, so that the script does not replay the run's.
fn submissions_script(seen: &Submissions, show: Show, read: Option<&RequestRecord>) -> String {
    let count = seen.copies.len();
    let mut single = curl_command(&seen.request);
    let mut script = Vec::new();
    if let Some((header, value)) = &seen.idempotency_key {
        let sent = shell_quote(&format!("{header}: {value}"));
        let fresh = format!("{}\"$key\"", shell_quote(&format!("{header}: ")));
        single = single.replace(&sent, &fresh);
        script.push("key=\"unruly-repro-$RANDOM$RANDOM$RANDOM\"".to_owned());
    }
    let quiet = match show {
        Show::Status => "curl -s -o /dev/null -w '%{http_code}\\n' ",
        Show::Body => "curl -s -w '\\n' ",
    };
    let parallel = single.replacen("curl -i ", quiet, 1);
    script.push(format!("for i in $(seq 1 {count}); do"));
    script.push(format!("  {parallel} &"));
    script.push("done".to_owned());
    script.push("wait".to_owned());
    if seen.repeat.is_some() {
        script.push(single);
    }
    if let Some(read) = read {
        script.push(curl_command(read));
    }
    script.join("\n")
}

/// A refresh storm as a bash script: `tabs` loops of the request for
/// `duration`, the health check halfway.
fn storm_script(
    request: &RequestRecord,
    tabs: usize,
    duration: std::time::Duration,
    health: Option<&RequestRecord>,
) -> String {
    let seconds = duration.as_secs().max(1);
    let one =
        curl_command(request).replacen("curl -i ", "curl -s -o /dev/null -w '%{http_code}\\n' ", 1);
    let mut script = vec![
        format!("end=$((SECONDS + {seconds}))"),
        format!("for i in $(seq 1 {tabs}); do"),
        format!("  (while [ $SECONDS -lt $end ]; do {one}; done) &"),
        "done".to_owned(),
    ];
    if let Some(health) = health {
        script.push(format!("sleep {}", (seconds / 2).max(1)));
        script.push(health_check(health));
    }
    script.push("wait".to_owned());
    script.join("\n")
}

/// The health check of a reproduction: it fails after the probe's timeout.
fn health_check(health: &RequestRecord) -> String {
    curl_command(health).replacen(
        "--max-time 10",
        &format!("--max-time {HEALTH_MAX_TIME_S}"),
        1,
    )
}

/// Slow clients as a bash script: each opens a connection with bash's
/// `/dev/tcp`, sends what goes at once, then trickles the rest a byte at a
/// time (or reads the answer a byte at a time); the health check runs while
/// they hold, and they are killed after `duration`.
fn slow_script(
    request: &RequestRecord,
    mode: SlowMode,
    clients: usize,
    duration: std::time::Duration,
    bytes_per_second: u64,
    health: Option<&RequestRecord>,
) -> String {
    let Some(target) = Target::of(&request.url) else {
        return format!(
            "# {clients} clients sending {} slowly ({}) for {}s",
            request_line(request),
            mode.name(),
            duration.as_secs()
        );
    };
    let interval = 1.0 / bytes_per_second.max(1) as f64;
    let (at_once, trickled) = wire_parts(request, &target.authority, mode);
    let seconds = duration.as_secs().max(1);
    let mut script = Vec::new();
    if target.tls {
        script.push(format!(
            "# the target is https: bash's /dev/tcp speaks plain TCP; run this against a plain \
             HTTP listener of the service, or through `openssl s_client -quiet -connect {}:{}`",
            target.host, target.port
        ));
    }
    let open = format!("exec 3<>/dev/tcp/{}/{} || return", target.host, target.port);
    match mode {
        SlowMode::Read => script.push(format!(
            "slow() {{ {open}; printf '%s' \"$1\" >&3; while IFS= read -r -n 1 -u 3 _; do sleep {interval}; done; }}"
        )),
        SlowMode::Headers | SlowMode::Upload => script.push(format!(
            "slow() {{ {open}; printf '%s' \"$1\" >&3; for ((j = 0; j < ${{#2}}; j++)); do printf '%s' \"${{2:j:1}}\" >&3; sleep {interval}; done; sleep {seconds}; }}"
        )),
    }
    script.push(format!(
        "for i in $(seq 1 {clients}); do slow {} {} & done",
        shell_quote(&at_once),
        shell_quote(&trickled)
    ));
    match health {
        Some(health) => {
            script.push("sleep 1".to_owned());
            script.push(health_check(health));
            script.push(format!("sleep {}", seconds.saturating_sub(1).max(1)));
        }
        None => script.push(format!("sleep {seconds}")),
    }
    script.push("kill $(jobs -p) 2>/dev/null; wait".to_owned());
    script.join("\n")
}

/// What a slow client sends at once and what it trickles, as text.
fn wire_parts(request: &RequestRecord, authority: &str, mode: SlowMode) -> (String, String) {
    let path = request_line(request);
    let body = request.body.clone().unwrap_or_default();
    let mut head_rest = format!("Host: {authority}\r\n");
    for (name, value) in redact_headers(&request.headers) {
        head_rest.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || matches!(request.method.as_str(), "POST" | "PUT" | "PATCH") {
        head_rest.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head_rest.push_str("Connection: close\r\n");
    let first_line = format!("{path} HTTP/1.1\r\n");
    match mode {
        SlowMode::Headers => (first_line, head_rest),
        SlowMode::Upload => (format!("{first_line}{head_rest}\r\n"), body),
        SlowMode::Read => (format!("{first_line}{head_rest}\r\n{body}"), String::new()),
    }
}

/// Where a URL points, for `/dev/tcp`.
struct Target {
    tls: bool,
    host: String,
    port: u16,
    authority: String,
}

impl Target {
    fn of(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let tls = scheme.eq_ignore_ascii_case("https");
        let authority = rest.split(['/', '?', '#']).next()?.to_owned();
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (host, port.parse().ok()?),
            _ => (authority.as_str(), if tls { 443 } else { 80 }),
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':');
        if host.is_empty() || !host.chars().all(safe) {
            return None;
        }
        Some(Self {
            tls,
            host,
            port,
            authority,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use unruly_core::{BehaviourSchedule, Expectation, LatencySummary};

    fn record(method: &str, url: &str, body: Option<&str>) -> RequestRecord {
        RequestRecord {
            method: method.into(),
            url: url.into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.map(str::to_owned),
        }
    }

    fn answer(status: u16, body: &str) -> Exchange {
        Exchange {
            status: Some(status),
            body: body.into(),
            body_complete: true,
            latency_ms: 1.0,
            ..Exchange::default()
        }
    }

    fn read(body: &str) -> Option<Result<InvariantRead, String>> {
        Some(Ok(InvariantRead {
            request: RequestRecord {
                method: "GET".into(),
                url: "http://127.0.0.1:8080/accounts/42".into(),
                headers: Vec::new(),
                body: None,
            },
            answer: answer(200, body),
        }))
    }

    fn invariant() -> Invariant {
        Invariant {
            read_method: "GET".into(),
            read_path: "/accounts/{id}".into(),
            expect: Expectation::parse("$.balance >= 0").unwrap(),
            written: "$.balance >= 0".into(),
        }
    }

    fn burst_behaviour() -> Behaviour {
        Behaviour {
            name: "withdraw race".into(),
            kind: BehaviourKind::Burst {
                operation: "POST /accounts/{id}/withdrawals".into(),
                count: 3,
                invariant: Some(invariant()),
            },
            schedule: BehaviourSchedule::default(),
        }
    }

    fn submissions(copies: Vec<Exchange>, before: &str, after: &str) -> Submissions {
        Submissions {
            request: record(
                "POST",
                "http://127.0.0.1:8080/accounts/42/withdrawals",
                Some(r#"{"amount":60}"#),
            ),
            idempotency_key: None,
            copies,
            release_spread_ms: 0.2,
            repeat: None,
            read_before: read(before),
            read_after: read(after),
        }
    }

    fn firing(behaviour: usize, seen: Seen) -> Firing {
        Firing {
            behaviour,
            number: 0,
            started_s: 1.0,
            ended_s: 1.5,
            cut_short: false,
            seen,
        }
    }

    #[test]
    fn an_invariant_that_held_before_and_fails_after_is_a_race() {
        let copies = vec![answer(200, "{}"), answer(200, "{}"), answer(409, "{}")];
        let seen = submissions(copies, r#"{"balance":100}"#, r#"{"balance":-20}"#);
        let verdict = judge_behaviours(
            &[burst_behaviour()],
            &[firing(0, Seen::Submissions(Box::new(seen)))],
            None,
            7,
            3,
        );
        assert_eq!(verdict.findings.len(), 1);
        let finding = &verdict.findings[0];
        assert_eq!(finding.id, "F3");
        assert_eq!(finding.seed, 7);
        assert_eq!(finding.kind, FindingKind::RaceCondition);
        assert_eq!(finding.operation, "POST /accounts/{id}/withdrawals");
        assert!(
            finding.summary.contains("`$.balance >= 0`"),
            "{}",
            finding.summary
        );
        assert!(
            finding.summary.contains("$.balance = -20"),
            "{}",
            finding.summary
        );
        assert!(
            finding.summary.contains("GET /accounts/42"),
            "{}",
            finding.summary
        );
        assert_eq!(finding.evidence.measurements["copies_2xx"], 2.0);
        assert_eq!(finding.evidence.measurements["copies"], 3.0);
        let script = &finding.reproduce;
        assert!(script.contains("for i in $(seq 1 3); do"), "{script}");
        assert!(script.contains("/accounts/42/withdrawals' &"), "{script}");
        assert!(script.contains("\nwait\n"), "{script}");
        assert!(
            script.ends_with("curl -i --max-time 10 'http://127.0.0.1:8080/accounts/42'"),
            "{script}"
        );
        assert!(verdict.explained.is_empty());
    }

    #[test]
    fn no_race_when_it_still_holds_or_never_held_or_cannot_be_read() {
        let cases = [
            (r#"{"balance":100}"#, r#"{"balance":40}"#),
            (r#"{"balance":-5}"#, r#"{"balance":-20}"#),
            (r#"{"balance":100}"#, "not json"),
        ];
        for (before, after) in cases {
            let seen = submissions(vec![answer(200, "{}")], before, after);
            let verdict = judge_behaviours(
                &[burst_behaviour()],
                &[firing(0, Seen::Submissions(Box::new(seen)))],
                None,
                1,
                1,
            );
            assert!(verdict.findings.is_empty(), "{before} -> {after}");
        }
        let mut seen = submissions(vec![], r#"{"balance":1}"#, r#"{"balance":-1}"#);
        seen.read_after = Some(Err("no such placeholder".into()));
        let verdict = judge_behaviours(
            &[burst_behaviour()],
            &[firing(0, Seen::Submissions(Box::new(seen)))],
            None,
            1,
            1,
        );
        assert!(verdict.findings.is_empty());
    }

    fn double_submit(key: bool) -> Behaviour {
        Behaviour {
            name: "double click".into(),
            kind: BehaviourKind::DoubleSubmit {
                operation: "POST /orders".into(),
                count: 2,
                idempotency_key: key.then(|| "Idempotency-Key".to_owned()),
                invariant: None,
            },
            schedule: BehaviourSchedule::default(),
        }
    }

    fn orders(copies: Vec<Exchange>, repeat: Exchange, key: bool) -> Seen {
        let mut request = record(
            "POST",
            "http://127.0.0.1:8080/orders",
            Some(r#"{"product_id":1}"#),
        );
        if key {
            request
                .headers
                .push(("Idempotency-Key".into(), "unruly-1-1-1".into()));
        }
        Seen::Submissions(Box::new(Submissions {
            request,
            idempotency_key: key.then(|| ("Idempotency-Key".to_owned(), "unruly-1-1-1".to_owned())),
            copies,
            release_spread_ms: 0.1,
            repeat: Some(repeat),
            read_before: None,
            read_after: None,
        }))
    }

    #[test]
    fn distinct_ids_under_one_key_are_a_duplicate_with_the_broken_rules() {
        let seen = orders(
            vec![answer(201, r#"{"id":12}"#), answer(201, r#"{"id":13}"#)],
            answer(201, r#"{"id":14}"#),
            true,
        );
        let verdict = judge_behaviours(&[double_submit(true)], &[firing(0, seen)], None, 1, 1);
        assert_eq!(verdict.findings.len(), 1);
        let finding = &verdict.findings[0];
        assert_eq!(finding.kind, FindingKind::DuplicateSideEffect);
        assert_eq!(finding.severity, Severity::High);
        let summary = &finding.summary;
        assert!(summary.contains("Idempotency-Key"), "{summary}");
        assert!(
            summary.contains("3 different resources (id 12, id 13, id 14)"),
            "{summary}"
        );
        assert!(summary.contains("409 Conflict"), "{summary}");
        assert!(summary.contains("first answer again"), "{summary}");
        let script = &finding.reproduce;
        assert!(script.starts_with("key=\"unruly-repro-"), "{script}");
        assert!(script.contains("'Idempotency-Key: '\"$key\""), "{script}");
        assert!(!script.contains("unruly-1-1-1"), "{script}");
        assert!(script.contains("&\ndone\nwait\ncurl -i"), "{script}");
    }

    #[test]
    fn the_repeat_alone_can_break_the_replay_rule_and_locations_count() {
        let located = |status, location: &str| Exchange {
            location: Some(location.into()),
            ..answer(status, "")
        };
        let seen = orders(
            vec![located(201, "/orders/1"), answer(409, "{}")],
            located(201, "/orders/2"),
            true,
        );
        let verdict = judge_behaviours(&[double_submit(true)], &[firing(0, seen)], None, 1, 1);
        let summary = &verdict.findings[0].summary;
        assert!(summary.contains("first answer again"), "{summary}");
        assert!(!summary.contains("409 Conflict"), "{summary}");
    }

    #[test]
    fn one_resource_is_no_duplicate_and_no_key_is_said() {
        let replayed = orders(
            vec![
                answer(201, r#"{"id":5}"#),
                answer(409, r#"{"error":"in flight"}"#),
            ],
            answer(201, r#"{"id":5}"#),
            true,
        );
        let verdict = judge_behaviours(&[double_submit(true)], &[firing(0, replayed)], None, 1, 1);
        assert!(verdict.findings.is_empty());

        let twice = orders(
            vec![answer(201, r#"{"id":"a"}"#), answer(201, r#"{"id":"b"}"#)],
            answer(201, r#"{"id":"c"}"#),
            false,
        );
        let verdict = judge_behaviours(&[double_submit(false)], &[firing(0, twice)], None, 1, 1);
        let finding = &verdict.findings[0];
        assert_eq!(finding.severity, Severity::Medium);
        assert!(
            finding.summary.contains("without an Idempotency-Key"),
            "{}",
            finding.summary
        );
        assert!(!finding.reproduce.contains("$key"), "{}", finding.reproduce);
    }

    fn health(label: &str, probes: u64, failures: u64) -> HealthSeen {
        let mut during = BTreeMap::new();
        during.insert(
            label.to_owned(),
            HealthTally {
                probes,
                failures,
                refused: 0,
                first_failure: (failures > 0).then(|| (2.5, "timeout: no answer".to_owned())),
            },
        );
        HealthSeen {
            request: RequestRecord {
                method: "GET".into(),
                url: "http://127.0.0.1:8080/health".into(),
                headers: Vec::new(),
                body: None,
            },
            during,
        }
    }

    fn slow_behaviour() -> Behaviour {
        Behaviour {
            name: "slow uploads".into(),
            kind: BehaviourKind::SlowClients {
                mode: SlowMode::Upload,
                operation: "POST /orders".into(),
                clients: 48,
                duration: Duration::from_secs(3),
                bytes_per_second: 1,
            },
            schedule: BehaviourSchedule::default(),
        }
    }

    fn crowd() -> Seen {
        Seen::Crowd(CrowdSeen {
            request: record("POST", "http://127.0.0.1:8080/orders", Some(r#"{"a":1}"#)),
            started: 48,
            connected: 48,
            bytes_sent: 4000,
            held_ms: 3000.0,
            ..CrowdSeen::default()
        })
    }

    #[test]
    fn slow_clients_with_failing_health_are_exhaustion_and_explain_it() {
        let seen = health("slow uploads", 5, 4);
        let verdict = judge_behaviours(
            &[slow_behaviour()],
            &[firing(0, crowd())],
            Some(&seen),
            1,
            1,
        );
        assert_eq!(verdict.findings.len(), 1);
        let finding = &verdict.findings[0];
        assert_eq!(finding.kind, FindingKind::ResourceExhaustion);
        assert!(
            finding.summary.contains("48 slow clients"),
            "{}",
            finding.summary
        );
        assert!(finding.summary.contains("1 byte/s"), "{}", finding.summary);
        assert!(finding.summary.contains("upload"), "{}", finding.summary);
        assert!(
            finding.summary.contains("failed 4 of 5"),
            "{}",
            finding.summary
        );
        assert_eq!(finding.first_seen_s, 2.5);
        assert_eq!(finding.count, 4);
        assert_eq!(verdict.explained, vec!["slow uploads".to_owned()]);
        let script = &finding.reproduce;
        assert!(script.contains("/dev/tcp/127.0.0.1/8080"), "{script}");
        assert!(script.contains("for i in $(seq 1 48); do slow $'POST /orders HTTP/1.1\\r\\nHost: 127.0.0.1:8080\\r\\n"), "{script}");
        assert!(
            script.contains("curl -i --max-time 2 'http://127.0.0.1:8080/health'"),
            "{script}"
        );

        // Healthy throughout: nothing.
        let fine = health("slow uploads", 5, 0);
        let verdict = judge_behaviours(
            &[slow_behaviour()],
            &[firing(0, crowd())],
            Some(&fine),
            1,
            1,
        );
        assert!(verdict.findings.is_empty());
        assert!(verdict.explained.is_empty());
        // Refused connections: the target is gone, not exhausted.
        let mut gone = health("slow uploads", 5, 3);
        if let Some(tally) = gone.during.get_mut("slow uploads") {
            tally.refused = 3;
        }
        let verdict = judge_behaviours(
            &[slow_behaviour()],
            &[firing(0, crowd())],
            Some(&gone),
            1,
            1,
        );
        assert!(verdict.findings.is_empty());
        assert!(verdict.explained.is_empty());
        // Failures during something else are not this behaviour's.
        let other = health("load", 5, 5);
        let verdict = judge_behaviours(
            &[slow_behaviour()],
            &[firing(0, crowd())],
            Some(&other),
            1,
            1,
        );
        assert!(verdict.findings.is_empty());
    }

    #[test]
    fn a_storm_with_5xx_is_exhaustion_even_without_a_probe() {
        let behaviour = Behaviour {
            name: "tabs".into(),
            kind: BehaviourKind::RefreshStorm {
                operation: "GET /products".into(),
                tabs: 20,
                duration: Duration::from_secs(2),
                abandon: 0.25,
            },
            schedule: BehaviourSchedule::default(),
        };
        let mut statuses = BTreeMap::new();
        statuses.insert(200, 90);
        statuses.insert(503, 10);
        let storm = StormSeen {
            request: record("GET", "http://127.0.0.1:8080/products", None),
            requests: 100,
            abandoned: 30,
            statuses,
            failures: BTreeMap::new(),
            first_problem: Some((0.4, "status 503".into())),
            latency_ms: LatencySummary::default(),
        };
        let verdict = judge_behaviours(
            std::slice::from_ref(&behaviour),
            &[firing(0, Seen::Storm(storm.clone()))],
            None,
            1,
            1,
        );
        let finding = &verdict.findings[0];
        assert!(
            finding.summary.contains("10 of its 100"),
            "{}",
            finding.summary
        );
        assert!(finding.summary.contains("20 tabs"), "{}", finding.summary);
        assert!(
            finding.reproduce.contains("for i in $(seq 1 20); do"),
            "{}",
            finding.reproduce
        );
        assert_eq!(finding.first_seen_s, 1.4);
        assert!(verdict.explained.is_empty());

        let calm = StormSeen {
            statuses: [(200, 100)].into_iter().collect(),
            first_problem: None,
            ..storm
        };
        let verdict = judge_behaviours(&[behaviour], &[firing(0, Seen::Storm(calm))], None, 1, 1);
        assert!(verdict.findings.is_empty());
    }

    #[test]
    fn findings_are_ordered_by_first_sight() {
        let seen = health("slow uploads", 5, 4);
        let race_seen = submissions(
            vec![answer(200, "{}")],
            r#"{"balance":1}"#,
            r#"{"balance":-1}"#,
        );
        let mut race_firing = firing(1, Seen::Submissions(Box::new(race_seen)));
        race_firing.ended_s = 0.5;
        let verdict = judge_behaviours(
            &[slow_behaviour(), burst_behaviour()],
            &[firing(0, crowd()), race_firing],
            Some(&seen),
            1,
            10,
        );
        let kinds: Vec<(String, FindingKind)> = verdict
            .findings
            .iter()
            .map(|f| (f.id.clone(), f.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("F10".to_owned(), FindingKind::RaceCondition),
                ("F11".to_owned(), FindingKind::ResourceExhaustion)
            ]
        );
    }

    #[test]
    fn urls_for_dev_tcp() {
        let t = Target::of("http://127.0.0.1:8080/x").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.tls), ("127.0.0.1", 8080, false));
        let t = Target::of("https://[::1]/x").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.tls), ("::1", 443, true));
        assert!(Target::of("http://a;rm -rf/").is_none());
    }
}
