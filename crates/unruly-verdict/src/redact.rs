//! Secrets in request headers are never written to a report.

/// What a redacted value is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Header names whose values are secrets (compared case-insensitively).
const SENSITIVE: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
];

/// Whether the value of the header `name` is a secret: `Authorization`,
/// `Proxy-Authorization`, `Cookie`, `Set-Cookie`, `X-Api-Key`, `Api-Key` and
/// `X-Auth-Token`, in any case.
pub fn is_sensitive_header(name: &str) -> bool {
    SENSITIVE
        .iter()
        .any(|s| s.eq_ignore_ascii_case(name.trim()))
}

/// The headers with the value of each sensitive one (see [`is_sensitive_header`])
/// replaced by [`REDACTED`]; names and order are kept.
pub fn redact_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            if is_sensitive_header(name) {
                (name.clone(), REDACTED.to_string())
            } else {
                (name.clone(), value.clone())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &str, value: &str) -> (String, String) {
        (name.to_string(), value.to_string())
    }

    #[test]
    fn secrets_are_redacted_in_any_case_and_the_rest_kept() {
        let headers = vec![
            h("Authorization", "Bearer abc"),
            h("cookie", "session=1"),
            h("PROXY-AUTHORIZATION", "Basic xyz"),
            h("X-Api-Key", "k"),
            h("Content-Type", "application/json"),
            h("Accept", "*/*"),
        ];
        let out = redact_headers(&headers);
        assert_eq!(
            out,
            vec![
                h("Authorization", REDACTED),
                h("cookie", REDACTED),
                h("PROXY-AUTHORIZATION", REDACTED),
                h("X-Api-Key", REDACTED),
                h("Content-Type", "application/json"),
                h("Accept", "*/*"),
            ]
        );
    }
}
