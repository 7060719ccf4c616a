//! Durations as people write them: `"300ms"`, `"10s"`, `"1.5s"`, `"2m"`, `"1m30s"`.

use std::time::Duration;

/// Parses a duration such as `10s`, `500ms`, `2m`, `1.5s`, `250us` or `1m30s`;
/// a bare number means seconds (`"10"` is ten seconds).
///
/// Units: `ns`, `us` (or `µs`), `ms`, `s`, `m` (or `min`), `h`. The error says
/// what was found and what is expected, e.g.
/// `"fast" is not a duration: expected e.g. "300ms", "10s", "2m"`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    parse(s, true)
}

/// Like [`parse_duration`], but a unit is required (`300` alone is an error),
/// for places where a bare number would be ambiguous.
pub(crate) fn parse_duration_with_unit(s: &str) -> Result<Duration, String> {
    parse(s, false)
}

/// The standard message for text that is not a duration.
pub(crate) fn not_a_duration(s: &str) -> String {
    format!("\"{s}\" is not a duration: expected e.g. \"300ms\", \"10s\", \"2m\"")
}

/// Writes a duration the way a scenario would, e.g. `1.5s`, `300ms`.
pub(crate) fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        "0s".into()
    } else if nanos % 1_000_000_000 == 0 {
        format!("{}s", nanos / 1_000_000_000)
    } else if nanos % 1_000_000 == 0 {
        format!("{}ms", nanos / 1_000_000)
    } else if nanos % 1_000 == 0 {
        format!("{}us", nanos / 1_000)
    } else {
        format!("{nanos}ns")
    }
}

fn parse(s: &str, allow_bare: bool) -> Result<Duration, String> {
    let text = s.trim();
    let bad = || not_a_duration(text);
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let unit_nanos: u128 = match unit.trim() {
            "" if allow_bare && rest.len() == text.len() && next.is_empty() => 1_000_000_000,
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" | "min" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(bad()),
        };
        total += number_nanos(number, unit_nanos).ok_or_else(bad)?;
        rest = next.trim_start();
    }
    let nanos = u64::try_from(total)
        .map_err(|_| format!("\"{text}\" is too long a duration: expected at most a few years"))?;
    Ok(Duration::from_nanos(nanos))
}

/// `number` (digits with at most one `.`) times `unit_nanos`, truncated to whole nanoseconds.
fn number_nanos(number: &str, unit_nanos: u128) -> Option<u128> {
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if (int.is_empty() && frac.is_empty()) || frac.contains('.') {
        return None;
    }
    let int_value: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut nanos = int_value.checked_mul(unit_nanos)?;
    // At most 18 fractional digits matter for nanosecond precision of any unit here.
    let frac = &frac[..frac.len().min(18)];
    if !frac.is_empty() {
        let frac_value: u128 = frac.parse().ok()?;
        nanos = nanos.checked_add(frac_value * unit_nanos / 10u128.pow(frac.len() as u32))?;
    }
    Some(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let ms = Duration::from_millis;
        assert_eq!(parse_duration("10s"), Ok(ms(10_000)));
        assert_eq!(parse_duration("500ms"), Ok(ms(500)));
        assert_eq!(parse_duration("2m"), Ok(ms(120_000)));
        assert_eq!(parse_duration("1.5s"), Ok(ms(1_500)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse_duration(" 10 "), Ok(ms(10_000)));
        assert_eq!(parse_duration("1h"), Ok(ms(3_600_000)));
        assert_eq!(parse_duration(".5s"), Ok(ms(500)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_nonsense() {
        assert_eq!(
            parse_duration("fast").unwrap_err(),
            r#""fast" is not a duration: expected e.g. "300ms", "10s", "2m""#
        );
        for bad in [
            "",
            "s",
            "-1s",
            "1.2.3s",
            "10 parsecs",
            "1e3s",
            "1s2",
            "NaN",
            ".",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_duration("99999999999999999999h").is_err());
        assert!(parse_duration_with_unit("300").is_err());
        assert_eq!(
            parse_duration_with_unit("300ms"),
            Ok(Duration::from_millis(300))
        );
    }

    #[test]
    fn formats_round_trip() {
        for text in ["1s", "1500ms", "250us", "7ns", "0s"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }
}
