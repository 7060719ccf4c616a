//! Just enough URL parsing for targets: `scheme://host[:port][/path][?query]`.

/// A URL split into its base (`scheme://authority`) and the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitUrl {
    /// `http://host:port` or `https://host:port`, scheme lower-cased.
    pub base: String,
    /// Path and query as written (`/a/b?c=d`), `""` when absent.
    pub path_and_query: String,
}

/// Splits and checks `text`. Without `://`, `http://` is assumed when
/// `assume_http`, otherwise that is an error.
pub(crate) fn split_url(text: &str, assume_http: bool) -> Result<SplitUrl, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty URL: expected e.g. \"http://127.0.0.1:8080\"".into());
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "\"{text}\" contains a space or control character: expected a URL such as \"http://127.0.0.1:8080\" (encode spaces as %20)"
        ));
    }
    let (scheme, rest) = match text.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None if assume_http => ("http".to_string(), text),
        None => {
            return Err(format!(
                "\"{text}\" has no scheme: expected http:// or https://, e.g. \"http://{text}\""
            ))
        }
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "unsupported scheme `{scheme}` in \"{text}\": expected http:// or https://"
        ));
    }
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(authority_end);
    check_authority(authority, text)?;
    let path_and_query = if path_and_query.starts_with('?') {
        format!("/{path_and_query}")
    } else {
        path_and_query.to_string()
    };
    Ok(SplitUrl {
        base: format!("{scheme}://{authority}"),
        path_and_query,
    })
}

fn check_authority(authority: &str, text: &str) -> Result<(), String> {
    if authority.is_empty() {
        return Err(format!(
            "\"{text}\" has no host: expected e.g. \"http://127.0.0.1:8080\""
        ));
    }
    if authority.contains('@') {
        return Err(format!(
            "credentials in \"{text}\" are not supported: expected a URL without `user@`; send credentials in a header"
        ));
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let Some((inside, after)) = bracketed.split_once(']') else {
            return Err(format!("\"{text}\": expected `]` after the IPv6 address"));
        };
        if inside.is_empty()
            || !inside
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(format!("\"{text}\": `[{inside}]` is not an IPv6 address"));
        }
        match after {
            "" => (inside, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (inside, Some(port)),
                None => return Err(format!("\"{text}\": expected `:PORT` after `[{inside}]`")),
            },
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(format!(
            "\"{text}\" has no host: expected e.g. \"http://127.0.0.1:8080\""
        ));
    }
    if !authority.starts_with('[')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '%'))
    {
        return Err(format!("\"{text}\": `{host}` is not a valid host name"));
    }
    if let Some(port) = port {
        match port.parse::<u16>() {
            Ok(p) if p > 0 && port.chars().all(|c| c.is_ascii_digit()) => {}
            _ => {
                return Err(format!(
                    "\"{text}\": `{port}` is not a port: expected a number from 1 to 65535"
                ))
            }
        }
    }
    Ok(())
}

/// A scenario or starter target: a URL without query, trailing slashes removed.
pub(crate) fn target_base_url(text: &str, assume_http: bool) -> Result<String, String> {
    let split = split_url(text, assume_http)?;
    if split.path_and_query.contains('?') {
        return Err(format!(
            "\"{}\" has a query: expected a base URL; put queries in each operation's `path`",
            text.trim()
        ));
    }
    Ok(format!(
        "{}{}",
        split.base,
        split.path_and_query.trim_end_matches('/')
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_urls() {
        let u = split_url("http://127.0.0.1:8080/a/b?c=d#frag", false).unwrap();
        assert_eq!(u.base, "http://127.0.0.1:8080");
        assert_eq!(u.path_and_query, "/a/b?c=d");
        let u = split_url("localhost:3000?x=1", true).unwrap();
        assert_eq!(u.base, "http://localhost:3000");
        assert_eq!(u.path_and_query, "/?x=1");
        let u = split_url("HTTPS://[::1]:8443", false).unwrap();
        assert_eq!(u.base, "https://[::1]:8443");
        assert_eq!(
            target_base_url("http://h/api/", false).unwrap(),
            "http://h/api"
        );
        assert_eq!(target_base_url("http://h:1/", false).unwrap(), "http://h:1");
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in [
            "ftp://h",
            "http://",
            "http:///x",
            "http://u:p@h",
            "http://h:0",
            "http://h:99999",
            "http://h:x",
            "http://a b",
            "127.0.0.1:8080",
            "http://[::1",
        ] {
            assert!(split_url(bad, false).is_err(), "{bad}");
        }
        assert!(target_base_url("http://h/?q=1", false).is_err());
    }
}
