//! Reproductions: a request as a curl command that can be pasted into a shell.

use crate::redact::redact_headers;
use unruly_core::RequestRecord;

/// Seconds a reproduction waits before giving up (`--max-time`).
const MAX_TIME_S: u32 = 10;

/// The request as a runnable curl command.
///
/// The command shows the response's status and headers (`-i`), gives up after 10
/// seconds (`--max-time 10`), names the method unless it is `GET` (`-X`, or
/// `--head` for `HEAD`, which would otherwise wait for a body), passes each header
/// with `-H` and the body with `--data-binary`. Sensitive header values
/// (see [`crate::is_sensitive_header`]) are replaced by `<redacted>`. Every argument
/// is quoted with [`shell_quote`].
///
/// ```
/// use unruly_core::RequestRecord;
/// let request = RequestRecord {
///     method: "POST".into(),
///     url: "http://127.0.0.1:8080/users".into(),
///     headers: vec![("Content-Type".into(), "application/json".into())],
///     body: Some(r#"{"name":"O'Brien"}"#.into()),
/// };
/// assert_eq!(
///     unruly_verdict::curl_command(&request),
///     r#"curl -i --max-time 10 -X POST -H 'Content-Type: application/json' --data-binary '{"name":"O'\''Brien"}' 'http://127.0.0.1:8080/users'"#
/// );
/// ```
pub fn curl_command(request: &RequestRecord) -> String {
    let mut args: Vec<String> = vec![
        "curl".into(),
        "-i".into(),
        "--max-time".into(),
        MAX_TIME_S.to_string(),
    ];
    let method = request.method.trim();
    if method.eq_ignore_ascii_case("HEAD") {
        args.push("--head".into());
    } else if !method.eq_ignore_ascii_case("GET") || request.body.is_some() {
        args.push("-X".into());
        args.push(shell_quote_word(method));
    }
    for (name, value) in redact_headers(&request.headers) {
        args.push("-H".into());
        args.push(shell_quote(&format!("{name}: {value}")));
    }
    if let Some(body) = &request.body {
        args.push("--data-binary".into());
        args.push(shell_quote(body));
    }
    if request.url.contains(['[', ']', '{', '}']) {
        // Brackets and braces are curl's URL globbing unless switched off.
        args.push("--globoff".into());
    }
    args.push(shell_quote(&request.url));
    args.join(" ")
}

/// A method is written bare when it is a plain token (it almost always is).
fn shell_quote_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        word.to_string()
    } else {
        shell_quote(word)
    }
}

/// Quotes `s` as one shell word.
///
/// Plain text is put in single quotes, each embedded `'` written as `'\''`. Text
/// with control characters (newlines, escapes) or invisible formatting characters
/// (zero-width spaces, bidirectional overrides) is written in ANSI-C quoting
/// (`$'…'`, understood by bash, zsh and ksh) with those characters escaped, so the
/// command stays exact and shows no invisible or terminal-controlling character.
pub fn shell_quote(s: &str) -> String {
    if !s.chars().any(needs_escape) {
        return format!("'{}'", s.replace('\'', r"'\''"));
    }
    let mut out = String::with_capacity(s.len() + 3);
    out.push_str("$'");
    for c in s.chars() {
        match c {
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            '\\' => out.push_str(r"\\"),
            '\'' => out.push_str(r"\'"),
            c if (c as u32) < 0x80 && needs_escape(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if needs_escape(c) => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Control characters, and formatting characters that are invisible or reorder text.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00ad}'
            | '\u{061c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> RequestRecord {
        RequestRecord {
            method: method.into(),
            url: url.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.map(str::to_string),
        }
    }

    #[test]
    fn get_has_no_method_flag() {
        let c = curl_command(&req(
            "GET",
            "http://127.0.0.1:8080/products?q=a&b=c",
            &[],
            None,
        ));
        assert_eq!(
            c,
            "curl -i --max-time 10 'http://127.0.0.1:8080/products?q=a&b=c'"
        );
    }

    #[test]
    fn head_uses_head_flag() {
        let c = curl_command(&req("HEAD", "http://h/", &[], None));
        assert_eq!(c, "curl -i --max-time 10 --head 'http://h/'");
    }

    #[test]
    fn secrets_are_redacted() {
        let c = curl_command(&req(
            "DELETE",
            "http://h/users/1",
            &[
                ("Authorization", "Bearer s3cret"),
                ("Cookie", "sid=abc"),
                ("X-Trace", "1"),
            ],
            None,
        ));
        assert_eq!(
            c,
            "curl -i --max-time 10 -X DELETE -H 'Authorization: <redacted>' -H 'Cookie: <redacted>' -H 'X-Trace: 1' 'http://h/users/1'"
        );
        assert!(!c.contains("s3cret"));
    }

    #[test]
    fn single_quotes_are_escaped() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(
            shell_quote("$(rm -rf /) `x` \"y\""),
            "'$(rm -rf /) `x` \"y\"'"
        );
    }

    #[test]
    fn control_and_invisible_characters_use_ansi_c_quoting() {
        assert_eq!(shell_quote("a\nb"), r"$'a\nb'");
        assert_eq!(shell_quote("\u{1b}[31mred"), r"$'\x1b[31mred'");
        assert_eq!(shell_quote("it's\t\\"), r"$'it\'s\t\\'");
        assert_eq!(shell_quote("a\u{200b}b\u{202e}"), r"$'a\u200bb\u202e'");
        assert_eq!(shell_quote("\u{9b}"), r"$'\u009b'");
        assert_eq!(shell_quote("émoji 🎉"), "'émoji 🎉'");
    }

    #[test]
    fn round_trips_through_a_shell_when_one_is_available() {
        let Ok(bash) = which_bash() else { return };
        for s in [
            "plain",
            "it's",
            "a\nb'c\\d",
            "\u{1b}[2J",
            "x\u{200b}y",
            "$HOME `id`",
        ] {
            let out = std::process::Command::new(&bash)
                .arg("-c")
                .arg(format!("printf %s {}", shell_quote(s)))
                .output();
            let Ok(out) = out else { return };
            assert_eq!(String::from_utf8_lossy(&out.stdout), s, "quoting {s:?}");
        }
    }

    fn which_bash() -> Result<std::path::PathBuf, ()> {
        ["/bin/bash", "/usr/bin/bash"]
            .iter()
            .map(std::path::PathBuf::from)
            .find(|p| p.exists())
            .ok_or(())
    }
}
