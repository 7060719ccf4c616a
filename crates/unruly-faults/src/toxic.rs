//! Toxics: what a proxy does to the bytes of a connection, with Toxiproxy's names,
//! attributes and JSON shape, so that its documentation and clients carry over.

use crate::body::{object_field, parse_object};
use crate::error::ApiError;
use serde::Serialize;
use serde_json::{Map, Value};

/// Which way the bytes flow: `upstream` is client → upstream, `downstream` is
/// upstream → client (Toxiproxy's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// From the client to the upstream.
    Upstream,
    /// From the upstream back to the client.
    Downstream,
}

impl Stream {
    /// `"upstream"` or `"downstream"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Upstream => "upstream",
            Stream::Downstream => "downstream",
        }
    }

    /// Parses `"upstream"` or `"downstream"`.
    pub fn parse(text: &str) -> Option<Stream> {
        match text {
            "upstream" => Some(Stream::Upstream),
            "downstream" => Some(Stream::Downstream),
            _ => None,
        }
    }
}

/// A toxic's effect and its attributes, as Toxiproxy defines them (times in milliseconds
/// unless said otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToxicKind {
    /// `latency`: every chunk is delayed `latency` ms ± up to `jitter` ms after it arrived.
    Latency {
        /// The delay, in milliseconds.
        latency: u64,
        /// The spread, in milliseconds, drawn uniformly from [-jitter, +jitter].
        jitter: u64,
    },
    /// `bandwidth`: at most `rate` KB (1000 bytes) per second.
    Bandwidth {
        /// Kilobytes per second; 0 is no limit.
        rate: u64,
    },
    /// `slow_close`: the close is passed on `delay` ms late.
    SlowClose {
        /// Milliseconds.
        delay: u64,
    },
    /// `timeout`: no data gets through; the connection is closed after `timeout` ms, or
    /// never with 0 (data is dropped until the toxic is removed).
    Timeout {
        /// Milliseconds.
        timeout: u64,
    },
    /// `reset_peer`: the client's connection is reset (TCP RST) `timeout` ms after the
    /// toxic applies to it.
    ResetPeer {
        /// Milliseconds.
        timeout: u64,
    },
    /// `slicer`: chunks are cut into pieces of `average_size` ± `size_variation` bytes,
    /// `delay` microseconds apart.
    Slicer {
        /// Bytes.
        average_size: u64,
        /// Bytes.
        size_variation: u64,
        /// Microseconds between pieces.
        delay: u64,
    },
    /// `limit_data`: the connection is closed once `bytes` bytes have gone through this
    /// stream.
    LimitData {
        /// Bytes.
        bytes: u64,
    },
}

/// The toxic types Toxiproxy has and unruly implements.
pub const TOXIC_TYPES: [&str; 7] = [
    "latency",
    "bandwidth",
    "slow_close",
    "timeout",
    "reset_peer",
    "slicer",
    "limit_data",
];

impl ToxicKind {
    /// The Toxiproxy type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            ToxicKind::Latency { .. } => "latency",
            ToxicKind::Bandwidth { .. } => "bandwidth",
            ToxicKind::SlowClose { .. } => "slow_close",
            ToxicKind::Timeout { .. } => "timeout",
            ToxicKind::ResetPeer { .. } => "reset_peer",
            ToxicKind::Slicer { .. } => "slicer",
            ToxicKind::LimitData { .. } => "limit_data",
        }
    }

    /// The toxic of this type with Toxiproxy's defaults (all zero).
    pub fn default_of(type_name: &str) -> Option<ToxicKind> {
        Some(match type_name {
            "latency" => ToxicKind::Latency {
                latency: 0,
                jitter: 0,
            },
            "bandwidth" => ToxicKind::Bandwidth { rate: 0 },
            "slow_close" => ToxicKind::SlowClose { delay: 0 },
            "timeout" => ToxicKind::Timeout { timeout: 0 },
            "reset_peer" => ToxicKind::ResetPeer { timeout: 0 },
            "slicer" => ToxicKind::Slicer {
                average_size: 0,
                size_variation: 0,
                delay: 0,
            },
            "limit_data" => ToxicKind::LimitData { bytes: 0 },
            _ => return None,
        })
    }

    fn fields_mut(&mut self) -> Vec<(&'static str, &mut u64)> {
        match self {
            ToxicKind::Latency { latency, jitter } => {
                vec![("latency", latency), ("jitter", jitter)]
            }
            ToxicKind::Bandwidth { rate } => vec![("rate", rate)],
            ToxicKind::SlowClose { delay } => vec![("delay", delay)],
            ToxicKind::Timeout { timeout } | ToxicKind::ResetPeer { timeout } => {
                vec![("timeout", timeout)]
            }
            ToxicKind::Slicer {
                average_size,
                size_variation,
                delay,
            } => vec![
                ("average_size", average_size),
                ("size_variation", size_variation),
                ("delay", delay),
            ],
            ToxicKind::LimitData { bytes } => vec![("bytes", bytes)],
        }
    }

    /// The attributes as a JSON object, in Toxiproxy's names.
    pub fn attributes(&self) -> Map<String, Value> {
        let mut copy = self.clone();
        copy.fields_mut()
            .into_iter()
            .map(|(name, value)| (name.to_owned(), Value::from(*value)))
            .collect()
    }

    /// Sets the attributes given in `object`, leaving the others as they are. Unknown keys
    /// are ignored, as Toxiproxy ignores them; a value that is not a non-negative integer
    /// is a 400.
    pub fn merge_attributes(&mut self, object: &Map<String, Value>) -> Result<(), ApiError> {
        for (name, field) in self.fields_mut() {
            let Some(value) = object.get(name) else {
                continue;
            };
            *field = value.as_u64().ok_or_else(|| {
                ApiError::bad_body(format!(
                    "attribute {name} must be a non-negative integer, not {value}"
                ))
            })?;
        }
        Ok(())
    }
}

/// One toxic on a proxy.
#[derive(Debug, Clone, PartialEq)]
pub struct Toxic {
    /// Its name, unique on its proxy (Toxiproxy's default: `<type>_<stream>`).
    pub name: String,
    /// What it does.
    pub kind: ToxicKind,
    /// Which way it acts.
    pub stream: Stream,
    /// The probability, decided once per connection, that it applies to a connection.
    pub toxicity: f64,
}

/// Toxiproxy's JSON shape of a toxic.
#[derive(Serialize)]
struct ToxicJson<'a> {
    attributes: Map<String, Value>,
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    stream: &'a str,
    toxicity: f64,
}

impl Toxic {
    /// The toxic as Toxiproxy shows it:
    /// `{"attributes":{...},"name":"...","type":"...","stream":"...","toxicity":1}`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(ToxicJson {
            attributes: self.kind.attributes(),
            name: &self.name,
            kind: self.kind.type_name(),
            stream: self.stream.as_str(),
            toxicity: self.toxicity,
        })
        .unwrap_or(Value::Null)
    }

    /// A toxic from the body of `POST /proxies/{proxy}/toxics`, with Toxiproxy's defaults:
    /// stream `downstream`, toxicity 1, name `<type>_<stream>`.
    pub fn from_json(body: &[u8]) -> Result<Toxic, ApiError> {
        let object = parse_object(body)?;
        let type_name = object.get("type").and_then(Value::as_str).unwrap_or("");
        let mut kind = ToxicKind::default_of(type_name).ok_or_else(ApiError::invalid_toxic_type)?;
        let stream = match object.get("stream") {
            None | Some(Value::Null) => Stream::Downstream,
            Some(Value::String(text)) if text.is_empty() => Stream::Downstream,
            Some(Value::String(text)) => {
                Stream::parse(text).ok_or_else(ApiError::invalid_stream)?
            }
            Some(_) => return Err(ApiError::invalid_stream()),
        };
        let toxicity = toxicity_of(&object)?.unwrap_or(1.0);
        if let Some(attributes) = object_field(&object, "attributes")? {
            kind.merge_attributes(attributes)?;
        }
        let name = match object.get("name") {
            Some(Value::String(name)) if !name.is_empty() => name.clone(),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                format!("{}_{}", kind.type_name(), stream.as_str())
            }
            Some(other) => {
                return Err(ApiError::bad_body(format!(
                    "name must be a string, not {other}"
                )))
            }
        };
        Ok(Toxic {
            name,
            kind,
            stream,
            toxicity,
        })
    }

    /// Applies the body of `PATCH /proxies/{proxy}/toxics/{toxic}`: new attributes (merged)
    /// and toxicity; the type, stream and name stay.
    pub fn update_from_json(&mut self, body: &[u8]) -> Result<(), ApiError> {
        let object = parse_object(body)?;
        if let Some(type_name) = object.get("type").and_then(Value::as_str) {
            if !type_name.is_empty() && type_name != self.kind.type_name() {
                return Err(ApiError::bad_body(
                    "a toxic's type cannot change; delete it and create another",
                ));
            }
        }
        let toxicity = toxicity_of(&object)?;
        let mut kind = self.kind.clone();
        if let Some(attributes) = object_field(&object, "attributes")? {
            kind.merge_attributes(attributes)?;
        }
        self.kind = kind;
        if let Some(toxicity) = toxicity {
            self.toxicity = toxicity;
        }
        Ok(())
    }
}

fn toxicity_of(object: &Map<String, Value>) -> Result<Option<f64>, ApiError> {
    match object.get("toxicity") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => match value.as_f64() {
            Some(toxicity) if (0.0..=1.0).contains(&toxicity) => Ok(Some(toxicity)),
            _ => Err(ApiError::bad_body(format!(
                "toxicity must be a number from 0 to 1, not {value}"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_toxiproxy() {
        let toxic = Toxic::from_json(br#"{"type":"latency","attributes":{"latency":100}}"#)
            .expect("a valid toxic");
        assert_eq!(toxic.name, "latency_downstream");
        assert_eq!(toxic.stream, Stream::Downstream);
        assert_eq!(toxic.toxicity, 1.0);
        assert_eq!(
            toxic.to_json(),
            serde_json::json!({"attributes":{"latency":100,"jitter":0},"name":"latency_downstream",
                "type":"latency","stream":"downstream","toxicity":1.0})
        );
    }

    #[test]
    fn bad_toxics_are_400s_with_toxiproxy_messages() {
        let bad_type = Toxic::from_json(br#"{"type":"sideways"}"#).expect_err("bad type");
        assert_eq!(
            (bad_type.error.as_str(), bad_type.status),
            ("invalid toxic type", 400)
        );
        let bad_stream =
            Toxic::from_json(br#"{"type":"latency","stream":"sideways"}"#).expect_err("bad stream");
        assert_eq!(bad_stream.status, 400);
        assert!(bad_stream.error.starts_with("stream was invalid"));
        let bad_json = Toxic::from_json(b"{\"type\":").expect_err("bad json");
        assert_eq!(bad_json.status, 400);
        assert!(
            bad_json.error.starts_with("bad request body: "),
            "{}",
            bad_json.error
        );
        let negative = Toxic::from_json(br#"{"type":"latency","attributes":{"latency":-1}}"#)
            .expect_err("negative latency");
        assert_eq!(negative.status, 400);
        let toxicity =
            Toxic::from_json(br#"{"type":"latency","toxicity":1.5}"#).expect_err("toxicity");
        assert_eq!(toxicity.status, 400);
    }

    #[test]
    fn updates_merge_attributes() {
        let mut toxic =
            Toxic::from_json(br#"{"type":"slicer","attributes":{"average_size":64,"delay":10}}"#)
                .expect("a valid toxic");
        toxic
            .update_from_json(br#"{"attributes":{"delay":20},"toxicity":0.5}"#)
            .expect("a valid update");
        assert_eq!(
            toxic.kind,
            ToxicKind::Slicer {
                average_size: 64,
                size_variation: 0,
                delay: 20
            }
        );
        assert_eq!(toxic.toxicity, 0.5);
    }
}
