//! Numbers, times and untrusted text as the HTML report shows them. Escaping itself is
//! maud's: these only shape the text (cap its length, make invisible characters visible).

/// At most this many bytes of one target-sent field are shown; report.json has it all.
pub(super) const MAX_FIELD_BYTES: usize = 8 * 1024;

/// `text` with control characters, and the bidirectional overrides that could make
/// it read differently than it is, shown as visible escapes (`\x1b`, `<U+202E>`), and
/// cut at [`MAX_FIELD_BYTES`] with a note saying how much more report.json holds.
pub(super) fn shown(text: &str) -> String {
    let cut = clip_bytes(text, MAX_FIELD_BYTES);
    let mut out = String::with_capacity(cut.len() + 16);
    let mut chars = cut.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            // CRLF line ends are plain line ends here.
            '\r' if chars.peek() == Some(&'\n') => {}
            c if (c as u32) < 0x20 || ('\u{7f}'..='\u{9f}').contains(&c) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}' => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c => out.push(c),
        }
    }
    if cut.len() < text.len() {
        out.push_str(&format!(
            "\n… ({} more bytes in report.json)",
            text.len() - cut.len()
        ));
    }
    out
}

pub(super) use unruly_core::clip_bytes;

/// At most `max` characters of `text`, with `…` when cut.
pub(super) fn clip_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// An axis label: `0`, `2.5`, `750`, `12k`, `1.5M`, with as many decimals as `step` needs.
pub(super) fn compact(value: f64, step: f64) -> String {
    let abs = value.abs();
    if abs >= 1e9 {
        trim(format!("{:.2}", value / 1e9)) + "G"
    } else if abs >= 1e6 {
        trim(format!("{:.2}", value / 1e6)) + "M"
    } else if abs >= 1e4 {
        trim(format!("{:.1}", value / 1e3)) + "k"
    } else {
        // As many decimals as the step has (2.5 needs one, 0.25 two).
        let decimals = (0..=4)
            .find(|d| {
                let scaled = step * 10f64.powi(*d);
                (scaled - scaled.round()).abs() < 1e-6
            })
            .unwrap_or(4) as usize;
        trim(format!("{value:.decimals$}"))
    }
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A time axis label: `0s`, `45s`, `2m`, `1m30s`, `1h5m`.
pub(super) fn seconds_label(t: f64) -> String {
    if !t.is_finite() || t < 0.0 {
        return "0s".into();
    }
    if t < 60.0 {
        return trim(format!("{t:.1}")) + "s";
    }
    let total = t.round() as u64;
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    match (h, s) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{m}m{s}s"),
        (_, _) if m == 0 => format!("{h}h"),
        _ => format!("{h}h{m}m"),
    }
}

/// A duration for people: `950 ms`, `10.02 s`, `3 min 20 s`.
pub(super) fn duration(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1000.0)
    } else if seconds < 120.0 {
        format!("{seconds:.2} s")
    } else {
        let total = seconds.round() as u64;
        format!("{} min {} s", total / 60, total % 60)
    }
}

/// A latency: `0.42 ms`, `12.5 ms`, `412 ms`, `1.25 s`.
pub(super) fn ms(value: f64) -> String {
    if value >= 1000.0 {
        format!("{:.2} s", value / 1000.0)
    } else if value >= 100.0 {
        format!("{value:.0} ms")
    } else if value >= 10.0 {
        format!("{value:.1} ms")
    } else {
        format!("{value:.2} ms")
    }
}

/// A count with thousands separators: `123,456`.
pub(super) use crate::terminal::units::count;

/// A rate: `12,345.6`.
pub(super) fn rate(value: f64) -> String {
    if !value.is_finite() || value < 0.0 {
        return "–".into();
    }
    let text = format!("{value:.1}");
    let (whole, tenth) = text.split_once('.').unwrap_or((&text, "0"));
    format!("{}.{tenth}", count(whole.parse().unwrap_or(0)))
}

/// A share: `1.00%`.
pub(super) fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0%".into();
    }
    format!("{:.2}%", part as f64 * 100.0 / whole as f64)
}

/// Bytes for people: `512 B`, `1.5 KiB`, `12.3 MiB`.
pub(super) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_become_visible() {
        assert_eq!(shown("a\u{1b}[2Jb\u{202e}c\r\n"), "a\\x1b[2Jb<U+202E>c\n");
        assert_eq!(shown("a\rb"), "a\\x0db");
    }

    #[test]
    fn long_fields_are_cut_on_a_character() {
        let long = "é".repeat(MAX_FIELD_BYTES);
        let out = shown(&long);
        assert!(out.len() < MAX_FIELD_BYTES + 64);
        assert!(out.ends_with("more bytes in report.json)"));
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(count(123_456), "123,456");
        assert_eq!(count(12), "12");
        assert_eq!(rate(12_345.64), "12,345.6");
        assert_eq!(compact(2.5, 2.5), "2.5");
        assert_eq!(compact(20_000.0, 5_000.0), "20k");
        assert_eq!(seconds_label(90.0), "1m30s");
        assert_eq!(seconds_label(7.5), "7.5s");
        assert_eq!(ms(412.3), "412 ms");
        assert_eq!(bytes(1536), "1.5 KiB");
    }
}
