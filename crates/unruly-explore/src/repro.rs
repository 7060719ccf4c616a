//! Reproductions: a finding's smallest input as curl commands that can be pasted
//! into bash — one command, or a creation followed by the request that uses
//! what it created.

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
    match provenance {
        None => command(spec, case, record),
        Some(provenance) => format!(
            "{} && {}",
            create_value(spec, provenance),
            use_value(spec, case, record, provenance)
        ),
    }
}

/// `value=$(…)`: the creation of `provenance`, with the value taken from its
/// answer into `$value`.
pub(crate) fn create_value(spec: &ApiSpec, provenance: &Provenance) -> String {
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
    // The first `"field": value` of the answer, on one line, without jq.
    let extract = format!(
        "tr -d '\\n' | grep -o {} | head -n 1 | sed {}",
        shell_quote(&format!(r#""{field}" *: *"\{{0,1\}}[^",}}]*"#)),
        shell_quote(r#"s/^[^:]*: *"\{0,1\}//"#)
    );
    format!("value=$({create} | {extract})")
}

/// The curl command of `case` with `"$value"` where `provenance`'s value goes.
pub(crate) fn use_value(
    spec: &ApiSpec,
    case: &Case,
    record: &RequestRecord,
    provenance: &Provenance,
) -> String {
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
    command(spec, &marked, &use_record).replacen(marker, "'\"$value\"'", 1)
}

/// `command` (one curl whose last argument is its URL) sent `copies` times at
/// once by one curl (`--parallel --parallel-immediate`: every connection
/// opened and every request sent together), answers dropped.
pub(crate) fn in_parallel(command: &str, copies: usize) -> String {
    let Some((head, url)) = command.rsplit_once(' ') else {
        return command.to_owned();
    };
    let parallel = format!("curl -s --parallel --parallel-immediate --parallel-max {copies} ");
    let head = head.replacen("curl -i ", &parallel, 1);
    let urls = vec![url; copies].join(" ");
    format!("{head} {urls} >/dev/null")
}

/// One curl command for `case`, its body inline, or piped in when it is large,
/// binary or would be read by curl as a file name.
pub(crate) fn command(spec: &ApiSpec, case: &Case, record: &RequestRecord) -> String {
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
            let generator = format!(
                "{{ printf {}; {}; printf {}; }}",
                printf_format(large.prefix()),
                large.filler_command(),
                printf_format(large.suffix())
            );
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

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;
    use unruly_core::{ApiBody, ApiOperation, ApiSpec, MediaType};
    use unruly_inputs::{CaseBody, Category, Expect, LargeShape};

    fn spec() -> ApiSpec {
        ApiSpec {
            title: None,
            openapi_version: "3.1.0".into(),
            servers: vec![],
            operations: vec![ApiOperation {
                method: "POST".into(),
                path: "/files".into(),
                operation_id: None,
                parameters: vec![],
                body: Some(ApiBody {
                    required: true,
                    contents: vec![MediaType {
                        content_type: "application/json".into(),
                        schema: Some(json!({"type": "object"})),
                    }],
                }),
                responses: vec![],
                security: vec![],
            }],
            document: json!({}),
        }
    }

    /// The bytes the reproduction's generator writes, and those the explorer sent.
    fn generated_and_sent(content_type: &str, shape: LargeShape) -> (Vec<u8>, Vec<u8>) {
        let spec = spec();
        let case = Case {
            operation: 0,
            category: Category::Large,
            label: "large".into(),
            expect: Expect::Valid,
            parameters: vec![],
            body: Some(CaseBody::Large {
                content_type: content_type.into(),
                size: 300_000,
                shape,
            }),
            slot: Some("body".into()),
        };
        let record = RequestRecord {
            method: "POST".into(),
            url: "http://127.0.0.1:1/files".into(),
            headers: vec![],
            body: None,
        };
        let command = reproduction(&spec, &case, &record, None);
        let (generator, _) = command.rsplit_once(" | curl ").expect("piped into curl");
        let output = std::process::Command::new("bash")
            .arg("-c")
            .arg(generator)
            .output()
            .expect("bash runs");
        let sent: Vec<u8> = match case.to_request(&spec).body {
            BodyParts::Stream(large) => large.flat_map(|chunk| chunk.to_vec()).collect(),
            _ => panic!("a large body is streamed"),
        };
        (output.stdout, sent)
    }

    #[test]
    fn parallel_copies_repeat_the_url_in_one_curl() {
        let once = "curl -i --max-time 30 -X POST --data-binary '{}' 'http://h/a/'\"$value\"'/w'";
        assert_eq!(
            in_parallel(once, 3),
            "curl -s --parallel --parallel-immediate --parallel-max 3 --max-time 30 -X POST \
             --data-binary '{}' 'http://h/a/'\"$value\"'/w' 'http://h/a/'\"$value\"'/w' \
             'http://h/a/'\"$value\"'/w' >/dev/null"
        );
    }

    #[test]
    fn large_bodies_are_regenerated_byte_for_byte() {
        let (generated, sent) = generated_and_sent(
            "application/json",
            LargeShape::JsonString {
                document: json!({"name": "x", "note": "ok"}),
                pointer: "/name".into(),
            },
        );
        assert_eq!(sent.len(), 300_000);
        assert!(generated == sent, "the JSON body differs");
        let (generated, sent) = generated_and_sent("application/octet-stream", LargeShape::Binary);
        assert!(generated == sent, "the binary body differs");
    }

    #[test]
    fn printf_formats_escape_what_the_shell_or_printf_would_read() {
        assert_eq!(printf_format(b"a%b\\c'\0\xff"), r"'a%%b\\c\047\000\377'");
    }
}
