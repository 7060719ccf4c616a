//! Assumptions written as data: `METRIC [ "(" "OPERATION" ")" ] OP VALUE`.
//!
//! * METRIC: `p50`, `p75`, `p90`, `p95`, `p99`, `p999` (or `p99.9`), `mean`,
//!   `max` (latencies), `error_rate`, `errors`, `requests`, `rps`.
//! * OPERATION: a double-quoted operation name; without it the metric is
//!   measured over the whole run.
//! * OP: `<`, `<=`, `>`, `>=`.
//! * VALUE: for latencies a duration with a unit, quoted or bare (`"300ms"`,
//!   `1.5s`, `250us`); for `error_rate` a ratio in `[0, 1]` or a percentage
//!   (`0.1%`); for counts and `rps` a plain non-negative number.
//!
//! Examples: `p99("GET /products") < "300ms"`, `error_rate < 0.1%`, `rps >= 500`.

use crate::duration::{not_a_duration, parse_duration_with_unit};
use unruly_core::{Assumption, Comparison, Metric, Threshold};

/// An assumption that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AssumptionError {
    /// Byte offset in the assumption text where the problem is.
    pub offset: usize,
    /// What was found and what is expected.
    pub message: String,
}

const METRICS: &str = "p50, p75, p90, p95, p99, p999, mean, max, error_rate, errors, requests, rps";

/// Parses one assumption, e.g. `p99("GET /products") < "300ms"`.
///
/// `Assumption.text` is the text trimmed; latency thresholds are stored in
/// milliseconds, error rates as ratios.
pub fn parse_assumption(text: &str) -> Result<Assumption, AssumptionError> {
    parse_located(text).map(|(assumption, _)| assumption)
}

/// Like [`parse_assumption`], also returning the byte offset of the opening
/// quote of the operation name, if there is one.
pub(crate) fn parse_located(text: &str) -> Result<(Assumption, Option<usize>), AssumptionError> {
    let mut cur = Cursor { text, pos: 0 };
    cur.skip_ws();
    if cur.at_end() {
        return Err(cur.error(
            "empty assumption: expected e.g. `p99 < \"300ms\"` or `error_rate < 0.01`".into(),
        ));
    }

    let metric_start = cur.pos;
    let word = cur.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    if word.is_empty() {
        return Err(cur.error(format!(
            "expected a metric ({METRICS}), found `{}`",
            cur.peek_token()
        )));
    }
    let metric = metric_named(word).ok_or_else(|| AssumptionError {
        offset: metric_start,
        message: format!("unknown metric `{word}`: expected one of {METRICS}"),
    })?;

    cur.skip_ws();
    let mut operation = None;
    let mut operation_offset = None;
    if cur.eat("(") {
        cur.skip_ws();
        let quote = cur.pos;
        if !cur.eat("\"") {
            return Err(cur.error(format!(
                "expected a double-quoted operation name after `{word}(`, e.g. {word}(\"GET /products\")"
            )));
        }
        let name = cur.take_while(|c| c != '"');
        if !cur.eat("\"") {
            return Err(AssumptionError {
                offset: quote,
                message: "the operation name is not closed: expected a `\"` after it".into(),
            });
        }
        if name.trim().is_empty() {
            return Err(AssumptionError {
                offset: quote,
                message: "empty operation name: expected the name of an [[operation]]".into(),
            });
        }
        cur.skip_ws();
        if !cur.eat(")") {
            return Err(cur.error(format!(
                "expected `)` after the operation name \"{name}\", found `{}`",
                cur.peek_token()
            )));
        }
        operation = Some(name.to_string());
        operation_offset = Some(quote);
    }
    let subject = text[metric_start..cur.pos].trim_end().to_string();

    cur.skip_ws();
    let comparison = if cur.eat("<=") {
        Comparison::LessOrEqual
    } else if cur.eat("<") {
        Comparison::Less
    } else if cur.eat(">=") {
        Comparison::GreaterOrEqual
    } else if cur.eat(">") {
        Comparison::Greater
    } else {
        let found = cur.peek_token();
        let found = if found.is_empty() {
            "the end".to_string()
        } else {
            format!("`{found}`")
        };
        return Err(cur.error(format!(
            "expected a comparison (<, <=, >, >=) after {subject}, found {found}"
        )));
    };

    cur.skip_ws();
    let value_start = cur.pos;
    if cur.rest().starts_with(['<', '>', '=', '!']) {
        return Err(cur.error(format!(
            "expected a threshold after `{}`, e.g. {}, found `{}`",
            comparison.symbol(),
            example_value(metric),
            cur.peek_token()
        )));
    }
    let written = if cur.eat("\"") {
        let value = cur.take_while(|c| c != '"');
        if !cur.eat("\"") {
            return Err(AssumptionError {
                offset: value_start,
                message: "the threshold's quote is not closed: expected a `\"` after it".into(),
            });
        }
        value
    } else {
        cur.take_while(|c| !c.is_whitespace())
    };
    if written.is_empty() {
        return Err(AssumptionError {
            offset: value_start,
            message: format!(
                "expected a threshold after `{}`, e.g. {}",
                comparison.symbol(),
                example_value(metric)
            ),
        });
    }
    let value = threshold_value(metric, written).map_err(|message| AssumptionError {
        offset: value_start,
        message,
    })?;

    cur.skip_ws();
    if !cur.at_end() {
        return Err(cur.error(format!(
            "unexpected `{}` after the threshold: expected the end of the assumption",
            cur.rest().trim_end()
        )));
    }

    Ok((
        Assumption {
            text: text.trim().to_string(),
            metric,
            operation,
            comparison,
            threshold: Threshold {
                value,
                written: written.to_string(),
            },
        },
        operation_offset,
    ))
}

fn metric_named(word: &str) -> Option<Metric> {
    Some(match word.to_ascii_lowercase().as_str() {
        "p50" => Metric::Percentile(50.0),
        "p75" => Metric::Percentile(75.0),
        "p90" => Metric::Percentile(90.0),
        "p95" => Metric::Percentile(95.0),
        "p99" => Metric::Percentile(99.0),
        "p999" | "p99.9" => Metric::Percentile(99.9),
        "mean" => Metric::MeanLatency,
        "max" => Metric::MaxLatency,
        "error_rate" => Metric::ErrorRate,
        "errors" => Metric::Errors,
        "requests" => Metric::Requests,
        "rps" => Metric::Throughput,
        _ => return None,
    })
}

fn example_value(metric: Metric) -> &'static str {
    match metric {
        Metric::ErrorRate => "0.01 or 1%",
        Metric::Throughput => "500",
        Metric::Errors | Metric::Requests => "100",
        _ => "\"300ms\"",
    }
}

/// The threshold in the metric's unit, or what is wrong with it.
fn threshold_value(metric: Metric, written: &str) -> Result<f64, String> {
    let name = metric.name();
    if metric.is_latency() {
        return parse_duration_with_unit(written)
            .map(|d| d.as_secs_f64() * 1000.0)
            .map_err(|_| {
                if number(written).is_some() {
                    format!(
                        "{name} needs a duration with a unit, e.g. \"{written}ms\" or \"{written}s\", found `{written}`"
                    )
                } else {
                    not_a_duration(written)
                }
            });
    }
    match metric {
        Metric::ErrorRate => {
            let (digits, scale) = match written.strip_suffix('%') {
                Some(digits) => (digits.trim_end(), 100.0),
                None => (written, 1.0),
            };
            match number(digits).map(|n| n / scale) {
                Some(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
                _ => Err(format!(
                    "error_rate is a ratio between 0 and 1 or a percentage, e.g. 0.01 or 1%, found `{written}`"
                )),
            }
        }
        _ => number(written).ok_or_else(|| {
            format!(
                "{name} needs a plain non-negative number, e.g. {}, found `{written}`",
                example_value(metric)
            )
        }),
    }
}

/// A finite, non-negative decimal number (digits, `.`, an optional exponent).
fn number(text: &str) -> Option<f64> {
    if text.is_empty()
        || !text.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        || !text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
    {
        return None;
    }
    text.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
}

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn skip_ws(&mut self) {
        self.take_while(char::is_whitespace);
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let len = rest.find(|c: char| !keep(c)).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    /// The next whitespace-delimited token, for messages.
    fn peek_token(&self) -> &'a str {
        self.rest().split_whitespace().next().unwrap_or("")
    }

    fn error(&self, message: String) -> AssumptionError {
        AssumptionError {
            offset: self.pos,
            message,
        }
    }
}
