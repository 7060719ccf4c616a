//! Reading the Prometheus text format (0.0.4, and the OpenMetrics text that most endpoints
//! also serve) leniently: a line that does not parse is skipped and counted, never an error,
//! and nothing here panics on what a target sends.

use super::exposition::write_labels;
use std::collections::HashMap;

/// What a sample is, from its family's `# TYPE` and its own name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SampleKind {
    /// A counter's value.
    Counter,
    /// A gauge's value.
    Gauge,
    /// A summary's quantile (`{quantile="0.99"}`).
    Quantile,
    /// A sample of no declared type.
    Untyped,
    /// A histogram's or summary's `_sum` or `_count`.
    SumOrCount,
    /// A histogram's `_bucket` (or an untyped `_bucket` with an `le` label).
    Bucket,
    /// OpenMetrics' `_created`: a timestamp, not a measurement.
    Created,
}

/// One sample read.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's name, as written (`http_requests_total`, `latency_sum`).
    pub name: String,
    /// Its labels, unescaped, in the order written.
    pub labels: Vec<(String, String)>,
    /// Its value (may be `NaN` or infinite).
    pub value: f64,
    /// What it is.
    pub kind: SampleKind,
}

impl Sample {
    /// `name{label="value",...}`, labels sorted by name and escaped as exposed: one key for
    /// the same series across scrapes.
    pub fn series_key(&self) -> String {
        let mut labels: Vec<(&str, &str)> = self
            .labels
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        labels.sort();
        let mut key = self.name.clone();
        write_labels(&mut key, &labels);
        key
    }
}

/// An exposition read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// The samples, in the order written.
    pub samples: Vec<Sample>,
    /// Lines that were neither samples, comments nor blank.
    pub skipped_lines: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FamilyType {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Other,
}

/// Reads an exposition, skipping (and counting) the lines that do not parse.
pub fn parse(text: &str) -> Parsed {
    let mut types: HashMap<&str, FamilyType> = HashMap::new();
    let mut raw = Vec::new();
    let mut skipped_lines = 0u64;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if let Some((name, family)) = type_line(comment) {
                types.insert(name, family);
            }
            continue;
        }
        match sample_line(line) {
            Some(sample) => raw.push(sample),
            None => skipped_lines += 1,
        }
    }
    let samples = raw
        .into_iter()
        .map(|(name, labels, value)| {
            let kind = classify(&types, name, &labels);
            Sample {
                name: name.to_string(),
                labels,
                value,
                kind,
            }
        })
        .collect();
    Parsed {
        samples,
        skipped_lines,
    }
}

/// `# TYPE name type` (the text after `#`).
fn type_line(comment: &str) -> Option<(&str, FamilyType)> {
    let mut words = comment.split_whitespace();
    if words.next()? != "TYPE" {
        return None;
    }
    let name = words.next()?;
    let family = match words.next()? {
        "counter" => FamilyType::Counter,
        "gauge" => FamilyType::Gauge,
        "histogram" | "gaugehistogram" => FamilyType::Histogram,
        "summary" => FamilyType::Summary,
        _ => FamilyType::Other,
    };
    Some((name, family))
}

fn classify(
    types: &HashMap<&str, FamilyType>,
    name: &str,
    labels: &[(String, String)],
) -> SampleKind {
    let has = |label: &str| labels.iter().any(|(name, _)| name == label);
    if let Some(family) = types.get(name) {
        return match family {
            FamilyType::Counter => SampleKind::Counter,
            FamilyType::Gauge => SampleKind::Gauge,
            FamilyType::Summary if has("quantile") => SampleKind::Quantile,
            FamilyType::Summary | FamilyType::Histogram | FamilyType::Other => SampleKind::Untyped,
        };
    }
    for (suffix, kind) in [
        ("_bucket", SampleKind::Bucket),
        ("_sum", SampleKind::SumOrCount),
        ("_count", SampleKind::SumOrCount),
        ("_created", SampleKind::Created),
        ("_total", SampleKind::Counter),
        ("_gsum", SampleKind::SumOrCount),
        ("_gcount", SampleKind::SumOrCount),
    ] {
        let Some(family) = name.strip_suffix(suffix).and_then(|base| types.get(base)) else {
            continue;
        };
        return match (family, kind) {
            (_, SampleKind::Created) => SampleKind::Created,
            (FamilyType::Histogram, SampleKind::Bucket) => SampleKind::Bucket,
            (FamilyType::Histogram | FamilyType::Summary, SampleKind::SumOrCount) => {
                SampleKind::SumOrCount
            }
            (FamilyType::Counter, SampleKind::Counter) => SampleKind::Counter,
            _ => SampleKind::Untyped,
        };
    }
    if name.ends_with("_bucket") && has("le") {
        SampleKind::Bucket
    } else {
        SampleKind::Untyped
    }
}

/// A sample line's name, labels and value.
type RawSample<'a> = (&'a str, Vec<(String, String)>, f64);

/// `name{labels} value [timestamp]`, or `None` for anything else.
fn sample_line(line: &str) -> Option<RawSample<'_>> {
    let name_end = ident_end(line, true);
    if name_end == 0 {
        return None;
    }
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after_brace) = rest.trim_start().strip_prefix('{') {
        let (parsed, after) = label_set(after_brace)?;
        labels = parsed;
        rest = after;
    }
    let mut words = rest.split_whitespace();
    let value = parse_value(words.next()?)?;
    if let Some(timestamp) = words.next() {
        timestamp.parse::<f64>().ok()?;
    }
    if words.next().is_some() {
        return None;
    }
    Some((name, labels, value))
}

/// The labels after `{`, up to and including `}`; returns them and the text after `}`.
fn label_set(mut text: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut labels = Vec::new();
    loop {
        text = text.trim_start();
        if let Some(after) = text.strip_prefix('}') {
            return Some((labels, after));
        }
        let name_end = ident_end(text, false);
        if name_end == 0 {
            return None;
        }
        let name = &text[..name_end];
        text = text[name_end..].trim_start().strip_prefix('=')?;
        text = text.trim_start().strip_prefix('"')?;
        let (value, after) = quoted(text)?;
        labels.push((name.to_string(), value));
        text = after.trim_start();
        if let Some(after_comma) = text.strip_prefix(',') {
            text = after_comma;
        } else if !text.starts_with('}') {
            return None;
        }
    }
}

/// A quoted value's text after its opening quote, unescaped; returns it and the text after
/// the closing quote.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &text[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => value.push('\n'),
                '\\' => value.push('\\'),
                '"' => value.push('"'),
                other => {
                    value.push('\\');
                    value.push(other);
                }
            },
            c => value.push(c),
        }
    }
    None
}

/// The length of the metric (or label) name at the start of `text`: `[a-zA-Z_:][a-zA-Z0-9_:]*`
/// (no `:` in label names).
fn ident_end(text: &str, colon: bool) -> usize {
    let allowed = |i: usize, b: u8| {
        b.is_ascii_alphabetic()
            || b == b'_'
            || (colon && b == b':')
            || (i > 0 && b.is_ascii_digit())
    };
    text.bytes()
        .enumerate()
        .find(|&(i, b)| !allowed(i, b))
        .map_or(text.len(), |(i, _)| i)
}

/// A value as the format writes it: a float, `+Inf`, `-Inf`, `NaN`.
fn parse_value(word: &str) -> Option<f64> {
    match word {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => word.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPOSITION: &str = r#"
# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{route="/products/{id}",code="500"} 3
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9
metric_without_timestamp_and_labels 12.47
something_weird{problem="division by zero"} +Inf -3982045
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.99"} 76656
rpc_duration_seconds_sum 1.7560473e+07
# TYPE queue gauge
queue{a="x,y=z"} 4
this is garbage
{A}0
broken{a="unterminated} 1
broken{a=unquoted} 1
"#;

    #[test]
    fn reads_the_documented_example() {
        let parsed = parse(EXPOSITION);
        assert_eq!(parsed.skipped_lines, 4);
        let find = |key: &str| {
            parsed
                .samples
                .iter()
                .find(|sample| sample.series_key() == key)
                .unwrap_or_else(|| panic!("{key} in {:#?}", parsed.samples))
        };
        let route = find(r#"http_requests_total{code="500",route="/products/{id}"}"#);
        assert_eq!((route.value, route.kind), (3.0, SampleKind::Counter));
        let msdos = find(
            r#"msdos_file_access_time_seconds{error="Cannot find file:\n\"FILE.TXT\"",path="C:\\DIR\\FILE.TXT"}"#,
        );
        assert_eq!(msdos.labels[1].1, "Cannot find file:\n\"FILE.TXT\"");
        assert_eq!(
            find("something_weird{problem=\"division by zero\"}").value,
            f64::INFINITY
        );
        assert_eq!(
            find("http_request_duration_seconds_bucket{le=\"0.05\"}").kind,
            SampleKind::Bucket
        );
        assert_eq!(
            find("http_request_duration_seconds_sum").kind,
            SampleKind::SumOrCount
        );
        assert_eq!(
            find("rpc_duration_seconds{quantile=\"0.99\"}").kind,
            SampleKind::Quantile
        );
        assert_eq!(
            find("rpc_duration_seconds_sum").kind,
            SampleKind::SumOrCount
        );
        assert_eq!(find("queue{a=\"x,y=z\"}").kind, SampleKind::Gauge);
        assert_eq!(
            find("metric_without_timestamp_and_labels").kind,
            SampleKind::Untyped
        );
    }

    #[test]
    fn never_panics_on_garbage() {
        let cases = [
            "",
            "{",
            "}",
            "a{",
            "a{b",
            "a{b=",
            "a{b=\"",
            "a{b=\"\\",
            "a{b=\"\\\"} 1",
            "a{,} 1",
            "a 1 2 3",
            "a{}",
            "a{} x",
            "é 1",
            "a{é=\"x\"} 1",
            "a{b=\"é\"} 1",
            "# TYPE",
            "#",
            "a{b=\"x\"}1",
            "\u{0}",
            "a 1e999999",
        ];
        for case in cases {
            let _ = parse(case);
        }
        assert_eq!(parse("a{b=\"é\"} 1").samples[0].labels[0].1, "é");
    }
}
