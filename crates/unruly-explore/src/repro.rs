//! Reproductions: a finding's smallest input as curl commands that can be pasted
//! into bash — one command, or a creation followed by the request that uses
//! what it created.

use bytes::Bytes;
use unruly_core::{ApiSpec, ParameterLocation, RequestRecord};
use unruly_inputs::{BodyParts, Case};
use unruly_verdict::{curl_command, shell_quote};

/// A value the failing request took from an earlier answer.
#[derive(Debug, Clone)]
pub(crate) struct Provenance {
    /// The request that created it.
    pub producer: Case,
    /// Its record (URL, headers) as sent.
    pub producer_record: RequestRecord,
    /// Where the value sits in the producer's answer, e.g. `/id`.
    pub pointer: String,
    /// The parameter of the failing request that took it.
    pub location: ParameterLocation,
    /// That parameter's name.
    pub parameter: String,
}

/// The bash commands that send `case` again (after its producer, if any).
pub(crate) fn reproduction(
    spec: &ApiSpec,
    case: &Case,
    record: &RequestRecord,
    provenance: Option<&Provenance>,
) -> String {
    let Some(provenance) = provenance else {
        return command(spec, case, record);
    };
    let create = command(spec, &provenance.producer, &provenance.producer_record);
    let create = match create.split_once("curl -i ") {
        Some((before, after)) => format!("{before}curl -s {after}"),
        None => create,
    };
    let field = provenance
        .pointer
        .rsplit('/')
        .next()
        .filter(|f| !f.is_empty())
        .unwrap_or("id");
    let extract = format!(
        "sed -E {}",
        shell_quote(&format!(r#"s/.*"{field}" *: *"?([^",}}]*)"?.*/\1/"#))
    );
    // The request that uses the value, with a marker where the value goes.
    let marker = "UNRULY_PRODUCED_VALUE";
    let mut marked = case.clone();
    marked.set_parameter(
        provenance.location,
        &provenance.parameter,
        Some(serde_json::Value::String(marker.to_owned())),
    );
    let sent = case.to_request(spec).path_and_query;
    let mut use_record = record.clone();
    if let Some(origin) = record.url.strip_suffix(&sent) {
        use_record.url = format!("{origin}{}", marked.to_request(spec).path_and_query);
    }
    let use_it = command(spec, &marked, &use_record).replacen(marker, "'\"$value\"'", 1);
    format!("value=$({create} | {extract}) && {use_it}")
}

/// One curl command for `case`, its body inline, or piped in when it is large,
/// binary or would be read by curl as a file name.
fn command(spec: &ApiSpec, case: &Case, record: &RequestRecord) -> String {
    let parts = case.to_request(spec);
    let mut record = record.clone();
    match parts.body {
        BodyParts::Empty => {
            record.body = None;
            curl_command(&record)
        }
        BodyParts::Bytes(bytes) => match inline_text(&bytes) {
            Some(text) => {
                record.body = Some(text.to_owned());
                curl_command(&record)
            }
            None => {
                record.body = Some("@-".to_owned());
                format!(
                    "printf {} | {}",
                    printf_format(&bytes),
                    curl_command(&record)
                )
            }
        },
        BodyParts::Stream(large) => {
            record.body = Some("@-".to_owned());
            let len = large.len();
            let mut chunks = large.peekable();
            let first = chunks.peek().cloned().unwrap_or_default();
            let last = chunks.last().unwrap_or_default();
            let generator = large_generator(&first, &last, len);
            format!("{generator} | {}", curl_command(&record))
        }
    }
}

/// A body curl can take as an argument: UTF-8, no NUL, not starting with `@`.
fn inline_text(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    (!text.contains('\0') && !text.starts_with('@')).then_some(text)
}

/// A printf format writing exactly `bytes`.
fn printf_format(bytes: &[u8]) -> String {
    let mut format = String::with_capacity(bytes.len() + 2);
    format.push('\'');
    for &b in bytes {
        match b {
            b'%' => format.push_str("%%"),
            b'\\' => format.push_str("\\\\"),
            b'\'' => format.push_str("\\047"),
            0x20..=0x7e => format.push(b as char),
            _ => format.push_str(&format!("\\{b:03o}")),
        }
    }
    format.push('\'');
    format
}

/// A shell pipeline that writes the large body: the bytes before the filler,
/// the filler (one repeated byte), the bytes after it.
fn large_generator(first: &Bytes, last: &Bytes, len: u64) -> String {
    let (prefix, filler, suffix) = if first.len() as u64 >= len {
        split_at_longest_run(first)
    } else {
        let filler = first.last().copied().unwrap_or(b'a');
        let run = first.iter().rev().take_while(|&&b| b == filler).count();
        let lead = last.iter().take_while(|&&b| b == filler).count();
        (&first[..first.len() - run], filler, &last[lead..])
    };
    let fill = len.saturating_sub((prefix.len() + suffix.len()) as u64);
    format!(
        "{{ printf {}; head -c {fill} /dev/zero | tr '\\000' {}; printf {}; }}",
        printf_format(prefix),
        printf_format(&[filler]),
        printf_format(suffix)
    )
}

/// The bytes before and after the longest run of one byte, and that byte.
fn split_at_longest_run(bytes: &[u8]) -> (&[u8], u8, &[u8]) {
    let (mut best_start, mut best_len) = (0, 0);
    let mut start = 0;
    for i in 1..=bytes.len() {
        if i == bytes.len() || bytes[i] != bytes[start] {
            if i - start > best_len {
                (best_start, best_len) = (start, i - start);
            }
            start = i;
        }
    }
    let filler = bytes.get(best_start).copied().unwrap_or(b'a');
    (
        &bytes[..best_start],
        filler,
        &bytes[best_start + best_len..],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printf_formats_escape_what_the_shell_or_printf_would_read() {
        assert_eq!(printf_format(b"a%b\\c'\0\xff"), r"'a%%b\\c\047\000\377'");
    }

    #[test]
    fn large_bodies_are_generated_from_their_ends() {
        let first = Bytes::from_static(br#"{"name":"aaaaaaaa"#);
        let last = Bytes::from_static(br#"aaaaa"}"#);
        let generator = large_generator(&first, &last, 1000);
        assert_eq!(
            generator,
            r#"{ printf '{"name":"'; head -c 988 /dev/zero | tr '\000' 'a'; printf '"}'; }"#
        );
        let one = Bytes::from_static(br#"{"name":"aaaaaaaaaa"}"#);
        assert_eq!(
            large_generator(&one, &one, one.len() as u64),
            r#"{ printf '{"name":"'; head -c 10 /dev/zero | tr '\000' 'a'; printf '"}'; }"#
        );
    }
}
