//! Media types: which spec media type a request's `Content-Type` falls under,
//! and what kind of body each is.

use unruly_core::api::essence;
use unruly_core::ApiBody;

/// How a media type's body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaKind {
    /// `application/json`, `application/*+json`.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `multipart/form-data` (and other `multipart/*`).
    Multipart,
    /// Anything else: octet-stream, text, images, wildcards.
    Other,
}

/// The kind of a media type.
pub(crate) fn kind(content_type: &str) -> MediaKind {
    let e = essence(content_type);
    if e == "application/json" || e.ends_with("+json") {
        MediaKind::Json
    } else if e == "application/x-www-form-urlencoded" {
        MediaKind::Form
    } else if e.starts_with("multipart/") {
        MediaKind::Multipart
    } else {
        MediaKind::Other
    }
}

/// The index of the spec media type that accepts `content_type`: an exact match
/// first, then `type/*`, then `*/*`.
pub(crate) fn find(body: &ApiBody, content_type: &str) -> Option<usize> {
    let wanted = essence(content_type);
    let main = wanted.split('/').next().unwrap_or_default().to_string();
    let essences: Vec<String> = body
        .contents
        .iter()
        .map(|m| essence(&m.content_type))
        .collect();
    essences
        .iter()
        .position(|e| *e == wanted)
        .or_else(|| essences.iter().position(|e| *e == format!("{main}/*")))
        .or_else(|| essences.iter().position(|e| e == "*/*"))
}

/// A concrete content type to send for a spec media type (wildcards made concrete).
pub(crate) fn concrete(content_type: &str) -> String {
    let e = essence(content_type);
    match e.as_str() {
        "*/*" | "application/*" => "application/json".to_string(),
        "text/*" => "text/plain".to_string(),
        "image/*" => "image/png".to_string(),
        _ if e.contains('*') => "application/octet-stream".to_string(),
        _ => content_type.to_string(),
    }
}

/// The index of the media type generation uses: the first JSON one, else the
/// first form, multipart, then any other.
pub(crate) fn preferred(body: &ApiBody) -> Option<usize> {
    let kinds: Vec<MediaKind> = body
        .contents
        .iter()
        .map(|m| kind(&concrete(&m.content_type)))
        .collect();
    [
        MediaKind::Json,
        MediaKind::Form,
        MediaKind::Multipart,
        MediaKind::Other,
    ]
    .into_iter()
    .find_map(|k| kinds.iter().position(|x| *x == k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use unruly_core::MediaType;

    #[test]
    fn matches_exact_then_wildcards() {
        let body = ApiBody {
            required: true,
            contents: vec![
                MediaType {
                    content_type: "application/json".into(),
                    schema: None,
                },
                MediaType {
                    content_type: "image/*".into(),
                    schema: None,
                },
            ],
        };
        assert_eq!(find(&body, "application/json; charset=utf-8"), Some(0));
        assert_eq!(find(&body, "image/png"), Some(1));
        assert_eq!(find(&body, "text/plain"), None);
        assert_eq!(kind("application/problem+json"), MediaKind::Json);
        assert_eq!(preferred(&body), Some(0));
    }
}
