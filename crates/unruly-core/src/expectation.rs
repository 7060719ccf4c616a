//! Expectations on a JSON answer, e.g. `$.balance >= 0`, the language of
//! invariants.
//!
//! ```text
//! expr    := or
//! or      := and ("||" and)*
//! and     := not ("&&" not)*
//! not     := "!" not | cmp
//! cmp     := operand (("==" | "!=" | ">=" | "<=" | ">" | "<") operand)?
//! operand := path | number | string | true | false | null
//!          | "len(" path ")" | "(" expr ")"
//! path    := "$" ("." name | "[" integer "]" | "[" string "]")*
//! ```
//!
//! * A `name` after `.` is letters, digits, `_` and `-`; any other key is
//!   written `["a key"]`. Indexes count from 0.
//! * Strings are in `'...'` or `"..."`, with the escapes `\\`, `\'`, `\"`,
//!   `\n` and `\t`. Numbers are decimal, e.g. `-1`, `2.5`, `1e3`.
//! * `==` and `!=` compare any JSON values (numbers by value: `1 == 1.0`);
//!   `<`, `<=`, `>`, `>=` compare two numbers, or two strings
//!   lexicographically. A comparison with a missing side is false, and so is
//!   an ordering of values of different types (`"a" < 1`).
//! * `len(path)` is the length of an array, a string (in characters) or an
//!   object (its keys).
//! * A lone operand holds when it exists and is neither `false` nor `null`.
//!
//! Examples: `$.balance >= 0`, `len($.items) <= 10 && $.status == "open"`,
//! `!$.deleted`, `$["created-by"] != null`.

use serde_json::{Number, Value};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

/// Deepest nesting of `(` and `!` an expectation may have.
pub const MAX_NESTING: usize = 64;

/// Longest a JSON value is quoted in [`Evaluation::observed`], in characters.
const OBSERVED_VALUE_CHARS: usize = 80;

/// A parsed expectation on a JSON document, e.g. `$.balance >= 0`; see the
/// [module documentation](self) for the grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    expr: Expr,
}

/// An expectation that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectationError {
    /// 0-based offset of the problem in the text, in characters (not bytes).
    pub offset: usize,
    /// What was found and what is expected.
    pub message: String,
}

impl fmt::Display for ExpectationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExpectationError {}

/// The result of checking an expectation against a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// Whether the expectation holds.
    pub holds: bool,
    /// The values the expectation read, and why comparisons could not be
    /// made, e.g. `$.balance = -1100` or `$.owner is missing`; several are
    /// separated by `; `. Long values are cut short.
    pub observed: String,
}

impl Expectation {
    /// Parses an expectation such as `$.balance >= 0`. The error's offset
    /// counts characters from the start of `text`.
    pub fn parse(text: &str) -> Result<Self, ExpectationError> {
        let mut parser = Parser {
            text,
            pos: 0,
            depth: 0,
            after_operand: false,
        };
        parser.skip_ws();
        if parser.at_end() {
            return Err(
                parser.error_here("empty expectation: expected e.g. `$.balance >= 0`".to_string())
            );
        }
        let expr = parser.parse_or()?;
        parser.skip_ws();
        if !parser.at_end() {
            return Err(parser.trailing_error());
        }
        Ok(Self { expr })
    }

    /// Checks the expectation against `document`.
    pub fn evaluate(&self, document: &Value) -> Evaluation {
        let mut facts = Facts::default();
        let holds = eval(&self.expr, document, &mut facts);
        let observed = if facts.list.is_empty() {
            "no value read".to_string()
        } else {
            facts.list.join("; ")
        };
        Evaluation { holds, observed }
    }
}

impl std::str::FromStr for Expectation {
    type Err = ExpectationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Compare {
        left: Operand,
        op: CmpOp,
        right: Operand,
    },
    Truthy(Operand),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Operand {
    Path(Path),
    Literal(Value),
    Len {
        path: Path,
        /// The whole `len(...)` as written.
        text: String,
    },
    Group(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Path {
    /// As written, e.g. `$.items[0]`.
    text: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Ge,
    Le,
    Gt,
    Lt,
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Ge => ">=",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Lt => "<",
        }
    }
}

const COMPARISONS: [(&str, CmpOp); 6] = [
    ("==", CmpOp::Eq),
    ("!=", CmpOp::Ne),
    (">=", CmpOp::Ge),
    ("<=", CmpOp::Le),
    (">", CmpOp::Gt),
    ("<", CmpOp::Lt),
];

const VALUE_KINDS: &str =
    "a path such as `$.balance`, a number, a string, true, false, null, len($.items) or `(`";

struct Parser<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    pos: usize,
    /// Current nesting of `(` and `!`.
    depth: usize,
    /// Whether the last thing parsed was a lone operand (so a comparison
    /// could follow it).
    after_operand: bool,
}

type Parsed<T> = Result<T, ExpectationError>;

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
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

    fn error_at(&self, byte: usize, message: String) -> ExpectationError {
        let byte = byte.min(self.text.len());
        let offset = self
            .text
            .char_indices()
            .take_while(|(i, _)| *i < byte)
            .count();
        ExpectationError { offset, message }
    }

    fn error_here(&self, message: String) -> ExpectationError {
        self.error_at(self.pos, message)
    }

    /// The next token, for messages: `` `x` `` or "the end of the expression".
    fn found(&self) -> String {
        let rest = self.rest();
        let Some(first) = rest.chars().next() else {
            return "the end of the expression".to_string();
        };
        let token_len = if "<>=!&|".contains(first) {
            rest.find(|c: char| !"<>=!&|".contains(c))
                .unwrap_or(rest.len())
        } else if first.is_alphanumeric() || "$_.-[]".contains(first) {
            rest.find(|c: char| !(c.is_alphanumeric() || "$_.-[]".contains(c)))
                .unwrap_or(rest.len())
        } else {
            first.len_utf8()
        };
        let token: String = rest[..token_len].chars().take(30).collect();
        format!("`{token}`")
    }

    fn enter(&mut self) -> Parsed<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error_here(format!(
                "the expectation is nested too deeply: expected at most {MAX_NESTING} levels of `(` and `!`"
            )));
        }
        Ok(())
    }

    fn parse_or(&mut self) -> Parsed<Expr> {
        let mut items = vec![self.parse_and()?];
        loop {
            self.skip_ws();
            if !self.eat("||") {
                break;
            }
            items.push(self.parse_and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn parse_and(&mut self) -> Parsed<Expr> {
        let mut items = vec![self.parse_not()?];
        loop {
            self.skip_ws();
            if !self.eat("&&") {
                break;
            }
            items.push(self.parse_not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn parse_not(&mut self) -> Parsed<Expr> {
        self.skip_ws();
        if self.rest().starts_with('!') && !self.rest().starts_with("!=") {
            self.enter()?;
            self.pos += 1;
            let inner = self.parse_not()?;
            self.depth -= 1;
            self.after_operand = false;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.parse_cmp()
    }

    fn parse_cmp(&mut self) -> Parsed<Expr> {
        let left = self.parse_operand(None)?;
        self.skip_ws();
        let op = COMPARISONS
            .iter()
            .find(|(symbol, _)| self.rest().starts_with(symbol))
            .map(|(_, op)| *op);
        match op {
            Some(op) => {
                self.pos += op.symbol().len();
                let right = self.parse_operand(Some(op))?;
                self.after_operand = false;
                Ok(Expr::Compare { left, op, right })
            }
            None if self.rest().starts_with('=') => Err(self.error_here(
                "`=` is not a comparison: expected `==` (or !=, >=, <=, >, <)".to_string(),
            )),
            None => {
                self.after_operand = true;
                Ok(Expr::Truthy(left))
            }
        }
    }

    /// What follows a complete expression that is not its end.
    fn trailing_error(&self) -> ExpectationError {
        let rest = self.rest();
        let message = if !self.after_operand && COMPARISONS.iter().any(|(s, _)| rest.starts_with(s))
        {
            format!(
                "comparisons do not chain: expected `&&` or `||` between them (e.g. `1 <= $.n && $.n <= 9`), found {}",
                self.found()
            )
        } else if rest.starts_with('&') {
            "expected `&&`, found `&`".to_string()
        } else if rest.starts_with('|') {
            "expected `||`, found `|`".to_string()
        } else if rest.starts_with(')') {
            "unexpected `)`: no `(` to close".to_string()
        } else if let Some(symbol) = word_operator(rest) {
            format!("expected `&&`, `||` or the end of the expression, found {}: write `{symbol}` instead", self.found())
        } else if self.after_operand {
            format!(
                "expected a comparison (==, !=, >=, <=, >, <), `&&`, `||` or the end of the expression, found {}",
                self.found()
            )
        } else {
            format!(
                "expected `&&`, `||` or the end of the expression, found {}",
                self.found()
            )
        };
        self.error_here(message)
    }

    fn parse_operand(&mut self, after: Option<CmpOp>) -> Parsed<Operand> {
        self.skip_ws();
        let context = match after {
            Some(op) => format!(" after `{}`", op.symbol()),
            None => String::new(),
        };
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.error_here(format!(
                "expected a value{context} ({VALUE_KINDS}), found the end of the expression"
            )));
        };
        match c {
            '$' => Ok(Operand::Path(self.parse_path()?)),
            '(' => {
                self.enter()?;
                self.pos += 1;
                let inner = self.parse_or()?;
                self.skip_ws();
                if !self.eat(")") {
                    return Err(self.error_here(format!(
                        "expected `)` to close the `(`, found {}",
                        self.found()
                    )));
                }
                self.depth -= 1;
                Ok(Operand::Group(Box::new(inner)))
            }
            '"' | '\'' => Ok(Operand::Literal(Value::String(self.parse_string()?))),
            '-' | '0'..='9' => Ok(Operand::Literal(Value::Number(self.parse_number()?))),
            c if c.is_alphabetic() || c == '_' => {
                let word = self.take_while(|c| c.is_alphanumeric() || c == '_');
                match word {
                    "true" => Ok(Operand::Literal(Value::Bool(true))),
                    "false" => Ok(Operand::Literal(Value::Bool(false))),
                    "null" => Ok(Operand::Literal(Value::Null)),
                    "len" => self.parse_len(start),
                    "and" | "or" | "not" => {
                        let symbol = word_operator(word).unwrap_or("!");
                        Err(self.error_at(
                            start,
                            format!("expected a value{context}, found `{word}`: write `{symbol}` instead"),
                        ))
                    }
                    _ => Err(self.error_at(
                        start,
                        format!(
                            "expected a value{context} ({VALUE_KINDS}), found `{word}`: paths start with `$`, e.g. `$.{word}`"
                        ),
                    )),
                }
            }
            _ => Err(self.error_here(format!(
                "expected a value{context} ({VALUE_KINDS}), found {}",
                self.found()
            ))),
        }
    }

    /// `len` was read from `start`; parses `( path )`.
    fn parse_len(&mut self, start: usize) -> Parsed<Operand> {
        self.skip_ws();
        if !self.eat("(") {
            return Err(self.error_here(format!(
                "expected `(` after `len`, e.g. len($.items), found {}",
                self.found()
            )));
        }
        self.skip_ws();
        if self.peek() != Some('$') {
            return Err(self.error_here(format!(
                "expected a path inside len(...), e.g. len($.items), found {}",
                self.found()
            )));
        }
        let path = self.parse_path()?;
        self.skip_ws();
        if !self.eat(")") {
            return Err(self.error_here(format!(
                "expected `)` after the path in len(...), found {}",
                self.found()
            )));
        }
        Ok(Operand::Len {
            path,
            text: self.text[start..self.pos].to_string(),
        })
    }

    /// Parses a path; the next character is `$`.
    fn parse_path(&mut self) -> Parsed<Path> {
        let start = self.pos;
        self.pos += 1;
        let mut steps = Vec::new();
        loop {
            if self.eat(".") {
                let name = self.take_while(|c| c.is_alphanumeric() || c == '_' || c == '-');
                if name.is_empty() {
                    return Err(self.error_here(format!(
                        "expected a field name after `.` (letters, digits, `_`, `-`), found {}; other keys are written [\"a key\"]",
                        self.found()
                    )));
                }
                steps.push(Step::Key(name.to_string()));
            } else if self.eat("[") {
                self.skip_ws();
                let step = match self.peek() {
                    Some('"' | '\'') => Step::Key(self.parse_string()?),
                    Some('0'..='9') => {
                        let at = self.pos;
                        let digits = self.take_while(|c| c.is_ascii_digit());
                        let index = digits.parse::<usize>().map_err(|_| {
                            self.error_at(at, format!("index {digits} is too large"))
                        })?;
                        Step::Index(index)
                    }
                    Some('-') => {
                        return Err(self.error_here(
                            "negative indexes are not supported: expected an index from 0"
                                .to_string(),
                        ))
                    }
                    _ => {
                        return Err(self.error_here(format!(
                            "expected an index such as [0] or a quoted key such as [\"name\"] after `[`, found {}",
                            self.found()
                        )))
                    }
                };
                self.skip_ws();
                if !self.eat("]") {
                    return Err(self.error_here(format!("expected `]`, found {}", self.found())));
                }
                steps.push(step);
            } else {
                break;
            }
        }
        Ok(Path {
            text: self.text[start..self.pos].to_string(),
            steps,
        })
    }

    /// Parses a quoted string; the next character is `"` or `'`.
    fn parse_string(&mut self) -> Parsed<String> {
        let open = self.pos;
        let Some(quote) = self.peek() else {
            return Err(self.error_here("expected a string".to_string()));
        };
        self.pos += quote.len_utf8();
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error_at(
                    open,
                    format!("the string is not closed: expected a closing {quote}"),
                ));
            };
            let at = self.pos;
            self.pos += c.len_utf8();
            if c == quote {
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let escaped = self.peek();
            self.pos += escaped.map_or(0, char::len_utf8);
            match escaped {
                Some(e @ ('\\' | '"' | '\'')) => out.push(e),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => {
                    return Err(self.error_at(
                        at,
                        format!("unknown escape `\\{other}`: expected \\\\, \\\", \\', \\n or \\t"),
                    ))
                }
                None => {
                    return Err(self.error_at(
                        open,
                        format!("the string is not closed: expected a closing {quote}"),
                    ))
                }
            }
        }
    }

    /// Parses a number; the next character is `-` or a digit.
    fn parse_number(&mut self) -> Parsed<Number> {
        let start = self.pos;
        self.eat("-");
        let int = self.take_while(|c| c.is_ascii_digit());
        if int.is_empty() {
            return Err(
                self.error_here(format!("expected digits after `-`, found {}", self.found()))
            );
        }
        let mut integer = true;
        if self.eat(".") {
            integer = false;
            if self.take_while(|c| c.is_ascii_digit()).is_empty() {
                return Err(self.error_here(format!(
                    "expected digits after the decimal point, found {}",
                    self.found()
                )));
            }
        }
        if self.eat("e") || self.eat("E") {
            integer = false;
            let _ = self.eat("+") || self.eat("-");
            if self.take_while(|c| c.is_ascii_digit()).is_empty() {
                return Err(self.error_here(format!(
                    "expected the exponent's digits, found {}",
                    self.found()
                )));
            }
        }
        let text = &self.text[start..self.pos];
        if self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
        {
            let tail = self.take_while(|c| c.is_alphanumeric() || c == '_' || c == '.');
            return Err(self.error_at(
                start,
                format!("`{text}{tail}` is not a number: expected e.g. 0, -1, 2.5 or 1e3"),
            ));
        }
        let number = if integer {
            text.parse::<i64>()
                .map(Number::from)
                .ok()
                .or_else(|| text.parse::<u64>().map(Number::from).ok())
        } else {
            None
        };
        match number.or_else(|| text.parse::<f64>().ok().and_then(Number::from_f64)) {
            Some(n) => Ok(n),
            None => Err(self.error_at(start, format!("the number {text} is out of range"))),
        }
    }
}

/// The operator for `and`, `or` or `not` at the start of `text` (as a word).
fn word_operator(text: &str) -> Option<&'static str> {
    let word_len = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    match &text[..word_len] {
        "and" => Some("&&"),
        "or" => Some("||"),
        "not" => Some("!"),
        _ => None,
    }
}

/// What an evaluation read, in order, without repeats.
#[derive(Default)]
struct Facts {
    list: Vec<String>,
}

impl Facts {
    fn add(&mut self, fact: String) {
        if !self.list.contains(&fact) {
            self.list.push(fact);
        }
    }
}

/// Evaluates every part (no short cut), so that `observed` names every value.
fn eval(expr: &Expr, doc: &Value, facts: &mut Facts) -> bool {
    match expr {
        Expr::Or(items) => {
            let mut any = false;
            for item in items {
                any |= eval(item, doc, facts);
            }
            any
        }
        Expr::And(items) => {
            let mut all = true;
            for item in items {
                all &= eval(item, doc, facts);
            }
            all
        }
        Expr::Not(inner) => !eval(inner, doc, facts),
        Expr::Truthy(operand) => matches!(
            operand_value(operand, doc, facts),
            Some(v) if !matches!(v.as_ref(), Value::Null | Value::Bool(false))
        ),
        Expr::Compare { left, op, right } => {
            let l = operand_value(left, doc, facts);
            let r = operand_value(right, doc, facts);
            let (Some(l), Some(r)) = (l, r) else {
                return false;
            };
            let ordering = match op {
                CmpOp::Eq => return json_equal(&l, &r),
                CmpOp::Ne => return !json_equal(&l, &r),
                _ => match (l.as_ref(), r.as_ref()) {
                    (Value::Number(a), Value::Number(b)) => compare_numbers(a, b),
                    (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
                    (a, b) => {
                        facts.add(format!(
                            "{} {} {}: cannot order {} and {}",
                            operand_text(left),
                            op.symbol(),
                            operand_text(right),
                            kind_of(a),
                            kind_of(b)
                        ));
                        None
                    }
                },
            };
            match (ordering, op) {
                (Some(o), CmpOp::Ge) => o != Ordering::Less,
                (Some(o), CmpOp::Le) => o != Ordering::Greater,
                (Some(o), CmpOp::Gt) => o == Ordering::Greater,
                (Some(o), CmpOp::Lt) => o == Ordering::Less,
                _ => false,
            }
        }
    }
}

/// The operand's value, or `None` when it is missing or cannot be measured
/// (the reason is added to `facts`).
fn operand_value<'v>(
    operand: &'v Operand,
    doc: &'v Value,
    facts: &mut Facts,
) -> Option<Cow<'v, Value>> {
    match operand {
        Operand::Literal(value) => Some(Cow::Borrowed(value)),
        Operand::Group(inner) => Some(Cow::Owned(Value::Bool(eval(inner, doc, facts)))),
        Operand::Path(path) => match resolve(path, doc) {
            Some(value) => {
                facts.add(format!("{} = {}", path.text, quote_value(value)));
                Some(Cow::Borrowed(value))
            }
            None => {
                facts.add(format!("{} is missing", path.text));
                None
            }
        },
        Operand::Len { path, text } => {
            let Some(value) = resolve(path, doc) else {
                facts.add(format!("{} is missing", path.text));
                return None;
            };
            let len = match value {
                Value::Array(items) => items.len(),
                Value::Object(map) => map.len(),
                Value::String(s) => s.chars().count(),
                other => {
                    facts.add(format!(
                        "{text}: {} is {} ({}), not an array, a string or an object",
                        path.text,
                        kind_of(other),
                        quote_value(other)
                    ));
                    return None;
                }
            };
            facts.add(format!("{text} = {len}"));
            Some(Cow::Owned(Value::from(len)))
        }
    }
}

fn operand_text(operand: &Operand) -> String {
    match operand {
        Operand::Path(path) => path.text.clone(),
        Operand::Len { text, .. } => text.clone(),
        Operand::Literal(value) => value.to_string(),
        Operand::Group(_) => "(...)".to_string(),
    }
}

fn resolve<'v>(path: &Path, doc: &'v Value) -> Option<&'v Value> {
    path.steps.iter().try_fold(doc, |value, step| match step {
        Step::Key(key) => value.as_object()?.get(key),
        Step::Index(index) => value.as_array()?.get(*index),
    })
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The value as JSON, cut short past [`OBSERVED_VALUE_CHARS`] characters.
fn quote_value(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= OBSERVED_VALUE_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(OBSERVED_VALUE_CHARS).collect();
    cut.push('…');
    cut
}

/// JSON equality, with numbers compared by value (`1 == 1.0`).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y) == Some(Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, a)| y.get(k).is_some_and(|b| json_equal(a, b)))
        }
        _ => a == b,
    }
}

/// Numbers by value: integers exactly, otherwise as floats.
fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    fn integer(n: &Number) -> Option<i128> {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    }
    match (integer(a), integer(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => {
            let x = a.as_f64()?;
            let y = b.as_f64()?;
            x.partial_cmp(&y)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(text: &str) -> ExpectationError {
        match Expectation::parse(text) {
            Ok(e) => panic!("expected an error for {text:?}, got {e:?}"),
            Err(e) => e,
        }
    }

    fn check(text: &str, doc: &Value) -> Evaluation {
        match Expectation::parse(text) {
            Ok(e) => e.evaluate(doc),
            Err(e) => panic!("{text:?} does not parse: {} at {}", e.message, e.offset),
        }
    }

    #[test]
    fn parse_errors_point_at_the_offending_character() {
        let e = err("$.balance >=");
        assert_eq!(e.offset, 12);
        assert!(e.message.starts_with("expected a value after `>=`"), "{e}");
        assert!(
            e.message.ends_with("found the end of the expression"),
            "{e}"
        );

        let e = err("$.balance >> 0");
        assert_eq!(e.offset, 11);
        assert!(
            e.message.starts_with("expected a value after `>`") && e.message.contains("found `>`"),
            "{e}"
        );

        let e = err("balance >= 0");
        assert_eq!(e.offset, 0);
        assert!(
            e.message.contains("paths start with `$`, e.g. `$.balance`"),
            "{e}"
        );

        let e = err("($.a > 1");
        assert_eq!(e.offset, 8);
        assert_eq!(
            e.message,
            "expected `)` to close the `(`, found the end of the expression"
        );

        let e = err("$.name == 'bob");
        assert_eq!(e.offset, 10);
        assert_eq!(e.message, "the string is not closed: expected a closing '");
        let e = err(r#"$.name == "bo\"b"#);
        assert_eq!(e.offset, 10);

        let e = err("$.a = 1");
        assert_eq!((e.offset, e.message.starts_with("`=` is not")), (4, true));
        let e = err("1 < $.a < 3");
        assert_eq!(e.offset, 8);
        assert!(e.message.starts_with("comparisons do not chain"), "{e}");
        let e = err("$.a & $.b");
        assert_eq!(
            (e.offset, e.message.as_str()),
            (4, "expected `&&`, found `&`")
        );
        let e = err("$.a 1");
        assert_eq!(e.offset, 4);
        assert!(e.message.starts_with("expected a comparison"), "{e}");
        let e = err("$. > 1");
        assert_eq!(e.offset, 2);
        let e = err("$.a[x]");
        assert_eq!(e.offset, 4);
        let e = err("$.a[0 > 1");
        assert_eq!(e.offset, 6);
        let e = err("len $.a");
        assert_eq!(e.offset, 4);
        let e = err("len($.a > 1");
        assert_eq!(e.offset, 8);
        let e = err("$.a > 10s");
        assert_eq!(
            (e.offset, e.message.as_str()),
            (6, "`10s` is not a number: expected e.g. 0, -1, 2.5 or 1e3")
        );
        let e = err("$.a > 1 and $.b");
        assert_eq!(e.offset, 8);
        assert!(
            e.message.ends_with("found `and`: write `&&` instead"),
            "{e}"
        );
        let e = err("not $.a");
        assert_eq!(
            (e.offset, e.message.as_str()),
            (0, "expected a value, found `not`: write `!` instead")
        );
        let e = err("$.a == 'x\\q'");
        assert_eq!(e.offset, 9);
        let e = err("  ");
        assert_eq!(e.offset, 2);
        let e = err("$.a)");
        assert_eq!(
            (e.offset, e.message.as_str()),
            (3, "unexpected `)`: no `(` to close")
        );
    }

    #[test]
    fn offsets_count_characters_not_bytes() {
        let e = err("$[\"é\"] >= ");
        assert_eq!(e.offset, 10);
        let e = err("'ééé' == x");
        assert_eq!(e.offset, 9);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}$.a{}", "(".repeat(100_000), ")".repeat(100_000));
        let e = err(&deep);
        assert_eq!(e.offset, MAX_NESTING);
        assert!(e.message.contains("nested too deeply"), "{e}");
        let nots = format!("{}$.a", "!".repeat(100_000));
        assert!(Expectation::parse(&nots).is_err());
        let ok = format!("{}$.a{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert!(Expectation::parse(&ok).is_ok());
    }

    #[test]
    fn garbage_never_panics() {
        let pieces = [
            "$",
            ".",
            "[",
            "]",
            "(",
            ")",
            "'",
            "\"",
            "\\",
            "!",
            "=",
            "<",
            ">",
            "&",
            "|",
            "-",
            "1",
            "e",
            "len",
            " ",
            "é",
            "\u{0}",
            "9999999999999999999999",
            "1e999",
            "true",
        ];
        let mut seed: u64 = 7;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(seed % 12) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            match Expectation::parse(&text) {
                Ok(e) => {
                    let _ = e.evaluate(&json!({"a": [1, "x", null], "b": {"c": true}}));
                }
                Err(e) => assert!(e.offset <= text.chars().count(), "{text:?}: {e:?}"),
            }
        }
    }

    #[test]
    fn evaluates_comparisons() {
        let doc = json!({
            "balance": -1100,
            "limit": 2.5,
            "owner": "ann",
            "items": [{"id": 1}, {"id": 2}],
            "tags": {},
            "closed": false,
            "note": null,
            "created-by": "x",
            "a key": 7,
            "big": 18446744073709551615u64
        });
        let eval = check("$.balance >= 0", &doc);
        assert_eq!(
            eval,
            Evaluation {
                holds: false,
                observed: "$.balance = -1100".into()
            }
        );
        assert!(check("$.balance < 0", &doc).holds);
        assert!(check("$.balance <= -1100 && $.balance >= -1100", &doc).holds);
        assert!(check("$.limit > 2 && $.limit < 3", &doc).holds);
        assert!(check("$.limit == 2.5 && -1100 == $.balance", &doc).holds);
        assert!(check("$.owner == 'ann' && $.owner != \"bob\"", &doc).holds);
        assert!(check("$.owner > 'alice' && $.owner < 'b'", &doc).holds);
        assert!(check("$.items[1].id == 2.0", &doc).holds);
        assert!(check("$[\"a key\"] == 7 && $['created-by'] == 'x'", &doc).holds);
        assert!(check("$.created-by == 'x'", &doc).holds);
        assert!(
            check(
                "len($.items) == 2 && len($.owner) == 3 && len($.tags) == 0",
                &doc
            )
            .holds
        );
        assert!(check("$.note == null && $.closed == false", &doc).holds);
        assert!(check("$.items == $.items && $.items[0] == $.items[0]", &doc).holds);
        assert!(check("$.big > 1e18 && $.big > 9223372036854775807", &doc).holds);
        assert!(check("$ != null", &doc).holds);
    }

    #[test]
    fn missing_and_mismatched_sides_are_false_and_said() {
        let doc = json!({"balance": "12", "items": 3});
        let e = check("$.nope >= 0", &doc);
        assert_eq!((e.holds, e.observed.as_str()), (false, "$.nope is missing"));
        assert!(!check("$.nope != 0", &doc).holds);
        assert!(!check("!($.nope == 0) && $.nope == 0", &doc).holds);
        let e = check("$.balance >= 0", &doc);
        assert!(!e.holds);
        assert_eq!(
            e.observed,
            "$.balance = \"12\"; $.balance >= 0: cannot order a string and a number"
        );
        let e = check("len($.items) > 0", &doc);
        assert!(!e.holds);
        assert_eq!(
            e.observed,
            "len($.items): $.items is a number (3), not an array, a string or an object"
        );
        assert!(!check("$.balance[0] == '1'", &doc).holds);
        assert!(!check("$.items.x == 1", &json!({"items": [1]})).holds);
        assert!(!check("$.a > 1", &json!([1])).holds);
    }

    #[test]
    fn logic_and_truthiness() {
        let doc = json!({"t": true, "f": false, "n": null, "z": 0, "s": ""});
        assert!(check("$.t", &doc).holds);
        assert!(!check("$.f", &doc).holds);
        assert!(!check("$.n", &doc).holds);
        assert!(!check("$.missing", &doc).holds);
        assert!(check("$.z && $.s", &doc).holds);
        assert!(check("!$.f && !$.n && !$.missing", &doc).holds);
        assert!(check("$.f || $.t", &doc).holds);
        assert!(check("$.f || $.n || ($.t && !$.f)", &doc).holds);
        assert!(check("($.z == 0) == true", &doc).holds);
        assert!(!check("!!$.f", &doc).holds);
        assert!(check("true && !false && 1 && !null", &doc).holds);
        // `||` binds looser than `&&`.
        assert!(check("$.t || $.f && $.f", &doc).holds);
        let e = check("$.f || $.t || $.t", &doc);
        assert_eq!(e.observed, "$.f = false; $.t = true");
        assert_eq!(check("1 == 1", &doc).observed, "no value read");
    }

    #[test]
    fn long_values_are_cut_short_in_observed() {
        let doc = json!({"s": "x".repeat(500)});
        let e = check("$.s == 'y'", &doc);
        assert!(e.observed.chars().count() < 100, "{}", e.observed);
        assert!(e.observed.ends_with('…'));
    }
}
