//! Unruly users, applied wherever the spec allows: the same submission
//! repeated with one Idempotency-Key, bursts of concurrent requests on one
//! resource, refresh storms, slow clients and a traffic spike. Each runs for a
//! bounded time after the input passes, labelled for the health probe, and
//! gives its own findings (not shrunk: the reproduction is the behaviour).

use super::{Explorer, Job, KEPT_BODY_BYTES};
use crate::exchange::{prepare, Prepared};
use crate::links::{value_at, Link};
use crate::repro::Provenance;
use unruly_core::{Finding, ParameterLocation};
use unruly_engine::Prober;
use unruly_inputs::Case;

/// Methods that change something: what double clicks and bursts repeat.
pub(super) fn is_unsafe(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH" | "DELETE")
}

impl Explorer<'_> {
    /// Every behaviour, one after another, while time remains.
    pub(super) async fn behaviours(&self) {
        self.state.borrow_mut().phase = "behaviours";
        // The spike before the crowds, which may take long to find nothing;
        // after the submissions, which need the stock it sells.
        self.idempotency().await;
        self.races().await;
        self.spike().await;
        self.storms().await;
        self.slow_clients().await;
        self.set_activity(None);
    }

    /// Stopped, or past the share of time behaviours may use.
    pub(super) fn behaviours_stopped(&self) -> bool {
        self.stopped(self.explore_until)
    }

    /// Names what runs now, for the health probe's failures.
    pub(super) fn set_activity(&self, label: Option<String>) {
        self.state.borrow_mut().activity = label;
    }

    /// Keeps a behaviour's finding; the health failures during `explains` are
    /// then not reported again as `unavailable`.
    pub(super) fn report(&self, mut finding: Finding, explains: Option<String>) {
        let mut state = self.state.borrow_mut();
        finding.first_seen_s = self.start.elapsed().as_secs_f64();
        finding.seed = self.options.seed;
        state.behaviour_findings.push(finding);
        if let Some(label) = explains {
            state.explained.push(label);
        }
    }

    /// The first valid case of `operation`, with created values in its linked
    /// parameters; `None` when the generator has no valid case for it.
    pub(super) fn valid_job(&self, operation: usize) -> Option<Job> {
        let case = self.generator.positive(operation, self.options.seed, 0);
        case.expect
            .is_valid()
            .then(|| self.link_values(case, 0))
            .filter(|job| job.case.expect.is_valid())
    }

    /// The request of `case` as it would be sent, with its record.
    pub(super) fn prepare(&self, case: &Case) -> Prepared {
        let base = &self.endpoint.base_url;
        prepare(
            &|path| format!("{base}{path}"),
            self.spec,
            case,
            &self.options.headers,
        )
    }

    /// A value for `link` created just now by its producer's first valid case:
    /// a resource nobody else has touched.
    pub(super) async fn fresh_value(
        &self,
        prober: &mut Prober,
        link: &Link,
    ) -> Option<(serde_json::Value, Provenance)> {
        let job = self.valid_job(link.producer)?;
        let exchange = self.send(prober, &job.case).await?;
        if !exchange.status().is_some_and(|s| (200..300).contains(&s)) {
            return None;
        }
        let body = exchange.json()?;
        let (value, pointer) = value_at(&body, &link.pointer)?;
        Some((
            value.clone(),
            Provenance {
                producer: job.case,
                producer_record: exchange.record,
                pointer,
                location: link.location,
                parameter: link.parameter.clone(),
            },
        ))
    }

    /// A prober of its own for a behaviour.
    pub(super) fn prober(&self, index: usize) -> Prober {
        Prober::new(self.endpoint.clone(), index, KEPT_BODY_BYTES)
    }

    /// The first link feeding a path parameter of `operation`, if any.
    pub(super) fn path_link(&self, operation: usize) -> Option<&Link> {
        self.links
            .iter()
            .find(|l| l.consumer == operation && l.location == ParameterLocation::Path)
    }
}
