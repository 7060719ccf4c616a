//! Which operation produces the values another one takes: OpenAPI links where
//! the spec has them, otherwise path parameters matched by name to the
//! operation that creates the collection (`POST /users` feeds the `id` of
//! `GET /users/{id}`).

use unruly_core::{ApiSpec, ParameterLocation};

/// A parameter of one operation fed by a field of another one's answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    /// The operation that takes the value (index into the spec).
    pub consumer: usize,
    /// The parameter it goes in.
    pub location: ParameterLocation,
    /// The parameter's name.
    pub parameter: String,
    /// The operation whose 2xx answers hold the value.
    pub producer: usize,
    /// JSON pointer of the value in the producer's answer body, e.g. `/id`.
    pub pointer: String,
}

/// Every link of `spec`: OpenAPI links first, then path parameters matched by name.
pub(crate) fn find_links(spec: &ApiSpec) -> Vec<Link> {
    let mut links = Vec::new();
    for (producer, operation) in spec.operations.iter().enumerate() {
        for response in operation
            .responses
            .iter()
            .filter(|r| r.status.starts_with('2'))
        {
            for link in &response.links {
                let Some(consumer) = spec.operations.iter().position(|o| {
                    o.operation_id.as_deref() == Some(link.operation.as_str())
                        || o.name() == link.operation
                }) else {
                    continue;
                };
                for (parameter, expression) in &link.parameters {
                    let Some(pointer) = expression.strip_prefix("$response.body#") else {
                        continue;
                    };
                    let Some(location) = spec.operations[consumer]
                        .parameters
                        .iter()
                        .find(|p| &p.name == parameter)
                        .map(|p| p.location)
                    else {
                        continue;
                    };
                    push(
                        &mut links,
                        Link {
                            consumer,
                            location,
                            parameter: parameter.clone(),
                            producer,
                            pointer: pointer.to_owned(),
                        },
                    );
                }
            }
        }
    }
    for (consumer, operation) in spec.operations.iter().enumerate() {
        let segments: Vec<&str> = operation.path.split('/').collect();
        for (at, segment) in segments.iter().enumerate() {
            let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
                continue;
            };
            if links
                .iter()
                .any(|l| l.consumer == consumer && l.parameter == name)
            {
                continue;
            }
            let collection = segments[..at].join("/");
            let Some(producer) = spec
                .operations
                .iter()
                .position(|o| o.method == "POST" && o.path == collection)
            else {
                continue;
            };
            push(
                &mut links,
                Link {
                    consumer,
                    location: ParameterLocation::Path,
                    parameter: name.to_owned(),
                    producer,
                    pointer: field_pointer(name),
                },
            );
        }
    }
    links
}

fn push(links: &mut Vec<Link>, link: Link) {
    if !links.contains(&link) {
        links.push(link);
    }
}

/// Where a parameter named `name` is found in a creation's answer: a field of
/// that name, which the pool falls back from to `id` (see [`value_at`]).
fn field_pointer(name: &str) -> String {
    format!("/{name}")
}

/// The value a link takes from an answer body, and the pointer it was found
/// at: the field at `pointer`, or the answer's `id` when a name-matched field
/// is missing (`{userId}` from `{"id": 5}`).
pub(crate) fn value_at<'a>(
    body: &'a serde_json::Value,
    pointer: &str,
) -> Option<(&'a serde_json::Value, String)> {
    body.pointer(pointer)
        .map(|v| (v, pointer.to_owned()))
        .or_else(|| body.get("id").map(|v| (v, "/id".to_owned())))
        .filter(|(v, _)| v.is_string() || v.is_number())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use unruly_core::{ApiLink, ApiOperation, ApiParameter, ApiResponse, ParameterStyle};

    fn operation(method: &str, path: &str, id: Option<&str>) -> ApiOperation {
        ApiOperation {
            method: method.into(),
            path: path.into(),
            operation_id: id.map(str::to_owned),
            parameters: path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .map(|name| ApiParameter {
                    name: name.into(),
                    location: ParameterLocation::Path,
                    required: true,
                    style: ParameterStyle::Simple,
                    explode: false,
                    schema: json!({"type": "integer"}),
                })
                .collect(),
            body: None,
            responses: vec![],
            security: vec![],
        }
    }

    fn spec(operations: Vec<ApiOperation>) -> ApiSpec {
        ApiSpec {
            title: None,
            openapi_version: "3.1.0".into(),
            servers: vec![],
            operations,
            document: json!({}),
        }
    }

    #[test]
    fn item_paths_are_fed_by_the_collection_post() {
        let spec = spec(vec![
            operation("GET", "/users/{userId}", None),
            operation("POST", "/users", None),
        ]);
        let links = find_links(&spec);
        assert_eq!(links.len(), 1);
        assert_eq!((links[0].consumer, links[0].producer), (0, 1));
        assert_eq!(links[0].pointer, "/userId");
        let answer = json!({"id": 7, "name": "x"});
        assert_eq!(
            value_at(&answer, &links[0].pointer),
            Some((&json!(7), "/id".to_owned()))
        );
    }

    #[test]
    fn openapi_links_win() {
        let mut create = operation("POST", "/accounts", None);
        create.responses.push(ApiResponse {
            status: "201".into(),
            contents: vec![],
            links: vec![ApiLink {
                name: "get".into(),
                operation: "getAccount".into(),
                parameters: vec![("key".into(), "$response.body#/account/key".into())],
            }],
        });
        let spec = spec(vec![
            create,
            operation("GET", "/accounts/{key}", Some("getAccount")),
        ]);
        let links = find_links(&spec);
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].pointer, "/account/key");
    }
}
