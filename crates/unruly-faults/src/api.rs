//! The control API, compatible with Toxiproxy's HTTP API: the same endpoints, JSON shapes,
//! status codes and error bodies, so that Toxiproxy's clients work unchanged. HTTP faults
//! are an extension under `/proxies/{proxy}/http_faults`.

use crate::body::{bool_field, json_kind, parse_object, string_field};
use crate::error::ApiError;
use crate::http_fault::HttpFault;
use crate::proxies::{Proxies, ProxyInfo, ProxySpec};
use crate::toxic::Toxic;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The Toxiproxy version whose API this one follows.
pub const TOXIPROXY_VERSION: &str = "2.12.0";

/// The largest request body the API reads.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The control API over a set of proxies.
#[derive(Clone)]
pub struct ControlApi {
    proxies: Proxies,
    token: Option<Arc<str>>,
}

impl ControlApi {
    /// An API over `proxies`; with a token, every request must carry
    /// `Authorization: Bearer <token>`.
    pub fn new(proxies: Proxies, token: Option<String>) -> ControlApi {
        ControlApi {
            proxies,
            token: token.map(Arc::from),
        }
    }

    /// Serves the API on `listener` until `stop` is cancelled.
    pub async fn serve(self, listener: TcpListener, stop: CancellationToken) {
        loop {
            let accepted = tokio::select! {
                _ = stop.cancelled() => return,
                accepted = listener.accept() => accepted,
            };
            let Ok((stream, _)) = accepted else {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            };
            let api = self.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let api = api.clone();
                    async move { Ok::<_, std::convert::Infallible>(api.answer(request).await) }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    _ = connection => {}
                    _ = stop.cancelled() => {}
                }
            });
        }
    }

    /// Answers one request.
    pub async fn answer(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return error(&ApiError::bad_body(format!(
                    "the body is over {MAX_BODY_BYTES} bytes or was cut"
                )))
            }
        };
        if let Some(refused) = self.refuse(&parts.headers) {
            return error(&refused);
        }
        match self.route(&parts.method, parts.uri.path(), &body) {
            Ok(reply) => reply,
            Err(refused) => error(&refused),
        }
    }

    /// Cross-site request protection (a browser's `User-Agent` is refused, as Toxiproxy
    /// does) and the token.
    fn refuse(&self, headers: &http::HeaderMap) -> Option<ApiError> {
        let agent = headers
            .get(header::USER_AGENT)
            .and_then(|agent| agent.to_str().ok())
            .unwrap_or("");
        if agent.starts_with("Mozilla/") {
            return Some(ApiError::new("User agent not allowed", 403));
        }
        let token = self.token.as_deref()?;
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        match given {
            Some(given) if given == token => None,
            _ => Some(ApiError::new(
                "missing or wrong token: send Authorization: Bearer <token>",
                401,
            )),
        }
    }

    fn route(
        &self,
        method: &Method,
        path: &str,
        body: &[u8],
    ) -> Result<Response<Full<Bytes>>, ApiError> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let proxies = &self.proxies;
        match (segments.as_slice(), method.as_str()) {
            (["version"], "GET") => Ok(reply(
                StatusCode::OK,
                format!("{{\"version\": \"{TOXIPROXY_VERSION}\"}}\n"),
                "application/json;charset=utf-8",
            )),
            (["reset"], "POST") => {
                proxies.reset()?;
                Ok(no_content())
            }
            (["populate"], "POST") => self.populate(body),
            (["proxies"], "GET") => {
                let all: Map<String, Value> = proxies
                    .list()
                    .into_iter()
                    .map(|info| (info.name.clone(), info.to_json()))
                    .collect();
                Ok(json(StatusCode::OK, &Value::Object(all)))
            }
            (["proxies"], "POST") => {
                let info = proxies.create(proxy_spec(&parse_object(body)?, None)?)?;
                Ok(json(StatusCode::CREATED, &info.to_json()))
            }
            (["proxies", name], "GET") => Ok(json(StatusCode::OK, &proxies.get(name)?.to_json())),
            (["proxies", name], "POST" | "PATCH") => {
                let object = parse_object(body)?;
                let listen = string_field(&object, "listen")?;
                let upstream = string_field(&object, "upstream")?;
                let enabled = bool_field(&object, "enabled")?;
                let info = proxies.update(name, listen, upstream, enabled)?;
                Ok(json(StatusCode::OK, &info.to_json()))
            }
            (["proxies", name], "DELETE") => {
                proxies.delete(name)?;
                Ok(no_content())
            }
            (["proxies", name, "toxics"], "GET") => {
                let toxics: Vec<Value> = proxies.toxics(name)?.iter().map(Toxic::to_json).collect();
                Ok(json(StatusCode::OK, &Value::Array(toxics)))
            }
            (["proxies", name, "toxics"], "POST") => {
                proxies.get(name)?;
                let toxic = proxies.add_toxic(name, Toxic::from_json(body)?)?;
                Ok(json(StatusCode::OK, &toxic.to_json()))
            }
            (["proxies", name, "toxics", toxic], "GET") => {
                Ok(json(StatusCode::OK, &proxies.toxic(name, toxic)?.to_json()))
            }
            (["proxies", name, "toxics", toxic], "POST" | "PATCH") => {
                let updated =
                    proxies.update_toxic(name, toxic, |toxic| toxic.update_from_json(body))?;
                Ok(json(StatusCode::OK, &updated.to_json()))
            }
            (["proxies", name, "toxics", toxic], "DELETE") => {
                proxies.remove_toxic(name, toxic)?;
                Ok(no_content())
            }
            (["proxies", name, "http_faults"], "GET") => {
                let faults: Vec<Value> = proxies
                    .get(name)?
                    .http_faults
                    .iter()
                    .map(HttpFault::to_json)
                    .collect();
                Ok(json(StatusCode::OK, &Value::Array(faults)))
            }
            (["proxies", name, "http_faults"], "POST") => {
                proxies.get(name)?;
                let fault = proxies.add_http_fault(name, HttpFault::from_json(body)?)?;
                Ok(json(StatusCode::OK, &fault.to_json()))
            }
            (["proxies", name, "http_faults", fault], "GET") => {
                let found = proxies
                    .get(name)?
                    .http_faults
                    .into_iter()
                    .find(|candidate| candidate.name == *fault)
                    .ok_or_else(|| ApiError::new("http fault not found", 404))?;
                Ok(json(StatusCode::OK, &found.to_json()))
            }
            (["proxies", name, "http_faults", fault], "DELETE") => {
                proxies.remove_http_fault(name, fault)?;
                Ok(no_content())
            }
            (
                ["version"]
                | ["reset"]
                | ["populate"]
                | ["proxies"]
                | ["proxies", _]
                | ["proxies", _, "toxics" | "http_faults"]
                | ["proxies", _, "toxics" | "http_faults", _],
                _,
            ) => Err(ApiError::new(
                format!("method {method} not allowed on {path}"),
                405,
            )),
            _ => Err(ApiError::new(format!("no such endpoint: {path}"), 404)),
        }
    }

    fn populate(&self, body: &[u8]) -> Result<Response<Full<Bytes>>, ApiError> {
        let entries = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Array(entries)) => entries,
            Ok(other) => {
                return Err(ApiError::bad_body(format!(
                    "expected an array of proxies, found {}",
                    json_kind(&other)
                )))
            }
            Err(error) => return Err(ApiError::bad_body(error)),
        };
        let mut specs = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let Value::Object(object) = entry else {
                return Err(ApiError::bad_body(format!(
                    "proxy {} is {}, not an object",
                    index + 1,
                    json_kind(entry)
                )));
            };
            specs.push(proxy_spec(object, Some(index + 1))?);
        }
        let infos = self.proxies.populate(specs)?;
        let proxies: Vec<Value> = infos.iter().map(ProxyInfo::to_json).collect();
        Ok(json(
            StatusCode::CREATED,
            &serde_json::json!({ "proxies": proxies }),
        ))
    }
}

/// A proxy from its JSON object (create, populate, config file): `name` and `upstream`
/// required, `listen` defaulting to loopback on any port, `enabled` to true.
pub(crate) fn proxy_spec(
    object: &Map<String, Value>,
    position: Option<usize>,
) -> Result<ProxySpec, ApiError> {
    let at = |field: &str| match position {
        Some(position) => format!("{field} at proxy {position}"),
        None => field.to_owned(),
    };
    let name = string_field(object, "name")?.unwrap_or_default();
    if name.is_empty() {
        return Err(ApiError::missing_field(&at("name")));
    }
    let upstream = string_field(object, "upstream")?.unwrap_or_default();
    if upstream.is_empty() {
        return Err(ApiError::missing_field(&at("upstream")));
    }
    Ok(ProxySpec {
        name,
        listen: string_field(object, "listen")?.unwrap_or_default(),
        upstream,
        enabled: bool_field(object, "enabled")?.unwrap_or(true),
    })
}

fn reply(status: StatusCode, body: String, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn json(status: StatusCode, value: &Value) -> Response<Full<Bytes>> {
    reply(status, value.to_string(), "application/json")
}

fn no_content() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

fn error(refused: &ApiError) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(refused.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    reply(status, refused.to_json(), "application/json")
}
