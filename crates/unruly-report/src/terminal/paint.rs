//! Optional ANSI color. Text is padded before it is painted, so columns align
//! with or without color.

/// Paints text with ANSI SGR sequences when color is on, and leaves it alone when off.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paint {
    color: bool,
}

/// A text style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Bold,
    Dim,
    Red,
    BoldRed,
    Green,
    Yellow,
    Magenta,
    Cyan,
}

impl Tone {
    fn sgr(self) -> &'static str {
        match self {
            Tone::Bold => "1",
            Tone::Dim => "2",
            Tone::Red => "31",
            Tone::BoldRed => "1;31",
            Tone::Green => "32",
            Tone::Yellow => "33",
            Tone::Magenta => "1;35",
            Tone::Cyan => "36",
        }
    }
}

impl Paint {
    pub(crate) fn new(color: bool) -> Self {
        Self { color }
    }

    /// `text` in `tone` (already sanitized: painting adds the only escapes).
    pub(crate) fn tone(self, tone: Tone, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("\u{1b}[{}m{text}\u{1b}[0m", tone.sgr())
        } else {
            text.to_string()
        }
    }
}
