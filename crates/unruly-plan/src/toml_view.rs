//! A located view of a parsed TOML document: tables as key/value entries that
//! know their byte positions, typed getters that record an error (and return
//! `None`) on a mismatch, so that every problem in a file is collected.

use crate::duration::{not_a_duration, parse_duration};
use crate::error::{PlanError, PlanErrors};
use crate::position::{line_col, string_offset};
use std::ops::Range;
use std::time::Duration;
use toml_edit::{ArrayOfTables, InlineTable, Item, Table, Value};
use unruly_core::{Template, TemplatePart, Variable};

/// Looks up environment variables for `{{env.NAME}}`.
pub(crate) type EnvLookup<'e> = &'e dyn Fn(&str) -> Option<String>;

/// A TOML value, whatever syntax it was written in.
#[derive(Clone, Copy)]
pub(crate) enum Node<'a> {
    Value(&'a Value),
    Table(&'a Table),
    Tables(&'a ArrayOfTables),
    Missing,
}

impl<'a> Node<'a> {
    pub(crate) fn of(item: &'a Item) -> Self {
        match item {
            Item::Value(v) => Node::Value(v),
            Item::Table(t) => Node::Table(t),
            Item::ArrayOfTables(a) => Node::Tables(a),
            Item::None => Node::Missing,
        }
    }

    fn span(&self) -> Option<Range<usize>> {
        match self {
            Node::Value(v) => v.span(),
            Node::Table(t) => t.span(),
            Node::Tables(a) => a.span(),
            Node::Missing => None,
        }
    }

    /// "a string", "an integer", ... for messages.
    pub(crate) fn kind(&self) -> String {
        match self {
            Node::Value(Value::String(s)) => format!("a string (\"{}\")", s.value()),
            Node::Value(Value::Integer(i)) => format!("an integer ({})", i.value()),
            Node::Value(Value::Float(f)) => format!("a float ({})", f.value()),
            Node::Value(Value::Boolean(b)) => format!("a boolean ({})", b.value()),
            Node::Value(Value::Datetime(_)) => "a date-time".into(),
            Node::Value(Value::Array(_)) => "an array".into(),
            Node::Value(Value::InlineTable(_)) => "an inline table".into(),
            Node::Table(_) => "a table".into(),
            Node::Tables(_) => "an array of tables".into(),
            Node::Missing => "nothing".into(),
        }
    }
}

/// One key of a table (or one element of an array) with its place.
#[derive(Clone)]
pub(crate) struct Entry<'a> {
    /// How messages name it, e.g. "`url` in [target]".
    pub what: String,
    /// Byte offset of the key.
    pub key_pos: usize,
    /// Byte offset of the value (the key's if the value has no span).
    pub pos: usize,
    /// The value's span, for positions inside strings.
    pub span: Option<Range<usize>>,
    /// The value.
    pub node: Node<'a>,
}

impl<'a> Entry<'a> {
    fn new(what: String, key_pos: usize, node: Node<'a>) -> Self {
        let span = node.span();
        let pos = span.as_ref().map_or(key_pos, |s| s.start);
        Self {
            what,
            key_pos,
            pos,
            span,
            node,
        }
    }
}

/// The keys of one table, taken one by one; what is left is unknown.
pub(crate) struct Fields<'a> {
    /// How messages name the table, e.g. "[[operation]]".
    pub context: String,
    /// Byte offset of the table (its header, or the key that holds it).
    pub pos: usize,
    entries: Vec<(String, Option<Entry<'a>>)>,
}

impl<'a> Fields<'a> {
    fn new(context: String, pos: usize) -> Self {
        Self {
            context,
            pos,
            entries: Vec::new(),
        }
    }

    /// The keys of a standard table.
    pub(crate) fn of_table(table: &'a Table, context: &str, fallback_pos: usize) -> Self {
        let pos = table.span().map_or(fallback_pos, |s| s.start);
        let mut fields = Self::new(context.to_string(), pos);
        for (name, _) in table.iter() {
            if let Some((key, item)) = table.get_key_value(name) {
                let key_pos = key.span().map_or(pos, |s| s.start);
                fields.push(name, key_pos, Node::of(item));
            }
        }
        fields
    }

    /// The keys of an inline table.
    pub(crate) fn of_inline(table: &'a InlineTable, context: &str, fallback_pos: usize) -> Self {
        let pos = table.span().map_or(fallback_pos, |s| s.start);
        let mut fields = Self::new(context.to_string(), pos);
        for (name, _) in table.iter() {
            if let Some((key, item)) = table.get_key_value(name) {
                let key_pos = key.span().map_or(pos, |s| s.start);
                fields.push(name, key_pos, Node::of(item));
            }
        }
        fields
    }

    fn push(&mut self, name: &str, key_pos: usize, node: Node<'a>) {
        let what = if self.context.is_empty() {
            format!("`{name}`")
        } else {
            format!("`{name}` in {}", self.context)
        };
        self.entries
            .push((name.to_string(), Some(Entry::new(what, key_pos, node))));
    }

    /// Takes the entry for `key`, if present.
    pub(crate) fn take(&mut self, key: &str) -> Option<Entry<'a>> {
        self.entries
            .iter_mut()
            .find(|(name, entry)| name == key && entry.is_some())
            .and_then(|(_, entry)| entry.take())
    }

    /// Takes every remaining entry, in order, with its key.
    pub(crate) fn take_all(&mut self) -> Vec<(String, Entry<'a>)> {
        self.entries
            .iter_mut()
            .filter_map(|(name, entry)| entry.take().map(|e| (name.clone(), e)))
            .collect()
    }

    /// Reports every key not taken as unknown; `known` lists the valid keys.
    pub(crate) fn finish(mut self, ctx: &mut Ctx<'_>, known: &[&str]) {
        let where_ = if self.context.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in {}", self.context)
        };
        for (name, entry) in self.take_all() {
            let mut message = format!(
                "unknown field `{name}` {where_}: expected one of {}",
                known.join(", ")
            );
            if let Some(close) = closest(&name, known) {
                message.push_str(&format!(" (did you mean `{close}`?)"));
            }
            ctx.error(entry.key_pos, message);
        }
    }
}

/// The known key nearest to `name`, if it is a plausible typo.
pub(crate) fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, k)| *d <= 2 && *d < k.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Collects errors while a document is read.
pub(crate) struct Ctx<'s> {
    source: &'s str,
    file: &'s str,
    env: EnvLookup<'s>,
    errors: Vec<(usize, String)>,
    whole_file: Vec<String>,
}

impl<'s> Ctx<'s> {
    pub(crate) fn new(source: &'s str, file: &'s str, env: EnvLookup<'s>) -> Self {
        Self {
            source,
            file,
            env,
            errors: Vec::new(),
            whole_file: Vec::new(),
        }
    }

    /// Records an error at byte offset `pos`.
    pub(crate) fn error(&mut self, pos: usize, message: impl Into<String>) {
        self.errors.push((pos, message.into()));
    }

    /// Records an error about the whole file.
    pub(crate) fn error_whole_file(&mut self, message: impl Into<String>) {
        self.whole_file.push(message.into());
    }

    /// Records an error at byte `offset` of the decoded string value of `entry`.
    pub(crate) fn error_in_string(
        &mut self,
        entry: &Entry<'_>,
        offset: usize,
        message: impl Into<String>,
    ) {
        let pos = match &entry.span {
            Some(span) => string_offset(self.source, span, offset),
            None => entry.pos,
        };
        self.error(pos, message);
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.is_empty() || !self.whole_file.is_empty()
    }

    /// All errors, whole-file ones first, then by place.
    pub(crate) fn into_errors(self) -> PlanErrors {
        let mut located = self.errors;
        located.sort_by_key(|(pos, _)| *pos);
        let mut errors: Vec<PlanError> = self
            .whole_file
            .into_iter()
            .map(|message| PlanError::whole_file(self.file, message))
            .collect();
        errors.extend(located.into_iter().map(|(pos, message)| {
            let (line, column) = line_col(self.source, pos);
            PlanError {
                file: self.file.to_string(),
                line,
                column,
                message,
            }
        }));
        PlanErrors { errors }
    }

    pub(crate) fn mismatch(&mut self, entry: &Entry<'_>, expected: &str) {
        let message = format!(
            "{}: expected {expected}, found {}",
            entry.what,
            entry.node.kind()
        );
        self.error(entry.pos, message);
    }

    /// A string value.
    pub(crate) fn string<'a>(&mut self, entry: &Entry<'a>) -> Option<&'a str> {
        match entry.node {
            Node::Value(Value::String(s)) => Some(s.value().as_str()),
            _ => {
                self.mismatch(entry, "a string");
                None
            }
        }
    }

    /// A boolean value.
    pub(crate) fn boolean(&mut self, entry: &Entry<'_>) -> Option<bool> {
        match entry.node {
            Node::Value(Value::Boolean(b)) => Some(*b.value()),
            _ => {
                self.mismatch(entry, "true or false");
                None
            }
        }
    }

    /// An integer in `min..=max`.
    pub(crate) fn integer(&mut self, entry: &Entry<'_>, min: i64, max: i64) -> Option<i64> {
        match entry.node {
            Node::Value(Value::Integer(i)) if (min..=max).contains(i.value()) => Some(*i.value()),
            Node::Value(Value::Integer(i)) => {
                let message = format!(
                    "{}: expected an integer from {min} to {max}, found {}",
                    entry.what,
                    i.value()
                );
                self.error(entry.pos, message);
                None
            }
            _ => {
                self.mismatch(entry, &format!("an integer from {min} to {max}"));
                None
            }
        }
    }

    /// A finite, non-negative number (integer or float).
    pub(crate) fn rate(&mut self, entry: &Entry<'_>) -> Option<f64> {
        let value = match entry.node {
            Node::Value(Value::Integer(i)) => *i.value() as f64,
            Node::Value(Value::Float(f)) => *f.value(),
            _ => {
                self.mismatch(entry, "a number of requests per second, e.g. 100");
                return None;
            }
        };
        if value.is_finite() && value >= 0.0 {
            Some(value)
        } else {
            let message = format!(
                "{}: expected a finite number of requests per second of at least 0, found {value}",
                entry.what
            );
            self.error(entry.pos, message);
            None
        }
    }

    /// A duration string such as "10s".
    pub(crate) fn duration(&mut self, entry: &Entry<'_>) -> Option<Duration> {
        match entry.node {
            Node::Value(Value::String(s)) => match parse_duration(s.value()) {
                Ok(d) => Some(d),
                Err(_) => {
                    self.error(entry.pos, not_a_duration(s.value()));
                    None
                }
            },
            _ => {
                self.mismatch(entry, "a duration string such as \"10s\" or \"300ms\"");
                None
            }
        }
    }

    /// A table, standard or inline.
    pub(crate) fn table<'a>(&mut self, entry: &Entry<'a>, context: &str) -> Option<Fields<'a>> {
        match entry.node {
            Node::Table(t) => Some(Fields::of_table(t, context, entry.key_pos)),
            Node::Value(Value::InlineTable(t)) => Some(Fields::of_inline(t, context, entry.pos)),
            _ => {
                self.mismatch(entry, &format!("a table {context}"));
                None
            }
        }
    }

    /// An array of tables: `[[name]]` sections or an array of inline tables.
    pub(crate) fn tables<'a>(&mut self, entry: &Entry<'a>, context: &str) -> Vec<Fields<'a>> {
        match entry.node {
            Node::Tables(list) => list
                .iter()
                .map(|t| Fields::of_table(t, context, entry.key_pos))
                .collect(),
            Node::Value(Value::Array(list)) => {
                let mut out = Vec::new();
                for value in list.iter() {
                    match value {
                        Value::InlineTable(t) => out.push(Fields::of_inline(t, context, entry.pos)),
                        other => {
                            let element =
                                Entry::new(entry.what.clone(), entry.pos, Node::Value(other));
                            self.mismatch(&element, &format!("{context} tables"));
                        }
                    }
                }
                out
            }
            _ => {
                self.mismatch(entry, &format!("{context} tables"));
                Vec::new()
            }
        }
    }

    /// The elements of an array value.
    pub(crate) fn array<'a>(&mut self, entry: &Entry<'a>, expected: &str) -> Vec<Entry<'a>> {
        match entry.node {
            Node::Value(Value::Array(list)) => list
                .iter()
                .map(|v| Entry::new(entry.what.clone(), entry.pos, Node::Value(v)))
                .collect(),
            _ => {
                self.mismatch(entry, expected);
                Vec::new()
            }
        }
    }

    /// Parses a template held in the string value of `entry`; resolves
    /// `{{env.NAME}}`, reporting unset variables where they are written.
    pub(crate) fn template(&mut self, entry: &Entry<'_>, text: &str) -> Option<Template> {
        let mut template = match Template::parse(text) {
            Ok(t) => t,
            Err(e) => {
                self.error_in_string(entry, e.offset, e.message);
                return None;
            }
        };
        let offsets = variable_offsets(text);
        let variables = template.parts().iter().filter_map(|part| match part {
            TemplatePart::Variable(v) => Some(v),
            TemplatePart::Literal(_) => None,
        });
        let mut unset = Vec::new();
        for (i, variable) in variables.enumerate() {
            if let Variable::Env(name) = variable {
                if (self.env)(name).is_none() {
                    unset.push((offsets.get(i).copied().unwrap_or(0), name.clone()));
                }
            }
        }
        for (offset, name) in &unset {
            self.error_in_string(
                entry,
                *offset,
                format!("environment variable `{name}` is not set: expected it set before the run (or a plain value instead of {{{{env.{name}}}}})"),
            );
        }
        let env = self.env;
        // Cannot fail: every name gets a value (unset ones are reported above).
        let _ = template.resolve_env(|name| Some(env(name).unwrap_or_default()));
        // A template that became static is kept as one literal.
        if let Some(text) = template.as_literal() {
            template = Template::literal(&text);
        }
        unset.is_empty().then_some(template)
    }

    /// Checks the templates in every string of a TOML value (for `json`).
    pub(crate) fn templates_in(&mut self, entry: &Entry<'_>) -> bool {
        match entry.node {
            Node::Value(Value::String(s)) => self.template(entry, s.value()).is_some(),
            Node::Value(Value::Array(list)) => {
                let mut ok = true;
                for v in list.iter() {
                    let element = Entry::new(entry.what.clone(), entry.pos, Node::Value(v));
                    ok &= self.templates_in(&element);
                }
                ok
            }
            Node::Value(Value::InlineTable(t)) => {
                let mut ok = true;
                for (_, v) in t.iter() {
                    let element = Entry::new(entry.what.clone(), entry.pos, Node::Value(v));
                    ok &= self.templates_in(&element);
                }
                ok
            }
            Node::Table(t) => {
                let mut ok = true;
                for (_, item) in t.iter() {
                    let element = Entry::new(entry.what.clone(), entry.pos, Node::of(item));
                    ok &= self.templates_in(&element);
                }
                ok
            }
            _ => true,
        }
    }

    /// The 1-based line and column of byte offset `pos`.
    pub(crate) fn line_col(&self, pos: usize) -> (usize, usize) {
        line_col(self.source, pos)
    }

    /// The environment lookup.
    pub(crate) fn env(&self) -> EnvLookup<'s> {
        self.env
    }
}

/// Byte offsets of the inside (past `{{` and spaces) of each `{{...}}`, in the
/// order `Template::parse` finds them.
fn variable_offsets(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{") {
        let inner = from + open + 2;
        let Some(close) = text[inner..].find("}}") else {
            break;
        };
        let body = &text[inner..inner + close];
        out.push(inner + (body.len() - body.trim_start().len()));
        from = inner + close + 2;
    }
    out
}

/// A TOML value as compact JSON text, keys in the order written; dates
/// become strings. `Err` names what cannot be JSON.
pub(crate) fn to_json(node: Node<'_>) -> Result<String, String> {
    let mut out = String::new();
    write_json(node, &mut out)?;
    Ok(out)
}

fn json_string(text: &str, out: &mut String) {
    out.push_str(&serde_json::Value::from(text).to_string());
}

fn write_json(node: Node<'_>, out: &mut String) -> Result<(), String> {
    match node {
        Node::Value(Value::String(s)) => json_string(s.value(), out),
        Node::Value(Value::Integer(i)) => out.push_str(&i.value().to_string()),
        Node::Value(Value::Float(f)) => {
            let number = serde_json::Number::from_f64(*f.value())
                .ok_or_else(|| format!("{} cannot be written in JSON", f.value()))?;
            out.push_str(&number.to_string());
        }
        Node::Value(Value::Boolean(b)) => out.push_str(if *b.value() { "true" } else { "false" }),
        Node::Value(Value::Datetime(d)) => json_string(&d.value().to_string(), out),
        Node::Value(Value::Array(list)) => {
            out.push('[');
            for (i, v) in list.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(Node::Value(v), out)?;
            }
            out.push(']');
        }
        Node::Value(Value::InlineTable(t)) => {
            out.push('{');
            for (i, (k, v)) in t.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(k, out);
                out.push(':');
                write_json(Node::Value(v), out)?;
            }
            out.push('}');
        }
        Node::Table(t) => {
            out.push('{');
            for (i, (k, item)) in t.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(k, out);
                out.push(':');
                write_json(Node::of(item), out)?;
            }
            out.push('}');
        }
        Node::Tables(list) => {
            out.push('[');
            for (i, t) in list.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(Node::Table(t), out)?;
            }
            out.push(']');
        }
        Node::Missing => out.push_str("null"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_variable_offsets() {
        assert_eq!(variable_offsets("a{{ vu }}b{{env.X}}"), vec![4, 12]);
    }

    #[test]
    fn writes_json_in_written_order() {
        let doc =
            toml_edit::ImDocument::parse("v = { b = 1, a = [true, 1.5, \"x\\\"y\"] }").unwrap();
        let item = doc.as_table().get("v").unwrap();
        assert_eq!(
            to_json(Node::of(item)).unwrap(),
            r#"{"b":1,"a":[true,1.5,"x\"y"]}"#
        );
    }

    #[test]
    fn suggests_close_keys() {
        let known = ["name", "method", "path"];
        assert_eq!(closest("metod", &known), Some("method"));
        assert_eq!(closest("zzzzzz", &known), None);
    }
}
