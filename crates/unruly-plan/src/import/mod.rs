//! OpenAPI 3.0 and 3.1 import: a JSON or YAML document into an
//! [`ApiSpec`], every operation with its parameters, bodies and responses.
//!
//! The import runs in stages:
//!
//! 1. [`crate::openapi::read_document`] parses the text and checks the
//!    `openapi` version (Swagger 2.0 and unknown versions are refused).
//! 2. [`normalize`] makes the YAML JSON-shaped (`200:` keys become `"200"`).
//! 3. [`schemas`] walks every schema: for OpenAPI 3.0 it translates them to
//!    JSON Schema 2020-12 ([`translate`]); for any version it collects the
//!    `$ref`s, which must be local (`#/...`) and point somewhere.
//! 4. [`operations`] reads the operations from the translated document,
//!    following refs to parameters, bodies, responses and links.
//!
//! Every problem is collected with its place (`file:line:col`, found by
//! [`locate`]) and all are returned together.

mod bodies;
mod context;
mod locate;
mod normalize;
mod operations;
mod parameters;
mod pointer;
mod responses;
mod schemas;
mod translate;

use crate::error::PlanErrors;
use crate::openapi::read_document;
use crate::starter::OpenApiSource;
use context::Context;
use locate::Seg;
use normalize::{normalize, scalar_text, to_json};
use pointer::follow;
use serde_yaml::Value;
use unruly_core::ApiSpec;

/// Imports an OpenAPI 3.0 or 3.1 document (JSON or YAML).
///
/// Operations come in document order (paths in order; methods get, put,
/// post, delete, options, head, patch, trace). Refs to parameters, request
/// bodies, responses, links and path items are followed; schema `$ref`s stay
/// as written and resolve against [`ApiSpec::document`]. OpenAPI 3.0 schemas
/// are translated to JSON Schema 2020-12 throughout the document (`nullable`,
/// boolean `exclusiveMinimum`/`exclusiveMaximum`); 3.1 schemas are kept as
/// written.
///
/// # Errors
///
/// Every problem found, each with its place (`file:line:col` where it can be
/// found): text that is not YAML or JSON, Swagger 2.0 or an unknown version,
/// `$ref`s that are not local (`#/...`) or point nowhere, malformed
/// parameters, bodies, responses or links.
pub fn import_openapi(source: &OpenApiSource) -> Result<ApiSpec, PlanErrors> {
    let (raw, version) = read_document(source)?;
    let mut issues = Vec::new();
    let mut doc = normalize(raw, &mut issues);
    let refs = schemas::walk_document(&mut doc, is_openapi_30(&version));

    let mut ctx = Context::new(source, &doc);
    for (path, message) in issues {
        ctx.error(&path, message);
    }
    for found in &refs {
        match &found.reference {
            None => ctx.error(
                &found.path,
                "`$ref` must be text, e.g. \"#/components/schemas/User\"",
            ),
            Some(reference) => {
                let followed = follow(&doc, found.rewritten.as_deref().unwrap_or(reference));
                if let Err(error) = followed {
                    ctx.ref_error(&found.path, reference, &error);
                }
            }
        }
    }
    let title = doc
        .get("info")
        .and_then(|info| info.get("title"))
        .and_then(scalar_text);
    let servers = servers(&mut ctx, &doc);
    let operations = operations::read_operations(&mut ctx);
    let errors = ctx.finish();
    if !errors.is_empty() {
        return Err(PlanErrors { errors });
    }
    Ok(ApiSpec {
        title,
        openapi_version: version,
        servers,
        operations,
        document: to_json(&doc),
    })
}

/// Whether `version` (as written) is OpenAPI 3.0, whose schemas need translating.
fn is_openapi_30(version: &str) -> bool {
    version == "3" || version == "3.0" || version.starts_with("3.0.")
}

/// `servers[].url`, as written.
fn servers(ctx: &mut Context<'_>, doc: &Value) -> Vec<String> {
    let path = [Seg::key("servers")];
    let list = match doc.get("servers") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Sequence(list)) => list,
        Some(_) => {
            ctx.error(
                &path,
                "`servers` must be a list, e.g. `- url: https://api.example.com`",
            );
            return Vec::new();
        }
    };
    let mut urls = Vec::with_capacity(list.len());
    for (i, server) in list.iter().enumerate() {
        match server.get("url").and_then(Value::as_str) {
            Some(url) => urls.push(url.to_string()),
            None => ctx.error(
                &context::item(&path, i),
                "a server needs a `url` (text), e.g. `url: https://api.example.com`",
            ),
        }
    }
    urls
}
