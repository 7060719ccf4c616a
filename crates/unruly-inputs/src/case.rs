//! The test case: one request to send, what it varies and whether the spec allows it.

use serde_json::Value;
use unruly_core::ParameterLocation;

/// What kind of input a case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// A random valid request.
    Positive,
    /// A value at, just inside or just past a limit (or a well-known edge number).
    Boundary,
    /// A value the spec forbids: wrong type, null, missing or extra field, bad body.
    Negative,
    /// A string from the strange-value [`corpus`](crate::corpus) in one string slot.
    Strange,
    /// A request body of 1, 10 or 100 MiB, streamed.
    Large,
}

impl Category {
    /// Lower-case name (`positive`, `boundary`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Positive => "positive",
            Category::Boundary => "boundary",
            Category::Negative => "negative",
            Category::Strange => "strange",
            Category::Large => "large",
        }
    }
}

/// Whether the spec allows a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expect {
    /// The request satisfies every schema of the operation.
    Valid,
    /// The request violates the spec; the reason names the place, e.g.
    /// `body /quantity: 11 is greater than the maximum of 10`.
    Invalid(String),
}

impl Expect {
    /// Whether this is [`Expect::Valid`].
    pub fn is_valid(&self) -> bool {
        matches!(self, Expect::Valid)
    }
}

/// The value of one spec parameter in a case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseParameter {
    /// The parameter's name as written in the spec.
    pub name: String,
    /// Where it goes.
    pub location: ParameterLocation,
    /// The typed value it stands for (`Number(5)` is sent as `5`); `None` when omitted.
    pub value: Option<Value>,
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseBody {
    /// A JSON document, sent compact.
    Json {
        /// The media type sent, e.g. `application/json`.
        content_type: String,
        /// The document.
        value: Value,
    },
    /// `application/x-www-form-urlencoded`: the fields of an object.
    Form {
        /// An object; scalars are sent as text, arrays repeat the key, objects as JSON.
        value: Value,
    },
    /// `multipart/form-data`: the fields of an object, one part each; fields whose
    /// schema is `format: binary` are sent as file parts.
    Multipart {
        /// An object of fields.
        value: Value,
    },
    /// Bytes sent as they are: malformed JSON, a wrong content type, octet-stream.
    Raw {
        /// The `Content-Type` header, when one is sent.
        content_type: Option<String>,
        /// The body.
        bytes: Vec<u8>,
    },
    /// A body generated and streamed in chunks, never held whole in memory.
    Large {
        /// The `Content-Type` header.
        content_type: String,
        /// The exact body length in bytes.
        size: u64,
        /// What the bytes are.
        shape: LargeShape,
    },
}

impl CaseBody {
    /// The `Content-Type` header this body is sent with (multipart without its boundary).
    pub fn content_type(&self) -> Option<&str> {
        match self {
            CaseBody::Json { content_type, .. } | CaseBody::Large { content_type, .. } => {
                Some(content_type)
            }
            CaseBody::Form { .. } => Some("application/x-www-form-urlencoded"),
            CaseBody::Multipart { .. } => Some("multipart/form-data"),
            CaseBody::Raw { content_type, .. } => content_type.as_deref(),
        }
    }

    /// The structured value of a JSON, form or multipart body.
    pub fn value(&self) -> Option<&Value> {
        match self {
            CaseBody::Json { value, .. }
            | CaseBody::Form { value }
            | CaseBody::Multipart { value } => Some(value),
            _ => None,
        }
    }

    /// The structured value of a JSON, form or multipart body, mutably.
    pub fn value_mut(&mut self) -> Option<&mut Value> {
        match self {
            CaseBody::Json { value, .. }
            | CaseBody::Form { value }
            | CaseBody::Multipart { value } => Some(value),
            _ => None,
        }
    }
}

/// What a [`CaseBody::Large`] body consists of.
#[derive(Debug, Clone, PartialEq)]
pub enum LargeShape {
    /// A valid JSON document whose string at `pointer` is stretched so the whole
    /// document is exactly the body size. `document` holds an ordinary value there
    /// (it is replaced when the body is generated).
    JsonString {
        /// The document around the huge string.
        document: Value,
        /// JSON pointer of the string field, e.g. `/name` (`""` for a top-level string).
        pointer: String,
    },
    /// An `application/x-www-form-urlencoded` body (the fields of `fields`) whose
    /// field `name` is stretched to make the body exactly its size.
    FormField {
        /// The other fields (and `name`, with an ordinary value).
        fields: Value,
        /// The stretched field.
        name: String,
    },
    /// A `multipart/form-data` body (the fields of `fields`) whose field `name` is
    /// sent last, as a file part, stretched to make the body exactly its size.
    MultipartFile {
        /// The other fields (and `name`, with an ordinary value).
        fields: Value,
        /// The stretched file field.
        name: String,
    },
    /// Deterministic bytes (for `application/octet-stream` and other non-JSON media).
    Binary,
}

/// One request to send to an operation, with what it tests and whether the spec
/// allows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Index into `ApiSpec::operations`.
    pub operation: usize,
    /// What kind of input this is.
    pub category: Category,
    /// Human-readable description, e.g. `body /quantity = 11 (maximum + 1)`.
    pub label: String,
    /// Whether the spec allows this request (decided by the JSON Schema validator).
    pub expect: Expect,
    /// One entry per spec parameter, in the spec's order.
    pub parameters: Vec<CaseParameter>,
    /// The request body, when one is sent.
    pub body: Option<CaseBody>,
    /// What this case varies: `query limit`, `path id`, `header X-Id`, `cookie sid`,
    /// `body /items/0/name`, `body` (the whole body), `content-type`; `None` for positives.
    pub slot: Option<String>,
}

impl Case {
    /// The value of the parameter named `name` at `location`, if present.
    pub fn parameter(&self, location: ParameterLocation, name: &str) -> Option<&Value> {
        self.parameters
            .iter()
            .find(|p| p.location == location && p.name == name)
            .and_then(|p| p.value.as_ref())
    }

    /// The value at this case's slot (a parameter, or a place in a JSON, form
    /// or multipart body), when it has one.
    pub fn slot_value(&self) -> Option<&Value> {
        match parse_slot(self.slot.as_deref()?)? {
            SlotRef::Parameter(location, name) => self.parameter(location, &name),
            SlotRef::Body(at) => self.body.as_ref()?.value()?.pointer(&at),
            SlotRef::ContentType => None,
        }
    }

    /// Sets (or, with `None`, omits) the parameter named `name` at `location`.
    /// Returns whether the case has such a parameter. Call
    /// [`CaseGenerator::judge`](crate::CaseGenerator::judge) afterwards to update `expect`.
    pub fn set_parameter(
        &mut self,
        location: ParameterLocation,
        name: &str,
        value: Option<Value>,
    ) -> bool {
        match self
            .parameters
            .iter_mut()
            .find(|p| p.location == location && p.name == name)
        {
            Some(p) => {
                p.value = value;
                true
            }
            None => false,
        }
    }
}

/// The slot name of a parameter: `query limit`.
pub fn parameter_slot(location: ParameterLocation, name: &str) -> String {
    format!("{} {}", location.as_str(), name)
}

/// The slot name of a top-level body field: `body /name` (escaped as a JSON
/// pointer token).
pub fn body_field_slot(name: &str) -> String {
    body_slot(&crate::pointer::push("", name))
}

/// The slot name of a place in the body: `body /a/b`, or `body` for the root.
pub(crate) fn body_slot(pointer: &str) -> String {
    if pointer.is_empty() {
        "body".to_string()
    } else {
        format!("body {pointer}")
    }
}

/// What a slot string names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SlotRef {
    Parameter(ParameterLocation, String),
    Body(String),
    ContentType,
}

/// Parses a slot string made by [`parameter_slot`] or [`body_slot`].
pub(crate) fn parse_slot(slot: &str) -> Option<SlotRef> {
    if slot == "body" {
        return Some(SlotRef::Body(String::new()));
    }
    if slot == "content-type" {
        return Some(SlotRef::ContentType);
    }
    let (head, rest) = slot.split_once(' ')?;
    let location = match head {
        "body" => return Some(SlotRef::Body(rest.to_string())),
        "path" => ParameterLocation::Path,
        "query" => ParameterLocation::Query,
        "header" => ParameterLocation::Header,
        "cookie" => ParameterLocation::Cookie,
        _ => return None,
    };
    Some(SlotRef::Parameter(location, rest.to_string()))
}
