//! Real-looking samples of each language's errors, and the noise around them: each sample
//! is detected with its language, kind and title; a second occurrence with other line
//! numbers, values, ids and addresses joins its group; a different error does not.

use super::{LogErrorKind, LogWatch};
use std::time::Instant;

struct Sample {
    name: &'static str,
    text: &'static str,
    language: &'static str,
    kind: LogErrorKind,
    title: &'static str,
    /// Replacements giving a second occurrence of the same error.
    same: &'static [(&'static str, &'static str)],
    /// Replacements giving a different error.
    other: &'static [(&'static str, &'static str)],
}

const SAMPLES: &[Sample] = &[
    Sample {
        name: "python traceback",
        text: r#"Traceback (most recent call last):
  File "/usr/lib/python3.11/site-packages/flask/app.py", line 1463, in wsgi_app
    response = self.full_dispatch_request()
  File "/srv/app/views.py", line 42, in get_product
    return PRODUCTS[product_id]
KeyError: 'sku-123'"#,
        language: "python",
        kind: LogErrorKind::Traceback,
        title: "KeyError in get_product (/srv/app/views.py)",
        same: &[("line 42", "line 47"), ("'sku-123'", "'sku-9'"), ("1463", "1470")],
        other: &[("KeyError: 'sku-123'", "ValueError: invalid literal for int()")],
    },
    Sample {
        name: "python traceback announced by logger.exception",
        text: r#"[2024-05-01 12:00:00,123] ERROR in app: Exception on /orders/17 [POST]
Traceback (most recent call last):
  File "/srv/app/orders.py", line 88, in create_order
    total = quantity * price
TypeError: unsupported operand type(s) for *: 'int' and 'NoneType'"#,
        language: "python",
        kind: LogErrorKind::Traceback,
        title: "TypeError in create_order (/srv/app/orders.py)",
        same: &[("/orders/17", "/orders/99"), ("12:00:00,123", "12:00:05,001")],
        other: &[("in create_order", "in update_order")],
    },
    Sample {
        name: "python chained traceback",
        text: r#"Traceback (most recent call last):
  File "/srv/app/db.py", line 10, in fetch
    row = cursor.fetchone()
sqlite3.OperationalError: database is locked

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/srv/app/views.py", line 20, in list_orders
    orders = fetch()
app.errors.ServiceUnavailable: db busy"#,
        language: "python",
        kind: LogErrorKind::Traceback,
        title: "app.errors.ServiceUnavailable in list_orders (/srv/app/views.py)",
        same: &[("line 20", "line 21"), ("db busy", "db busy for 3 s")],
        other: &[("app.errors.ServiceUnavailable", "app.errors.Timeout")],
    },
    Sample {
        name: "java exception logged by spring with a cause",
        text: "2024-05-01 12:00:00.123 ERROR 4242 --- [nio-8080-exec-3] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] threw exception\n\
java.lang.IllegalStateException: Order 42 already paid\n\
\tat com.shop.orders.OrderService.pay(OrderService.java:88) ~[classes/:na]\n\
\tat com.shop.orders.OrderController.pay(OrderController.java:31) ~[classes/:na]\n\
\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103) ~[na:na]\n\
\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885) ~[spring-webmvc-6.0.jar:6.0]\n\
Caused by: java.sql.SQLException: deadlock detected (txn 0x7f3a)\n\
\tat org.postgresql.core.v3.QueryExecutorImpl.execute(QueryExecutorImpl.java:1)\n\
\tat com.shop.orders.OrderRepository.lock(OrderRepository.java:55)\n\
\t... 12 more",
        language: "java",
        kind: LogErrorKind::Exception,
        title: "java.lang.IllegalStateException (caused by java.sql.SQLException) in com.shop.orders.OrderRepository.lock (OrderRepository.java)",
        same: &[("Order 42", "Order 7"), ("0x7f3a", "0x11"), ("exec-3", "exec-9"), (".java:55", ".java:57")],
        other: &[("OrderRepository.lock", "OrderRepository.save")],
    },
    Sample {
        name: "java uncaught exception",
        text: "Exception in thread \"main\" java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"name\" is null\n\
\tat com.example.App.greet(App.java:14)\n\
\tat com.example.App.main(App.java:5)",
        language: "java",
        kind: LogErrorKind::UncaughtException,
        title: "java.lang.NullPointerException in com.example.App.greet (App.java)",
        same: &[("\"main\"", "\"worker-2\""), ("App.java:14", "App.java:15")],
        other: &[("NullPointerException", "ArithmeticException")],
    },
    Sample {
        name: "go panic",
        text: "panic: runtime error: index out of range [5] with length 3\n\
\n\
goroutine 34 [running]:\n\
main.(*Store).Get(0xc0000a6000, 0x5)\n\
\t/app/store.go:27 +0x1d\n\
main.handleProduct({0x6c1c40, 0xc0001b0000}, 0xc0001a2000)\n\
\t/app/main.go:61 +0x85\n\
net/http.HandlerFunc.ServeHTTP(0x0?, {0x6c1c40?, 0xc0001b0000?}, 0x0?)\n\
\t/usr/local/go/src/net/http/server.go:2136 +0x29\n\
created by net/http.(*Server).Serve in goroutine 1\n\
\t/usr/local/go/src/net/http/server.go:3086 +0x4db\n\
exit status 2",
        language: "go",
        kind: LogErrorKind::Panic,
        title: "'runtime error: index out of range [#] with length #' in main.(*Store).Get (/app/store.go)",
        same: &[("[5] with length 3", "[9] with length 2"), ("goroutine 34", "goroutine 81"), ("0xc0000a6000", "0xc000123000"), (":27 +0x1d", ":28 +0x2f")],
        other: &[("index out of range [5] with length 3", "invalid memory address or nil pointer dereference")],
    },
    Sample {
        name: "go panic recovered by net/http",
        text: "2024/05/01 12:00:00 http: panic serving 127.0.0.1:53412: assignment to entry in nil map\n\
goroutine 7 [running]:\n\
net/http.(*conn).serve.func1()\n\
\t/usr/local/go/src/net/http/server.go:1868 +0xb9\n\
panic({0x64ad40?, 0x6f0b60?})\n\
\t/usr/local/go/src/runtime/panic.go:920 +0x270\n\
main.addToCart(...)\n\
\t/app/cart.go:19",
        language: "go",
        kind: LogErrorKind::Panic,
        title: "'assignment to entry in nil map' in main.addToCart (/app/cart.go)",
        same: &[("127.0.0.1:53412", "10.1.2.3:40000"), ("goroutine 7", "goroutine 12"), ("cart.go:19", "cart.go:20")],
        other: &[("main.addToCart", "main.removeFromCart")],
    },
    Sample {
        name: "rust panic",
        text: "thread 'tokio-runtime-worker' panicked at src/handlers/orders.rs:88:14:\n\
called `Option::unwrap()` on a `None` value\n\
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
        language: "rust",
        kind: LogErrorKind::Panic,
        title: "'called `Option::unwrap()` on a `None` value' at src/handlers/orders.rs",
        same: &[("88:14", "91:3"), ("tokio-runtime-worker", "main")],
        other: &[("orders.rs", "products.rs")],
    },
    Sample {
        name: "rust panic with a backtrace",
        text: "thread 'main' panicked at src/main.rs:10:5:\n\
index out of bounds: the len is 3 but the index is 7\n\
stack backtrace:\n   \
   0: rust_begin_unwind\n             \
             at /rustc/07dca489ac2d933c78d3c5158e3f43beefeb02ce/library/std/src/panicking.rs:645:5\n   \
   1: core::panicking::panic_fmt\n   \
   2: core::panicking::panic_bounds_check\n   \
   3: shop::cart::total\n             \
             at ./src/main.rs:10:5\n   \
   4: shop::main\n\
note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.",
        language: "rust",
        kind: LogErrorKind::Panic,
        title: "'index out of bounds: the len is # but the index is #' in shop::cart::total (src/main.rs)",
        same: &[("the len is 3 but the index is 7", "the len is 0 but the index is 0")],
        other: &[("shop::cart::total", "shop::cart::discount")],
    },
    Sample {
        name: "rust panic, old format",
        text: "thread 'main' panicked at 'attempt to divide by zero', src/math.rs:5:9",
        language: "rust",
        kind: LogErrorKind::Panic,
        title: "'attempt to divide by zero' at src/math.rs",
        same: &[("5:9", "6:1")],
        other: &[("divide by zero", "subtract with overflow")],
    },
    Sample {
        name: "node crash",
        text: "/app/server.js:27\n    \
    const price = product.price.toFixed(2);\n                                \
                                ^\n\
\n\
TypeError: Cannot read properties of undefined (reading 'price')\n    \
    at getPrice (/app/server.js:27:33)\n    \
    at /app/routes/products.js:12:18\n    \
    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)\n    \
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n\
\n\
Node.js v20.11.0",
        language: "node",
        kind: LogErrorKind::Exception,
        title: "TypeError in getPrice (/app/server.js)",
        same: &[("(reading 'price')", "(reading 'cost')"), ("27:33", "29:5")],
        other: &[("TypeError", "RangeError")],
    },
    Sample {
        name: "node unhandled rejection",
        text: "(node:4242) UnhandledPromiseRejectionWarning: Error: connect ECONNREFUSED 127.0.0.1:5432\n    \
    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)",
        language: "node",
        kind: LogErrorKind::UncaughtException,
        title: "Error in TCPConnectWrap.afterConnect [as oncomplete] (node:net)",
        same: &[("4242", "77"), ("5432", "6379")],
        other: &[("TCPConnectWrap.afterConnect", "Socket.onTimeout")],
    },
    Sample {
        name: ".NET unhandled exception",
        text: "Unhandled exception. System.NullReferenceException: Object reference not set to an instance of an object.\n   \
   at Shop.Services.CartService.Total(Cart cart) in /src/Shop/Services/CartService.cs:line 42\n   \
   at Shop.Program.Main(String[] args) in /src/Shop/Program.cs:line 12",
        language: "dotnet",
        kind: LogErrorKind::UncaughtException,
        title: "System.NullReferenceException in Shop.Services.CartService.Total (/src/Shop/Services/CartService.cs)",
        same: &[("line 42", "line 44")],
        other: &[("NullReferenceException", "InvalidCastException")],
    },
    Sample {
        name: "ASP.NET Core logged exception",
        text: "fail: Microsoft.AspNetCore.Server.Kestrel[13]\n      \
      Connection id \"0HMVD8T5B2F3K\", Request id \"0HMVD8T5B2F3K:00000002\": An unhandled exception was thrown by the application.\n      \
      System.InvalidOperationException: Sequence contains no elements\n         \
         at System.Linq.ThrowHelper.ThrowNoElementsException()\n         \
         at Shop.Controllers.OrdersController.Get(Int32 id) in /src/Controllers/OrdersController.cs:line 31\n         \
         at lambda_method5(Closure, Object, Object[])",
        language: "dotnet",
        kind: LogErrorKind::Exception,
        title: "System.InvalidOperationException in Shop.Controllers.OrdersController.Get (/src/Controllers/OrdersController.cs)",
        same: &[("0HMVD8T5B2F3K", "0HMVD8T5B2F99"), ("line 31", "line 33")],
        other: &[("OrdersController.Get", "OrdersController.List")],
    },
    Sample {
        name: "ruby uncaught error",
        text: "/app/lib/cart.rb:14:in 'Cart#total': undefined method '+' for nil (NoMethodError)\n\
\tfrom /app/app.rb:22:in 'block in <main>'\n\
\tfrom /usr/lib/ruby/3.4.0/webrick/httpserver.rb:140:in 'WEBrick::HTTPServer#service'",
        language: "ruby",
        kind: LogErrorKind::UncaughtException,
        title: "NoMethodError in Cart#total (/app/lib/cart.rb)",
        same: &[("cart.rb:14", "cart.rb:15"), ("'+'", "'-'")],
        other: &[("NoMethodError", "ZeroDivisionError")],
    },
    Sample {
        name: "rails logged error",
        text: "NoMethodError (undefined method `name' for nil):\n\
\n\
app/controllers/orders_controller.rb:12:in `show'\n\
actionpack (7.1.3) lib/action_controller/metal/basic_implicit_render.rb:6:in `send_action'",
        language: "ruby",
        kind: LogErrorKind::Exception,
        title: "NoMethodError in show (app/controllers/orders_controller.rb)",
        same: &[(":12:", ":13:"), ("`name'", "`title'")],
        other: &[("in `show'", "in `index'")],
    },
    Sample {
        name: "tracing ERROR line",
        text: "2024-05-01T12:00:00.123456Z ERROR shop::db: query failed after 5012 ms: connection reset by 10.0.0.7:5432",
        language: "generic",
        kind: LogErrorKind::Error,
        title: "shop::db: query failed after # ms: connection reset by <ip>",
        same: &[("5012", "48"), ("10.0.0.7", "10.0.0.9"), ("12:00:00.123456", "12:00:04.000001")],
        other: &[("query failed", "pool exhausted")],
    },
    Sample {
        name: "JSON error line",
        text: r#"{"level":"error","ts":"2024-05-01T12:00:00Z","msg":"charge failed for user 1234 (order 3f2b8c1e-9d4a-4e5b-8c7d-1a2b3c4d5e6f)","error":"card_declined"}"#,
        language: "generic",
        kind: LogErrorKind::Error,
        title: "charge failed for user # (order <uuid>)",
        same: &[("1234", "77"), ("3f2b8c1e", "aaaaaaaa")],
        other: &[("charge failed", "refund failed")],
    },
    Sample {
        name: "logfmt fatal line",
        text: r#"time=2024-05-01T12:00:00Z level=fatal msg="cannot open /var/lib/shop/data-7.db" pid=12"#,
        language: "generic",
        kind: LogErrorKind::Fatal,
        title: "cannot open /var/lib/shop/data-#.db",
        same: &[("data-7", "data-8"), ("pid=12", "pid=99")],
        other: &[("cannot open", "cannot lock")],
    },
    Sample {
        name: "glog error line",
        text: "E0501 12:00:00.123456    1234 server.go:42] cache refill for key \"user:42\" took 1200ms",
        language: "go",
        kind: LogErrorKind::Error,
        title: "cache refill for key \"<str>\" took #ms",
        same: &[("user:42", "user:7"), ("1200", "90"), ("1234", "99")],
        other: &[("cache refill", "cache evict")],
    },
];

fn apply(text: &str, replacements: &[(&str, &str)]) -> String {
    replacements
        .iter()
        .fold(text.to_owned(), |acc, (from, to)| {
            assert!(acc.contains(from), "{from:?} not in the sample");
            acc.replace(from, to)
        })
}

/// The sample's lines that make up its block: all of them, but for the lines Node.js
/// writes before (the source line and a caret) and after (its version) the error.
fn expected_excerpt(sample: &Sample) -> String {
    let lines: Vec<&str> = sample.text.lines().collect();
    let (skip, drop) = match sample.name {
        "node crash" => (4, 2),
        _ => (0, 0),
    };
    lines[skip..lines.len() - drop].join("\n")
}

fn feed(watch: &LogWatch, t: f64, text: &str) {
    for line in text.lines() {
        watch.line_at(t, "stderr", line);
    }
}

const NOISE: &str = r#"2024-05-01T12:00:00Z INFO shop: listening on 0.0.0.0:8080
127.0.0.1 - - [01/May/2024:12:00:00 +0000] "GET /api/error HTTP/1.1" 200 512 "-" "curl/8.0"
INFO:     127.0.0.1:5000 - "GET /errors/list HTTP/1.1" 200 OK
level=info msg="batch done" error_count=0 ok=12
2024-05-01T12:00:00Z WARN shop: slow query (ERROR budget 80%)
{"level":"info","msg":"no error"}
serving /static/error.css"#;

#[test]
fn every_sample_is_detected_grouped_and_told_apart() {
    for sample in SAMPLES {
        let watch = LogWatch::new(Instant::now());
        feed(&watch, 1.0, NOISE);
        feed(&watch, 2.0, sample.text);
        feed(&watch, 3.5, NOISE);
        feed(&watch, 5.0, &apply(sample.text, sample.same));
        feed(&watch, 6.5, NOISE);
        feed(&watch, 8.0, &apply(sample.text, sample.other));
        let groups = watch.groups();
        let name = sample.name;
        assert_eq!(
            groups.len(),
            2,
            "{name}: {:#?}",
            groups.iter().map(|g| &g.signature).collect::<Vec<_>>()
        );
        let first = &groups[0];
        assert_eq!(first.language, sample.language, "{name}");
        assert_eq!(first.kind, sample.kind, "{name}");
        assert_eq!(first.title, sample.title, "{name}");
        assert_eq!(
            first.signature,
            format!(
                "{} {}: {}",
                sample.language,
                sample.kind.as_str(),
                sample.title
            ),
            "{name}"
        );
        assert_eq!(first.count, 2, "{name}");
        assert_eq!(first.times, [2.0, 5.0], "{name}");
        assert_eq!((first.first_t_s, first.last_t_s), (2.0, 5.0), "{name}");
        assert_eq!(first.excerpt, expected_excerpt(sample), "{name}");
        assert_eq!(first.source, "stderr", "{name}");
        assert_ne!(groups[1].signature, first.signature, "{name}");
        assert_eq!(groups[1].count, 1, "{name}");
    }
}

#[test]
fn noise_alone_is_not_flagged() {
    let watch = LogWatch::new(Instant::now());
    feed(&watch, 1.0, NOISE);
    assert_eq!(watch.groups(), []);
    assert_eq!(watch.lines_read(), NOISE.lines().count() as u64);
}

#[test]
fn interleaved_sources_keep_their_blocks_apart() {
    let watch = LogWatch::new(Instant::now());
    let python = SAMPLES[0].text.lines().collect::<Vec<_>>();
    let java = SAMPLES[4].text.lines().collect::<Vec<_>>();
    for i in 0..python.len().max(java.len()) {
        let t = 1.0 + i as f64 * 0.01;
        if let Some(line) = python.get(i) {
            watch.line_at(t, "stderr", line);
        }
        if let Some(line) = java.get(i) {
            watch.line_at(t + 0.005, "/var/log/app.log", line);
        }
    }
    let groups = watch.groups();
    let titles: Vec<&str> = groups.iter().map(|g| g.title.as_str()).collect();
    assert_eq!(titles, [SAMPLES[0].title, SAMPLES[4].title]);
    assert_eq!(groups[1].source, "/var/log/app.log");
}

#[test]
fn excerpts_are_redacted_and_capped() {
    let watch = LogWatch::new(Instant::now());
    watch.line_at(
        1.0,
        "stdout",
        "ERROR login failed user=bob password=hunter2 Authorization: Bearer abc.def",
    );
    // Seconds later: not the stack trace the ERROR line announced.
    watch.line_at(3.0, "stdout", "java.lang.RuntimeException: deep");
    for i in 0..150 {
        watch.line_at(
            3.0,
            "stdout",
            &format!("\tat com.example.Deep.level{i}(Deep.java:{i})"),
        );
    }
    let groups = watch.groups();
    assert_eq!(groups.len(), 2);
    assert!(
        !groups[0].excerpt.contains("hunter2"),
        "{}",
        groups[0].excerpt
    );
    assert!(
        !groups[0].excerpt.contains("abc.def"),
        "{}",
        groups[0].excerpt
    );
    assert!(groups[0].excerpt.contains("password=<redacted>"));
    assert!(groups[1].excerpt.len() <= super::MAX_EXCERPT_BYTES + 4);
    assert!(groups[1].excerpt.ends_with('…'));
    assert!(watch.tail().iter().all(|l| !l.contains("hunter2")));
    assert_eq!(watch.tail().len(), super::TAIL_LINES);
}

#[test]
fn groups_are_bounded_and_the_rest_counted() {
    let watch = LogWatch::new(Instant::now());
    let words = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
        "juliet", "kilo", "lima",
    ];
    let mut n = 0;
    for a in words {
        for b in words {
            watch.line_at(1.0, "stderr", &format!("ERROR {a} {b} failed"));
            n += 1;
        }
    }
    watch.flush();
    assert_eq!(watch.groups().len(), super::MAX_GROUPS);
    assert_eq!(watch.other_count(), n - super::MAX_GROUPS as u64);
}

#[test]
fn a_block_left_open_is_counted_without_being_cut() {
    let watch = LogWatch::new(Instant::now());
    let lines: Vec<&str> = SAMPLES[4].text.lines().collect();
    watch.line_at(1.0, "stderr", lines[0]);
    watch.line_at(1.0, "stderr", lines[1]);
    assert_eq!(watch.groups().len(), 1);
    watch.line_at(1.2, "stderr", lines[2]);
    let groups = watch.groups();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].title, SAMPLES[4].title);
    assert_eq!(groups[0].count, 1);
}

#[test]
fn one_rust_panic_site_is_one_group_whatever_text_reached_it() {
    let watch = LogWatch::new(Instant::now());
    for (at, text) in [(1.0, "👨‍👩‍👧‍👦"), (2.0, "مرحبا بالعالم"), (3.0, "שלום עולם")]
    {
        let panic = format!(
            "thread 'tokio-runtime-worker' panicked at src/users.rs:42:23:\n\
             byte index 16 is not a char boundary; it is inside 'x' (bytes 15..17) of `{text}`\n\
             note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n"
        );
        feed(&watch, at, &panic);
        feed(&watch, at + 0.5, NOISE);
    }
    feed(
        &watch,
        5.0,
        "thread 'main' panicked at src/handlers.rs:88:14:\n\
         called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }\n",
    );
    let groups = watch.groups();
    assert_eq!(groups.len(), 2, "{groups:#?}");
    assert_eq!(groups[0].count, 3, "{}", groups[0].signature);
    assert!(
        groups[0].signature.contains("of `<str>`"),
        "{}",
        groups[0].signature
    );
    assert!(
        groups[1].signature.contains("`Result::unwrap()`"),
        "type names stay: {}",
        groups[1].signature
    );
}
