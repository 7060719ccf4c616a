//! Cutting text that came from elsewhere to a size, without splitting a character.

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
pub fn clip_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_never_splits_a_character() {
        assert_eq!(clip_bytes("héllo", 2), "h");
        assert_eq!(clip_bytes("héllo", 3), "hé");
        assert_eq!(clip_bytes("short", 10), "short");
        assert_eq!(clip_bytes("👩‍👧", 1), "");
    }
}
