//! Operations turned into HTTP requests, prepared once so the hot path only clones.

use crate::endpoint::Endpoint;
use crate::error::EngineError;
use crate::probe::{ProbeBody, ProbeRequest};
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, HOST, USER_AGENT};
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::Full;
use unruly_core::{
    Operation, RenderContext, RequestRecord, SeededRng, Template, SAMPLE_BODY_BYTES,
};

/// The body type every request uses.
pub(crate) type RequestBody = Full<Bytes>;

/// One operation, ready to be sent many times.
#[derive(Debug, Clone)]
pub(crate) struct PreparedOperation {
    method: Method,
    path: Part,
    headers: Vec<(HeaderName, Part)>,
    body: Option<Part>,
    /// Headers that never change (Host, User-Agent and the static ones).
    static_headers: HeaderMap,
    /// `scheme://authority`: the path sent already holds the base path.
    origin: String,
    scheme: &'static str,
    authority: String,
}

/// A piece of a request that is either fixed or rendered per request.
#[derive(Debug, Clone)]
enum Part {
    Static(Bytes),
    Dynamic(Template),
}

impl Part {
    fn new(template: &Template) -> Self {
        match template.as_literal() {
            Some(text) => Part::Static(Bytes::from(text)),
            None => Part::Dynamic(template.clone()),
        }
    }

    fn render(&self, ctx: RenderContext, rng: &mut SeededRng) -> Bytes {
        match self {
            Part::Static(bytes) => bytes.clone(),
            Part::Dynamic(template) => Bytes::from(template.render(ctx, rng)),
        }
    }
}

/// A request built for sending, with what a sample needs to reproduce it.
pub(crate) struct Built {
    pub request: Request<RequestBody>,
    pub sent: Sent,
}

/// The per-request parts of a request as sent (cheap clones of shared bytes).
#[derive(Debug, Clone, Default)]
pub(crate) struct Sent {
    pub path: Bytes,
    pub body: Bytes,
    /// Header values rendered for this request (the static ones are in the operation).
    pub rendered_headers: Vec<(HeaderName, HeaderValue)>,
}

impl PreparedOperation {
    /// Prepares `operation` for `endpoint`, checking that its method and static
    /// parts are valid HTTP.
    pub fn new(operation: &Operation, endpoint: &Endpoint) -> Result<Self, EngineError> {
        let invalid = |reason: String| EngineError::InvalidOperation {
            operation: operation.name.clone(),
            reason,
        };
        let method = Method::from_bytes(operation.method.as_bytes())
            .map_err(|_| invalid(format!("`{}` is not an HTTP method", operation.method)))?;
        let mut static_headers = HeaderMap::new();
        let host = HeaderValue::from_str(&endpoint.authority)
            .map_err(|_| invalid(format!("`{}` is not a valid Host", endpoint.authority)))?;
        static_headers.insert(HOST, host);
        static_headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("unruly/", env!("CARGO_PKG_VERSION"))),
        );
        let mut headers = Vec::new();
        for (name, value) in &operation.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(format!("`{name}` is not a valid header name")))?;
            match Part::new(value) {
                Part::Static(bytes) => {
                    let value = HeaderValue::from_maybe_shared(bytes).map_err(|_| {
                        invalid(format!("the value of header `{name}` is not valid"))
                    })?;
                    static_headers.append(name, value);
                }
                dynamic => headers.push((name, dynamic)),
            }
        }
        let path = Part::new(&operation.path.with_prefix(&endpoint.base_path));
        if let Part::Static(path) = &path {
            Uri::from_maybe_shared(path.clone())
                .map_err(|e| invalid(format!("path `{}`: {e}", String::from_utf8_lossy(path))))?;
        }
        Ok(Self {
            method,
            path,
            headers,
            body: operation.body.as_ref().map(Part::new),
            static_headers,
            origin: format!("{}://{}", endpoint.scheme, endpoint.authority),
            scheme: endpoint.scheme,
            authority: endpoint.authority.clone(),
        })
    }

    /// Builds one request. `http2` requests carry the full URI (no Host header).
    pub fn build(
        &self,
        ctx: RenderContext,
        rng: &mut SeededRng,
        http2: bool,
    ) -> Result<Built, String> {
        let path = self.path.render(ctx, rng);
        let body = self
            .body
            .as_ref()
            .map(|part| part.render(ctx, rng))
            .unwrap_or_default();
        let uri = if http2 {
            Uri::builder()
                .scheme(self.scheme)
                .authority(self.authority.as_str())
                .path_and_query(
                    http::uri::PathAndQuery::from_maybe_shared(path.clone())
                        .map_err(|e| e.to_string())?,
                )
                .build()
                .map_err(|e| e.to_string())?
        } else {
            Uri::from_maybe_shared(path.clone()).map_err(|e| e.to_string())?
        };
        let mut request = Request::new(Full::new(body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        *headers = self.static_headers.clone();
        if http2 {
            headers.remove(HOST);
        }
        let mut rendered_headers = Vec::new();
        for (name, part) in &self.headers {
            let value = HeaderValue::from_maybe_shared(part.render(ctx, rng))
                .map_err(|_| format!("rendered value of header `{name}` is not valid"))?;
            headers.append(name.clone(), value.clone());
            rendered_headers.push((name.clone(), value));
        }
        Ok(Built {
            request,
            sent: Sent {
                path,
                body,
                rendered_headers,
            },
        })
    }

    /// Renders one request as the load would send it, for the raw connections
    /// of behaviours (bursts, storms, slow clients), with its record for
    /// reproductions. The path loses `base_path` (the wire encoder puts the
    /// endpoint's base path back); `Host` and the default `User-Agent` are left
    /// to the sender.
    pub fn probe_request(
        &self,
        ctx: RenderContext,
        rng: &mut SeededRng,
        base_path: &str,
    ) -> Result<(ProbeRequest, RequestRecord), String> {
        let built = self.build(ctx, rng, false)?;
        let record = self.record(&built.sent);
        let path = String::from_utf8_lossy(&built.sent.path).into_owned();
        let path_and_query = match path.strip_prefix(base_path) {
            Some(rest) if rest.starts_with('/') => rest.to_owned(),
            _ => path,
        };
        let default_agent = concat!("unruly/", env!("CARGO_PKG_VERSION"));
        let headers = built
            .request
            .headers()
            .iter()
            .filter(|(name, value)| {
                *name != HOST
                    && !(*name == USER_AGENT && value.as_bytes() == default_agent.as_bytes())
            })
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = if built.sent.body.is_empty() {
            ProbeBody::Empty
        } else {
            ProbeBody::Bytes(built.sent.body.clone())
        };
        Ok((
            ProbeRequest {
                method: self.method.as_str().to_owned(),
                path_and_query,
                headers,
                body,
            },
            record,
        ))
    }

    /// The record of a request as sent, for samples and reproductions.
    pub fn record(&self, sent: &Sent) -> RequestRecord {
        let Sent {
            path,
            body,
            rendered_headers,
        } = sent;
        let headers = self
            .static_headers
            .iter()
            .chain(rendered_headers.iter().map(|(name, value)| (name, value)))
            .filter(|(name, _)| *name != HOST && *name != USER_AGENT)
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = (!body.is_empty()).then(|| {
            String::from_utf8_lossy(&body[..body.len().min(SAMPLE_BODY_BYTES)]).into_owned()
        });
        RequestRecord {
            method: self.method.as_str().to_string(),
            url: format!("{}{}", self.origin, String::from_utf8_lossy(path)),
            headers,
            body,
        }
    }
}
