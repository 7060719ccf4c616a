//! The case generator: for one operation, a valid base request and, one slot at a
//! time, boundary, negative, strange and large variants of it, each judged.

use serde_json::{json, Map, Value};
use unruly_core::{ApiOperation, ApiParameter, ApiSpec, ParameterLocation, SeededRng};

use crate::case::{
    body_slot, parameter_slot, Case, CaseBody, CaseParameter, Category, Expect, LargeShape,
};
use crate::corpus;
use crate::judge::Judge;
use crate::media::{self, MediaKind};
use crate::pointer;
use crate::schema;
use crate::serialize::{binary_fields, cookie_safe, header_safe, simple_text};
use crate::values::boundary::boundaries;
use crate::values::invalid::wrong_values;
use crate::values::valid::{Fill, Gen, SlotInfo};
use crate::values::{short, Variant};
use crate::InputsError;

/// How many positive cases [`CaseGenerator::cases`] starts with.
pub const POSITIVE_CASES: u64 = 4;
/// How many times a value is regenerated when the validator rejects it.
const ATTEMPTS: usize = 6;
/// At most this many body places are varied per operation.
const MAX_BODY_SLOTS: usize = 64;
/// The sizes of large bodies: 1, 10 and 100 MiB.
pub const LARGE_SIZES: [u64; 3] = [1 << 20, 10 << 20, 100 << 20];
/// The property added by "unexpected extra field" cases.
pub const EXTRA_FIELD: &str = "unruly_extra";

/// Generates and judges test cases for the operations of one spec.
///
/// Built once per spec ([`CaseGenerator::new`] compiles every schema's
/// validator); generation itself is cheap and deterministic.
pub struct CaseGenerator<'s> {
    pub(crate) spec: &'s ApiSpec,
    pub(crate) judge: Judge<'s>,
}

/// A valid request with the places of its body that generation filled.
struct Base {
    case: Case,
    slots: Vec<SlotInfo>,
}

/// Mixes a stream number into a seed (splitmix64), `seed` itself for 0.
fn mix(seed: u64, n: u64) -> u64 {
    if n == 0 {
        return seed;
    }
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    seed ^ z ^ (z >> 31)
}

impl<'s> CaseGenerator<'s> {
    /// Compiles the validators of every parameter and body schema of `spec`.
    pub fn new(spec: &'s ApiSpec) -> Result<Self, InputsError> {
        Ok(Self {
            spec,
            judge: Judge::new(spec)?,
        })
    }

    /// The spec this generator was built for.
    pub fn spec(&self) -> &'s ApiSpec {
        self.spec
    }

    /// Whether `case`'s request is valid per the spec (recompute after editing a case).
    pub fn judge(&self, case: &Case) -> Expect {
        self.judge.judge(case)
    }

    /// One random valid case for operation `index`, deterministic in `(index, seed, n)`:
    /// `n = 0` fills every optional field, `n = 1` only required ones, others at random.
    /// Where the validator rejects every attempt (an impossible schema), the case
    /// says so in its `expect`.
    pub fn positive(&self, index: usize, seed: u64, n: u64) -> Case {
        match self.base(index, seed, n, false) {
            Some(base) => base.case,
            None => Case {
                operation: index,
                category: Category::Positive,
                label: "no such operation".to_string(),
                expect: Expect::Valid,
                parameters: Vec::new(),
                body: None,
                slot: None,
            },
        }
    }

    /// Every case for operation `index`, deterministic for `(spec, index, seed)`:
    /// positive, then boundary, negative, strange and large cases. Empty for an
    /// index out of range.
    pub fn cases(&self, index: usize, seed: u64) -> Vec<Case> {
        let Some(op) = self.spec.operations.get(index) else {
            return Vec::new();
        };
        let mut out: Vec<Case> = (0..POSITIVE_CASES)
            .map(|n| self.positive(index, seed, n))
            .collect();
        let Some(base) = self.base(index, seed, 0, true) else {
            return out;
        };
        let mut rng = SeededRng::fork(mix(seed, u64::MAX), index as u64);
        let mut run = Run {
            generator: self,
            op,
            base: &base,
            rng: &mut rng,
            out: &mut out,
        };
        run.boundary();
        run.negative();
        run.strange();
        run.large();
        out
    }

    fn base(&self, index: usize, seed: u64, n: u64, record: bool) -> Option<Base> {
        let op = self.spec.operations.get(index)?;
        let mut rng = SeededRng::fork(mix(seed, n), index as u64);
        let fill = match n {
            0 => Fill::All,
            1 => Fill::Required,
            _ => Fill::Random,
        };
        let label = match n {
            0 => "valid request, every optional field".to_string(),
            1 => "valid request, required fields only".to_string(),
            n => format!("valid request #{n}"),
        };
        let schemas = self.judge.schemas;
        let mut parameters = Vec::with_capacity(op.parameters.len());
        for (i, p) in op.parameters.iter().enumerate() {
            let include = p.required
                || p.location == ParameterLocation::Path
                || match fill {
                    Fill::All => true,
                    Fill::Required => false,
                    Fill::Random => rng.next_u64() & 1 == 1,
                };
            let value = if include {
                let mut gen = Gen::new(schemas, &mut rng, fill);
                let mut chosen = None;
                let mut fallback = None;
                for _ in 0..ATTEMPTS {
                    let v = gen.value(&p.schema);
                    if !representable(p, &v) {
                        continue;
                    }
                    if self.judge.parameter(index, i, Some(&v)).is_ok() {
                        chosen = Some(v);
                        break;
                    }
                    fallback.get_or_insert(v);
                }
                chosen.or(fallback).or_else(|| Some(json!("unruly")))
            } else {
                None
            };
            parameters.push(CaseParameter {
                name: p.name.clone(),
                location: p.location,
                value,
            });
        }
        let mut slots = Vec::new();
        let mut body = None;
        if let Some(spec_body) = &op.body {
            let send = spec_body.required || fill != Fill::Required;
            if let (true, Some(mi)) = (send, media::preferred(spec_body)) {
                let media = &spec_body.contents[mi];
                let any = Value::Bool(true);
                let schema = media.schema.as_ref().unwrap_or(&any);
                let mut first: Option<(CaseBody, Vec<SlotInfo>)> = None;
                for _ in 0..ATTEMPTS {
                    let mut gen = Gen::new(schemas, &mut rng, fill);
                    if record {
                        gen.slots = Some(Vec::new());
                    }
                    let value = gen.value(schema);
                    let found = gen.slots.take().unwrap_or_default();
                    let candidate = make_body(&media.content_type, value);
                    if self.judge.body(index, Some(&candidate)).is_ok() {
                        first = Some((candidate, found));
                        break;
                    }
                    first.get_or_insert((candidate, found));
                }
                if let Some((b, found)) = first {
                    body = Some(b);
                    slots = found;
                }
            }
        }
        let mut case = Case {
            operation: index,
            category: Category::Positive,
            label,
            expect: Expect::Valid,
            parameters,
            body,
            slot: None,
        };
        case.expect = self.judge(&case);
        slots.truncate(MAX_BODY_SLOTS);
        Some(Base { case, slots })
    }
}

/// The body for a generated value, in the form its media type is sent in.
fn make_body(content_type: &str, value: Value) -> CaseBody {
    let concrete = media::concrete(content_type);
    match media::kind(&concrete) {
        MediaKind::Json => CaseBody::Json {
            content_type: concrete,
            value,
        },
        MediaKind::Form => CaseBody::Form { value },
        MediaKind::Multipart => CaseBody::Multipart { value },
        MediaKind::Other => {
            let bytes = match value {
                Value::String(s) => s.into_bytes(),
                other => other.to_string().into_bytes(),
            };
            CaseBody::Raw {
                content_type: Some(concrete),
                bytes,
            }
        }
    }
}

/// Whether a parameter value can be sent faithfully: header and cookie values
/// must be plain visible ASCII, and a path segment must not be empty or a dot segment.
fn representable(p: &ApiParameter, value: &Value) -> bool {
    let text = simple_text(value, p.explode);
    match p.location {
        ParameterLocation::Header => header_safe(&text),
        ParameterLocation::Cookie => cookie_safe(&text),
        ParameterLocation::Path => !text.is_empty() && text != "." && text != "..",
        ParameterLocation::Query => true,
    }
}

/// One `cases()` call: the base case and the list cases are added to.
struct Run<'r, 's> {
    generator: &'r CaseGenerator<'s>,
    op: &'s ApiOperation,
    base: &'r Base,
    rng: &'r mut SeededRng,
    out: &'r mut Vec<Case>,
}

impl Run<'_, '_> {
    fn push(&mut self, mut case: Case) {
        case.expect = self.generator.judge(&case);
        self.out.push(case);
    }

    fn gen(&mut self) -> Gen<'_, '_> {
        Gen::new(self.generator.judge.schemas, self.rng, Fill::All)
    }

    fn with_parameter(
        &self,
        i: usize,
        value: Option<Value>,
        category: Category,
        label: String,
    ) -> Case {
        let mut case = self.base.case.clone();
        let p = &self.op.parameters[i];
        if let Some(cp) = case.parameters.get_mut(i) {
            cp.value = value;
        }
        case.category = category;
        case.label = label;
        case.slot = Some(parameter_slot(p.location, &p.name));
        case
    }

    fn body_value(&self) -> Option<&Value> {
        self.base.case.body.as_ref().and_then(CaseBody::value)
    }

    /// The base case with the body value at `at` replaced (or removed, with `None`).
    fn with_body_at(
        &self,
        at: &str,
        value: Option<Value>,
        category: Category,
        label: String,
    ) -> Option<Case> {
        let mut case = self.base.case.clone();
        let body = case.body.as_mut()?.value_mut()?;
        let done = match value {
            Some(v) => pointer::replace(body, at, v),
            None => pointer::remove(body, at),
        };
        if !done {
            return None;
        }
        case.category = category;
        case.label = label;
        case.slot = Some(body_slot(at));
        Some(case)
    }

    fn with_body(
        &self,
        body: Option<CaseBody>,
        category: Category,
        label: &str,
        slot: &str,
    ) -> Case {
        let mut case = self.base.case.clone();
        case.body = body;
        case.category = category;
        case.label = label.to_string();
        case.slot = Some(slot.to_string());
        case
    }

    fn parameter_variants(
        &mut self,
        category: Category,
        make: fn(&Value, &Value, &mut Gen<'_, '_>) -> Vec<Variant>,
    ) {
        for (i, p) in self.op.parameters.iter().enumerate() {
            let schema = self.gen().choose(&p.schema);
            let current = self.base.case.parameters[i]
                .value
                .clone()
                .unwrap_or(Value::Null);
            let variants = make(&schema, &current, &mut self.gen());
            let slot = parameter_slot(p.location, &p.name);
            for v in variants {
                if !representable(p, &v.value) {
                    continue;
                }
                let label = match category {
                    Category::Boundary => format!("{slot} = {} ({})", short(&v.value), v.what),
                    _ => format!("{slot}: {}", v.what),
                };
                let mut case = self.with_parameter(i, Some(v.value), category, label);
                case.expect = self.generator.judge(&case);
                // Parameters travel as text: a "wrong type" that reads back as a
                // valid value (the number 5 for a string) is no negative case.
                if category == Category::Negative && case.expect.is_valid() {
                    continue;
                }
                self.out.push(case);
            }
        }
    }

    fn body_variants(
        &mut self,
        category: Category,
        make: fn(&Value, &Value, &mut Gen<'_, '_>) -> Vec<Variant>,
    ) {
        let textual = matches!(
            self.base.case.body,
            Some(CaseBody::Form { .. } | CaseBody::Multipart { .. })
        );
        for k in 0..self.base.slots.len() {
            let slot = &self.base.slots[k];
            let Some(current) = self
                .body_value()
                .and_then(|b| b.pointer(&slot.pointer))
                .cloned()
            else {
                continue;
            };
            let (schema, at) = (slot.schema.clone(), slot.pointer.clone());
            // A form or multipart body is a set of fields; it cannot be a string or null.
            if textual && at.is_empty() && category == Category::Negative {
                continue;
            }
            let variants = make(&schema, &current, &mut self.gen());
            let name = body_slot(&at);
            for v in variants {
                let label = match category {
                    Category::Boundary => format!("{name} = {} ({})", short(&v.value), v.what),
                    _ => format!("{name}: {}", v.what),
                };
                if let Some(mut case) = self.with_body_at(&at, Some(v.value), category, label) {
                    case.expect = self.generator.judge(&case);
                    // Form fields travel as text, like parameters.
                    if textual && category == Category::Negative && case.expect.is_valid() {
                        continue;
                    }
                    self.out.push(case);
                }
            }
        }
    }

    fn boundary(&mut self) {
        self.parameter_variants(Category::Boundary, |s, current, gen| {
            boundaries(s, current, gen)
        });
        self.body_variants(Category::Boundary, |s, current, gen| {
            boundaries(s, current, gen)
        });
    }

    fn negative(&mut self) {
        for (i, p) in self.op.parameters.iter().enumerate() {
            if p.required && p.location != ParameterLocation::Path {
                let slot = parameter_slot(p.location, &p.name);
                let case = self.with_parameter(
                    i,
                    None,
                    Category::Negative,
                    format!("{slot}: missing required parameter"),
                );
                self.push(case);
            }
        }
        self.parameter_variants(Category::Negative, |s, _, _| wrong_values(s));
        self.body_variants(Category::Negative, |s, _, _| wrong_values(s));
        for k in 0..self.base.slots.len() {
            let slot = &self.base.slots[k];
            let at = slot.pointer.clone();
            let name = body_slot(&at);
            let parent_is_object = pointer::split_last(&at)
                .and_then(|(parent, _)| self.body_value().and_then(|b| b.pointer(parent)))
                .is_some_and(Value::is_object);
            if slot.required && parent_is_object {
                let label = format!("{name}: missing required field");
                if let Some(case) = self.with_body_at(&at, None, Category::Negative, label) {
                    self.push(case);
                }
            }
            let current = self.body_value().and_then(|b| b.pointer(&at)).cloned();
            if let Some(Value::Object(mut map)) = current {
                if !map.contains_key(EXTRA_FIELD) {
                    map.insert(EXTRA_FIELD.to_string(), json!("unexpected"));
                    let label = format!("{name}: unexpected extra field {EXTRA_FIELD}");
                    if let Some(case) =
                        self.with_body_at(&at, Some(Value::Object(map)), Category::Negative, label)
                    {
                        self.push(case);
                    }
                }
            }
        }
        self.body_level_negatives();
    }

    fn body_level_negatives(&mut self) {
        let Some(spec_body) = &self.op.body else {
            return;
        };
        let base_body = self.base.case.body.clone();
        if spec_body.required {
            let case = self.with_body(
                None,
                Category::Negative,
                "body: missing request body",
                "body",
            );
            self.push(case);
        }
        let Some(base_body) = base_body else {
            return;
        };
        let content_type = base_body
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_string();
        let wire: Vec<u8> = match &base_body {
            CaseBody::Json { value, .. } => serde_json::to_vec(value).unwrap_or_default(),
            CaseBody::Raw { bytes, .. } => bytes.clone(),
            other => other
                .value()
                .map(|v| v.to_string().into_bytes())
                .unwrap_or_default(),
        };
        if media::kind(&content_type) == MediaKind::Json {
            let mut broken = wire[..wire.len() / 2].to_vec();
            if broken.is_empty() || serde_json::from_slice::<Value>(&broken).is_ok() {
                broken = b"{\"unruly\":".to_vec();
            }
            let raw = |bytes: Vec<u8>| CaseBody::Raw {
                content_type: Some(content_type.clone()),
                bytes,
            };
            let case = self.with_body(
                Some(raw(broken)),
                Category::Negative,
                "body: malformed JSON",
                "body",
            );
            self.push(case);
            let case = self.with_body(
                Some(raw(Vec::new())),
                Category::Negative,
                "body: empty with a JSON content type",
                "body",
            );
            self.push(case);
            let case = self.with_body(
                Some(raw(b"null".to_vec())),
                Category::Negative,
                "body: JSON null",
                "body",
            );
            self.push(case);
        }
        if let Some(value) = base_body.value() {
            if media::kind(&content_type) != MediaKind::Json
                && media::find(spec_body, "application/json").is_none()
            {
                let case = self.with_body(
                    Some(CaseBody::Json {
                        content_type: "application/json".to_string(),
                        value: value.clone(),
                    }),
                    Category::Negative,
                    "content-type: the body sent as application/json",
                    "content-type",
                );
                self.push(case);
            }
        }
        let wrong = ["text/plain", "application/xml", "application/x-unruly"]
            .into_iter()
            .find(|ct| media::find(spec_body, ct).is_none());
        if let Some(wrong) = wrong {
            let case = self.with_body(
                Some(CaseBody::Raw {
                    content_type: Some(wrong.to_string()),
                    bytes: wire.clone(),
                }),
                Category::Negative,
                &format!("content-type: {wrong} instead of {content_type}"),
                "content-type",
            );
            self.push(case);
        }
        let case = self.with_body(
            Some(CaseBody::Raw {
                content_type: None,
                bytes: wire,
            }),
            Category::Negative,
            "content-type: no Content-Type header",
            "content-type",
        );
        self.push(case);
    }

    fn strange(&mut self) {
        let corpus = corpus::strings();
        for (i, p) in self.op.parameters.iter().enumerate() {
            let current = self.base.case.parameters[i].value.clone();
            let schema = self.generator.judge.schemas.flatten(&p.schema).into_owned();
            let types = schema::types_of(&schema);
            let stringy = matches!(current, Some(Value::String(_)))
                || (!types.is_empty() && types.iter().any(|t| t == "string"));
            if !stringy {
                continue;
            }
            let slot = parameter_slot(p.location, &p.name);
            for entry in corpus {
                let value = Value::String(entry.value.clone());
                if !representable(p, &value) {
                    continue;
                }
                let label = format!("{slot}: {}", entry.label);
                let case = self.with_parameter(i, Some(value), Category::Strange, label);
                self.push(case);
            }
        }
        for k in 0..self.base.slots.len() {
            let at = self.base.slots[k].pointer.clone();
            if !matches!(
                self.body_value().and_then(|b| b.pointer(&at)),
                Some(Value::String(_))
            ) {
                continue;
            }
            let name = body_slot(&at);
            for entry in corpus {
                let label = format!("{name}: {}", entry.label);
                let value = Value::String(entry.value.clone());
                if let Some(case) = self.with_body_at(&at, Some(value), Category::Strange, label) {
                    self.push(case);
                }
            }
        }
    }

    /// The string field of the body best stretched: one without length, pattern,
    /// format or enum limits first, then any string field at all.
    fn stretchable(&self, top_level_only: bool) -> Option<String> {
        let body = self.body_value()?;
        let strings: Vec<&SlotInfo> = self
            .base
            .slots
            .iter()
            .filter(|s| !s.pointer.is_empty())
            .filter(|s| !top_level_only || s.pointer.matches('/').count() == 1)
            .filter(|s| matches!(body.pointer(&s.pointer), Some(Value::String(_))))
            .collect();
        let free = |s: &&&SlotInfo| {
            ["maxLength", "pattern", "format", "enum", "const"]
                .iter()
                .all(|k| s.schema.get(*k).is_none())
        };
        strings
            .iter()
            .find(free)
            .or_else(|| strings.first())
            .map(|s| s.pointer.clone())
    }

    fn large(&mut self) {
        let Some(spec_body) = &self.op.body else {
            return;
        };
        let Some(mi) = media::preferred(spec_body) else {
            return;
        };
        let content_type = media::concrete(&spec_body.contents[mi].content_type);
        let value = self
            .body_value()
            .cloned()
            .unwrap_or(Value::Object(Map::new()));
        let (shape, what, slot) = match media::kind(&content_type) {
            MediaKind::Json => {
                let at = match (self.stretchable(false), &value) {
                    (Some(at), _) => at,
                    (None, Value::Object(_)) => pointer::push("", "unruly_padding"),
                    (None, _) => String::new(),
                };
                let what = if at.is_empty() {
                    "JSON string".to_string()
                } else {
                    format!("JSON, string {at} stretched")
                };
                let slot = body_slot(&at);
                (
                    LargeShape::JsonString {
                        document: value,
                        pointer: at,
                    },
                    what,
                    slot,
                )
            }
            MediaKind::Form => {
                let name = self
                    .stretchable(true)
                    .and_then(|at| pointer::split_last(&at).map(|(_, n)| n))
                    .unwrap_or_else(|| "unruly_padding".to_string());
                let what = format!("form, field {name} stretched");
                let slot = body_slot(&pointer::push("", &name));
                (
                    LargeShape::FormField {
                        fields: value,
                        name,
                    },
                    what,
                    slot,
                )
            }
            MediaKind::Multipart => {
                let files = binary_fields(Some(self.op), self.generator.judge.schemas);
                let name = files
                    .into_iter()
                    .next()
                    .or_else(|| {
                        self.stretchable(true)
                            .and_then(|at| pointer::split_last(&at).map(|(_, n)| n))
                    })
                    .unwrap_or_else(|| "file".to_string());
                let what = format!("multipart, file {name}");
                let slot = body_slot(&pointer::push("", &name));
                (
                    LargeShape::MultipartFile {
                        fields: value,
                        name,
                    },
                    what,
                    slot,
                )
            }
            MediaKind::Other => (
                LargeShape::Binary,
                format!("{content_type} bytes"),
                "body".to_string(),
            ),
        };
        for size in LARGE_SIZES {
            let body = CaseBody::Large {
                content_type: content_type.clone(),
                size,
                shape: shape.clone(),
            };
            let label = format!("body: {} MiB {what}", size >> 20);
            let case = self.with_body(Some(body), Category::Large, &label, &slot);
            self.push(case);
        }
    }
}
