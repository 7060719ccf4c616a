//! Findings from the response samples the engine kept.

use crate::curl::curl_command;
use crate::evidence::{evidence, request_text, response_excerpt, server_error_summary};
use crate::leaks::scan_response;
use std::collections::{BTreeMap, HashMap};
use unruly_core::{ErrorClass, Finding, FindingKind, ResponseSample, Severity};

/// Turns response samples into findings, one per (operation, kind, cause).
///
/// * `server_error` (high): a status of 500 or more, a connection reset or
///   garbled (`reset`, `protocol`) before the answer was complete, or refused
///   (`connect`: the preflight check saw the target accept connections, so a
///   refusal during the run means it went down). The cause is the
///   status code or the error class, so a 500 and a 503 of one operation are two
///   findings.
/// * `information_leak`: a body (of any status) showing a stack trace, a framework
///   debug page, an SQL error, a secret or an internal file path (see
///   [`crate::scan_for_leaks`]). The cause is the leak's category.
///
/// Each finding's evidence and reproduction come from the earliest sample behind it.
/// Its `count` adds up the counts of the distinct outcomes (status, error class)
/// behind it; samples of one outcome all carry that outcome's count, so it is taken
/// once. Ids are `F1`, `F2`, … ordered by `first_seen_s`, then operation, kind and
/// cause: the same samples always give the same findings.
pub fn findings_from_samples(samples: &[ResponseSample], seed: u64) -> Vec<Finding> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut index: HashMap<(&str, FindingKind, String), usize> = HashMap::new();
    for sample in samples {
        for observation in observe(sample) {
            let key = (
                sample.operation.as_str(),
                observation.kind,
                observation.cause.clone(),
            );
            match index.get(&key) {
                Some(&i) => groups[i].add(sample, observation),
                None => {
                    index.insert(key, groups.len());
                    groups.push(Group::new(sample, observation));
                }
            }
        }
    }
    groups.sort_by(|a, b| {
        a.first_seen()
            .total_cmp(&b.first_seen())
            .then_with(|| a.sample.operation.cmp(&b.sample.operation))
            .then_with(|| a.observation.kind.cmp(&b.observation.kind))
            .then_with(|| a.observation.cause.cmp(&b.observation.cause))
    });
    groups
        .into_iter()
        .enumerate()
        .map(|(i, group)| group.into_finding(format!("F{}", i + 1), seed))
        .collect()
}

/// One thing an exchange shows: the makings of a finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The finding kind.
    pub kind: FindingKind,
    /// What tells this finding apart from others of its kind on the same
    /// operation (`status 500`, `stack_trace`, `body /quantity`, ...).
    pub cause: String,
    /// How much it matters.
    pub severity: Severity,
    /// One sentence.
    pub summary: String,
    /// The part of the response that shows it.
    pub excerpt: Option<String>,
}

/// Everything a sample shows by itself: a server error, leaks, or nothing.
pub fn observe(sample: &ResponseSample) -> Vec<Observation> {
    observe_with_echo(sample, &request_text(&sample.request))
}

/// [`observe`], where `echo` is every text the request carried (URL, decoded
/// values, body): what the response repeats of it is not a leak.
pub fn observe_with_echo(sample: &ResponseSample, echo: &str) -> Vec<Observation> {
    let mut out = Vec::new();
    if let Some(cause) = server_error_cause(sample) {
        out.push(Observation {
            kind: FindingKind::ServerError,
            cause,
            severity: Severity::High,
            summary: server_error_summary(&sample.operation, sample.status, sample.error),
            excerpt: response_excerpt(sample),
        });
    }
    for leak in scan_response(&sample.body_excerpt, echo) {
        let response = match sample.status {
            Some(status) => format!("the {status} response"),
            None => "a response".to_string(),
        };
        out.push(Observation {
            kind: FindingKind::InformationLeak,
            cause: leak.category.as_str().to_string(),
            severity: leak.category.severity(),
            summary: format!("{} in {response} to {}.", leak.label, sample.operation),
            excerpt: Some(leak.excerpt),
        });
    }
    out
}

/// The cause of a server error: `status 500`, `reset`, `protocol`; `None` for
/// anything else.
fn server_error_cause(sample: &ResponseSample) -> Option<String> {
    match (sample.status, sample.error) {
        (Some(status), _) if status >= 500 => Some(format!("status {status}")),
        (_, Some(class @ (ErrorClass::Reset | ErrorClass::Protocol | ErrorClass::Connect))) => {
            Some(class.as_str().to_string())
        }
        (None, Some(ErrorClass::Status5xx)) => Some(ErrorClass::Status5xx.as_str().to_string()),
        _ => None,
    }
}

/// The samples behind one finding.
struct Group<'a> {
    /// The earliest sample: evidence and reproduction come from it.
    sample: &'a ResponseSample,
    /// What the earliest sample showed.
    observation: Observation,
    /// The count of each distinct outcome behind the finding.
    counts: BTreeMap<(Option<u16>, Option<ErrorClass>), u64>,
}

impl<'a> Group<'a> {
    fn new(sample: &'a ResponseSample, observation: Observation) -> Self {
        let mut group = Self {
            sample,
            observation,
            counts: BTreeMap::new(),
        };
        group.count(sample);
        group
    }

    fn add(&mut self, sample: &'a ResponseSample, observation: Observation) {
        self.count(sample);
        if seen_at(sample).total_cmp(&self.first_seen()).is_lt() {
            self.sample = sample;
            self.observation = observation;
        }
    }

    fn count(&mut self, sample: &ResponseSample) {
        let n = self
            .counts
            .entry((sample.status, sample.error))
            .or_insert(0);
        *n = (*n).max(sample.count.max(1));
    }

    fn first_seen(&self) -> f64 {
        seen_at(self.sample)
    }

    fn into_finding(self, id: String, seed: u64) -> Finding {
        let count = self.counts.values().fold(0u64, |a, &n| a.saturating_add(n));
        let first_seen_s = self.first_seen();
        let Observation {
            kind,
            severity,
            summary,
            excerpt,
            ..
        } = self.observation;
        Finding {
            id,
            kind,
            severity,
            operation: self.sample.operation.clone(),
            summary,
            evidence: evidence(self.sample, excerpt),
            reproduce: curl_command(&self.sample.request),
            seed,
            first_seen_s,
            count,
        }
    }
}

/// When a sample was first seen; a value that is not a number counts as the start.
fn seen_at(sample: &ResponseSample) -> f64 {
    if sample.first_seen_s.is_finite() {
        sample.first_seen_s
    } else {
        0.0
    }
}
