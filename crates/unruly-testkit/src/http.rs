//! The HTTP behaviours, served by hyper's HTTP/1.1 server with keep-alive, or (over TLS with
//! `h2` offered) by hyper-util's auto builder, which also speaks HTTP/2.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::behaviour::Behaviour;
use crate::body::RepeatBody;
use crate::server::Shared;

/// The body every HTTP behaviour answers with.
type Body = Either<Full<Bytes>, RepeatBody>;

/// What [`Behaviour::Fast`] and its variations answer.
pub(crate) const HELLO: &str = "hello world\n";

/// Serves one plain-TCP HTTP/1.1 connection until the client goes away; errors just end it.
pub(crate) async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    serve_http1(stream, shared).await;
}

/// Serves HTTP/1.1 on any byte stream (plain or TLS) until the client goes away; errors just
/// end it.
pub(crate) async fn serve_http1<I>(io: I, shared: Arc<Shared>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let shared = Arc::clone(&shared);
        async move { respond(req, &shared).await }
    });
    let _ = http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service)
        .await;
}

/// Serves HTTP/1.1 or HTTP/2, whichever the client speaks (hyper-util's auto builder), until
/// the client goes away; errors just end it.
pub(crate) async fn serve_auto<I>(io: I, shared: Arc<Shared>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let shared = Arc::clone(&shared);
        async move { respond(req, &shared).await }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let _ = builder.serve_connection(TokioIo::new(io), service).await;
}

/// Receives the whole request, waits as the behaviour says, then answers.
async fn respond(req: Request<Incoming>, shared: &Shared) -> Result<Response<Body>, hyper::Error> {
    let arrived = Instant::now();
    let http2 = req.version() == Version::HTTP_2;
    let first = *shared.first_request.get_or_init(|| arrived);
    let delayed = match &shared.behaviour {
        Behaviour::Delay { path_prefix, delay }
            if req.uri().path().starts_with(path_prefix.as_str()) =>
        {
            Some(*delay)
        }
        _ => None,
    };
    drain(req.into_body()).await?;
    shared.count_request();
    if http2 {
        shared.count_http2_request();
    }

    match &shared.behaviour {
        Behaviour::StallOnce { after, stall } => {
            let elapsed = arrived.saturating_duration_since(first);
            let end = after.saturating_add(*stall);
            if elapsed >= *after && elapsed < end {
                match first.checked_add(end) {
                    Some(until) => tokio::time::sleep_until(until.into()).await,
                    None => std::future::pending::<()>().await,
                }
            }
        }
        Behaviour::Slow(wait) => tokio::time::sleep(*wait).await,
        Behaviour::Delay { .. } => {
            if let Some(wait) = delayed {
                tokio::time::sleep(wait).await;
            }
        }
        _ => {}
    }
    Ok(answer(&shared.behaviour))
}

/// Reads and discards a request body.
async fn drain(mut body: Incoming) -> Result<(), hyper::Error> {
    while let Some(frame) = body.frame().await {
        frame?;
    }
    Ok(())
}

/// The response for a behaviour, once any waiting is done.
fn answer(behaviour: &Behaviour) -> Response<Body> {
    match behaviour {
        Behaviour::Status(code) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let text = if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
                String::new()
            } else {
                format!("status {}\n", status.as_u16())
            };
            with_status(
                status,
                text_response(Either::Left(Full::new(Bytes::from(text)))),
            )
        }
        Behaviour::EndlessBody => {
            let mut response = Response::new(Either::Right(RepeatBody::endless()));
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            response
        }
        Behaviour::BodySize(len) => {
            let len = u64::try_from(*len).unwrap_or(u64::MAX);
            text_response(Either::Right(RepeatBody::exact(len)))
        }
        _ => text_response(Either::Left(Full::new(Bytes::from_static(
            HELLO.as_bytes(),
        )))),
    }
}

/// A `200 text/plain` response.
fn text_response(body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Sets a response's status.
fn with_status(status: StatusCode, mut response: Response<Body>) -> Response<Body> {
    *response.status_mut() = status;
    response
}
