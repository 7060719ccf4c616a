//! Numbers as a person reads them: adaptive units, thousands separators.

/// A latency given in milliseconds, in µs, ms or s, with three significant digits:
/// `850µs`, `1.23ms`, `12.3ms`, `412ms`, `1.50s`.
pub(crate) fn latency(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return "-".into();
    }
    for (unit, scale) in [("µs", 1e-3), ("ms", 1.0)] {
        let shown = three_digits(ms / scale);
        // Rounding may reach 1000 of a unit: then the next unit reads better.
        if shown.parse::<f64>().is_ok_and(|v| v < 1000.0) {
            return format!("{shown}{unit}");
        }
    }
    format!("{}s", three_digits(ms / 1e3))
}

/// `value` with three significant digits (no more than two decimals).
fn three_digits(value: f64) -> String {
    if value < 9.995 {
        format!("{value:.2}")
    } else if value < 99.95 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

/// An integer with thousands separators: `1,234,567`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// A rate per second with one decimal and thousands separators: `12,345.6/s`.
pub(crate) fn rate(per_s: f64) -> String {
    format!("{}/s", decimal(per_s))
}

/// A number with one decimal and thousands separators: `12,345.6`.
pub(crate) fn decimal(value: f64) -> String {
    if !value.is_finite() || value < 0.0 {
        return "-".into();
    }
    let tenths = (value * 10.0).round();
    // Beyond u64 a rate means nothing to a reader anyway.
    let tenths = if tenths >= u64::MAX as f64 {
        u64::MAX
    } else {
        tenths as u64
    };
    format!("{}.{}", count(tenths / 10), tenths % 10)
}

/// `part / whole` as a percentage: `1.00%`, `<0.01%` for tiny non-zero shares,
/// `0%` for none, `-` when `whole` is zero.
pub(crate) fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".into();
    }
    if part == 0 {
        return "0%".into();
    }
    let pct = part as f64 * 100.0 / whole as f64;
    if pct < 0.01 {
        "<0.01%".into()
    } else {
        format!("{pct:.2}%")
    }
}

/// A byte count in binary units: `512 B`, `1.2 KiB`, `3.4 MiB`.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

/// A duration in seconds: `4.2s`, `1m05s`, `2h03m`.
pub(crate) fn duration(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return "-".into();
    }
    if s < 60.0 {
        return format!("{s:.1}s");
    }
    let total = s.round() as u64;
    if total < 3600 {
        format!("{}m{:02}s", total / 60, total % 60)
    } else {
        format!("{}h{:02}m", total / 3600, (total % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_adapt_their_unit() {
        assert_eq!(latency(0.0), "0.00µs");
        assert_eq!(latency(0.0123), "12.3µs");
        assert_eq!(latency(0.85), "850µs");
        assert_eq!(latency(0.9996), "1.00ms");
        assert_eq!(latency(1.234), "1.23ms");
        assert_eq!(latency(12.34), "12.3ms");
        assert_eq!(latency(412.3), "412ms");
        assert_eq!(latency(999.7), "1.00s");
        assert_eq!(latency(1500.0), "1.50s");
        assert_eq!(latency(123_456.0), "123s");
        assert_eq!(latency(f64::NAN), "-");
    }

    #[test]
    fn counts_rates_and_percents() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(rate(12345.64), "12,345.6/s");
        assert_eq!(rate(0.0), "0.0/s");
        assert_eq!(percent(1, 100), "1.00%");
        assert_eq!(percent(1, 1_000_000), "<0.01%");
        assert_eq!(percent(0, 10), "0%");
        assert_eq!(percent(0, 0), "-");
    }

    #[test]
    fn bytes_and_durations() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(duration(4.25), "4.2s");
        assert_eq!(duration(65.0), "1m05s");
        assert_eq!(duration(7380.0), "2h03m");
    }
}
