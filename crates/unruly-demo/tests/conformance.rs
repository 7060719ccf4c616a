//! A small explore of both variants: strange, boundary and wrong-typed inputs to every
//! operation, ids of created resources read back, and every answer judged against the
//! OpenAPI document the way `unruly explore` judges it (a real JSON Schema validator,
//! draft 2020-12, formats asserted).
//!
//! The correct twin must give no finding at all. The buggy variant must give exactly its
//! planted input bugs, except the slow response, which takes timing to see (the matcher's
//! steps are asserted in `buggy.rs` instead).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;

use bytes::Bytes;
use hyper::header::HeaderValue;
use hyper::Method;
use jsonschema::Validator;
use serde_json::{json, Value};
use unruly_demo::{openapi_json, Trigger, Variant, PLANTED_BUGS};
use unruly_testkit::client::TestResponse;

/// Marks of a leak in a body (what unruly's detectors look for, in short).
const LEAK_MARKERS: [&str; 6] = [
    "Traceback (most recent call last)",
    "panicked at",
    "java.lang.",
    "unterminated quoted string",
    "ERROR: ",
    "/srv/",
];

/// Strange strings, as decoded values.
fn strange_strings() -> Vec<String> {
    let mut strings: Vec<String> = [
        "",
        " ",
        "0",
        "-1",
        "1",
        "100",
        "101",
        "2147483647",
        "2147483648",
        "9007199254740993",
        "9223372036854775808",
        "18446744073709551616",
        "1e308",
        "1.5",
        "1.0",
        "-0",
        "+1",
        "01",
        "0x10",
        "null",
        "true",
        "[]",
        "abc",
        "John_123__test_999999999",
        "🎉",
        "🎉🎉🎉🎉🎉🎉",
        "مرحبا",
        "\u{202e}gnp.exe",
        "\u{200b}",
        "e\u{301}",
        "田中さんにあげて下さい",
        "Ω≈ç√∫˜µ≤≥÷",
        "' OR 1=1 --",
        "it's",
        "\"; DROP TABLE users; --",
        "<script>alert(1)</script>",
        "{{7*7}}",
        "${jndi:ldap://x/a}",
        "../../etc/passwd",
        "%s%n%x",
        "\u{0}",
        "\t\r\n",
        "ada@example.com",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    strings.push("a".repeat(65));
    strings.push("a".repeat(101));
    strings.push("é".repeat(64));
    strings.push("x".repeat(10_000));
    strings.push(format!("{}!", "a".repeat(30)));
    strings
}

/// Boundary and wrong-typed JSON values.
fn strange_values() -> Vec<Value> {
    let mut values: Vec<Value> = strange_strings().into_iter().map(Value::from).collect();
    values.extend([
        json!(0),
        json!(-1),
        json!(1),
        json!(10),
        json!(11),
        json!(64),
        json!(2_147_483_648_i64),
        json!(9_007_199_254_740_992_i64),
        json!(9_223_372_036_854_775_807_i64),
        json!(9_223_372_036_854_775_808_u64),
        json!(1e308),
        json!(-1e308),
        json!(1.5),
        json!(1.0),
        Value::Null,
        json!(true),
        json!([]),
        json!({}),
        json!([1, "a"]),
        json!({"a": {"b": null}}),
    ]);
    values
}

/// Percent-encodes everything but the unreserved characters.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A validator of `schema` with the document's components beside it.
fn compile(doc: &Value, schema: &Value) -> Validator {
    let mut root = schema.clone();
    if let Value::Object(fields) = &mut root {
        fields.insert("components".to_owned(), doc["components"].clone());
    }
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .expect("the schema compiles")
}

/// What one request was, for the judge.
struct Case<'a> {
    method: Method,
    /// The path as written in the document, e.g. `/users/{id}`.
    template: &'a str,
    /// The path sent, with its query.
    path: String,
    content_type: Option<&'static str>,
    /// Headers besides `Host` and `Content-Type`.
    headers: Vec<(&'static str, HeaderValue)>,
    body: Option<Bytes>,
    /// Why the spec forbids this request, if it does.
    invalid: Option<String>,
}

/// A `POST` for [`Judge::post`].
struct Post {
    /// The path as written in the document.
    template: &'static str,
    /// The `{id}` of the template (decoded), if it has one.
    id: Option<String>,
    content_type: Option<&'static str>,
    headers: Vec<(&'static str, HeaderValue)>,
    body: Bytes,
}

impl Post {
    /// A JSON body to `template`, with its `{id}` if it has one.
    fn json(template: &'static str, id: Option<&str>, body: impl Into<Bytes>) -> Post {
        Post {
            template,
            id: id.map(str::to_owned),
            content_type: Some("application/json"),
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// The same with another content type.
    fn sent_as(mut self, content_type: Option<&'static str>) -> Post {
        self.content_type = content_type;
        self
    }

    /// The same with one more header.
    fn with_header(mut self, name: &'static str, value: HeaderValue) -> Post {
        self.headers.push((name, value));
        self
    }
}

/// Sends cases and judges the answers.
struct Judge {
    doc: Value,
    addr: SocketAddr,
    validators: HashMap<String, Validator>,
    /// (operation, kind) → the first request that showed it.
    findings: BTreeMap<(String, String), String>,
    /// Ids from 201 answers, by collection path.
    created: BTreeMap<&'static str, Vec<u64>>,
}

impl Judge {
    fn new(addr: SocketAddr) -> Judge {
        Judge {
            doc: serde_json::from_str(openapi_json()).expect("the document is JSON"),
            addr,
            validators: HashMap::new(),
            findings: BTreeMap::new(),
            created: BTreeMap::new(),
        }
    }

    fn validator(&mut self, pointer: &str) -> Option<&Validator> {
        if !self.validators.contains_key(pointer) {
            let schema = self.doc.pointer(pointer)?.clone();
            let validator = compile(&self.doc, &schema);
            self.validators.insert(pointer.to_owned(), validator);
        }
        self.validators.get(pointer)
    }

    /// Whether `value` is valid against the schema at `pointer`.
    fn valid(&mut self, pointer: &str, value: &Value) -> bool {
        self.validator(pointer)
            .is_some_and(|validator| validator.is_valid(value))
    }

    fn found(&mut self, case: &Case<'_>, kind: &str, why: String) {
        let operation = format!("{} {}", case.method, case.template);
        self.findings
            .entry((operation, kind.to_owned()))
            .or_insert_with(|| {
                let path: String = case.path.chars().take(120).collect();
                format!("{} {path}: {why}", case.method)
            });
    }

    async fn send(&mut self, case: Case<'_>) -> TestResponse {
        let response = common::send_with(
            self.addr,
            case.method.clone(),
            &case.path,
            case.content_type,
            &case.headers,
            case.body.clone(),
        )
        .await;
        self.judge(&case, &response);
        response
    }

    fn judge(&mut self, case: &Case<'_>, response: &TestResponse) {
        let status = response.status.as_u16();
        let text = response.text();
        if status >= 500 {
            self.found(case, "server_error", format!("{status}"));
        }
        if let Some(marker) = LEAK_MARKERS.iter().find(|m| text.contains(**m)) {
            self.found(case, "information_leak", format!("{marker:?} in {status}"));
        }
        if (200..300).contains(&status) {
            if let Some(why) = &case.invalid {
                self.found(case, "accepted_invalid_input", format!("{status}: {why}"));
            }
        }
        if status < 500 {
            if let Some(why) = self.response_violation(case, status, response) {
                self.found(case, "response_schema_violation", why);
            }
        }
    }

    /// What is wrong with an answer: its status, content type or body.
    fn response_violation(
        &mut self,
        case: &Case<'_>,
        status: u16,
        response: &TestResponse,
    ) -> Option<String> {
        let method = case.method.as_str().to_lowercase();
        let responses = format!(
            "/paths/{}/{method}/responses",
            case.template.replace('~', "~0").replace('/', "~1")
        );
        let documented = [
            status.to_string(),
            format!("{}XX", status / 100),
            "default".into(),
        ]
        .into_iter()
        .find(|s| self.doc.pointer(&format!("{responses}/{s}")).is_some());
        let Some(documented) = documented else {
            return Some(format!("status {status} is not documented"));
        };
        let content = format!("{responses}/{documented}/content");
        if self.doc.pointer(&content).is_none()
            || response.body.is_empty() && response.content_type().is_none()
        {
            return None;
        }
        let essence = response
            .content_type()
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_lowercase())
            .unwrap_or_default();
        if self
            .doc
            .pointer(&format!("{content}/{}", essence.replace('/', "~1")))
            .is_none()
        {
            return Some(format!("{status} in {essence:?}, not documented"));
        }
        let Ok(body) = serde_json::from_slice::<Value>(&response.body) else {
            return Some(format!("{status} body is not JSON"));
        };
        let schema = format!("{content}/application~1json/schema");
        if self.valid(&schema, &body) {
            None
        } else {
            let shown: String = body.to_string().chars().take(200).collect();
            Some(format!("{status} body breaks the schema: {shown}"))
        }
    }

    /// `GET` with a path or query parameter, judged against its schema.
    async fn get_with(&mut self, template: &'static str, decoded: Option<&str>) {
        let (path, invalid) = match template {
            "/products" | "/search" => {
                let (name, pointer) = if template == "/products" {
                    ("limit", "/paths/~1products/get/parameters/0/schema")
                } else {
                    ("q", "/paths/~1search/get/parameters/0/schema")
                };
                match decoded {
                    None => {
                        let invalid = (name == "q").then(|| "q is required".to_owned());
                        (template.to_owned(), invalid)
                    }
                    Some(raw) => {
                        let value = self.param_value(name, raw);
                        let invalid = (!self.valid(pointer, &value))
                            .then(|| format!("{name}={raw:?} breaks its schema"));
                        (format!("{template}?{name}={}", encode(raw)), invalid)
                    }
                }
            }
            _ => {
                let raw = decoded.unwrap_or_default();
                let invalid = self.id_invalid("get", template, raw);
                (template.replace("{id}", &encode(raw)), invalid)
            }
        };
        self.send(Case {
            method: Method::GET,
            template,
            path,
            content_type: None,
            headers: Vec::new(),
            body: None,
            invalid,
        })
        .await;
    }

    /// A parameter's value as a JSON instance: integers are read as JSON, strings stay
    /// strings.
    fn param_value(&self, name: &str, raw: &str) -> Value {
        if name == "q" {
            return Value::from(raw);
        }
        serde_json::from_str::<Value>(raw)
            .ok()
            .filter(Value::is_number)
            .unwrap_or_else(|| Value::from(raw))
    }

    /// Whether the `{id}` of `template`'s `method` breaks its schema, and why.
    fn id_invalid(&mut self, method: &str, template: &str, raw: &str) -> Option<String> {
        let value = self.param_value("id", raw);
        let pointer = format!(
            "/paths/{}/{method}/parameters/0/schema",
            template.replace('/', "~1")
        );
        (!self.valid(&pointer, &value)).then(|| format!("id={raw:?} breaks its schema"))
    }

    /// A `POST`, judged against the path parameter's schema and the request body schema.
    async fn post(&mut self, post: Post) -> TestResponse {
        let Post {
            template,
            id,
            content_type,
            headers,
            body,
        } = post;
        let schema = format!(
            "/paths/{}/post/requestBody/content/application~1json/schema",
            template.replace('/', "~1")
        );
        let id_invalid = id
            .as_deref()
            .and_then(|raw| self.id_invalid("post", template, raw));
        let invalid = if let Some(why) = id_invalid {
            Some(why)
        } else if content_type != Some("application/json") {
            Some(format!("content type {content_type:?}"))
        } else {
            match serde_json::from_slice::<Value>(&body) {
                Err(_) => Some("malformed JSON".to_owned()),
                Ok(value) if !self.valid(&schema, &value) => {
                    Some("the body breaks its schema".to_owned())
                }
                Ok(_) => None,
            }
        };
        let path = match &id {
            Some(raw) => template.replace("{id}", &encode(raw)),
            None => template.to_owned(),
        };
        let response = self
            .send(Case {
                method: Method::POST,
                template,
                path,
                content_type,
                headers,
                body: Some(body),
                invalid,
            })
            .await;
        if response.status == 201 {
            if let Ok(body) = serde_json::from_slice::<Value>(&response.body) {
                if let Some(id) = body["id"].as_u64() {
                    self.created.entry(template).or_default().push(id);
                }
            }
        }
        response
    }

    /// Every field of `base` replaced by every strange value, then missing; then odd
    /// bodies and content types. `id` fills the template's `{id}`, if it has one.
    async fn post_variations(
        &mut self,
        template: &'static str,
        id: Option<&str>,
        base: Value,
        skip: fn(&str, &Value) -> bool,
    ) {
        let post = |body: String| Post::json(template, id, body);
        self.post(post(base.to_string())).await;
        let fields: Vec<String> = base
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        for field in &fields {
            for value in strange_values() {
                if skip(field, &value) {
                    continue;
                }
                let mut body = base.clone();
                body[field.as_str()] = value;
                self.post(post(body.to_string())).await;
            }
            let mut body = base.clone();
            if let Some(fields) = body.as_object_mut() {
                fields.remove(field.as_str());
            }
            self.post(post(body.to_string())).await;
        }
        let mut extra = base.clone();
        extra["unexpected"] = json!({"deep": [1, 2, 3]});
        self.post(post(extra.to_string())).await;
        for odd in [
            "",
            "{",
            "{\"a\":",
            "null",
            "[]",
            "\"text\"",
            "1",
            "[{}]",
            "{\"a\":1}}",
        ] {
            self.post(post(odd.to_owned())).await;
        }
        let nested = format!("{}{}", "[".repeat(200), "]".repeat(200));
        self.post(post(nested)).await;
        for content_type in [None, Some("text/plain"), Some("application/xml")] {
            self.post(post(base.to_string()).sent_as(content_type))
                .await;
        }
        let big = json!({"name": "x".repeat(3 << 19), "customer": "x"});
        self.post(post(big.to_string())).await;
    }

    /// Orders with an `Idempotency-Key`: every strange string a header can carry as a key,
    /// sent once, then again with the same body, then with another body; and a key sent
    /// twice in one request.
    async fn idempotency_keys(&mut self) {
        let order = |customer: &str| {
            json!({"product_id": 2, "quantity": 1, "customer": customer}).to_string()
        };
        for key in strange_strings() {
            let Ok(key) = HeaderValue::from_bytes(key.as_bytes()) else {
                continue;
            };
            for customer in ["Ada", "Ada", "Bob"] {
                let post = Post::json("/orders", None, order(customer))
                    .with_header("idempotency-key", key.clone());
                self.post(post).await;
            }
        }
        let twice = Post::json("/orders", None, order("Ada"))
            .with_header("idempotency-key", HeaderValue::from_static("one"))
            .with_header("idempotency-key", HeaderValue::from_static("two"));
        self.post(twice).await;
    }

    /// Withdrawals from the account `id`: every variation of a body, more than is left,
    /// and every strange `{id}`.
    async fn withdrawals(&mut self, id: u64) {
        let id = id.to_string();
        let template = "/accounts/{id}/withdrawals";
        self.post_variations(template, Some(&id), json!({"amount": 1}), nothing_skipped)
            .await;
        let too_much = json!({"amount": 1_000_000}).to_string();
        self.post(Post::json(template, Some(&id), too_much)).await;
        let amount = json!({"amount": 1}).to_string();
        for raw in strange_strings() {
            self.post(Post::json(template, Some(&raw), amount.clone()))
                .await;
        }
        for raw in ["999999", "18446744073709551615"] {
            self.post(Post::json(template, Some(raw), amount.clone()))
                .await;
        }
    }

    /// Reads back every created resource.
    async fn read_back(&mut self) {
        for (collection, item) in [
            ("/orders", "/orders/{id}"),
            ("/users", "/users/{id}"),
            ("/accounts", "/accounts/{id}"),
        ] {
            let ids = self.created.get(collection).cloned().unwrap_or_default();
            for id in ids {
                self.get_with(item, Some(&id.to_string())).await;
            }
        }
    }
}

/// Long runs of local-part characters in an email make the buggy pre-check burn ~1.5 s
/// each (its planted slow response): sent to the correct twin only, to keep this test fast.
fn slow_email(field: &str, value: &Value) -> bool {
    field == "email"
        && value.as_str().is_some_and(|s| {
            s.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "._%+-".contains(*c))
                .count()
                > 16
        })
}

fn nothing_skipped(_: &str, _: &Value) -> bool {
    false
}

/// Runs every case against a variant and returns what was found.
async fn explore(variant: Variant) -> BTreeMap<(String, String), String> {
    let demo = common::start(variant);
    let mut judge = Judge::new(demo.addr());
    let strings = strange_strings();
    for template in [
        "/products",
        "/search",
        "/products/{id}",
        "/products/{id}/shipping",
        "/orders/{id}",
        "/users/{id}",
        "/accounts/{id}",
    ] {
        judge.get_with(template, None).await;
        for raw in &strings {
            judge.get_with(template, Some(raw)).await;
        }
    }
    judge
        .post_variations(
            "/orders",
            None,
            json!({"product_id": 1, "quantity": 1, "customer": "Ada"}),
            nothing_skipped,
        )
        .await;
    judge.idempotency_keys().await;
    let skip = match variant {
        Variant::Buggy => slow_email,
        Variant::Correct => nothing_skipped,
    };
    judge
        .post_variations(
            "/users",
            None,
            json!({"name": "Ada", "email": "ada@example.com"}),
            skip,
        )
        .await;
    judge
        .post_variations(
            "/accounts",
            None,
            json!({"owner": "Ada", "balance": 1_000_000}),
            nothing_skipped,
        )
        .await;
    let account = judge
        .created
        .get("/accounts")
        .and_then(|ids| ids.first().copied())
        .expect("an account was opened");
    judge.withdrawals(account).await;
    judge.read_back().await;
    assert!(
        judge
            .created
            .get("/users")
            .is_some_and(|ids| ids.len() > 10),
        "{variant}: too few users were created: {:?}",
        judge.created
    );
    assert!(
        judge
            .created
            .get("/accounts")
            .is_some_and(|ids| ids.len() > 10),
        "{variant}: too few accounts were opened: {:?}",
        judge.created
    );
    judge.findings
}

#[tokio::test]
async fn the_correct_twin_gives_no_finding() {
    let findings = explore(Variant::Correct).await;
    assert!(
        findings.is_empty(),
        "findings against the correct twin:\n{findings:#?}"
    );
}

#[tokio::test]
async fn the_buggy_variant_gives_exactly_its_planted_input_bugs() {
    let findings = explore(Variant::Buggy).await;
    let found: BTreeSet<(String, String)> = findings.keys().cloned().collect();
    let planted: BTreeSet<(String, String)> = PLANTED_BUGS
        .iter()
        .filter(|b| b.trigger == Trigger::Input && b.kind != "slow_response")
        .map(|b| (b.operation.to_owned(), b.kind.to_owned()))
        .collect();
    assert_eq!(found, planted, "found:\n{findings:#?}");
}
