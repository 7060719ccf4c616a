//! The pages the buggy variant answers its 500s with: what a careless production stack leaks.

use std::num::ParseIntError;

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
    fn panic_shows_the_parse_error() {
        let Err(error) = "abc".parse::<i64>() else {
            panic!("abc parsed");
        };
        assert!(rust_parse_panic(&error).contains("ParseIntError { kind: InvalidDigit }"));
    }
}
