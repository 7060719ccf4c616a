//! Wire form: path encoding, parameter styles, headers, cookies and bodies.

mod common;

use common::*;
use serde_json::{json, Value};
use unruly_core::{ApiSpec, ParameterLocation, ParameterStyle};
use unruly_inputs::{
    BodyParts, Case, CaseBody, CaseParameter, Category, Expect, MULTIPART_BOUNDARY,
};

fn case(
    operation: usize,
    parameters: Vec<(&str, ParameterLocation, Option<Value>)>,
    body: Option<CaseBody>,
) -> Case {
    Case {
        operation,
        category: Category::Positive,
        label: "hand-made".into(),
        expect: Expect::Valid,
        parameters: parameters
            .into_iter()
            .map(|(name, location, value)| CaseParameter {
                name: name.into(),
                location,
                value,
            })
            .collect(),
        body,
        slot: None,
    }
}

fn bytes(body: &BodyParts) -> String {
    match body {
        BodyParts::Bytes(b) => String::from_utf8(b.to_vec()).unwrap(),
        BodyParts::Empty => String::new(),
        BodyParts::Stream(_) => panic!("streamed"),
    }
}

#[test]
fn path_parameters_are_percent_encoded_whole() {
    let spec = spec();
    let c = case(
        GET_USER,
        vec![
            ("id", ParameterLocation::Path, Some(json!("a/b c😀?#%"))),
            ("limit", ParameterLocation::Query, Some(json!(5))),
            ("tags", ParameterLocation::Query, None),
            ("session", ParameterLocation::Cookie, None),
            ("theme", ParameterLocation::Cookie, None),
        ],
        None,
    );
    let r = c.to_request(&spec);
    assert_eq!(r.method, "GET");
    assert_eq!(
        r.path_and_query,
        "/users/a%2Fb%20c%F0%9F%98%80%3F%23%25?limit=5"
    );
    assert!(r.headers.is_empty());
    assert!(matches!(r.body, BodyParts::Empty));
    // Unreserved characters stay as they are.
    let c = case(
        GET_USER,
        vec![("id", ParameterLocation::Path, Some(json!("A-z_0.9~")))],
        None,
    );
    assert_eq!(c.to_request(&spec).path_and_query, "/users/A-z_0.9~");
}

#[test]
fn query_styles() {
    let spec = spec();
    let c = case(
        SEARCH,
        vec![
            (
                "filter",
                ParameterLocation::Query,
                Some(json!({"age": 3, "role": "a&b"})),
            ),
            ("ids", ParameterLocation::Query, Some(json!([1, 2, 3]))),
            ("pipes", ParameterLocation::Query, Some(json!(["x", "y,z"]))),
            ("spaced", ParameterLocation::Query, Some(json!(["p", "q"]))),
        ],
        None,
    );
    let r = c.to_request(&spec);
    assert_eq!(
        r.path_and_query,
        "/search?filter[age]=3&filter[role]=a%26b&ids=1,2,3&pipes=x|y%2Cz&spaced=p%20q"
    );
    let c = case(
        GET_USER,
        vec![
            ("id", ParameterLocation::Path, Some(json!(7))),
            ("limit", ParameterLocation::Query, Some(json!(1))),
            ("tags", ParameterLocation::Query, Some(json!(["a b", "ü"]))),
        ],
        None,
    );
    assert_eq!(
        c.to_request(&spec).path_and_query,
        "/users/7?limit=1&tags=a%20b&tags=%C3%BC"
    );
}

fn styled_spec() -> ApiSpec {
    use ParameterLocation::*;
    use ParameterStyle::*;
    let mut s = spec();
    s.operations = vec![op(
        "GET",
        "/l/{a}/m{b}/s/{c}/e/{d}",
        vec![
            param("a", Path, true, Label, false, json!({"type": "array"})),
            param("b", Path, true, Matrix, true, json!({"type": "array"})),
            param("c", Path, true, Simple, true, json!({"type": "object"})),
            param("d", Path, true, Matrix, false, json!({"type": "object"})),
            param("q", Query, false, Form, false, json!({"type": "object"})),
            param("o", Query, false, Form, true, json!({"type": "object"})),
            param(
                "X-List",
                Header,
                false,
                Simple,
                false,
                json!({"type": "array"}),
            ),
            param(
                "X-Obj",
                Header,
                false,
                Simple,
                true,
                json!({"type": "object"}),
            ),
            param("sid", Cookie, false, Form, true, json!({"type": "string"})),
            param("n", Cookie, false, Form, true, json!({"type": "integer"})),
        ],
        None,
    )];
    s
}

#[test]
fn path_header_and_cookie_styles() {
    use ParameterLocation::*;
    let spec = styled_spec();
    let c = case(
        0,
        vec![
            ("a", Path, Some(json!([1, 2]))),
            ("b", Path, Some(json!(["x", "y"]))),
            ("c", Path, Some(json!({"k": "v", "w": 1}))),
            ("d", Path, Some(json!({"k": "v"}))),
            ("q", Query, Some(json!({"k": "v", "w": "z"}))),
            ("o", Query, Some(json!({"k": "v"}))),
            ("X-List", Header, Some(json!(["a", "b"]))),
            ("X-Obj", Header, Some(json!({"k": "v"}))),
            ("sid", Cookie, Some(json!("abc"))),
            ("n", Cookie, Some(json!(5))),
        ],
        None,
    );
    let r = c.to_request(&spec);
    assert_eq!(
        r.path_and_query,
        "/l/.1,2/m;b=x;b=y/s/k=v,w=1/e/;d=k,v?q=k,v,w,z&k=v"
    );
    assert_eq!(
        r.headers,
        vec![
            ("X-List".to_string(), "a,b".to_string()),
            ("X-Obj".to_string(), "k=v".to_string()),
            ("Cookie".to_string(), "sid=abc; n=5".to_string()),
        ]
    );
    // Values that cannot stand in a header or cookie are encoded, never sent raw.
    let c = case(
        0,
        vec![
            ("X-List", Header, Some(json!("a\r\nb😀"))),
            ("sid", Cookie, Some(json!("a; b"))),
        ],
        None,
    );
    let r = c.to_request(&spec);
    for (_, v) in &r.headers {
        assert!(v.bytes().all(|b| (0x20..0x7f).contains(&b)), "{v:?}");
    }
    assert!(r
        .headers
        .contains(&("Cookie".to_string(), "sid=a%3B%20b".to_string())));
}

#[test]
fn bodies() {
    let spec = spec();
    let order = json!({"item": "tea", "quantity": 2, "note": null});
    let c = case(
        CREATE_ORDER,
        vec![],
        Some(CaseBody::Json {
            content_type: "application/json".into(),
            value: order,
        }),
    );
    let r = c.to_request(&spec);
    assert_eq!(r.method, "POST");
    assert_eq!(bytes(&r.body), r#"{"item":"tea","note":null,"quantity":2}"#);
    assert_eq!(
        r.headers,
        vec![("Content-Type".into(), "application/json".into())]
    );

    let c = case(
        FORM,
        vec![],
        Some(CaseBody::Form {
            value: json!({"age": 20, "user": "a b&c=d"}),
        }),
    );
    let r = c.to_request(&spec);
    assert_eq!(bytes(&r.body), "age=20&user=a%20b%26c%3Dd");
    assert_eq!(
        r.headers,
        vec![(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into()
        )]
    );

    let c = case(
        UPLOAD,
        vec![],
        Some(CaseBody::Multipart {
            value: json!({"file": "PNG...", "title": "hi"}),
        }),
    );
    let r = c.to_request(&spec);
    let b = MULTIPART_BOUNDARY;
    assert_eq!(
        bytes(&r.body),
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file.bin\"\r\nContent-Type: application/octet-stream\r\n\r\nPNG...\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhi\r\n--{b}--\r\n"
        )
    );
    assert_eq!(
        r.headers,
        vec![(
            "Content-Type".into(),
            format!("multipart/form-data; boundary={b}")
        )]
    );

    let c = case(
        PUT_BLOB,
        vec![("name", ParameterLocation::Path, Some(json!("x")))],
        Some(CaseBody::Raw {
            content_type: None,
            bytes: vec![0, 1, 2],
        }),
    );
    let r = c.to_request(&spec);
    assert_eq!(r.method, "PUT");
    assert!(r.headers.is_empty());
    assert_eq!(r.body.len(), 3);
}

#[test]
fn every_generated_case_serialises_to_valid_http_parts() {
    let spec = spec();
    let generator = unruly_inputs::CaseGenerator::new(&spec).unwrap();
    for i in 0..spec.operations.len() {
        for c in generator.cases(i, 9) {
            let r = c.to_request(&spec);
            assert!(r.path_and_query.starts_with('/'));
            assert!(
                r.path_and_query.bytes().all(|b| b.is_ascii_graphic()),
                "{}",
                r.path_and_query
            );
            for (k, v) in &r.headers {
                assert!(!k.is_empty() && k.bytes().all(|b| b.is_ascii_graphic()));
                assert!(
                    v.bytes().all(|b| (0x20..0x7f).contains(&b)) && v.trim() == v,
                    "{k}: {v:?}"
                );
            }
            if let Some(CaseBody::Json { value, .. }) = &c.body {
                let BodyParts::Bytes(b) = &r.body else {
                    panic!()
                };
                assert_eq!(&serde_json::from_slice::<Value>(b).unwrap(), value);
            }
        }
    }
}
