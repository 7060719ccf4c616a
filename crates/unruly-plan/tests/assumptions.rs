//! The assumption grammar: a table of texts and what they parse to, and errors
//! with their offsets.

use unruly_core::{Comparison, Metric};
use unruly_plan::{parse_assumption, AssumptionError};

/// Text, metric, operation, comparison, threshold value, threshold as written.
type Case = (
    &'static str,
    Metric,
    Option<&'static str>,
    Comparison,
    f64,
    &'static str,
);

#[test]
fn parses_the_grammar() {
    use Comparison::*;
    let cases: &[Case] = &[
        (
            r#"p99("GET /products") < "300ms""#,
            Metric::Percentile(99.0),
            Some("GET /products"),
            Less,
            300.0,
            "300ms",
        ),
        (
            "p50 <= 20ms",
            Metric::Percentile(50.0),
            None,
            LessOrEqual,
            20.0,
            "20ms",
        ),
        ("p75<1s", Metric::Percentile(75.0), None, Less, 1000.0, "1s"),
        (
            "p90 < 1.5s",
            Metric::Percentile(90.0),
            None,
            Less,
            1500.0,
            "1.5s",
        ),
        (
            "p95 < 250us",
            Metric::Percentile(95.0),
            None,
            Less,
            0.25,
            "250us",
        ),
        (
            "p999 < \"2s\"",
            Metric::Percentile(99.9),
            None,
            Less,
            2000.0,
            "2s",
        ),
        (
            "p99.9 < 2s",
            Metric::Percentile(99.9),
            None,
            Less,
            2000.0,
            "2s",
        ),
        (
            "  mean ( \"login\" )  <  \"40ms\"  ",
            Metric::MeanLatency,
            Some("login"),
            Less,
            40.0,
            "40ms",
        ),
        ("max < 1m", Metric::MaxLatency, None, Less, 60_000.0, "1m"),
        (
            "error_rate < 0.001",
            Metric::ErrorRate,
            None,
            Less,
            0.001,
            "0.001",
        ),
        (
            "error_rate <= 0.1%",
            Metric::ErrorRate,
            None,
            LessOrEqual,
            0.001,
            "0.1%",
        ),
        ("error_rate < 1", Metric::ErrorRate, None, Less, 1.0, "1"),
        ("errors < 5", Metric::Errors, None, Less, 5.0, "5"),
        (
            "requests >= 10000",
            Metric::Requests,
            None,
            GreaterOrEqual,
            10_000.0,
            "10000",
        ),
        (
            r#"rps("GET /") > 500"#,
            Metric::Throughput,
            Some("GET /"),
            Greater,
            500.0,
            "500",
        ),
    ];
    for (text, metric, operation, comparison, value, written) in cases {
        let a = parse_assumption(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        assert_eq!(a.text, text.trim(), "{text}");
        assert_eq!(a.metric, *metric, "{text}");
        assert_eq!(a.operation.as_deref(), *operation, "{text}");
        assert_eq!(a.comparison, *comparison, "{text}");
        assert!(
            (a.threshold.value - value).abs() < 1e-9,
            "{text}: {}",
            a.threshold.value
        );
        assert_eq!(a.threshold.written, *written, "{text}");
    }
}

#[test]
fn errors_say_what_is_expected_where() {
    let err = |text: &str| parse_assumption(text).unwrap_err();
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "empty assumption: expected e.g. `p99 < \"300ms\"` or `error_rate < 0.01`"),
        ("p98 < 1s", 0, "unknown metric `p98`: expected one of p50, p75, p90, p95, p99, p999, mean, max, error_rate, errors, requests, rps"),
        ("< 1s", 0, "expected a metric (p50, p75, p90, p95, p99, p999, mean, max, error_rate, errors, requests, rps), found `<`"),
        (r#"p99("GET /products") 300ms"#, 21, r#"expected a comparison (<, <=, >, >=) after p99("GET /products"), found `300ms`"#),
        ("p99", 3, "expected a comparison (<, <=, >, >=) after p99, found the end"),
        ("p99(GET) < 1s", 4, "expected a double-quoted operation name after `p99(`, e.g. p99(\"GET /products\")"),
        (r#"p99("GET < 1s"#, 4, "the operation name is not closed: expected a `\"` after it"),
        (r#"p99("GET" < 1s"#, 10, "expected `)` after the operation name \"GET\", found `<`"),
        ("p99 < ", 6, "expected a threshold after `<`, e.g. \"300ms\""),
        ("p99 < fast", 6, r#""fast" is not a duration: expected e.g. "300ms", "10s", "2m""#),
        ("p99 < 300", 6, r#"p99 needs a duration with a unit, e.g. "300ms" or "300s", found `300`"#),
        ("error_rate < 2", 13, "error_rate is a ratio between 0 and 1 or a percentage, e.g. 0.01 or 1%, found `2`"),
        ("error_rate < 150%", 13, "error_rate is a ratio between 0 and 1 or a percentage, e.g. 0.01 or 1%, found `150%`"),
        ("rps > lots", 6, "rps needs a plain non-negative number, e.g. 500, found `lots`"),
        ("errors < -1", 9, "errors needs a plain non-negative number, e.g. 100, found `-1`"),
        ("requests > inf", 11, "requests needs a plain non-negative number, e.g. 100, found `inf`"),
        ("p99 < 1s and more", 9, "unexpected `and more` after the threshold: expected the end of the assumption"),
        ("p99 < \"1s", 6, "the threshold's quote is not closed: expected a `\"` after it"),
    ];
    for (text, offset, message) in cases {
        assert_eq!(
            err(text),
            AssumptionError {
                offset: *offset,
                message: message.to_string()
            },
            "{text}"
        );
    }
}

#[test]
fn never_panics_on_mangled_text() {
    let text = r#"p99("GET /é") <= "1.5s" "#;
    for (i, c) in text.char_indices() {
        let _ = parse_assumption(&text[..i]);
        for with in ["", "\"", "(", ")", "<", "é", "%", "9"] {
            let mangled = format!("{}{with}{}", &text[..i], &text[i + c.len_utf8()..]);
            if let Err(e) = parse_assumption(&mangled) {
                assert!(e.offset <= mangled.len(), "{mangled}: {e:?}");
                assert!(mangled.is_char_boundary(e.offset), "{mangled}: {e:?}");
            }
        }
    }
}
