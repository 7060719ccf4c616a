//! Values the target created (ids in answers to creations), kept so later
//! operations can use them, each with the request that created it.

use crate::links::{value_at, Link};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use unruly_core::RequestRecord;
use unruly_inputs::Case;

/// Values kept per (producer, field); the oldest go first.
const KEPT_PER_FIELD: usize = 4096;
/// Longest value kept (as JSON text): ids are short; a target answering with
/// megabyte "ids" must not fill memory.
const MAX_VALUE_BYTES: usize = 256;

/// One created value.
#[derive(Debug, Clone)]
pub(crate) struct Produced {
    /// The number of the job that created it: values are kept in this order,
    /// not in the order answers happened to arrive, so the same seed picks the
    /// same values.
    pub seq: u64,
    pub value: serde_json::Value,
    /// Where it was found in the creation's answer.
    pub pointer: String,
    /// The creation that made it.
    pub producer: Rc<(Case, RequestRecord)>,
}

#[derive(Debug, Default)]
struct Field {
    values: VecDeque<Produced>,
}

/// Created values per (producer operation, pointer).
#[derive(Debug, Default)]
pub(crate) struct Pool {
    fields: HashMap<(usize, String), Field>,
}

impl Pool {
    /// Takes what `links` want from a 2xx answer `body` of `case`, the case
    /// of job number `seq`.
    pub fn harvest(
        &mut self,
        seq: u64,
        links: &[Link],
        case: &Case,
        record: &RequestRecord,
        body: &serde_json::Value,
    ) {
        let mut producer = None;
        for link in links.iter().filter(|l| l.producer == case.operation) {
            let Some((value, pointer)) = value_at(body, &link.pointer) else {
                continue;
            };
            if value.to_string().len() > MAX_VALUE_BYTES {
                continue;
            }
            let producer = producer
                .get_or_insert_with(|| Rc::new((case.clone(), record.clone())))
                .clone();
            let field = self
                .fields
                .entry((link.producer, link.pointer.clone()))
                .or_default();
            if field.values.iter().any(|p| &p.value == value) {
                continue;
            }
            if field.values.len() == KEPT_PER_FIELD {
                field.values.pop_front();
            }
            let at = field.values.partition_point(|p| p.seq < seq);
            field.values.insert(
                at,
                Produced {
                    seq,
                    value: value.clone(),
                    pointer,
                    producer,
                },
            );
        }
    }

    /// The values kept for `link`, oldest first.
    pub fn values(&self, link: &Link) -> impl Iterator<Item = &Produced> {
        self.fields
            .get(&(link.producer, link.pointer.clone()))
            .into_iter()
            .flat_map(|f| f.values.iter())
    }

    /// The `n`th value kept for `link`, cycling.
    pub fn pick(&self, link: &Link, n: usize) -> Option<&Produced> {
        let field = self.fields.get(&(link.producer, link.pointer.clone()))?;
        if field.values.is_empty() {
            return None;
        }
        field.values.get(n % field.values.len())
    }
}
