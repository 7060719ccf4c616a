//! The pages the buggy variant answers its 500s with: what a careless production stack leaks.

use std::io;
use std::num::ParseIntError;

use crate::shipping::ShippingError;

/// A Flask-style traceback for a product id missing from the catalogue.
pub(crate) fn python_key_error(id: i64) -> String {
    format!(
        "Traceback (most recent call last):\n  \
         File \"/srv/shop/venv/lib/python3.11/site-packages/flask/app.py\", line 1484, in full_dispatch_request\n    \
         rv = self.dispatch_request()\n  \
         File \"/srv/shop/venv/lib/python3.11/site-packages/flask/app.py\", line 1469, in dispatch_request\n    \
         return self.ensure_sync(self.view_functions[rule.endpoint])(**view_args)\n  \
         File \"/srv/shop/app/views.py\", line 42, in get_product\n    \
         product = PRODUCTS[product_id]\n\
         KeyError: {id}\n"
    )
}

/// A Rust panic message for a product id that is not a number.
pub(crate) fn rust_parse_panic(error: &ParseIntError) -> String {
    format!(
        "thread 'tokio-runtime-worker' panicked at src/handlers.rs:88:14:\n\
         called `Result::unwrap()` on an `Err` value: {error:?}\n\
         note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n"
    )
}

/// What Rust panics with when `&text[..index]` cuts a character in two, as the default
/// panic hook prints it: the source location, the character and its bytes, and the text
/// (cut to 256 bytes, as the standard library does). `None` when `index` is a character
/// boundary (or past the end), where the slice does not panic.
pub(crate) fn byte_slice_panic(text: &str, index: usize) -> Option<String> {
    /// How much of the text the standard library shows.
    const MAX_DISPLAY: usize = 256;
    if index >= text.len() || text.is_char_boundary(index) {
        return None;
    }
    let start = floor_char_boundary(text, index);
    let ch = text[start..].chars().next()?;
    let end = start + ch.len_utf8();
    let cut = floor_char_boundary(text, MAX_DISPLAY.min(text.len()));
    let ellipsis = if cut < text.len() { "[...]" } else { "" };
    Some(format!(
        "thread 'tokio-runtime-worker' panicked at src/users.rs:42:23:\n\
         byte index {index} is not a char boundary; it is inside {ch:?} (bytes {start}..{end}) \
         of `{}`{ellipsis}\n\
         note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
        &text[..cut]
    ))
}

/// The last character boundary at or before `index` (which is at most `text.len()`).
fn floor_char_boundary(text: &str, index: usize) -> usize {
    (0..=index)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

/// The body a panic-catching middleware answers with (tower-http's `CatchPanic` says the
/// same): no details, but a 500 all the same.
pub(crate) const SERVICE_PANICKED: &str = "Service panicked";

/// A Spring-style stack trace for an empty search term.
pub(crate) fn java_empty_search() -> String {
    "java.lang.IllegalArgumentException: search term must not be empty\n\
     \tat com.shop.search.SearchService.tokenize(SearchService.java:112)\n\
     \tat com.shop.SearchController.search(SearchController.java:57)\n\
     \tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)\n\
     \tat org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:166)\n\
     \tat java.base/java.lang.Thread.run(Thread.java:833)\n"
        .to_owned()
}

/// A PostgreSQL syntax error for a search term with a single quote pasted into SQL.
pub(crate) fn postgres_unterminated_quote(term: &str) -> String {
    let sql = format!("SELECT * FROM products WHERE name LIKE '%{term}%'");
    // The unterminated string starts at the last quote of the term.
    let prefix = "SELECT * FROM products WHERE name LIKE '%";
    let last_quote = term.rfind('\'').unwrap_or(0);
    let near = &sql[prefix.len() + last_quote..];
    let column = prefix.chars().count() + term[..last_quote].chars().count();
    let caret = " ".repeat("LINE 1: ".len() + column);
    format!(
        "ERROR:  unterminated quoted string at or near \"{near}\"\n\
         LINE 1: {sql}\n\
         {caret}^\n"
    )
}

/// A Flask-style traceback of the shop's `requests`-based shipping client, for a call to the
/// dependency at `url` that failed with `error`.
pub(crate) fn python_shipping_error(url: &str, error: &ShippingError) -> String {
    let (frame, exception) = match error {
        ShippingError::Connect { addr, source } => (
            "response = self.session.get(url, params={\"product\": product_id})",
            format!(
                "requests.exceptions.ConnectionError: HTTPConnectionPool(host='{}', port={}): \
                 Max retries exceeded with url: {} (Caused by NewConnectionError(\
                 '<urllib3.connection.HTTPConnection object at 0x7f3a2c1e4d90>: Failed to \
                 establish a new connection: {}'))",
                addr.ip(),
                addr.port(),
                url.split_once(&addr.to_string())
                    .map_or(url, |(_, path)| path),
                errno(source),
            ),
        ),
        ShippingError::Broken(reason) => (
            "response = self.session.get(url, params={\"product\": product_id})",
            format!(
                "requests.exceptions.ConnectionError: ('Connection aborted.', \
                 ConnectionResetError(104, 'Connection reset by peer')) [{reason}]"
            ),
        ),
        ShippingError::Status(status) => (
            "response.raise_for_status()",
            format!(
                "requests.exceptions.HTTPError: {} {} Error: {} for url: {url}",
                status.as_u16(),
                if status.is_server_error() {
                    "Server"
                } else {
                    "Client"
                },
                status.canonical_reason().unwrap_or("Unknown"),
            ),
        ),
        ShippingError::NotAQuote(reason) => (
            "return Quote(**response.json())",
            format!("requests.exceptions.JSONDecodeError: {reason}"),
        ),
    };
    format!(
        "Traceback (most recent call last):\n  \
         File \"/srv/shop/venv/lib/python3.11/site-packages/flask/app.py\", line 1469, in dispatch_request\n    \
         return self.ensure_sync(self.view_functions[rule.endpoint])(**view_args)\n  \
         File \"/srv/shop/app/views.py\", line 118, in get_shipping\n    \
         with catalog_lock:\n        quote = shipping_client.get_quote(product_id)\n  \
         File \"/srv/shop/app/clients/shipping.py\", line 31, in get_quote\n    \
         {frame}\n\
         {exception}\n"
    )
}

/// How Python names a failed connect: `[Errno 111] Connection refused` and the like.
fn errno(error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => format!("[Errno {code}] {}", python_strerror(error)),
        None => format!("[Errno -1] {error}"),
    }
}

/// The system's message of an error, without Rust's ` (os error N)` suffix.
fn python_strerror(error: &io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_error_points_at_the_last_quote() {
        let page = postgres_unterminated_quote("it's");
        assert!(page.starts_with("ERROR:  unterminated quoted string at or near \"'s%'\"\n"));
        assert!(page.contains("LINE 1: SELECT * FROM products WHERE name LIKE '%it's%'\n"));
        let lines: Vec<&str> = page.lines().collect();
        let caret = lines[2].find('^').expect("a caret");
        assert_eq!(lines[1].chars().nth(caret), Some('\''));
    }

    #[test]
    fn postgres_error_handles_multibyte_terms() {
        let page = postgres_unterminated_quote("é'ü'");
        assert!(page.contains("at or near \"'%'\""));
    }

    #[test]
    fn traceback_names_the_key() {
        assert!(python_key_error(21).ends_with("KeyError: 21\n"));
    }

    #[test]
    fn byte_slice_panic_reads_like_the_standard_library() {
        let name = format!("{}é and more", "a".repeat(15));
        // What `&name[..16]` really panics with.
        let real = std::panic::catch_unwind(|| name[..16].len())
            .expect_err("the slice panics")
            .downcast::<String>()
            .expect("a formatted message");
        let page = byte_slice_panic(&name, 16).expect("a panic");
        assert!(page.starts_with("thread 'tokio-runtime-worker' panicked at src/users.rs:42:23:\n"));
        // Newer toolchains say "end byte index 16 ...": the rest is the same.
        let message = page.lines().nth(1).expect("a message line");
        assert!(real.ends_with(message), "{real}\n{message}");
        assert!(real.contains("it is inside 'é' (bytes 15..17)"), "{real}");
        assert!(page.ends_with("to display a backtrace\n"));

        let long = format!("{}{}", "a".repeat(15), "é".repeat(200));
        let real = std::panic::catch_unwind(|| long[..16].len())
            .expect_err("the slice panics")
            .downcast::<String>()
            .expect("a formatted message");
        let page = byte_slice_panic(&long, 16).expect("a panic");
        let message = page.lines().nth(1).expect("a message line");
        assert!(real.ends_with(message), "{real}\n{message}");
        assert!(real.ends_with("[...]"), "{real}");
    }

    #[test]
    fn byte_slice_panic_only_inside_a_character() {
        assert_eq!(byte_slice_panic("short", 16), None);
        assert_eq!(byte_slice_panic(&"a".repeat(20), 16), None);
        assert_eq!(byte_slice_panic(&"🎉".repeat(5), 16), None);
        assert!(byte_slice_panic(&"田".repeat(6), 16).is_some());
        assert!(byte_slice_panic(&format!("ab{}", "\u{200b}".repeat(6)), 16).is_some());
    }

    #[test]
    fn shipping_tracebacks_name_the_client_and_the_failure() {
        let url = "http://127.0.0.1:9/quote?product=3";
        let refused = ShippingError::Connect {
            addr: "127.0.0.1:9".parse().expect("an address"),
            source: io::Error::from_raw_os_error(111),
        };
        let page = python_shipping_error(url, &refused);
        assert!(
            page.starts_with("Traceback (most recent call last):\n"),
            "{page}"
        );
        assert!(page.contains("/srv/shop/app/clients/shipping.py"), "{page}");
        assert!(page.contains("host='127.0.0.1', port=9)"), "{page}");
        assert!(page.contains("with url: /quote?product=3 "), "{page}");
        assert!(page.contains("[Errno 111] "), "{page}");
        assert!(!page.contains("os error"), "{page}");
        let status = python_shipping_error(
            url,
            &ShippingError::Status(http::StatusCode::SERVICE_UNAVAILABLE),
        );
        assert!(
            status.contains("HTTPError: 503 Server Error: Service Unavailable for url: "),
            "{status}"
        );
        let garbage = python_shipping_error(url, &ShippingError::NotAQuote("EOF".into()));
        assert!(garbage.ends_with("JSONDecodeError: EOF\n"), "{garbage}");
    }

    #[test]
    fn panic_shows_the_parse_error() {
        let Err(error) = "abc".parse::<i64>() else {
            panic!("abc parsed");
        };
        assert!(rust_parse_panic(&error).contains("ParseIntError { kind: InvalidDigit }"));
    }
}
