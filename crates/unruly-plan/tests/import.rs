//! OpenAPI import: the demo's spec, a 3.0 YAML and a 3.1 JSON fixture, the
//! translated schemas checked by a real JSON Schema validator, and located
//! errors.

use serde_json::{json, Value};
use unruly_core::{
    ApiOperation, ApiParameter, ApiSpec, MediaType, ParameterLocation, ParameterStyle,
};
use unruly_plan::{import_openapi, OpenApiSource, PlanError};

fn import(name: &str, text: &str) -> ApiSpec {
    import_openapi(&OpenApiSource {
        name: name.into(),
        text: text.into(),
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn import_errors(name: &str, text: &str) -> Vec<PlanError> {
    match import_openapi(&OpenApiSource {
        name: name.into(),
        text: text.into(),
    }) {
        Ok(spec) => panic!("expected errors, got {} operations", spec.operations.len()),
        Err(errors) => errors.errors,
    }
}

fn operation<'a>(spec: &'a ApiSpec, name: &str) -> &'a ApiOperation {
    spec.operations
        .iter()
        .find(|o| o.name() == name)
        .unwrap_or_else(|| panic!("no operation {name}"))
}

fn parameter<'a>(op: &'a ApiOperation, name: &str) -> &'a ApiParameter {
    op.parameters
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no parameter {name} in {}", op.name()))
}

fn content_types(contents: &[MediaType]) -> Vec<&str> {
    contents.iter().map(|m| m.content_type.as_str()).collect()
}

/// A validator for the schema at `pointer`, with the whole translated
/// document as its root (as the explorer builds them).
fn validator(spec: &ApiSpec, pointer: &str) -> jsonschema::Validator {
    let mut root = spec.document.clone();
    root["$ref"] = json!(pointer);
    jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{pointer}: {e}"))
}

/// A validator for a schema copied into an operation, resolved against the document.
fn validator_for_copy(spec: &ApiSpec, schema: &Value) -> jsonschema::Validator {
    let mut root = spec.document.clone();
    root["x-under-test"] = schema.clone();
    root["$ref"] = json!("#/x-under-test");
    jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{schema}: {e}"))
}

/// Every schema of the spec, in the document and copied into operations,
/// compiles as JSON Schema 2020-12 against the document.
fn assert_all_schemas_compile(spec: &ApiSpec) {
    if let Some(schemas) = spec.document["components"]["schemas"].as_object() {
        for name in schemas.keys() {
            let pointer = format!(
                "#/components/schemas/{}",
                name.replace('~', "~0").replace('/', "~1")
            );
            validator(spec, &pointer);
        }
    }
    for op in &spec.operations {
        let params = op.parameters.iter().map(|p| &p.schema);
        let bodies = op.body.iter().flat_map(|b| &b.contents);
        let responses = op.responses.iter().flat_map(|r| &r.contents);
        let media = bodies.chain(responses).filter_map(|m| m.schema.as_ref());
        for schema in params.chain(media) {
            validator_for_copy(spec, schema);
        }
    }
}

// ---------------------------------------------------------------- demo spec

#[test]
fn the_demo_spec_imports() {
    let spec = import(
        "openapi.json",
        include_str!("../../unruly-demo/src/openapi.json"),
    );
    assert_eq!(spec.openapi_version, "3.0.3");
    assert_eq!(spec.title.as_deref(), Some("unruly demo shop"));
    assert_eq!(spec.servers, ["/"]);
    assert_eq!(spec.operations[0].name(), "GET /health");

    let get = operation(&spec, "GET /products/{id}");
    assert_eq!(get.operation_id.as_deref(), Some("getProduct"));
    let id = parameter(get, "id");
    assert_eq!(id.location, ParameterLocation::Path);
    assert!(id.required);
    assert_eq!(id.style, ParameterStyle::Simple);
    assert!(!id.explode);
    assert_eq!(id.schema["type"], "integer");
    let ok = get.response_for(200).expect("200");
    assert_eq!(content_types(&ok.contents), ["application/json"]);
    assert_eq!(
        ok.contents[0].schema,
        Some(json!({"$ref": "#/components/schemas/Product"}))
    );
    assert!(get.response_for(404).is_some());

    let list = operation(&spec, "GET /products");
    let limit = parameter(list, "limit");
    assert!(!limit.required);
    assert_eq!(limit.style, ParameterStyle::Form);
    assert!(limit.explode);

    let post = operation(&spec, "POST /orders");
    let body = post.body.as_ref().expect("POST /orders has a body");
    assert_eq!(content_types(&body.contents), ["application/json"]);

    // The product schema resolves against the document and validates.
    let product = validator(&spec, "#/components/schemas/Product");
    assert!(!product.is_valid(&json!("not a product")));
    assert_all_schemas_compile(&spec);
}

// ----------------------------------------------------------- 3.0 YAML fixture

const SHOP: &str = include_str!("fixtures/shop-3.0.yaml");

#[test]
fn yaml_30_operations_in_document_order() {
    let spec = import("shop-3.0.yaml", SHOP);
    assert_eq!(spec.openapi_version, "3.0.3");
    assert_eq!(spec.title.as_deref(), Some("Shop (3.0)"));
    assert_eq!(spec.servers, ["https://shop.example.com/v1", "/v1"]);
    let names: Vec<String> = spec.operations.iter().map(ApiOperation::name).collect();
    assert_eq!(
        names,
        [
            "GET /categories/{id}",
            "PUT /categories/{id}",
            "GET /categories/{id}/products",
            "POST /uploads",
        ]
    );
}

#[test]
fn yaml_30_parameters_merge_and_default() {
    let spec = import("shop-3.0.yaml", SHOP);
    let get = operation(&spec, "GET /categories/{id}");
    // Path-level `id` (by ref) and `lang`, overridden by the operation's
    // `lang`; `Accept` is ignored; `X-Trace` has its schema in `content`.
    let summary: Vec<(&str, ParameterLocation, bool)> = get
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.location, p.required))
        .collect();
    assert_eq!(
        summary,
        [
            ("id", ParameterLocation::Path, true),
            ("lang", ParameterLocation::Query, true),
            ("X-Trace", ParameterLocation::Header, false),
        ]
    );
    assert_eq!(
        parameter(get, "id").schema,
        json!({"type": "integer", "exclusiveMinimum": 0})
    );
    assert_eq!(
        parameter(get, "lang").schema,
        json!({"type": ["string", "null"], "enum": ["en", "fr", null]})
    );
    let trace = parameter(get, "X-Trace");
    assert_eq!(trace.style, ParameterStyle::Simple);
    assert!(!trace.explode);
    assert_eq!(trace.schema["properties"]["span"]["type"], "string");

    // PUT keeps the path-level `lang`: optional, form, exploded.
    let put = operation(&spec, "PUT /categories/{id}");
    let lang = parameter(put, "lang");
    assert!(!lang.required);
    assert_eq!((lang.style, lang.explode), (ParameterStyle::Form, true));
    assert_eq!(lang.schema, json!({"type": "string", "default": "en"}));

    let products = operation(&spec, "GET /categories/{id}/products");
    let styles: Vec<(&str, ParameterStyle, bool)> = products
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.style, p.explode))
        .collect();
    assert_eq!(
        styles,
        [
            ("id", ParameterStyle::Simple, false),
            ("tags", ParameterStyle::PipeDelimited, false),
            ("filter", ParameterStyle::DeepObject, false),
            ("session", ParameterStyle::Form, true),
        ]
    );
    assert_eq!(
        parameter(products, "session").location,
        ParameterLocation::Cookie
    );
}

#[test]
fn yaml_30_bodies_responses_links_and_security() {
    let spec = import("shop-3.0.yaml", SHOP);
    let get = operation(&spec, "GET /categories/{id}");
    let statuses: Vec<&str> = get.responses.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["200", "404", "default"]);
    // Responses by ref are resolved.
    assert_eq!(
        content_types(&get.response_for(404).expect("404").contents),
        ["application/json"]
    );
    assert_eq!(
        content_types(&get.response_for(500).expect("default").contents),
        ["application/problem+json"]
    );
    let links = &get.responses[0].links;
    assert_eq!(links.len(), 2);
    assert_eq!(links[0].name, "parent");
    assert_eq!(links[0].operation, "getCategory");
    assert_eq!(
        links[0].parameters,
        [("id".to_string(), "$response.body#/parent/id".to_string())]
    );
    assert_eq!(links[1].name, "products");
    assert_eq!(links[1].operation, "GET /categories/{id}/products");
    assert_eq!(get.security, ["apiKey"]);

    let put = operation(&spec, "PUT /categories/{id}");
    let body = put.body.as_ref().expect("body by ref");
    assert!(body.required);
    assert_eq!(
        body.contents[0].schema,
        Some(json!({"$ref": "#/components/schemas/Category"}))
    );
    assert_eq!(put.responses[0].status, "2XX");
    assert!(put.response_for(204).is_some());
    assert!(
        put.security.is_empty(),
        "`security: []` removes the top level's"
    );

    let products = operation(&spec, "GET /categories/{id}/products");
    assert_eq!(products.security, ["oauth", "apiKey"]);

    let upload = operation(&spec, "POST /uploads");
    let body = upload.body.as_ref().expect("upload body");
    assert!(body.required);
    assert_eq!(
        content_types(&body.contents),
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "application/octet-stream",
            "text/plain",
        ]
    );
    assert_eq!(
        body.contents[1]
            .schema
            .as_ref()
            .map(|s| &s["properties"]["note"]),
        Some(&json!({"type": ["string", "null"]}))
    );
    assert_eq!(
        body.contents[2].schema,
        Some(json!({"type": "string", "format": "binary"}))
    );
    assert_eq!(body.contents[3].schema, None);
    let link = &upload.response_for(201).expect("201").links[0];
    assert_eq!(link.operation, "GET /categories/{id}");
    assert_eq!(
        link.parameters,
        [
            ("id".to_string(), "$response.body#/categoryId".to_string()),
            ("lang".to_string(), "en".to_string()),
        ]
    );
}

#[test]
fn yaml_30_document_is_translated_to_2020_12() {
    let spec = import("shop-3.0.yaml", SHOP);
    let schemas = &spec.document["components"]["schemas"];
    assert_eq!(
        schemas["Category"]["properties"]["parent"],
        json!({"anyOf": [{"allOf": [{"$ref": "#/components/schemas/Category"}]}, {"type": "null"}]})
    );
    assert_eq!(
        schemas["Product"]["properties"]["price"],
        json!({"type": "number", "exclusiveMinimum": 0})
    );
    assert_eq!(
        schemas["Product"]["properties"]["discount"],
        json!({"type": ["number", "null"], "exclusiveMaximum": 1})
    );
    // Merge keys applied, example and `x-` keys untouched.
    assert_eq!(
        schemas["Error"]["properties"]["code"],
        json!({"type": "integer"})
    );
    assert_eq!(
        schemas["Category"]["properties"]["name"]["example"],
        "Lamps"
    );
    assert_eq!(schemas["Category"]["x-internal"], true);
    // The copied parameter schemas are the translated ones.
    assert_eq!(
        spec.document["components"]["parameters"]["Id"]["schema"],
        json!({"type": "integer", "exclusiveMinimum": 0})
    );
    // Status keys written as YAML integers are text.
    assert!(spec.document["paths"]["/uploads"]["post"]["responses"]["201"].is_object());
}

#[test]
fn yaml_30_schemas_validate_with_jsonschema() {
    let spec = import("shop-3.0.yaml", SHOP);
    assert_all_schemas_compile(&spec);
    let category = validator(&spec, "#/components/schemas/Category");
    // Cyclic: children are categories, the parent a category or null.
    let nested = json!({
        "id": 1, "name": "Lamps", "parent": null, "status": null,
        "children": [
            {"id": 2, "name": "Desk lamps", "children": [], "status": "active",
             "parent": {"id": 1, "name": "Lamps", "children": []}},
        ]
    });
    assert!(category.is_valid(&nested));
    let mut bad_child = nested.clone();
    bad_child["children"][0]["children"] = json!([{"id": 3, "children": []}]);
    assert!(
        !category.is_valid(&bad_child),
        "nested child without a name"
    );
    let mut bad_status = nested.clone();
    bad_status["status"] = json!("deleted");
    assert!(!category.is_valid(&bad_status));

    let product = validator(&spec, "#/components/schemas/Product");
    assert!(product.is_valid(&json!({"id": 1, "price": 0.5, "discount": null, "category": null})));
    assert!(
        !product.is_valid(&json!({"id": 1, "price": 0})),
        "exclusive minimum"
    );
    assert!(
        !product.is_valid(&json!({"id": 1, "price": 2, "discount": 1})),
        "exclusive maximum"
    );
    assert!(
        !product.is_valid(&json!({"id": 1, "price": null})),
        "price is not nullable"
    );

    // A schema copied into an operation validates against the same document.
    let lang = parameter(operation(&spec, "GET /categories/{id}"), "lang");
    let lang = validator_for_copy(&spec, &lang.schema);
    assert!(lang.is_valid(&json!(null)));
    assert!(lang.is_valid(&json!("fr")));
    assert!(!lang.is_valid(&json!("de")));
    let list = operation(&spec, "GET /categories/{id}/products");
    let schema = list
        .response_for(200)
        .and_then(|r| r.contents[0].schema.clone());
    let list = validator_for_copy(&spec, &schema.expect("list schema"));
    assert!(list.is_valid(&json!([{"id": 1, "price": 1}])));
    assert!(!list.is_valid(&json!([{"id": 1, "price": -1}])));
}

// ----------------------------------------------------------- 3.1 JSON fixture

const NOTES: &str = include_str!("fixtures/notes-3.1.json");

#[test]
fn json_31_imports_with_schemas_as_written() {
    let spec = import("notes-3.1.json", NOTES);
    assert_eq!(spec.openapi_version, "3.1.0");
    let names: Vec<String> = spec.operations.iter().map(ApiOperation::name).collect();
    assert_eq!(
        names,
        [
            "GET /notes",
            "POST /notes",
            "GET /notes/{noteId}",
            "DELETE /notes/{noteId}"
        ]
    );
    let list = operation(&spec, "GET /notes");
    assert_eq!(
        parameter(list, "limit").schema,
        json!({"type": "integer", "exclusiveMinimum": 0, "maximum": 50})
    );
    let q = parameter(list, "q");
    assert_eq!((q.style, q.explode), (ParameterStyle::SpaceDelimited, true));

    let create = operation(&spec, "POST /notes");
    assert!(create.body.as_ref().is_some_and(|b| b.required));
    let created = create.response_for(201).expect("201 by ref");
    assert_eq!(created.links[0].operation, "getNote");

    // A path item by ref, with its own parameters.
    let get = operation(&spec, "GET /notes/{noteId}");
    assert!(parameter(get, "noteId").required);
    assert_eq!(
        operation(&spec, "DELETE /notes/{noteId}").security,
        ["bearer"]
    );

    // Already JSON Schema: kept as written (a property named `nullable` too).
    let original: Value = serde_json::from_str(NOTES).expect("fixture is JSON");
    assert_eq!(spec.document, original);

    assert_all_schemas_compile(&spec);
    let note = validator(&spec, "#/components/schemas/Note");
    let id = "6b1e3a52-5f0c-4d5e-9a57-0d0c1c3b7a10";
    assert!(note.is_valid(&json!({"id": id, "text": "hi", "tags": null,
        "replies": [{"id": id, "text": "re", "replies": []}]})));
    assert!(!note.is_valid(&json!({"id": id, "text": "hi", "replies": [{"id": id}]})));
    assert!(!note.is_valid(&json!({"id": id, "text": ""})));
}

// ------------------------------------------------------------------ errors

fn place(error: &PlanError) -> (usize, usize) {
    (error.line, error.column)
}

#[test]
fn external_ref_is_located() {
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      parameters:\n        - $ref: 'common.yaml#/components/parameters/Id'\n      responses: {}\n";
    let errors = import_errors("api.yaml", text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(place(&errors[0]), (7, 11));
    assert!(errors[0]
        .message
        .contains("common.yaml#/components/parameters/Id"));
    assert!(errors[0].message.contains("only local refs"));
    assert!(errors[0].to_string().starts_with("api.yaml:7:11: "));

    let json = r##"{
  "openapi": "3.1.0",
  "paths": {"/a": {"get": {"responses": {"200": {"description": "ok",
    "content": {"application/json": {"schema": {"$ref": "https://example.com/s.json"}}}}}}}}
}"##;
    let errors = import_errors("api.json", json);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(place(&errors[0]), (4, 49));
    assert!(errors[0].message.contains("https://example.com/s.json"));
}

#[test]
fn dangling_refs_are_located() {
    let text = "\
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    post:
      requestBody:
        $ref: '#/components/requestBodies/Missing'
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Nope'
components:
  schemas:
    A: {$ref: '#/components/schemas/Nope'}
";
    let errors = import_errors("api.yaml", text);
    let places: Vec<(usize, usize)> = errors.iter().map(place).collect();
    assert_eq!(places, [(7, 9), (14, 17), (17, 9)], "{errors:?}");
    assert!(errors[0]
        .message
        .contains("#/components/requestBodies/Missing"));
    assert!(errors[0].message.contains("points nowhere"));
    assert!(errors[1].message.contains("#/components/schemas/Nope"));
}

#[test]
fn swagger_2_is_refused_at_its_key() {
    let text = "# legacy\nswagger: \"2.0\"\ninfo: {title: t, version: '1'}\npaths: {}\n";
    let errors = import_errors("api.yaml", text);
    assert_eq!(errors.len(), 1);
    assert_eq!(place(&errors[0]), (2, 1));
    assert!(errors[0].message.contains("Swagger 2.0 is not supported"));

    let errors = import_errors("api.yaml", "info: {title: t}\nopenapi: 4.0.0\n");
    assert_eq!(place(&errors[0]), (2, 1));
    assert!(errors[0].message.contains("expected 3.0.x or 3.1.x"));
}

#[test]
fn text_that_is_not_yaml_is_located() {
    let text = "openapi: 3.0.3\npaths:\n  /a:\n    get: {responses: [}\n";
    let errors = import_errors("api.yaml", text);
    assert_eq!(errors.len(), 1);
    assert_eq!(place(&errors[0]), (4, 23), "{errors:?}");
    assert!(errors[0]
        .message
        .contains("not a valid YAML or JSON document"));

    let errors = import_errors(
        "api.json",
        "{\"openapi\": \"3.1.0\",\n \"paths\": {\"/a\": {]}\n}",
    );
    assert_eq!(place(&errors[0]), (2, 19), "{errors:?}");
    assert!(errors[0]
        .message
        .contains("not a valid YAML or JSON document"));
}

#[test]
fn malformed_objects_are_located_and_all_reported() {
    let text = "\
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  users:
    get: {}
  /a/{id}:
    get:
      parameters:
        - name: id
          in: body
        - in: query
        - name: s
          in: query
          style: fancy
      responses:
        '200 OK': {description: x}
        '201':
          description: x
          links:
            next: {operationId: nowhere}
            other: {description: no target}
";
    let errors = import_errors("api.yaml", text);
    let found: Vec<((usize, usize), &str)> = errors
        .iter()
        .map(|e| (place(e), e.message.as_str()))
        .collect();
    let expect = [
        ((4, 3), "path `users` must start with `/`"),
        ((10, 11), "`in` must be path, query, header or cookie"),
        ((11, 11), "needs a `name`"),
        ((14, 11), "unknown `style`"),
        ((16, 9), "response key `200 OK`"),
        ((20, 20), "no operation has this operationId"),
        ((21, 13), "needs an `operationId` or an `operationRef`"),
    ];
    assert_eq!(found.len(), expect.len(), "{errors:#?}");
    for ((place, message), (want_place, want)) in found.iter().zip(expect) {
        assert_eq!(*place, want_place, "{message}");
        assert!(message.contains(want), "{message} should contain {want}");
    }
}

#[test]
fn ref_cycles_and_bad_input_do_not_hang_or_panic() {
    let text = "\
openapi: 3.0.3
paths:
  /a:
    get:
      parameters: [{$ref: '#/components/parameters/A'}]
components:
  parameters:
    A: {$ref: '#/components/parameters/B'}
    B: {$ref: '#/components/parameters/A'}
";
    let errors = import_errors("api.yaml", text);
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("leads back to itself")),
        "{errors:?}"
    );
    let errors = import_errors(
        "api.yaml",
        "openapi: 3.0.0\ncomponents:\n  schemas:\n    A: {nullable: true, $ref: 7}\n",
    );
    assert_eq!(place(&errors[0]), (4, 25), "{errors:?}");
    assert!(errors[0].message.contains("`$ref` must be text"));
    for text in [
        "",
        "[]",
        "openapi: 3.0.0\npaths: [1]\n",
        "openapi: 3.0.0\npaths:\n  /a: 3\n",
        "openapi: 3.0.0\npaths:\n  /a:\n    get: [1]\n",
        "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      parameters: {}\n      requestBody: 1\n      responses: []\n",
        "openapi: 3.0.0\nservers: {url: x}\nsecurity: 1\npaths: {/a: {get: {security: [1]}}}\n",
        "openapi: 3.0.0\n? [a]\n: b\nx: .nan\n",
    ] {
        let _ = import_openapi(&OpenApiSource {
            name: "x.yaml".into(),
            text: text.into(),
        });
    }
}

#[test]
fn truncated_documents_never_panic() {
    for (name, text) in [("shop-3.0.yaml", SHOP), ("notes-3.1.json", NOTES)] {
        let cuts = text.char_indices().map(|(i, _)| i).step_by(9);
        for cut in cuts {
            let source = OpenApiSource {
                name: name.into(),
                text: text[..cut].into(),
            };
            if let Err(errors) = import_openapi(&source) {
                assert!(!errors.is_empty());
                for error in &errors {
                    assert!(error.line <= text[..cut].lines().count() + 1, "{error}");
                }
            }
        }
    }
}
