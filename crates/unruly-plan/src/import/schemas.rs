//! The walk over every schema of the document: where the OpenAPI structure
//! puts schemas (components, parameters, headers, bodies, responses,
//! callbacks, webhooks) and, inside schemas, every JSON Schema keyword that
//! holds sub-schemas.
//!
//! The walk translates OpenAPI 3.0 schemas (see [`super::translate`]) and
//! collects every `$ref` of a schema-bearing object, for checking. Values
//! that merely look like schemas (examples, `x-` extensions) are not touched.
//! The document is a tree, so the walk ends; a ref to a place the structure
//! does not reach (e.g. `#/x-defs/A`) is walked afterwards, once.
//!
//! A nullable 3.0 schema may be wrapped (`anyOf: [schema, {type: null}]`),
//! which moves its keywords to `anyOf/0`: refs that pointed inside it
//! (`#/components/schemas/A/properties/b`) are rewritten to follow.

use super::locate::Seg;
use super::pointer::{follow_tokens, node_mut, ref_text, ref_tokens, tokens};
use super::translate::translate;
use serde_yaml::Value;
use std::collections::HashSet;

/// The HTTP methods of a path item, in the order operations are listed.
pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Sub-schema keywords whose value is a schema.
const ONE: [&str; 12] = [
    "items",
    "additionalProperties",
    "not",
    "contains",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
    "additionalItems",
];

/// Sub-schema keywords whose value is a list of schemas.
const LISTS: [&str; 4] = ["allOf", "anyOf", "oneOf", "prefixItems"];

/// Sub-schema keywords whose value maps names to schemas.
const MAPS: [&str; 6] = [
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
    "dependencies",
];

/// A `$ref` found in the document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FoundRef {
    /// The path of the `$ref` key itself.
    pub path: Vec<Seg>,
    /// The ref as written; `None` when `$ref` is not text.
    pub reference: Option<String>,
    /// The ref as rewritten in the document, when translation moved its
    /// target (see the module doc).
    pub rewritten: Option<String>,
}

/// What an object is, by where it sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Document,
    Components,
    PathItem,
    Operation,
    Callback,
    Parameter,
    RequestBody,
    Response,
    MediaType,
    Encoding,
    Link,
    Schema,
}

/// Walks `doc`, translating 3.0 schemas when `translate_30`; returns every
/// `$ref` of a schema, parameter, header, body, response, link, callback or
/// path item, in walk order.
pub(crate) fn walk_document(doc: &mut Value, translate_30: bool) -> Vec<FoundRef> {
    let mut walker = Walker {
        translate: translate_30,
        refs: Vec::new(),
        seen: HashSet::new(),
        wrapped: HashSet::new(),
    };
    walker.visit(Kind::Document, doc, &mut Vec::new());
    // Refs to places the structure does not reach, each walked once.
    let mut next = 0;
    while let Some((found, kind)) = walker.refs.get(next).cloned() {
        next += 1;
        let Some(Ok(target)) = found.reference.as_deref().map(ref_tokens) else {
            continue;
        };
        let Ok((_, target)) = follow_tokens(doc, &walker.moved(&target)) else {
            continue;
        };
        if walker.seen.contains(&(target.clone(), kind)) {
            continue;
        }
        if let Some(node) = node_mut(doc, &tokens(&target)) {
            walker.visit(kind, node, &mut target.clone());
        }
    }
    let mut refs: Vec<FoundRef> = walker.refs.iter().map(|(found, _)| found.clone()).collect();
    if !walker.wrapped.is_empty() {
        for found in &mut refs {
            walker.rewrite(doc, found);
        }
    }
    refs
}

struct Walker {
    translate: bool,
    refs: Vec<(FoundRef, Kind)>,
    seen: HashSet<(Vec<Seg>, Kind)>,
    /// The schemas wrapped in `anyOf`, as pointer tokens.
    wrapped: HashSet<Vec<String>>,
}

impl Walker {
    /// Where pointer `tokens` (as written) now lead: `anyOf/0` inserted
    /// after every wrapped schema that the pointer goes into.
    fn moved(&self, tokens: &[String]) -> Vec<String> {
        let mut out = Vec::with_capacity(tokens.len());
        for (i, token) in tokens.iter().enumerate() {
            out.push(token.clone());
            if i + 1 < tokens.len() && self.wrapped.contains(&tokens[..=i]) {
                out.push("anyOf".into());
                out.push("0".into());
            }
        }
        out
    }

    /// Rewrites `found` in `doc` if its target moved.
    fn rewrite(&self, doc: &mut Value, found: &mut FoundRef) {
        let Some(Ok(target)) = found.reference.as_deref().map(ref_tokens) else {
            return;
        };
        let moved = self.moved(&target);
        if moved == target {
            return;
        }
        let rewritten = ref_text(&moved);
        if let Some(node) = node_mut(doc, &self.moved(&tokens(&found.path))) {
            *node = Value::String(rewritten.clone());
        }
        found.rewritten = Some(rewritten);
    }

    fn visit(&mut self, kind: Kind, node: &mut Value, path: &mut Vec<Seg>) {
        if !self.seen.insert((path.clone(), kind)) {
            return;
        }
        let Some(map) = node.as_mapping() else {
            return;
        };
        if let Some(reference) = map.get("$ref") {
            let mut ref_path = path.clone();
            ref_path.push(Seg::key("$ref"));
            self.refs.push((
                FoundRef {
                    path: ref_path,
                    reference: reference.as_str().map(str::to_string),
                    rewritten: None,
                },
                kind,
            ));
            // A reference object stands for its target; a schema's other
            // keywords still count.
            if kind != Kind::Schema {
                return;
            }
        }
        match kind {
            Kind::Document => {
                self.each_value(Kind::PathItem, node, "paths", path);
                self.each_value(Kind::PathItem, node, "webhooks", path);
                self.one(Kind::Components, node, "components", path);
            }
            Kind::Components => {
                for (key, kind) in [
                    ("schemas", Kind::Schema),
                    ("parameters", Kind::Parameter),
                    ("headers", Kind::Parameter),
                    ("requestBodies", Kind::RequestBody),
                    ("responses", Kind::Response),
                    ("callbacks", Kind::Callback),
                    ("pathItems", Kind::PathItem),
                    ("links", Kind::Link),
                ] {
                    self.each_value(kind, node, key, path);
                }
            }
            Kind::PathItem => {
                self.each_item(Kind::Parameter, node, "parameters", path);
                for method in METHODS {
                    self.one(Kind::Operation, node, method, path);
                }
            }
            Kind::Operation => {
                self.each_item(Kind::Parameter, node, "parameters", path);
                self.one(Kind::RequestBody, node, "requestBody", path);
                self.each_value(Kind::Response, node, "responses", path);
                self.each_value(Kind::Callback, node, "callbacks", path);
            }
            Kind::Callback => self.entries(Kind::PathItem, node, path),
            Kind::Parameter => {
                self.one(Kind::Schema, node, "schema", path);
                self.each_value(Kind::MediaType, node, "content", path);
            }
            Kind::RequestBody => self.each_value(Kind::MediaType, node, "content", path),
            Kind::Response => {
                self.each_value(Kind::Parameter, node, "headers", path);
                self.each_value(Kind::MediaType, node, "content", path);
                self.each_value(Kind::Link, node, "links", path);
            }
            Kind::MediaType => {
                self.one(Kind::Schema, node, "schema", path);
                self.each_value(Kind::Encoding, node, "encoding", path);
            }
            Kind::Encoding => self.each_value(Kind::Parameter, node, "headers", path),
            Kind::Link => {}
            Kind::Schema => {
                for key in ONE {
                    self.one(Kind::Schema, node, key, path);
                    // `items: [a, b]` (older drafts) is a list of schemas.
                    self.each_item(Kind::Schema, node, key, path);
                }
                for key in LISTS {
                    self.each_item(Kind::Schema, node, key, path);
                }
                for key in MAPS {
                    self.each_value(Kind::Schema, node, key, path);
                }
                if self.translate && translate(node) {
                    self.wrapped.insert(tokens(path));
                }
            }
        }
    }

    /// The mapping under `key`, visited as `kind`.
    fn one(&mut self, kind: Kind, node: &mut Value, key: &str, path: &mut Vec<Seg>) {
        let Some(child) = node.get_mut(key).filter(|c| c.is_mapping()) else {
            return;
        };
        path.push(Seg::key(key));
        self.visit(kind, child, path);
        path.pop();
    }

    /// Every item of the list under `key`, visited as `kind`.
    fn each_item(&mut self, kind: Kind, node: &mut Value, key: &str, path: &mut Vec<Seg>) {
        let Some(Value::Sequence(items)) = node.get_mut(key) else {
            return;
        };
        path.push(Seg::key(key));
        for (i, item) in items.iter_mut().enumerate() {
            path.push(Seg::Index(i));
            self.visit(kind, item, path);
            path.pop();
        }
        path.pop();
    }

    /// Every value of the mapping under `key` (but `x-` extensions where
    /// the structure allows them), visited as `kind`.
    fn each_value(&mut self, kind: Kind, node: &mut Value, key: &str, path: &mut Vec<Seg>) {
        let Some(child) = node.get_mut(key) else {
            return;
        };
        path.push(Seg::key(key));
        // Extensions sit among paths and responses; elsewhere an `x-` key is a name.
        if matches!(key, "paths" | "webhooks" | "responses") {
            self.entries(kind, child, path);
        } else if let Value::Mapping(map) = child {
            for (name, value) in map.iter_mut() {
                path.push(Seg::Key(name.as_str().unwrap_or_default().to_string()));
                self.visit(kind, value, path);
                path.pop();
            }
        }
        path.pop();
    }

    /// Every value of `node` but its `x-` extensions, visited as `kind`.
    fn entries(&mut self, kind: Kind, node: &mut Value, path: &mut Vec<Seg>) {
        let Value::Mapping(map) = node else { return };
        for (name, value) in map.iter_mut() {
            let name = name.as_str().unwrap_or_default();
            if name.starts_with("x-") {
                continue;
            }
            path.push(Seg::Key(name.to_string()));
            self.visit(kind, value, path);
            path.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::normalize::to_json;
    use serde_json::json;

    fn run(yaml: &str, translate: bool) -> (serde_json::Value, Vec<String>) {
        let mut doc: Value = serde_yaml::from_str(yaml).unwrap();
        let refs = walk_document(&mut doc, translate);
        (
            to_json(&doc),
            refs.into_iter().filter_map(|r| r.reference).collect(),
        )
    }

    const DOC: &str = r##"
paths:
  x-note: {nullable: true}
  /a:
    get:
      parameters:
        - {name: q, in: query, schema: {type: string, nullable: true}}
      responses:
        '200':
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Node'}
              example: {nullable: true}
          links:
            next: {$ref: '#/components/links/Next'}
components:
  schemas:
    Node:
      type: object
      properties:
        x-child: {$ref: '#/components/schemas/Node', nullable: true}
        n: {type: integer, minimum: 0, exclusiveMinimum: true}
        list: {type: array, items: {type: string, nullable: true}}
      additionalProperties: {$ref: '#/x-defs/Extra'}
x-defs:
  Extra: {type: string, nullable: true}
  Unused: {type: string, nullable: true}
"##;

    #[test]
    fn translates_schemas_only_and_collects_refs() {
        let (doc, refs) = run(DOC, true);
        assert_eq!(
            doc["paths"]["/a"]["get"]["parameters"][0]["schema"],
            json!({"type": ["string", "null"]})
        );
        let node = &doc["components"]["schemas"]["Node"];
        assert_eq!(
            node["properties"]["x-child"],
            json!({"anyOf": [{"$ref": "#/components/schemas/Node"}, {"type": "null"}]})
        );
        assert_eq!(
            node["properties"]["n"],
            json!({"type": "integer", "exclusiveMinimum": 0})
        );
        assert_eq!(
            node["properties"]["list"]["items"],
            json!({"type": ["string", "null"]})
        );
        // Reached through a ref only: translated too.
        assert_eq!(doc["x-defs"]["Extra"], json!({"type": ["string", "null"]}));
        // Not schemas: untouched.
        assert_eq!(doc["paths"]["x-note"], json!({"nullable": true}));
        assert_eq!(doc["x-defs"]["Unused"]["nullable"], json!(true));
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["example"],
            json!({"nullable": true})
        );
        assert_eq!(
            refs,
            [
                "#/components/schemas/Node",
                "#/components/links/Next",
                "#/x-defs/Extra",
                "#/components/schemas/Node",
            ]
        );
    }

    #[test]
    fn refs_into_wrapped_schemas_follow_them() {
        let mut doc: Value = serde_yaml::from_str(
            r##"
components:
  schemas:
    A:
      nullable: true
      allOf: [{$ref: '#/components/schemas/B'}]
      properties:
        b: {$ref: '#/components/schemas/A/properties/c'}
        c: {type: string}
    B: {$ref: '#/components/schemas/A/properties/c'}
    C: {$ref: '#/components/schemas/A'}
"##,
        )
        .unwrap();
        let refs = walk_document(&mut doc, true);
        let doc = to_json(&doc);
        let a = &doc["components"]["schemas"]["A"]["anyOf"][0];
        let moved = "#/components/schemas/A/anyOf/0/properties/c";
        assert_eq!(a["properties"]["b"]["$ref"], moved);
        assert_eq!(a["allOf"][0]["$ref"], "#/components/schemas/B");
        assert_eq!(doc["components"]["schemas"]["B"]["$ref"], moved);
        assert_eq!(
            doc["components"]["schemas"]["C"]["$ref"],
            "#/components/schemas/A"
        );
        let rewritten: Vec<Option<&str>> = refs.iter().map(|r| r.rewritten.as_deref()).collect();
        assert_eq!(rewritten, [None, Some(moved), Some(moved), None]);
        // Errors still name the ref as written, at its original place.
        assert_eq!(
            refs[1].reference.as_deref(),
            Some("#/components/schemas/A/properties/c")
        );
        assert_eq!(refs[1].path[3], Seg::key("properties"));
    }

    #[test]
    fn without_translation_schemas_stay_as_written() {
        let (doc, refs) = run(DOC, false);
        assert_eq!(
            doc["components"]["schemas"]["Node"]["properties"]["n"],
            json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true})
        );
        assert_eq!(refs.len(), 4);
    }
}
