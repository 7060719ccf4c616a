//! Requests that arrive together: bursts of one change on one fresh resource
//! (a constraint of the spec broken on read-back → `race_condition`), and the
//! same submission repeated with one Idempotency-Key (a second resource →
//! `duplicate_side_effect`, judged by the IETF httpapi Idempotency-Key draft).

use super::behaviours::is_unsafe;
use super::Explorer;
use crate::exchange::Exchange;
use crate::exchange::Prepared;
use crate::links::Link;
use crate::repro::{command, create_value, in_parallel, use_value};
use std::collections::{BTreeMap, BTreeSet};
use unruly_core::{Evidence, Finding, FindingKind, ParameterLocation, Severity};
use unruly_engine::behaviour::{burst, BurstResult};
use unruly_engine::{ProbeRequest, ProbeResponse, Prober};
use unruly_inputs::Case;
use unruly_verdict::Observation;

/// Requests in one burst on a resource.
const BURST_SIZE: usize = 20;
/// Copies of a keyed submission sent at once.
const KEYED_COPIES: usize = 5;
/// Bytes kept of each burst answer.
const BURST_KEPT_BYTES: usize = 16 * 1024;

impl Explorer<'_> {
    /// For each change to one resource (`POST /accounts/{id}/withdrawals`,
    /// `PUT /items/{id}`) that has a read (`GET /accounts/{id}`): the same
    /// valid request `BURST_SIZE` times one after another on a fresh resource
    /// (the control), then released together on another one; a read that then
    /// breaks the spec while the control's did not is a race.
    pub(super) async fn races(&self) {
        let mut prober = self.prober(0);
        for &operation in &self.selected {
            if self.behaviours_stopped() {
                return;
            }
            if !is_unsafe(&self.spec.operations[operation].method) {
                continue;
            }
            let Some(link) = self.path_link(operation) else {
                continue;
            };
            let Some(reader) = self.reader_of(operation, link) else {
                continue;
            };
            let label = format!(
                "a burst of {BURST_SIZE} {}",
                self.spec.operations[operation].name()
            );
            self.set_activity(Some(label));
            self.race_on(&mut prober, operation, link, reader).await;
        }
    }

    /// The `GET` that reads the resource `operation` changes: the longest
    /// prefix of its path, up to the linked parameter, that has a `GET`.
    fn reader_of(&self, operation: usize, link: &Link) -> Option<usize> {
        let path = &self.spec.operations[operation].path;
        let marker = format!("{{{}}}", link.parameter);
        let end = path.find(&marker)? + marker.len();
        let resource = &path[..end];
        self.spec
            .operations
            .iter()
            .position(|o| o.method == "GET" && o.path == resource)
    }

    async fn race_on(&self, prober: &mut Prober, operation: usize, link: &Link, reader: usize) {
        let Some(change) = self.valid_job(operation) else {
            return;
        };
        let read = self.generator.positive(reader, self.options.seed, 0);
        let bind = |case: &Case, value: &serde_json::Value| {
            let mut case = case.clone();
            case.set_parameter(link.location, &link.parameter, Some(value.clone()));
            case
        };

        // The control: the same requests one after another.
        let Some((value, _)) = self.fresh_value(prober, link).await else {
            return;
        };
        if self
            .read_violation(prober, &bind(&read, &value))
            .await
            .is_some()
        {
            return;
        }
        let mut sequential_accepted = 0;
        for _ in 0..BURST_SIZE {
            let Some(exchange) = self.send(prober, &bind(&change.case, &value)).await else {
                return;
            };
            sequential_accepted += usize::from(is_success(&exchange));
        }
        if self
            .read_violation(prober, &bind(&read, &value))
            .await
            .is_some()
        {
            // Broken without any concurrency: a plain bug, which the input
            // passes report on their own.
            return;
        }

        // The burst, on a resource of its own.
        let Some((value, provenance)) = self.fresh_value(prober, link).await else {
            return;
        };
        let read = bind(&read, &value);
        if self.read_violation(prober, &read).await.is_some() {
            return;
        }
        let case = bind(&change.case, &value);
        let (prepared, result) = self.released_together(&case, BURST_SIZE).await;
        let Some((after, violation)) = self.read_violation(prober, &read).await else {
            return;
        };
        let name = self.spec.operations[operation].name();
        let reader_name = self.spec.operations[reader].name();
        let accepted = result.successes();
        let mut measurements = BTreeMap::new();
        measurements.insert("burst_size".to_owned(), BURST_SIZE as f64);
        measurements.insert("burst_accepted".to_owned(), accepted as f64);
        measurements.insert("sequential_accepted".to_owned(), sequential_accepted as f64);
        measurements.insert(
            "release_spread_us".to_owned(),
            result.release_spread.as_secs_f64() * 1e6,
        );
        let reproduce = format!(
            "{} && {} && {}",
            create_value(self.spec, &provenance),
            in_parallel(
                &use_value(self.spec, &case, &prepared.record, &provenance),
                BURST_SIZE
            ),
            use_value(self.spec, &read, &after.record, &provenance)
        );
        self.report(
            Finding {
                id: String::new(),
                kind: FindingKind::RaceCondition,
                severity: Severity::High,
                operation: name.clone(),
                summary: format!(
                    "{BURST_SIZE} concurrent {name} on one fresh resource ({} accepted) left {reader_name} breaking the spec, which the same {BURST_SIZE} requests one after another ({sequential_accepted} accepted) did not: {}",
                    accepted, violation.summary
                ),
                evidence: Evidence {
                    request: format!("{} {} ×{BURST_SIZE} at once", prepared.record.method, prepared.record.url),
                    status: after.status(),
                    excerpt: violation.excerpt.clone(),
                    measurements,
                    ..Evidence::default()
                },
                reproduce,
                seed: 0,
                first_seen_s: 0.0,
                count: 1,
            },
            None,
        );
    }

    /// Reads `case`; the answer and what is wrong with it, when a 2xx breaks
    /// the spec.
    async fn read_violation(
        &self,
        prober: &mut Prober,
        case: &Case,
    ) -> Option<(Exchange, Observation)> {
        let exchange = self.send(prober, case).await?;
        let response = exchange.outcome.as_ref().ok()?;
        if !(200..300).contains(&response.status) {
            return None;
        }
        let operation = &self.spec.operations[case.operation];
        let violation = self.judge.conformance().check_response(
            case.operation,
            operation,
            response.status,
            response.content_type(),
            &response.body,
            response.is_complete(),
        )?;
        Some((exchange, violation))
    }

    /// `copies` copies of `case` released together, counted in the
    /// operation's statistics.
    async fn released_together(&self, case: &Case, copies: usize) -> (Prepared, BurstResult) {
        let prepared = self.prepare(case);
        let requests: Vec<ProbeRequest> = (0..copies)
            .filter_map(|_| prepared.request.try_clone())
            .collect();
        let result = burst(
            &self.endpoint,
            &requests,
            self.options.timeout,
            BURST_KEPT_BYTES,
        )
        .await;
        self.account_burst(case.operation, &result.answers);
        (prepared, result)
    }

    /// Counts a burst's answers in the operation's statistics.
    fn account_burst(
        &self,
        operation: usize,
        answers: &[Result<ProbeResponse, unruly_engine::ProbeFailure>],
    ) {
        let mut state = self.state.borrow_mut();
        state.cases_run += answers.len() as u64;
        for answer in answers {
            let (outcome, latency, bytes) = match answer {
                Ok(r) => (
                    unruly_core::Outcome::Status(r.status),
                    r.elapsed,
                    r.body_len,
                ),
                Err(f) => (unruly_core::Outcome::Failed(f.class), f.elapsed, 0),
            };
            state.tallies[operation].1.add(outcome, latency, bytes);
        }
    }

    /// For each unsafe operation that declares an `Idempotency-Key` header:
    /// the same key and body twice in a row (the draft: the first answer
    /// replayed, no new resource), `KEYED_COPIES` copies with one key at once
    /// (at most one resource; the others 409), and the first key again with
    /// another body (422). Any second resource is a `duplicate_side_effect`.
    pub(super) async fn idempotency(&self) {
        let mut prober = self.prober(0);
        for &operation in &self.selected {
            if self.behaviours_stopped() {
                return;
            }
            let spec_operation = &self.spec.operations[operation];
            if !is_unsafe(&spec_operation.method) {
                continue;
            }
            let Some(header) = spec_operation
                .parameters
                .iter()
                .find(|p| {
                    p.location == ParameterLocation::Header
                        && p.name.eq_ignore_ascii_case("idempotency-key")
                })
                .map(|p| p.name.clone())
            else {
                continue;
            };
            self.set_activity(Some(format!(
                "the same {} repeated with one {header}",
                spec_operation.name()
            )));
            self.keyed_submissions(&mut prober, operation, &header)
                .await;
        }
    }

    async fn keyed_submissions(&self, prober: &mut Prober, operation: usize, header: &str) {
        let Some(job) = self.valid_job(operation) else {
            return;
        };
        let seed = self.options.seed;
        let keyed = |case: &Case, key: String| {
            let mut case = case.clone();
            case.set_parameter(
                ParameterLocation::Header,
                header,
                Some(serde_json::Value::String(key)),
            );
            case
        };
        let name = self.spec.operations[operation].name();
        let mut broken = Vec::new();

        // The same key and body, twice in a row.
        let first_key = format!("unruly-{seed}-{operation}-replay");
        let case = keyed(&job.case, first_key.clone());
        let Some(first) = self.send(prober, &case).await else {
            return;
        };
        if !is_success(&first) {
            return;
        }
        let Some(second) = self.send(prober, &case).await else {
            return;
        };
        let (first_id, second_id) = (created_identity(&first), created_identity(&second));
        if is_success(&second) && first_id.is_some() && second_id.is_some() && first_id != second_id
        {
            broken.push(format!(
                "the same key and body sent again created a second resource ({} then {}) instead of replaying the first answer",
                first_id.as_deref().unwrap_or_default(),
                second_id.as_deref().unwrap_or_default()
            ));
        }

        // Copies with one key at once: one resource at most.
        let copies = keyed(&job.case, format!("unruly-{seed}-{operation}-in-flight"));
        let (_, result) = self.released_together(&copies, KEYED_COPIES).await;
        let created: BTreeSet<String> = result
            .answers
            .iter()
            .filter_map(|a| a.as_ref().ok())
            .filter(|r| (200..300).contains(&r.status))
            .filter_map(identity_of)
            .collect();
        if created.len() > 1 {
            broken.push(format!(
                "{KEYED_COPIES} requests with one key at once created {} resources ({}); a key still in flight is answered 409",
                created.len(),
                created.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }

        // The first key with another body.
        let other = keyed(
            &self.generator.positive(operation, seed, 1),
            first_key.clone(),
        );
        if other.body != case.body && other.expect.is_valid() {
            if let Some(reused) = self.send(prober, &other).await {
                let id = created_identity(&reused);
                if is_success(&reused) && id.is_some() && id != first_id {
                    broken.push(format!(
                        "the first key with another body was accepted ({}) and created {}; a key reused for another request is answered 422",
                        reused.status().unwrap_or_default(),
                        id.unwrap_or_default()
                    ));
                }
            }
        }

        if broken.is_empty() {
            return;
        }
        let mut measurements = BTreeMap::new();
        measurements.insert("rules_broken".to_owned(), broken.len() as f64);
        measurements.insert("created_by_copies".to_owned(), created.len() as f64);
        let once = command(self.spec, &case, &first.record);
        self.report(
            Finding {
                id: String::new(),
                kind: FindingKind::DuplicateSideEffect,
                severity: Severity::High,
                operation: name.clone(),
                summary: format!(
                    "{name} does not honour its {header} header (IETF httpapi Idempotency-Key draft): {}.",
                    broken.join("; ")
                ),
                evidence: Evidence {
                    request: format!("{} {} with {header}: {first_key}", first.record.method, first.record.url),
                    status: second.status(),
                    excerpt: second
                        .outcome
                        .as_ref()
                        .ok()
                        .map(|r| String::from_utf8_lossy(&r.body).chars().take(500).collect()),
                    measurements,
                    ..Evidence::default()
                },
                reproduce: format!("{once} && echo && {once}"),
                seed: 0,
                first_seen_s: 0.0,
                count: broken.len() as u64,
            },
            None,
        );
    }
}

fn is_success(exchange: &Exchange) -> bool {
    exchange.status().is_some_and(|s| (200..300).contains(&s))
}

/// What identifies the resource an answer created: its `Location`, else the
/// `id` field of its JSON body.
fn created_identity(exchange: &Exchange) -> Option<String> {
    identity_of(exchange.outcome.as_ref().ok()?)
}

fn identity_of(response: &ProbeResponse) -> Option<String> {
    if let Some(location) = response
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
    {
        return Some(location.to_owned());
    }
    let body: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
    match body.get("id")? {
        serde_json::Value::String(id) => Some(id.clone()),
        other => Some(other.to_string()),
    }
}
