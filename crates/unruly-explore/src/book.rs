//! The findings of an exploration: one per (operation, kind, cause), each with
//! the smallest case that shows it.

use crate::exchange::Exchange;
use crate::judge::sample;
use crate::repro::{reproduction, Provenance};
use std::collections::HashMap;
use unruly_core::{ApiSpec, Finding, FindingKind};
use unruly_inputs::Case;
use unruly_verdict::Observation;

/// One distinct problem and the best case that shows it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub operation: usize,
    pub observation: Observation,
    pub case: Case,
    pub exchange: Exchange,
    pub provenance: Option<Provenance>,
    pub first_seen_s: f64,
    pub count: u64,
    /// The case's place in the order cases were made: of two cases showing
    /// the same finding the earlier one is kept, whichever answer came first,
    /// so the same seed gives the same findings.
    pub seq: u64,
    /// For `slow_response`: the latency that counts as slow, in ms.
    pub threshold_ms: Option<f64>,
    /// For `slow_response`: the operation's median when it was found, in ms.
    pub baseline_ms: Option<f64>,
    /// For `slow_response`: the fastest of the sends that confirmed it, in
    /// ms; smaller inputs must stay near it to count as the same slowness.
    pub confirmed_ms: Option<f64>,
    /// Cases tried while shrinking, and how many were kept.
    pub shrink_tried: u32,
    pub shrink_kept: u32,
    /// Sent again alone (after a fresh creation of what it uses), it did not
    /// show the finding: it depended on requests running beside it (a race,
    /// which the bursts judge) or on state that is gone. Not reported.
    pub unconfirmed: bool,
}

/// Findings so far, deduplicated.
#[derive(Debug, Default)]
pub(crate) struct Book {
    entries: Vec<Entry>,
    index: HashMap<(usize, FindingKind, String), usize>,
}

impl Book {
    /// Counts `observation`; the first of its key is kept with its case.
    /// Returns whether it was new.
    pub fn record(&mut self, entry: Entry) -> bool {
        let key = key_of(&entry);
        if self.entries.len() >= MAX_FINDINGS && !self.index.contains_key(&key) {
            // A target inventing a new cause on every answer (a new content type
            // each time) must not fill memory: past this many, only counts grow.
            return false;
        }
        match self.index.get(&key) {
            Some(&i) => {
                let kept = &mut self.entries[i];
                if entry.seq < kept.seq {
                    take_over(kept, entry);
                } else {
                    kept.count += 1;
                }
                false
            }
            None => {
                self.index.insert(key, self.entries.len());
                self.entries.push(entry);
                true
            }
        }
    }

    /// The latency of the case kept for a `slow_response` of `operation` and
    /// `cause`, in ms, if there is one.
    pub fn slow_latency(&self, operation: usize, cause: &str) -> Option<f64> {
        let i = self
            .index
            .get(&(operation, FindingKind::SlowResponse, cause.to_owned()))?;
        Some(self.entries[*i].exchange.latency().as_secs_f64() * 1000.0)
    }

    /// Keeps `entry` in place of the one of its key (a slower case shows a
    /// slowness better), or records it when it is new.
    pub fn replace(&mut self, entry: Entry) {
        let key = key_of(&entry);
        match self.index.get(&key) {
            Some(&i) => take_over(&mut self.entries[i], entry),
            None => {
                self.record(entry);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn entry(&self, i: usize) -> &Entry {
        &self.entries[i]
    }

    pub fn entry_mut(&mut self, i: usize) -> &mut Entry {
        &mut self.entries[i]
    }

    /// The findings, ids `E1`, `E2`, ... in the order of the cases that show
    /// them (so the same seed numbers them alike).
    pub fn into_findings(self, spec: &ApiSpec, seed: u64) -> Vec<Finding> {
        let mut entries = self.entries;
        entries.retain(|e| !e.unconfirmed);
        entries.sort_by_key(|e| (e.seq, e.observation.kind, e.observation.cause.clone()));
        entries
            .into_iter()
            .enumerate()
            .map(|(i, entry)| finding(spec, seed, format!("E{}", i + 1), entry))
            .collect()
    }
}

/// Distinct findings kept at most.
const MAX_FINDINGS: usize = 1000;

fn key_of(entry: &Entry) -> (usize, FindingKind, String) {
    (
        entry.operation,
        entry.observation.kind,
        entry.observation.cause.clone(),
    )
}

/// `entry` shows the finding of `kept` better: it takes its place, and the
/// finding keeps its count (plus this one) and when it was first seen.
fn take_over(kept: &mut Entry, entry: Entry) {
    let (count, first_seen_s) = (kept.count, kept.first_seen_s);
    *kept = entry;
    kept.first_seen_s = first_seen_s;
    kept.count = count + 1;
}

fn finding(spec: &ApiSpec, seed: u64, id: String, entry: Entry) -> Finding {
    let operation = spec.operations[entry.operation].name();
    let sample = sample(operation.clone(), &entry.exchange);
    let mut evidence = unruly_verdict::evidence(&sample, entry.observation.excerpt.clone());
    if let Some(provenance) = &entry.provenance {
        evidence.request = format!(
            "{} {}  (then, with the value it created:)\n{}",
            provenance.producer_record.method, provenance.producer_record.url, evidence.request
        );
    }
    if let Some(baseline) = entry.baseline_ms {
        evidence
            .measurements
            .insert("baseline_p50_ms".to_owned(), baseline);
    }
    if let Some(threshold) = entry.threshold_ms {
        evidence
            .measurements
            .insert("slow_threshold_ms".to_owned(), threshold);
    }
    evidence
        .measurements
        .insert("shrink_steps".to_owned(), f64::from(entry.shrink_kept));
    let mut input = describe_input(&entry.case, entry.shrink_kept);
    if let Some(provenance) = &entry.provenance {
        input.push_str(&format!(
            ", on a value created by {}",
            describe_input(&provenance.producer, entry.shrink_kept)
        ));
    }
    let input = format!(" Input: {input}.");
    Finding {
        id,
        kind: entry.observation.kind,
        severity: entry.observation.severity,
        operation,
        summary: format!("{}{input}", entry.observation.summary),
        evidence,
        reproduce: reproduction(
            spec,
            &entry.case,
            &entry.exchange.record,
            entry.provenance.as_ref(),
        ),
        seed,
        first_seen_s: entry.first_seen_s,
        count: entry.count,
    }
}

/// What a case sends, in words: its label, or once shrunk, the value it
/// varies as it is now.
fn describe_input(case: &Case, shrunk: u32) -> String {
    let label = case.label.trim_end_matches(" (shrunk)");
    let category = case.category.as_str();
    if shrunk == 0 {
        return format!("{label} ({category})");
    }
    let value = case.slot_value();
    match (case.slot.as_deref(), value) {
        (Some(slot), Some(value)) => {
            let mut text = value.to_string();
            if text.chars().count() > MAX_VALUE_CHARS {
                text = format!(
                    "{}…",
                    text.chars().take(MAX_VALUE_CHARS).collect::<String>()
                );
            }
            format!("{slot} = {text} ({category}, shrunk in {shrunk} steps from: {label})")
        }
        _ => {
            let values: Vec<String> = case
                .parameters
                .iter()
                .filter_map(|p| {
                    Some(format!(
                        "{} {} = {}",
                        p.location.as_str(),
                        p.name,
                        p.value.as_ref()?
                    ))
                })
                .collect();
            if values.is_empty() {
                format!("{label} ({category}, shrunk in {shrunk} steps)")
            } else {
                format!(
                    "{} ({category}, shrunk in {shrunk} steps)",
                    values.join(", ")
                )
            }
        }
    }
}

/// Characters of a value quoted in a summary.
const MAX_VALUE_CHARS: usize = 80;
