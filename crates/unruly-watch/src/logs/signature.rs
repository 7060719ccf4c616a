//! What a block is: its language, kind, exception type and the innermost frame of the
//! application's own code, and from them a signature that stays the same across
//! occurrences (no line numbers, addresses, ids or values from the message).

use super::level::Level;
use super::normalize::{cap, normalize, pattern, Quotes};
use super::scan::{Block, Start, EXCEPTION};
use super::{Language, LogErrorKind};
use regex::Regex;
use std::sync::LazyLock;

/// What a block is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Analysis {
    /// The language that wrote it.
    pub language: Language,
    /// Traceback, panic, exception or error line.
    pub kind: LogErrorKind,
    /// For people: `KeyError in get_product (app/views.py)`.
    pub title: String,
    /// Stable across occurrences: language, kind and title.
    pub signature: String,
}

/// A stack frame: the function and the file it is in (no line number).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Frame {
    function: String,
    file: String,
}

impl Frame {
    fn describe(&self) -> String {
        match (self.function.is_empty(), self.file.is_empty()) {
            (false, false) => format!("in {} ({})", self.function, self.file),
            (false, true) => format!("in {}", self.function),
            (true, false) => format!("at {}", self.file),
            (true, true) => String::new(),
        }
    }
}

static PY_FRAME: LazyLock<Regex> =
    LazyLock::new(|| pattern(r#"^\s*File "(?P<file>[^"]+)", line \d+, in (?P<func>.+)$"#));
static JAVA_FRAME: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"^\s*at (?P<func>[\w$.<>/-]+)\((?P<loc>[^)]*(?:\.(?:java|kt|scala|groovy|clj)(?::\d+)?|Native Method|Unknown Source))\)",
    )
});
static DOTNET_FRAME: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"^\s*at (?P<func>[^\s(]+)\([^)]*\)(?: in (?P<file>.+?)(?::line \d+)?)?\s*$")
});
static NODE_FRAME: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"^\s*at (?:async )?(?:(?P<func>.+?) \((?P<loc>[^()]+)\)|(?P<bare>\S+:\d+(?::\d+)?))$")
});
static RUBY_FRAME: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^\s*(?:from )?(?P<file>[^\s:]+):\d+:in [`'](?P<func>[^']*)'"));
static RUBY_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"^(?P<file>\S+):\d+:in [`'](?P<func>[^']*)': (?P<msg>.*) \((?P<type>[A-Z][\w:]*)\)$")
});
static RAILS_HEADER: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^(?P<type>\S+) \((?P<msg>.*)\):$"));
static LINE_COL: LazyLock<Regex> = LazyLock::new(|| pattern(r"(?::\d+)+$"));
static RUST_LOCATION: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"panicked at (?:'(?P<msg>.*)', )?(?P<file>[^\s']+?):\d+:\d+:?$"));
/// Quoted text in a Rust panic message (`` `…` `` or `'…'`).
static RUST_QUOTED: LazyLock<Regex> = LazyLock::new(|| pattern(r"`[^`]*`|'[^']*'"));
/// What a quoted type or method name is made of (`Result::unwrap()`, `Err`, `Vec<u8>`).
static RUST_PATH: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^[`'][A-Za-z0-9_:<>()&,\[\] ]*[`']$"));
static RUST_FRAME: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^\s*\d+: (?P<func>.+?)(?:::h[0-9a-f]{16})?$"));
static GO_MESSAGE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?:^panic: |^(?P<fatal>fatal error: )|http: panic serving \S+: )(?P<msg>.*?)(?: \[recovered\])?$",
    )
});

/// What `block` is.
pub(crate) fn analyze(block: &Block) -> Analysis {
    let body: Vec<&str> = block.lines[block.lead.min(block.lines.len())..]
        .iter()
        .map(String::as_str)
        .collect();
    let (language, kind, title) = match &block.start {
        Start::PythonTraceback => python(&body),
        Start::RustPanic => rust(&body),
        Start::GoPanic => go(&body),
        Start::Ruby => ruby(&body),
        Start::Rails => rails(&body),
        Start::Exception { hint, uncaught } => stack(&body, *hint, *uncaught),
        Start::DotnetLog(level) => dotnet_log(&body, *level),
        Start::Line(line) => (
            line.language,
            level_kind(line.level),
            message_title(&line.message),
        ),
    };
    let title = if title.is_empty() {
        "(no message)".to_owned()
    } else {
        title
    };
    let signature = format!("{} {}: {title}", language.as_str(), kind.as_str());
    Analysis {
        language,
        kind,
        title,
        signature,
    }
}

fn level_kind(level: Level) -> LogErrorKind {
    match level {
        Level::Error => LogErrorKind::Error,
        Level::Fatal => LogErrorKind::Fatal,
    }
}

fn message_title(message: &str) -> String {
    cap(&normalize(message, Quotes::Replace), 120).to_owned()
}

fn join(what: &str, frame: Option<&Frame>) -> String {
    match frame.map(Frame::describe) {
        Some(at) if !at.is_empty() => format!("{what} {at}"),
        _ => what.to_owned(),
    }
}

fn python(body: &[&str]) -> (Language, LogErrorKind, String) {
    // With chained tracebacks, the last one is the exception that escaped.
    let last_trace = body
        .iter()
        .rposition(|l| l.trim() == "Traceback (most recent call last):")
        .unwrap_or(0);
    let tail = &body[last_trace..];
    let frames: Vec<Frame> = tail
        .iter()
        .filter_map(|l| PY_FRAME.captures(l))
        .map(|c| Frame {
            function: c["func"].trim().to_owned(),
            file: c["file"].to_owned(),
        })
        .collect();
    let exception = tail
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.starts_with([' ', '\t']))
        .map_or("", |l| l.trim());
    let ty = exception.split(':').next().unwrap_or(exception).trim();
    let library = |f: &&Frame| {
        [
            "site-packages",
            "dist-packages",
            "/lib/python",
            "<frozen",
            "\\Lib\\",
        ]
        .iter()
        .any(|lib| f.file.contains(lib))
    };
    let app = frames.iter().rev().find(|f| !library(f)).or(frames.last());
    (Language::Python, LogErrorKind::Traceback, join(ty, app))
}

fn rust(body: &[&str]) -> (Language, LogErrorKind, String) {
    let header = body.first().copied().unwrap_or("");
    let (message, file) = match RUST_LOCATION.captures(header.trim_end()) {
        Some(c) => {
            let message = match c.name("msg") {
                Some(m) => m.as_str().to_owned(),
                None => body.get(1).map_or("", |l| l.trim()).to_owned(),
            };
            (message, c["file"].to_owned())
        }
        None => (String::new(), String::new()),
    };
    let library = [
        "std::",
        "core::",
        "alloc::",
        "rust_begin_unwind",
        "__rust",
        "<core::",
        "<alloc::",
        "<std::",
        "tokio::",
        "<tokio::",
        "hyper::",
        "<hyper::",
        "futures",
        "<futures",
        "tower::",
        "<tower::",
        "axum::",
        "<axum::",
        "__libc",
        "_start",
        "start_thread",
        "clone",
    ];
    let function = body
        .iter()
        .filter_map(|l| RUST_FRAME.captures(l))
        .map(|c| c["func"].trim().to_owned())
        .find(|f| !library.iter().any(|lib| f.starts_with(lib)));
    let what = format!(
        "'{}'",
        cap(&normalize(&rust_quotes(&message), Quotes::Keep), 100)
    );
    let frame = Frame {
        function: function.unwrap_or_default(),
        file,
    };
    (
        Language::Rust,
        LogErrorKind::Panic,
        join(&what, Some(&frame)),
    )
}

/// A panic message with quoted values (a user's text, a character) replaced by `<str>`,
/// and quoted type and method names kept: one panic site, one signature, whatever the
/// input that reached it.
fn rust_quotes(message: &str) -> String {
    RUST_QUOTED
        .replace_all(message, |c: &regex::Captures<'_>| {
            let quoted = &c[0];
            if RUST_PATH.is_match(quoted) {
                quoted.to_owned()
            } else {
                let quote = &quoted[..1];
                format!("{quote}<str>{quote}")
            }
        })
        .into_owned()
}

fn go(body: &[&str]) -> (Language, LogErrorKind, String) {
    let header = body.first().map_or("", |l| l.trim());
    let what = match GO_MESSAGE.captures(header) {
        Some(c) => {
            let msg = normalize(&c["msg"], Quotes::Keep);
            if c.name("fatal").is_some() {
                format!("fatal error: {msg}")
            } else {
                msg
            }
        }
        None => normalize(header, Quotes::Keep),
    };
    let library = [
        "runtime.",
        "net/http.",
        "sync.",
        "reflect.",
        "testing.",
        "internal/",
        "syscall.",
        "created by ",
    ];
    // The panicking goroutine is the first one; its innermost frame comes first.
    let mut frames = Vec::new();
    let mut in_goroutine = false;
    let mut lines = body.iter().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if t.starts_with("goroutine ") {
            if in_goroutine {
                break;
            }
            in_goroutine = true;
            continue;
        }
        if !in_goroutine || line.starts_with([' ', '\t']) || !t.ends_with(')') {
            continue;
        }
        let function = t.rfind('(').map_or(t, |i| &t[..i]).to_owned();
        let file = lines
            .peek()
            .filter(|next| next.starts_with([' ', '\t']))
            .map(|next| {
                let loc = next.trim();
                let loc = loc.split(" +0x").next().unwrap_or(loc);
                LINE_COL.replace(loc, "").into_owned()
            })
            .unwrap_or_default();
        frames.push(Frame { function, file });
    }
    let app = frames
        .iter()
        .find(|f| f.function != "panic" && !library.iter().any(|lib| f.function.starts_with(lib)))
        .or(frames.first());
    let what = format!("'{}'", cap(&what, 100));
    (Language::Go, LogErrorKind::Panic, join(&what, app))
}

fn ruby_library(file: &str) -> bool {
    file.starts_with("<internal:")
        || ["/gems/", "/lib/ruby/", "/rubygems/", "/bundler/"]
            .iter()
            .any(|lib| file.contains(lib))
}

fn ruby_frames(body: &[&str]) -> Vec<Frame> {
    body.iter()
        .filter_map(|l| RUBY_FRAME.captures(l))
        .map(|c| Frame {
            function: c["func"].to_owned(),
            file: c["file"].to_owned(),
        })
        .collect()
}

fn ruby(body: &[&str]) -> (Language, LogErrorKind, String) {
    let header = body.first().map_or("", |l| l.trim());
    let Some(c) = RUBY_HEADER.captures(header) else {
        return (
            Language::Ruby,
            LogErrorKind::Exception,
            message_title(header),
        );
    };
    let frames = ruby_frames(body);
    let app = frames
        .iter()
        .find(|f| !ruby_library(&f.file))
        .or(frames.first());
    (
        Language::Ruby,
        LogErrorKind::UncaughtException,
        join(&c["type"], app),
    )
}

fn rails(body: &[&str]) -> (Language, LogErrorKind, String) {
    let header = body.first().map_or("", |l| l.trim());
    let ty = RAILS_HEADER
        .captures(header)
        .map_or_else(|| header.to_owned(), |c| c["type"].to_owned());
    let frames = ruby_frames(&body[1.min(body.len())..]);
    if frames.is_empty() {
        return (Language::Ruby, LogErrorKind::Error, ty);
    }
    let app = frames
        .iter()
        .find(|f| !ruby_library(&f.file))
        .or(frames.first());
    (Language::Ruby, LogErrorKind::Exception, join(&ty, app))
}

/// One exception (the outer one, or a `Caused by:` / `--->` inner one) and its frames.
struct Segment {
    ty: String,
    message: String,
    frames: Vec<Frame>,
}

fn java_library(function: &str) -> bool {
    [
        "java.",
        "javax.",
        "jakarta.",
        "jdk.",
        "sun.",
        "com.sun.",
        "kotlin.",
        "kotlinx.",
        "scala.",
        "org.springframework.",
        "org.apache.",
        "org.hibernate.",
        "io.netty.",
        "com.fasterxml.",
        "reactor.",
        "org.eclipse.",
        "io.undertow.",
        "org.junit.",
        "com.zaxxer.",
        "org.postgresql.",
        "com.mysql.",
        "io.micronaut.",
        "io.quarkus.",
        "io.vertx.",
        "okhttp3.",
        "feign.",
        "org.glassfish.",
        "java.base/",
        "app//java.",
    ]
    .iter()
    .any(|lib| function.starts_with(lib))
}

fn dotnet_library(function: &str) -> bool {
    [
        "System.",
        "Microsoft.",
        "Npgsql.",
        "Newtonsoft.",
        "lambda_method",
    ]
    .iter()
    .any(|lib| function.starts_with(lib))
}

fn node_library(file: &str) -> bool {
    file.starts_with("node:") || file.starts_with("internal/") || file.contains("node_modules")
}

/// A frame line in any of the `at` styles, with the language it is written in.
fn at_frame(line: &str, hint: Language) -> Option<(Language, Frame)> {
    if let Some(c) = JAVA_FRAME.captures(line) {
        let function = c["func"].to_owned();
        let loc = &c["loc"];
        let file = if loc.contains('.') && !loc.contains(' ') {
            LINE_COL.replace(loc, "").into_owned()
        } else {
            String::new()
        };
        return Some((Language::Java, Frame { function, file }));
    }
    let node = NODE_FRAME.captures(line);
    let dotnet = DOTNET_FRAME.captures(line);
    let dotnet_style = line.contains(" in ") && line.contains(":line ");
    if let Some(c) = dotnet.filter(|_| dotnet_style || hint == Language::Dotnet || node.is_none()) {
        return Some((
            Language::Dotnet,
            Frame {
                function: c["func"].to_owned(),
                file: c
                    .name("file")
                    .map_or_else(String::new, |f| f.as_str().to_owned()),
            },
        ));
    }
    let c = node?;
    let (function, loc) = match (c.name("func"), c.name("loc"), c.name("bare")) {
        (Some(f), Some(l), _) => (f.as_str().to_owned(), l.as_str()),
        (_, _, Some(b)) => ("<anonymous>".to_owned(), b.as_str()),
        _ => return None,
    };
    let file = LINE_COL.replace(loc, "").into_owned();
    Some((Language::Node, Frame { function, file }))
}

fn stack(body: &[&str], hint: Language, uncaught: bool) -> (Language, LogErrorKind, String) {
    let mut segments: Vec<Segment> = Vec::new();
    let mut votes = [0usize; 4]; // java, dotnet, node, ruby
    for line in body {
        let t = line.trim();
        if let Some(c) = EXCEPTION.captures(t) {
            let pre = c.name("pre").map_or("", |m| m.as_str());
            if segments.is_empty() || pre.starts_with("Caused by") || pre.contains("--->") {
                segments.push(Segment {
                    ty: c["type"].to_owned(),
                    message: c.name("msg").map_or("", |m| m.as_str()).to_owned(),
                    frames: Vec::new(),
                });
                continue;
            }
        }
        let Some(segment) = segments.last_mut() else {
            continue;
        };
        if let Some((language, frame)) = at_frame(line, hint) {
            let slot = match language {
                Language::Java => 0,
                Language::Dotnet => 1,
                _ => 2,
            };
            votes[slot] += 1;
            segment.frames.push(frame);
        } else if let Some(c) = RUBY_FRAME.captures(line) {
            votes[3] += 1;
            segment.frames.push(Frame {
                function: c["func"].to_owned(),
                file: c["file"].to_owned(),
            });
        }
    }
    let framed = votes.iter().any(|v| *v > 0);
    let language = match votes
        .iter()
        .enumerate()
        .max_by_key(|(i, v)| (**v, usize::MAX - i))
    {
        Some((i, v)) if *v > 0 => [
            Language::Java,
            Language::Dotnet,
            Language::Node,
            Language::Ruby,
        ][i],
        _ => hint,
    };
    let library = |f: &Frame| match language {
        Language::Java => java_library(&f.function),
        Language::Dotnet => dotnet_library(&f.function),
        Language::Node => node_library(&f.file),
        Language::Ruby => ruby_library(&f.file),
        _ => false,
    };
    let (Some(outer), Some(root)) = (segments.first(), segments.last()) else {
        let header = body.first().map_or("", |l| l.trim());
        return (language, LogErrorKind::Error, message_title(header));
    };
    let ty = if segments.len() > 1 && root.ty != outer.ty {
        format!("{} (caused by {})", outer.ty, root.ty)
    } else {
        outer.ty.clone()
    };
    if !framed {
        let kind = if uncaught {
            LogErrorKind::UncaughtException
        } else {
            LogErrorKind::Error
        };
        let message = normalize(&outer.message, Quotes::Replace);
        let title = if message.is_empty() {
            ty
        } else {
            format!("{ty}: {}", cap(&message, 100))
        };
        return (language, kind, title);
    }
    // The root cause's innermost application frame; else the outer exception's.
    let app = segments
        .iter()
        .rev()
        .find_map(|s| s.frames.iter().find(|f| !library(f)))
        .or_else(|| root.frames.first())
        .or_else(|| segments.iter().find_map(|s| s.frames.first()));
    let kind = if uncaught {
        LogErrorKind::UncaughtException
    } else {
        LogErrorKind::Exception
    };
    (language, kind, join(&ty, app))
}

fn dotnet_log(body: &[&str], level: Level) -> (Language, LogErrorKind, String) {
    if let Some(at) = body
        .iter()
        .skip(1)
        .position(|l| EXCEPTION.is_match(l.trim()))
    {
        let trimmed: Vec<&str> = body[at + 1..].iter().map(|l| l.trim()).collect();
        let (_, kind, title) = stack(&trimmed, Language::Dotnet, false);
        return (Language::Dotnet, kind, title);
    }
    let category = body
        .first()
        .map_or("", |l| l.trim())
        .split_once(": ")
        .map_or("", |(_, c)| c);
    let message = body.get(1).map_or("", |l| l.trim());
    let title = format!(
        "{}: {}",
        normalize(category, Quotes::Replace),
        message_title(message)
    );
    (Language::Dotnet, level_kind(level), title)
}
