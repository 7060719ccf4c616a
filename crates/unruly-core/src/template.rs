//! Request templates: text with `{{variables}}` filled in per request.
//!
//! Supported variables: `{{vu}}` (the virtual user's number), `{{iteration}}` (that
//! user's request count), `{{seq}}` (the run-wide request number), `{{uuid}}`,
//! `{{random_int(LOW, HIGH)}}`, `{{random_string(LEN)}}` and `{{env.NAME}}` (read
//! once when the plan is built). Randomness comes from the caller's [`SeededRng`].

use crate::SeededRng;
use std::fmt::Write as _;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    parts: Vec<TemplatePart>,
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Text copied as is.
    Literal(String),
    /// A variable filled in per request.
    Variable(Variable),
}

/// A template variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Variable {
    /// The virtual user's number, from 0.
    Vu,
    /// The number of requests this user has sent before, from 0.
    Iteration,
    /// The run-wide request number, from 0.
    Seq,
    /// A random (version 4 layout) UUID.
    Uuid,
    /// A random integer in `low..=high`.
    RandomInt(i64, i64),
    /// A random alphanumeric string of this length.
    RandomString(usize),
    /// An environment variable; the plan builder replaces it with its value.
    Env(String),
}

/// A template that could not be parsed: `offset` is the byte offset in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// Byte offset of the problem in the template text.
    pub offset: usize,
    /// What is wrong and what is expected.
    pub message: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateError {}

/// Per-request values a template is rendered with.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderContext {
    /// The virtual user (or connection) number.
    pub vu: u64,
    /// The user's request count.
    pub iteration: u64,
    /// The run-wide request number.
    pub seq: u64,
}

/// Longest `random_string` a template may ask for.
pub const MAX_RANDOM_STRING: usize = 1 << 20;

impl Template {
    /// A template that is just this text.
    pub fn literal(text: &str) -> Self {
        if text.is_empty() {
            return Self::default();
        }
        Self {
            parts: vec![TemplatePart::Literal(text.to_string())],
        }
    }

    /// Parses `text`, finding `{{ ... }}` variables.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut consumed = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(TemplatePart::Literal(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| TemplateError {
                offset: consumed + open,
                message: "`{{` is not closed: expected `}}` after the variable name".into(),
            })?;
            let inner_offset = consumed + open + 2;
            let variable = parse_variable(&after[..close], inner_offset)?;
            parts.push(TemplatePart::Variable(variable));
            let advance = open + 2 + close + 2;
            consumed += advance;
            rest = &rest[advance..];
        }
        if !rest.is_empty() {
            parts.push(TemplatePart::Literal(rest.to_string()));
        }
        Ok(Self { parts })
    }

    /// This template with `prefix` put before it (as literal text).
    pub fn with_prefix(&self, prefix: &str) -> Self {
        if prefix.is_empty() {
            return self.clone();
        }
        let mut parts = Vec::with_capacity(self.parts.len() + 1);
        match self.parts.first() {
            Some(TemplatePart::Literal(first)) => {
                parts.push(TemplatePart::Literal(format!("{prefix}{first}")));
                parts.extend(self.parts[1..].iter().cloned());
            }
            _ => {
                parts.push(TemplatePart::Literal(prefix.to_string()));
                parts.extend(self.parts.iter().cloned());
            }
        }
        Self { parts }
    }

    /// The pieces of the template.
    pub fn parts(&self) -> &[TemplatePart] {
        &self.parts
    }

    /// Replaces every `{{env.NAME}}` with `lookup(NAME)`; returns the first name
    /// that `lookup` does not know.
    pub fn resolve_env(
        &mut self,
        mut lookup: impl FnMut(&str) -> Option<String>,
    ) -> Result<(), String> {
        for part in &mut self.parts {
            if let TemplatePart::Variable(Variable::Env(name)) = part {
                let value = lookup(name).ok_or_else(|| name.clone())?;
                *part = TemplatePart::Literal(value);
            }
        }
        Ok(())
    }

    /// The text when the template has no variables.
    pub fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Literal(text) => out.push_str(text),
                TemplatePart::Variable(_) => return None,
            }
        }
        Some(out)
    }

    /// Whether the template has no variables.
    pub fn is_static(&self) -> bool {
        self.parts
            .iter()
            .all(|part| matches!(part, TemplatePart::Literal(_)))
    }

    /// Renders the template into `out`.
    pub fn render_into(&self, ctx: RenderContext, rng: &mut SeededRng, out: &mut String) {
        for part in &self.parts {
            match part {
                TemplatePart::Literal(text) => out.push_str(text),
                TemplatePart::Variable(variable) => render_variable(variable, ctx, rng, out),
            }
        }
    }

    /// Renders the template to a new string.
    pub fn render(&self, ctx: RenderContext, rng: &mut SeededRng) -> String {
        let mut out = String::new();
        self.render_into(ctx, rng, &mut out);
        out
    }
}

fn render_variable(variable: &Variable, ctx: RenderContext, rng: &mut SeededRng, out: &mut String) {
    match variable {
        Variable::Vu => {
            let _ = write!(out, "{}", ctx.vu);
        }
        Variable::Iteration => {
            let _ = write!(out, "{}", ctx.iteration);
        }
        Variable::Seq => {
            let _ = write!(out, "{}", ctx.seq);
        }
        Variable::Uuid => {
            let hi = rng.next_u64();
            let lo = rng.next_u64();
            let _ = write!(
                out,
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                hi >> 32,
                (hi >> 16) & 0xffff,
                hi & 0x0fff,
                0x8000 | (lo >> 48) & 0x3fff,
                lo & 0xffff_ffff_ffff
            );
        }
        Variable::RandomInt(low, high) => {
            let _ = write!(out, "{}", rng.range_inclusive(*low, *high));
        }
        Variable::RandomString(len) => {
            const ALPHABET: &[u8] =
                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
            out.reserve(*len);
            for _ in 0..*len {
                out.push(ALPHABET[(rng.next_u64() % ALPHABET.len() as u64) as usize] as char);
            }
        }
        Variable::Env(_) => {}
    }
}

fn parse_variable(inner: &str, offset: usize) -> Result<Variable, TemplateError> {
    let leading = inner.len() - inner.trim_start().len();
    let text = inner.trim();
    let at = offset + leading;
    let err = |message: String| TemplateError {
        offset: at,
        message,
    };
    if let Some(name) = text.strip_prefix("env.") {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(err(format!(
                "`{text}` is not a valid environment variable reference: expected `env.NAME` with letters, digits and `_`"
            )));
        }
        return Ok(Variable::Env(name.to_string()));
    }
    let (name, args) = match text.find('(') {
        Some(open) => {
            let Some(body) = text[open + 1..].strip_suffix(')') else {
                return Err(err(format!(
                    "`{text}`: expected `)` at the end of the arguments"
                )));
            };
            let args: Vec<&str> = body.split(',').map(str::trim).collect();
            (text[..open].trim(), Some(args))
        }
        None => (text, None),
    };
    let int_arg = |raw: &str| -> Result<i64, TemplateError> {
        raw.parse::<i64>()
            .map_err(|_| err(format!("`{raw}` in `{text}` is not an integer")))
    };
    match (name, args.as_deref()) {
        ("vu", None) => Ok(Variable::Vu),
        ("iteration", None) => Ok(Variable::Iteration),
        ("seq", None) => Ok(Variable::Seq),
        ("uuid", None) => Ok(Variable::Uuid),
        ("random_int", Some([low, high])) => {
            let (low, high) = (int_arg(low)?, int_arg(high)?);
            if low > high {
                return Err(err(format!("`{text}`: LOW must not exceed HIGH")));
            }
            Ok(Variable::RandomInt(low, high))
        }
        ("random_string", Some([len])) => {
            let len = int_arg(len)?;
            if !(0..=MAX_RANDOM_STRING as i64).contains(&len) {
                return Err(err(format!(
                    "`{text}`: LEN must be between 0 and {MAX_RANDOM_STRING}"
                )));
            }
            Ok(Variable::RandomString(len as usize))
        }
        ("random_int", _) => Err(err(format!("`{text}`: expected `random_int(LOW, HIGH)`"))),
        ("random_string", _) => Err(err(format!("`{text}`: expected `random_string(LEN)`"))),
        _ => Err(err(format!(
            "unknown template variable `{text}`: expected one of vu, iteration, seq, uuid, random_int(LOW, HIGH), random_string(LEN), env.NAME"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_variables_deterministically() {
        let t = Template::parse("/users/{{vu}}/{{ random_int(5, 5) }}?s={{seq}}").unwrap();
        let ctx = RenderContext {
            vu: 3,
            iteration: 0,
            seq: 9,
        };
        assert_eq!(t.render(ctx, &mut SeededRng::new(1)), "/users/3/5?s=9");
        let u = Template::parse("{{uuid}}").unwrap();
        let a = u.render(ctx, &mut SeededRng::new(4));
        assert_eq!(a, u.render(ctx, &mut SeededRng::new(4)));
        assert_eq!(a.len(), 36);
    }

    #[test]
    fn reports_offsets_of_errors() {
        let e = Template::parse("abc {{nope}}").unwrap_err();
        assert_eq!(e.offset, 6);
        let e = Template::parse("x {{vu").unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(Template::parse("{{random_int(9, 1)}}").is_err());
    }

    #[test]
    fn prefix_joins_the_first_literal() {
        let t = Template::parse("/users/{{vu}}")
            .unwrap()
            .with_prefix("/api");
        let ctx = RenderContext {
            vu: 7,
            iteration: 0,
            seq: 0,
        };
        assert_eq!(t.render(ctx, &mut SeededRng::new(1)), "/api/users/7");
        assert_eq!(
            Template::literal("/x")
                .with_prefix("/a")
                .as_literal()
                .as_deref(),
            Some("/a/x")
        );
    }

    #[test]
    fn static_templates_are_literal() {
        let t = Template::parse("plain text").unwrap();
        assert_eq!(t.as_literal().as_deref(), Some("plain text"));
        let mut t = Template::parse("a{{env.HOME_X}}").unwrap();
        assert!(!t.is_static());
        t.resolve_env(|_| Some("b".into())).unwrap();
        assert_eq!(t.as_literal().as_deref(), Some("ab"));
    }
}
