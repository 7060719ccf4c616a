//! The leak detectors: one regular expression each, with its category and label.
//!
//! To add one: append a [`Pattern`] to [`PATTERNS`], then a test in `tests/leaks.rs`
//! that it fires on a real example and one that a harmless look-alike does not.
//! Patterns are matched by the `regex` crate, in time linear in the body.

use super::LeakCategory;

/// One detector, as written.
pub(super) struct Pattern {
    /// What leaked, as a summary names it (`Python stack trace`).
    pub label: &'static str,
    /// Its category: findings are deduplicated per category and operation.
    pub category: LeakCategory,
    /// The regular expression.
    pub regex: &'static str,
}

const fn p(category: LeakCategory, label: &'static str, regex: &'static str) -> Pattern {
    Pattern {
        label,
        category,
        regex,
    }
}

use LeakCategory::{DebugPage, FilePath, Secret, SqlError, StackTrace};

/// Source-file extensions that mark a path as the server's own code or config.
macro_rules! source_ext {
    () => {
        r"(?:py|pyc|rb|erb|php|phtml|js|mjs|cjs|ts|java|class|jar|jsp|kt|scala|groovy|go|rs|cs|cshtml|aspx|vb|ex|exs|erl|pl|pm|clj|c|cc|cpp|h|hpp|swift|lua|sh|sql|yml|yaml|toml|ini|conf|cfg|env|config|properties)"
    };
}

/// Every detector, in the order their labels are preferred within a category.
pub(super) const PATTERNS: &[Pattern] = &[
    // Framework debug pages (before stack traces: a debug page contains one).
    p(
        DebugPage,
        "Django debug page",
        r"DEBUG = True|Django Version:",
    ),
    p(
        DebugPage,
        "Werkzeug debugger page",
        r"Werkzeug Debugger|The debugger caught an exception in your WSGI application",
    ),
    p(
        DebugPage,
        "Rails exception details",
        r"\bAction(?:Controller|View|Dispatch)::[A-Z]\w+|\bActiveRecord::[A-Z]\w+",
    ),
    p(
        DebugPage,
        "ASP.NET error page",
        r"Server Error in '[^']*' Application",
    ),
    p(
        DebugPage,
        "Laravel error page",
        r"Illuminate\\(?:\\)?[A-Z]\w+\\(?:\\)?",
    ),
    // Stack traces.
    p(
        StackTrace,
        "Python stack trace",
        r#"Traceback \(most recent call last\)|(?m:^[ \t]*File "[^"\n]+", line \d+, in )"#,
    ),
    p(
        StackTrace,
        "Java stack trace",
        r"Exception in thread |\bat (?:[A-Za-z_$][\w$]*\.)+[\w$<>]+\((?:[\w$]+\.(?:java|kt|scala|groovy):\d+|Native Method|Unknown Source)\)",
    ),
    p(
        StackTrace,
        "Go panic",
        r"goroutine \d+ \[[a-z ]+\]:|(?m:^panic: )|\.go:\d+ \+0x[0-9a-f]+",
    ),
    p(
        StackTrace,
        "Node.js stack trace",
        r"\bat (?:[\w$.<>\[\] ]+ )?\((?:/|[A-Za-z]:\\|file:///|node:)[^()\s]*:\d+:\d+\)|\bat (?:/|file:///)[^\s()]+\.(?:js|mjs|cjs|ts):\d+:\d+",
    ),
    p(
        StackTrace,
        "Rust panic",
        r"panicked at [^\s:'`]+\.rs:\d+:\d+|thread '[^'\n]*' panicked at",
    ),
    p(
        StackTrace,
        ".NET stack trace",
        r"\bat [\w.`<>\[\]]+\([^()\n]*\) in [^\n]+\.cs:line \d+|\bSystem\.(?:[A-Z]\w*\.)*[A-Z]\w*Exception\b",
    ),
    p(
        StackTrace,
        "Ruby stack trace",
        r"[\w./-]+\.rb:\d+:in [`'][^`'\n]*'",
    ),
    p(
        StackTrace,
        "PHP error",
        r"(?:Fatal error|Parse error|Uncaught \w+)(?:</b>)?:.{0,400}? in (?:<b>)?[^\s<>]+\.php(?:</b>)?(?: on line (?:<b>)?\d+|:\d+)",
    ),
    p(
        StackTrace,
        "PHP stack trace",
        r"Stack trace:\s*(?:<br\s*/?>)?\s*#0 ",
    ),
    // SQL errors.
    p(
        SqlError,
        "PostgreSQL error",
        r#"unterminated quoted string at or near|ERROR:\s+(?:syntax error at or near|relation "[^"\n]+" does not exist|column "[^"\n]+" does not exist|invalid input syntax for)|\bPG::\w+Error\b|\bpsycopg2?\.(?:errors\.)?\w+Error\b|org\.postgresql\.util\.PSQLException"#,
    ),
    p(
        SqlError,
        "MySQL error",
        r"You have an error in your SQL syntax|\bcom\.mysql\.jdbc\.|\bMySQLSyntaxErrorException\b|Warning: mysqli?_",
    ),
    p(
        SqlError,
        "SQLite error",
        r#"\bSQLITE_ERROR\b|\bsqlite3\.OperationalError\b|near "[^"\n]{1,40}": syntax error"#,
    ),
    p(SqlError, "Oracle error", r"\bORA-\d{5}:"),
    p(
        SqlError,
        "SQL error",
        r"\bSQLSTATE\[|Unclosed quotation mark after the character string",
    ),
    // Secrets.
    p(Secret, "AWS access key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    p(
        Secret,
        "private key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----",
    ),
    p(
        Secret,
        "Stripe secret key",
        r"\b(?:sk|rk)_live_[0-9A-Za-z]{20,}\b",
    ),
    p(Secret, "GitHub token", r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    // Internal file paths (checked last: traces and debug pages hold paths too).
    p(
        FilePath,
        "internal file path",
        concat!(
            r"(?:/home/[\w.-]+|/root|/Users/[\w.-]+|/srv|/app|/var/www|/usr/src|/usr/local/lib|/opt|/workspace)/[\w./@+-]*\.",
            source_ext!(),
            r"\b"
        ),
    ),
    p(
        FilePath,
        "internal file path",
        r"\b[A-Za-z]:\\{1,2}(?:[\w .$()-]+\\{1,2})+[\w.$()-]+",
    ),
];
