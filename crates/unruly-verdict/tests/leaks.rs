//! Leak detection: each detector fires on a real example, and harmless bodies that
//! look a little alike do not.

use unruly_verdict::{scan_for_leaks, LeakCategory};

/// The single leak found in `body`, as (category, label).
fn one(body: &str) -> (LeakCategory, &'static str) {
    let leaks = scan_for_leaks(body);
    assert_eq!(
        leaks.len(),
        1,
        "expected one leak in {body:?}, got {leaks:#?}"
    );
    (leaks[0].category, leaks[0].label)
}

fn assert_leak(body: &str, category: LeakCategory, label: &str) {
    let (found_category, found_label) = one(body);
    assert_eq!(
        (found_category, found_label),
        (category, label),
        "in {body:?}"
    );
}

fn assert_clean(body: &str) {
    let leaks = scan_for_leaks(body);
    assert!(leaks.is_empty(), "false positive in {body:?}: {leaks:#?}");
}

#[test]
fn python_traceback() {
    let body = "Traceback (most recent call last):\n  File \"/srv/app/views.py\", line 42, in get_product\n    return db.fetch(id)\nKeyError: 'id'\n";
    assert_leak(body, LeakCategory::StackTrace, "Python stack trace");
    let leak = &scan_for_leaks(body)[0];
    assert!(leak.excerpt.contains("Traceback (most recent call last)"));
    assert!(leak.excerpt.contains("KeyError"));
}

#[test]
fn java_stack_traces() {
    assert_leak(
        "java.lang.NullPointerException\n\tat com.foo.Bar(Bar.java:12)\n\tat com.foo.Main.main(Main.java:3)",
        LeakCategory::StackTrace,
        "Java stack trace",
    );
    assert_leak(
        "Exception in thread \"main\" java.lang.IllegalStateException: boom",
        LeakCategory::StackTrace,
        "Java stack trace",
    );
}

#[test]
fn go_panics() {
    assert_leak(
        "panic: runtime error: index out of range [3] with length 3\n\ngoroutine 1 [running]:\nmain.main()\n\t/tmp/x/main.go:8 +0x1d",
        LeakCategory::StackTrace,
        "Go panic",
    );
    assert_leak(
        "goroutine 17 [running]:\n",
        LeakCategory::StackTrace,
        "Go panic",
    );
}

#[test]
fn node_stack_traces() {
    assert_leak(
        "TypeError: Cannot read properties of undefined (reading 'id')\n    at Object.<anonymous> (/x.js:1:2)",
        LeakCategory::StackTrace,
        "Node.js stack trace",
    );
    assert_leak(
        "<pre>Error: boom<br> &nbsp; &nbsp;at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)</pre>",
        LeakCategory::StackTrace,
        "Node.js stack trace",
    );
    assert_leak(
        "Error: x\n    at /usr/src/app/server.js:14:11\n",
        LeakCategory::StackTrace,
        "Node.js stack trace",
    );
}

#[test]
fn rust_panic() {
    assert_leak(
        "thread 'tokio-runtime-worker' panicked at src/handlers.rs:31:9:\ncalled `Option::unwrap()` on a `None` value",
        LeakCategory::StackTrace,
        "Rust panic",
    );
}

#[test]
fn dotnet_stack_traces() {
    assert_leak(
        "System.NullReferenceException: Object reference not set to an instance of an object.",
        LeakCategory::StackTrace,
        ".NET stack trace",
    );
    assert_leak(
        "   at Shop.Controllers.ProductsController.Get(Int32 id) in C:\\src\\Shop\\ProductsController.cs:line 27",
        LeakCategory::StackTrace,
        ".NET stack trace",
    );
}

#[test]
fn ruby_stack_trace() {
    assert_leak(
        "NoMethodError (undefined method `name' for nil):\napp/models/user.rb:12:in `display_name'",
        LeakCategory::StackTrace,
        "Ruby stack trace",
    );
}

#[test]
fn php_errors() {
    assert_leak(
        "<br />\n<b>Fatal error</b>:  Call to undefined function foo() in <b>/var/www/html/index.php</b> on line <b>3</b><br />",
        LeakCategory::StackTrace,
        "PHP error",
    );
    assert_leak(
        "PHP Fatal error:  Uncaught Exception: boom in /var/www/html/index.php:3\nStack trace:\n#0 {main}\n  thrown",
        LeakCategory::StackTrace,
        "PHP error",
    );
    assert_leak(
        "Stack trace:\n#0 /x/y(3): z()",
        LeakCategory::StackTrace,
        "PHP stack trace",
    );
}

#[test]
fn sql_errors() {
    assert_leak(
        "ERROR:  syntax error at or near \"'\"\nLINE 1: SELECT * FROM products WHERE name = '''",
        LeakCategory::SqlError,
        "PostgreSQL error",
    );
    assert_leak(
        "{\"error\":\"unterminated quoted string at or near \\\"'abc\\\"\"}",
        LeakCategory::SqlError,
        "PostgreSQL error",
    );
    assert_leak(
        "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version",
        LeakCategory::SqlError,
        "MySQL error",
    );
    assert_leak(
        "SQLITE_ERROR: no such table: userz",
        LeakCategory::SqlError,
        "SQLite error",
    );
    assert_leak(
        "ORA-00933: SQL command not properly ended",
        LeakCategory::SqlError,
        "Oracle error",
    );
    assert_leak(
        "SQLSTATE[42000]: Syntax error or access violation",
        LeakCategory::SqlError,
        "SQL error",
    );
}

#[test]
fn framework_debug_pages_hide_their_own_stack_trace() {
    let django = "<html><body><h1>KeyError at /products/1</h1><table><tr><th>Django Version:</th><td>4.2</td></tr></table>\n<pre>Traceback (most recent call last):\n  File \"/app/shop/views.py\", line 9, in get</pre>\n<p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p></body></html>";
    assert_leak(django, LeakCategory::DebugPage, "Django debug page");
    assert_leak(
        "<title>ZeroDivisionError // Werkzeug Debugger</title>",
        LeakCategory::DebugPage,
        "Werkzeug debugger page",
    );
    assert_leak(
        "<h1>ActionController::RoutingError</h1>",
        LeakCategory::DebugPage,
        "Rails exception details",
    );
}

#[test]
fn internal_paths() {
    assert_leak(
        "{\"error\":\"open /home/deploy/shop/config/settings.yaml: permission denied\"}",
        LeakCategory::FilePath,
        "internal file path",
    );
    assert_leak(
        "could not load /app/src/handlers/users.py",
        LeakCategory::FilePath,
        "internal file path",
    );
    assert_leak(
        "{\"error\":\"cannot read C:\\\\inetpub\\\\wwwroot\\\\web.config\"}",
        LeakCategory::FilePath,
        "internal file path",
    );
    assert_leak(
        r#"{"error":"Fatal error: Uncaught PDOException in \/var\/www\/html\/db.php:12"}"#,
        LeakCategory::StackTrace,
        "PHP error",
    );
    assert_leak(
        r#"{"file":"\/app\/src\/config.php"}"#,
        LeakCategory::FilePath,
        "internal file path",
    );
    let leaks = scan_for_leaks("see /srv/shop/app.rb");
    assert_eq!(leaks[0].category.severity(), unruly_core::Severity::Medium);
}

#[test]
fn secrets_are_found_and_masked() {
    let leaks = scan_for_leaks("{\"aws_key\":\"AKIAIOSFODNN7EXAMPLE\"}");
    assert_eq!(leaks.len(), 1);
    assert_eq!(leaks[0].category, LeakCategory::Secret);
    assert_eq!(leaks[0].label, "AWS access key");
    assert!(
        !leaks[0].excerpt.contains("IOSFODNN7EXAMPLE"),
        "{}",
        leaks[0].excerpt
    );
    assert_eq!(
        leaks[0].category.severity(),
        unruly_core::Severity::Critical
    );

    let leaks = scan_for_leaks(
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    );
    assert_eq!(leaks[0].label, "private key");
    assert!(!leaks[0].excerpt.contains("MIIEow"));
}

#[test]
fn a_trace_with_a_secret_is_two_leaks() {
    let body = "Traceback (most recent call last):\n  File \"/app/x.py\", line 1, in <module>\nValueError: AKIAIOSFODNN7EXAMPLE";
    let leaks = scan_for_leaks(body);
    let categories: Vec<_> = leaks.iter().map(|l| l.category).collect();
    assert_eq!(
        categories,
        vec![LeakCategory::StackTrace, LeakCategory::Secret]
    );
    assert!(leaks
        .iter()
        .all(|l| !l.excerpt.contains("IOSFODNN7EXAMPLE")));
}

#[test]
fn harmless_json_errors_are_not_leaks() {
    assert_clean(r#"{"error":"not found"}"#);
    assert_clean(r#"{"error":"validation failed","fields":{"email":"must be an email"}}"#);
    assert_clean(
        r#"{"status":500,"error":"Internal Server Error","message":"something went wrong"}"#,
    );
    assert_clean(r#"{"errors":[{"code":"ERR_TIMEOUT","detail":"upstream timed out"}]}"#);
    assert_clean(r#"{"error":"panic button pressed too often, try again later"}"#);
}

#[test]
fn normal_html_is_not_a_leak() {
    assert_clean(
        "<!doctype html><html><head><title>Shop</title><link rel=\"stylesheet\" href=\"/app/main.css\">\
         <script src=\"/app/main.js\"></script><script src=\"https://cdn.example.com/app/vendor.js\"></script></head>\
         <body><h1>Welcome</h1><p>Errors happen; at our shop (open 9:00) we fix them.</p>\
         <a href=\"/home/index.php\">Home</a></body></html>",
    );
    assert_clean("Cannot GET /products/999");
    assert_clean("<html><body><h1>500 Internal Server Error</h1><p>Sorry, something went wrong.</p></body></html>");
}

#[test]
fn product_lists_and_paths_in_json_are_not_leaks() {
    assert_clean(
        r#"[{"id":1,"name":"Error 404 T-shirt","description":"For those who love an error","url":"/products/1"},
            {"id":2,"name":"Traceback mug","path":"/products/2","image":"/images/2.png"},
            {"id":3,"name":"SQL syntax cheat sheet","sku":"ORA-12345"}]"#,
    );
    assert_clean(r#"{"next":"/products?page=2","self":"http://127.0.0.1:8080/products/1"}"#);
    assert_clean(r#"{"file":"report.py","line":3}"#);
}

#[test]
fn an_echoed_request_path_is_not_a_leak() {
    use unruly_core::{RequestRecord, ResponseSample};
    let sample = ResponseSample {
        operation: "GET /{path}".into(),
        request: RequestRecord {
            method: "GET".into(),
            url: "http://127.0.0.1:8080/app/secret.py".into(),
            headers: vec![],
            body: None,
        },
        status: Some(404),
        error: Some(unruly_core::ErrorClass::Status4xx),
        error_detail: None,
        content_type: Some("text/html".into()),
        body_excerpt: "Cannot GET /app/secret.py".into(),
        latency_ms: 1.0,
        first_seen_s: 0.1,
        count: 1,
    };
    assert!(unruly_verdict::findings_from_samples(&[sample], 1).is_empty());
}
