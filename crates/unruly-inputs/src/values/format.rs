//! Valid strings for the `format`s JSON Schema and OpenAPI name.

use unruly_core::SeededRng;

fn pick(rng: &mut SeededRng, low: i64, high: i64) -> i64 {
    rng.range_inclusive(low, high)
}

fn word(rng: &mut SeededRng, len: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    (0..len)
        .map(|_| LETTERS[pick(rng, 0, 25) as usize] as char)
        .collect()
}

/// Standard base64 (with padding) of `bytes`.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A random valid string for `format`, or `None` when the format is unknown or
/// not a string format (`int32`, `double`, ...).
pub(crate) fn generate(format: &str, rng: &mut SeededRng) -> Option<String> {
    let date = |rng: &mut SeededRng| {
        format!(
            "{:04}-{:02}-{:02}",
            pick(rng, 2000, 2030),
            pick(rng, 1, 12),
            pick(rng, 1, 28)
        )
    };
    let time = |rng: &mut SeededRng| {
        format!(
            "{:02}:{:02}:{:02}",
            pick(rng, 0, 23),
            pick(rng, 0, 59),
            pick(rng, 0, 59)
        )
    };
    Some(match format {
        "date-time" => format!("{}T{}Z", date(rng), time(rng)),
        "date" => date(rng),
        "time" => format!("{}Z", time(rng)),
        "duration" => format!("P{}DT{}H", pick(rng, 1, 30), pick(rng, 0, 23)),
        "email" | "idn-email" => {
            let len = pick(rng, 4, 8) as usize;
            format!("{}@example.com", word(rng, len))
        }
        "hostname" | "idn-hostname" => {
            let len = pick(rng, 3, 8) as usize;
            format!("{}.example.com", word(rng, len))
        }
        "ipv4" => format!(
            "{}.{}.{}.{}",
            pick(rng, 1, 223),
            pick(rng, 0, 255),
            pick(rng, 0, 255),
            pick(rng, 1, 254)
        ),
        "ipv6" => format!(
            "2001:db8::{:x}:{:x}",
            pick(rng, 1, 0xffff),
            pick(rng, 1, 0xffff)
        ),
        "uri" | "iri" | "url" => {
            let len = pick(rng, 3, 8) as usize;
            format!("https://example.com/{}", word(rng, len))
        }
        "uri-reference" | "iri-reference" => {
            let len = pick(rng, 3, 8) as usize;
            format!("/{}", word(rng, len))
        }
        "uri-template" => "https://example.com/{id}".to_string(),
        "uuid" => {
            let mut b = [0u8; 16];
            for x in b.iter_mut() {
                *x = pick(rng, 0, 255) as u8;
            }
            b[6] = (b[6] & 0x0f) | 0x40;
            b[8] = (b[8] & 0x3f) | 0x80;
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            )
        }
        "byte" => {
            let n = pick(rng, 3, 12) as usize;
            let bytes: Vec<u8> = (0..n).map(|_| pick(rng, 0, 255) as u8).collect();
            base64(&bytes)
        }
        "binary" | "password" => {
            let len = pick(rng, 6, 12) as usize;
            word(rng, len)
        }
        "json-pointer" => format!("/{}", word(rng, 4)),
        "relative-json-pointer" => format!("0/{}", word(rng, 4)),
        "regex" => "^[a-z]+$".to_string(),
        _ => return None,
    })
}

/// Well-known edge values of a format, each with what it is; validity is left
/// to the validator (some are meant to be invalid).
pub(crate) fn edges(format: &str) -> &'static [(&'static str, &'static str)] {
    match format {
        "date-time" => &[
            ("leap second", "2016-12-31T23:59:60Z"),
            ("leap day", "2024-02-29T00:00:00Z"),
            ("not a leap day", "2023-02-29T00:00:00Z"),
            ("earliest", "0001-01-01T00:00:00Z"),
            ("latest", "9999-12-31T23:59:59.999999Z"),
            ("offset +14:00", "2024-01-01T00:00:00+14:00"),
            ("lower-case t and z", "2024-01-01t00:00:00z"),
            ("no offset", "2024-01-01T00:00:00"),
        ],
        "date" => &[
            ("leap day", "2024-02-29"),
            ("not a leap day", "2023-02-29"),
            ("earliest", "0001-01-01"),
            ("latest", "9999-12-31"),
            ("month 13", "2024-13-01"),
        ],
        "time" => &[
            ("midnight", "00:00:00Z"),
            ("leap second", "23:59:60Z"),
            ("no offset", "12:00:00"),
        ],
        "email" | "idn-email" => &[
            ("shortest", "a@b.co"),
            ("plus tag", "user+tag@example.com"),
            ("quoted local part", "\"a b\"@example.com"),
            ("no at sign", "example.com"),
        ],
        "uuid" => &[
            ("nil uuid", "00000000-0000-0000-0000-000000000000"),
            ("upper case", "123E4567-E89B-12D3-A456-426614174000"),
            ("no dashes", "123e4567e89b12d3a456426614174000"),
        ],
        "ipv4" => &[
            ("0.0.0.0", "0.0.0.0"),
            ("broadcast", "255.255.255.255"),
            ("octet 256", "256.0.0.1"),
        ],
        "ipv6" => &[("unspecified", "::"), ("loopback", "::1")],
        "uri" | "iri" | "url" => &[
            ("non-http scheme", "javascript:alert(1)"),
            ("file uri", "file:///etc/passwd"),
            ("relative", "/relative/path"),
        ],
        "hostname" | "idn-hostname" => &[
            ("localhost", "localhost"),
            (
                "63-char label",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
            ),
            (
                "64-char label",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
            ),
        ],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }

    #[test]
    fn uuid_shape() {
        let mut rng = SeededRng::new(1);
        let u = generate("uuid", &mut rng).unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
