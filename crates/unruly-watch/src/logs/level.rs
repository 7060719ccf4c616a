//! Single log lines at level ERROR or worse: `level=error`, `"level":"error"` JSON (and
//! pino's `"level":50`), `ERROR`, `[error]`, glog's `E1126 …`, Python's `ERROR:root:`,
//! Ruby's `E, […] ERROR -- :`, ASP.NET's `fail:`. Not WARN or INFO lines, not access logs,
//! not lines that merely mention the word (`GET /error 200`, `error_count=0`).

use super::normalize::pattern;
use super::Language;
use regex::Regex;
use std::sync::LazyLock;

/// How bad a log line's level is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// ERROR, err, fail, SEVERE.
    Error,
    /// FATAL, CRITICAL, PANIC, ALERT, EMERG.
    Fatal,
}

/// A line at level ERROR or worse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LevelLine {
    /// How bad.
    pub level: Level,
    /// The message, without timestamp and level.
    pub message: String,
    /// The language the format gives away, or [`Language::Generic`].
    pub language: Language,
}

static ACCESS_LOG: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r#""(?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|CONNECT|TRACE) \S* HTTP/[\d.]+" \d{3}\b"#)
});
static LOGFMT_LEVEL: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r#"(?:^|\s)(?:level|lvl|severity|loglevel|log\.level)=("?)([A-Za-z]+)"?(?:\s|$)"#)
});
static LOGFMT_MSG: LazyLock<Regex> =
    LazyLock::new(|| pattern(r#"(?:^|\s)(?:msg|message)=("(?:[^"\\]|\\.)*"|\S+)"#));
static GLOG: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^([IWEF])\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ [^\]]*\] ?(.*)$"));
static PYTHON_DEFAULT: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^(ERROR|CRITICAL|WARNING|INFO|DEBUG):[\w.<>-]*:(.*)$"));
static RUBY_LOGGER: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^[DIWEFA], \[[^\]]*\]\s+([A-Z]+) -- [^:]*: ?(.*)$"));
static DOTNET_CONSOLE: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^(fail|crit|warn|info|dbug|trce): (.*)$"));

/// Classifies one line (colour codes already stripped).
pub(crate) fn level_line(line: &str) -> Option<LevelLine> {
    let trimmed = line.trim();
    if trimmed.is_empty() || ACCESS_LOG.is_match(trimmed) {
        return None;
    }
    if trimmed.starts_with('{') {
        if let Some(found) = json_line(trimmed) {
            return found;
        }
    }
    if let Some(c) = GLOG.captures(trimmed) {
        let level = match &c[1] {
            "E" => Level::Error,
            "F" => Level::Fatal,
            _ => return None,
        };
        return Some(LevelLine {
            level,
            message: c[2].to_owned(),
            language: Language::Go,
        });
    }
    if let Some(c) = PYTHON_DEFAULT.captures(trimmed) {
        return word_level(&c[1]).map(|level| LevelLine {
            level,
            message: c[2].trim().to_owned(),
            language: Language::Python,
        });
    }
    if let Some(c) = RUBY_LOGGER.captures(trimmed) {
        return word_level(&c[1]).map(|level| LevelLine {
            level,
            message: c[2].trim().to_owned(),
            language: Language::Ruby,
        });
    }
    if let Some(c) = DOTNET_CONSOLE.captures(line) {
        let level = match &c[1] {
            "fail" => Level::Error,
            "crit" => Level::Fatal,
            _ => return None,
        };
        return Some(LevelLine {
            level,
            message: c[2].trim().to_owned(),
            language: Language::Dotnet,
        });
    }
    if let Some(c) = LOGFMT_LEVEL.captures(trimmed) {
        let level = word_level(&c[2])?;
        let message = LOGFMT_MSG
            .captures(trimmed)
            .map(|m| m[1].trim_matches('"').to_owned())
            .unwrap_or_else(|| trimmed.to_owned());
        return Some(LevelLine {
            level,
            message,
            language: Language::Generic,
        });
    }
    token_level(trimmed)
}

/// A JSON log line: `Some(None)` when it is one but not at an error level, `None` when it
/// is not JSON with a level.
fn json_line(line: &str) -> Option<Option<LevelLine>> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let object = value.as_object()?;
    let raw = [
        "level",
        "lvl",
        "severity",
        "levelname",
        "loglevel",
        "log.level",
        "@l",
    ]
    .iter()
    .find_map(|k| object.get(*k))?;
    let level = match raw {
        serde_json::Value::String(s) => word_level(s),
        // pino and bunyan: 50 is error, 60 fatal.
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(n) if n >= 60 => Some(Level::Fatal),
            Some(n) if n >= 50 => Some(Level::Error),
            _ => None,
        },
        _ => None,
    };
    let Some(level) = level else {
        return Some(None);
    };
    let text = |k: &str| object.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let message = ["msg", "message", "@m", "@mt", "error", "err", "event"]
        .iter()
        .find_map(|k| text(k))
        .unwrap_or_else(|| line.to_owned());
    let language = if matches!(raw, serde_json::Value::Number(_)) {
        Language::Node
    } else {
        Language::Generic
    };
    Some(Some(LevelLine {
        level,
        message,
        language,
    }))
}

/// A level word of any case (`error`, `Fatal`, `CRIT`); `None` for INFO, WARN and the like.
fn word_level(word: &str) -> Option<Level> {
    match word.to_ascii_lowercase().as_str() {
        "error" | "err" | "eror" | "severe" | "fail" | "failure" => Some(Level::Error),
        "fatal" | "critical" | "crit" | "panic" | "dpanic" | "alert" | "emerg" | "emergency" => {
            Some(Level::Fatal)
        }
        _ => None,
    }
}

/// Any level word, error or not (to know when a line's level is INFO or WARN).
fn is_level_word(word: &str) -> bool {
    word_level(word).is_some()
        || matches!(
            word.to_ascii_lowercase().as_str(),
            "info" | "warn" | "warning" | "debug" | "trace" | "notice" | "fine" | "verbose"
        )
}

/// The level in the line's first few words: `ERROR`, `[error]`, `<Error>`, `[core:error]`,
/// or a leading `error:`. Lower-case words count only when bracketed or leading with a
/// colon, so a message that mentions an error is not one. The first level word decides.
fn token_level(line: &str) -> Option<LevelLine> {
    let head = super::normalize::cap(line, 160);
    let mut offset = 0;
    for (index, token) in head.split_whitespace().take(8).enumerate() {
        let start = head[offset..].find(token).map_or(offset, |i| offset + i);
        offset = start + token.len();
        let bracketed = (token.starts_with('[') && token.ends_with(']'))
            || (token.starts_with('<') && token.ends_with('>'));
        let inner = token.trim_matches(|c: char| "[]<>()|:,-".contains(c));
        // Apache's `[core:error]`, `[proxy_fcgi:error]`.
        let inner = if bracketed {
            inner.rsplit(':').next().unwrap_or(inner)
        } else {
            inner
        };
        if inner.is_empty() || !is_level_word(inner) {
            continue;
        }
        let upper = inner.bytes().all(|b| b.is_ascii_uppercase());
        let leading_colon = index == 0 && token.ends_with(':');
        if !(upper || bracketed || leading_colon) {
            continue;
        }
        let level = word_level(inner)?;
        let message = line[offset..]
            .trim_start_matches(|c: char| c.is_whitespace() || "]:-|>".contains(c))
            .to_owned();
        return Some(LevelLine {
            level,
            message,
            language: Language::Generic,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_levels_are_found_in_every_common_format() {
        let cases = [
            (
                "2024-05-01T12:00:00Z ERROR app::db: pool timed out",
                Level::Error,
                "app::db: pool timed out",
            ),
            (
                "[2024-05-01T12:00:00Z ERROR shop] payment failed",
                Level::Error,
                "shop] payment failed",
            ),
            (
                "time=2024-05-01 level=error msg=\"db down\" attempt=3",
                Level::Error,
                "db down",
            ),
            ("level=fatal msg=exiting", Level::Fatal, "exiting"),
            (
                r#"{"level":"error","msg":"order 12 failed","ts":1}"#,
                Level::Error,
                "order 12 failed",
            ),
            (
                r#"{"level":50,"time":1,"pid":7,"msg":"boom"}"#,
                Level::Error,
                "boom",
            ),
            (
                r#"{"severity":"CRITICAL","message":"disk full"}"#,
                Level::Fatal,
                "disk full",
            ),
            (
                "2024/05/01 12:00:00 [error] 31#31: *1 upstream timed out",
                Level::Error,
                "31#31: *1 upstream timed out",
            ),
            (
                "[Wed May 01 12:00:00 2024] [core:error] [pid 7] AH00037: x",
                Level::Error,
                "[pid 7] AH00037: x",
            ),
            (
                "E0501 12:00:00.123456    1234 server.go:42] lookup failed",
                Level::Error,
                "lookup failed",
            ),
            (
                "F0501 12:00:00.123456    1234 main.go:9] cannot start",
                Level::Fatal,
                "cannot start",
            ),
            (
                "ERROR:root:could not charge card",
                Level::Error,
                "could not charge card",
            ),
            (
                "CRITICAL:app.db:lost connection",
                Level::Fatal,
                "lost connection",
            ),
            (
                "E, [2024-05-01T12:00:00.1 #42] ERROR -- : stock missing",
                Level::Error,
                "stock missing",
            ),
            (
                "fail: Microsoft.AspNetCore.Server.Kestrel[13]",
                Level::Error,
                "Microsoft.AspNetCore.Server.Kestrel[13]",
            ),
            (
                "2024-05-01 12:00:00,123 - app - ERROR - checkout failed",
                Level::Error,
                "checkout failed",
            ),
            (
                "error: could not open config",
                Level::Error,
                "could not open config",
            ),
            (
                "FATAL: database system is shutting down",
                Level::Fatal,
                "database system is shutting down",
            ),
        ];
        for (line, level, message) in cases {
            let found = level_line(line).unwrap_or_else(|| panic!("not flagged: {line}"));
            assert_eq!(found.level, level, "{line}");
            assert_eq!(found.message, message, "{line}");
        }
    }

    #[test]
    fn noise_is_not_flagged() {
        let noise = [
            "2024-05-01T12:00:00Z INFO app: started on :8080",
            "2024-05-01T12:00:00Z WARN app: ERROR budget at 80%",
            r#"127.0.0.1 - - [01/May/2024:12:00:00 +0000] "GET /api/error HTTP/1.1" 200 512"#,
            r#"INFO:     127.0.0.1:5000 - "GET /errors HTTP/1.1" 200 OK"#,
            r#"10.0.0.1 - - [01/May/2024] "POST /orders HTTP/1.1" 500 12 "ERROR""#,
            "processed batch error_count=0 ok=12",
            "level=info msg=\"retrying after error\"",
            r#"{"level":"info","msg":"error rate 0%"}"#,
            r#"{"level":30,"msg":"listening"}"#,
            "I0501 12:00:00.123456    1234 server.go:42] error cache warmed",
            "W0501 12:00:00.123456    1234 server.go:42] slow",
            "WARNING:root:error budget low",
            "serving /static/error.css",
            "info: Microsoft.Hosting.Lifetime[0]",
            "the request completed without error",
            "",
        ];
        for line in noise {
            assert_eq!(level_line(line), None, "{line}");
        }
    }
}
