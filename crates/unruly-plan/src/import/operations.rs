//! Path items and their operations.

use super::bodies::read_body;
use super::context::{child, item, Context};
use super::locate::Seg;
use super::parameters::{merge, read_list};
use super::responses::{read_responses, LinkTarget};
use super::schemas::METHODS;
use serde_yaml::{Mapping, Value};
use std::collections::HashSet;
use std::sync::OnceLock;
use unruly_core::{ApiOperation, ApiParameter};

/// Every operation under `paths`, in document order; links by
/// `operationId` are checked against them.
pub(crate) fn read_operations(ctx: &mut Context<'_>) -> Vec<ApiOperation> {
    let doc = ctx.doc;
    let paths_path = vec![Seg::key("paths")];
    let paths = match doc.get("paths") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Mapping(paths)) => paths,
        Some(_) => {
            ctx.error(
                &paths_path,
                "`paths` must be a mapping: path names such as `/users` with their operations",
            );
            return Vec::new();
        }
    };
    let top_security = doc.get("security").map(|s| (s, vec![Seg::key("security")]));
    let mut operations = Vec::new();
    let mut links = Vec::new();
    for (name, node) in paths {
        let name = name.as_str().unwrap_or_default();
        if name.starts_with("x-") {
            continue;
        }
        let path = child(&paths_path, name);
        if !name.starts_with('/') {
            ctx.error(
                &path,
                format!("path `{name}` must start with `/`: write `/{name}`"),
            );
            continue;
        }
        let Some((node, item_path)) = ctx.resolve(node, path) else {
            continue;
        };
        if node.is_null() {
            // `/health:` with nothing under it: no operations.
            continue;
        }
        let Some(path_item) = ctx.mapping(node, &item_path, "a path item") else {
            continue;
        };
        let shared = read_list(ctx, path_item, &item_path);
        for method in METHODS {
            let Some(op) = path_item.get(method) else {
                continue;
            };
            let op_path = child(&item_path, method);
            let op = if op.is_null() { empty() } else { op };
            let Some(op) = ctx.mapping(op, &op_path, "an operation") else {
                continue;
            };
            let operation = OperationSource {
                method,
                path: name,
                op,
                op_path: &op_path,
                shared: &shared,
                top_security: top_security.as_ref().map(|(s, p)| (*s, p.as_slice())),
            };
            operations.push(operation.read(ctx, &mut links));
        }
    }
    check_links(ctx, &operations, &links);
    operations
}

/// An empty mapping, for an operation written with nothing under it.
fn empty() -> &'static Value {
    static EMPTY: OnceLock<Value> = OnceLock::new();
    EMPTY.get_or_init(|| Value::Mapping(Mapping::new()))
}

/// What one operation is read from.
struct OperationSource<'a, 's> {
    method: &'static str,
    path: &'s str,
    op: &'a Mapping,
    op_path: &'s [Seg],
    shared: &'s [ApiParameter],
    top_security: Option<(&'a Value, &'s [Seg])>,
}

impl<'a> OperationSource<'a, '_> {
    fn read(&self, ctx: &mut Context<'a>, links: &mut Vec<LinkTarget>) -> ApiOperation {
        let op = self.op;
        let operation_id = match op.get("operationId") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(id.clone()),
            Some(_) => {
                ctx.error(
                    &child(self.op_path, "operationId"),
                    "`operationId` must be text",
                );
                None
            }
        };
        let own = read_list(ctx, op, self.op_path);
        let body = op
            .get("requestBody")
            .and_then(|b| read_body(ctx, b, child(self.op_path, "requestBody")));
        let responses = read_responses(ctx, op, self.op_path, links);
        let security = match op.get("security") {
            Some(list) => security_names(ctx, list, &child(self.op_path, "security")),
            None => self
                .top_security
                .map(|(list, path)| security_names(ctx, list, path))
                .unwrap_or_default(),
        };
        ApiOperation {
            method: self.method.to_ascii_uppercase(),
            path: self.path.to_string(),
            operation_id,
            parameters: merge(self.shared, own),
            body,
            responses,
            security,
        }
    }
}

/// The scheme names of a `security` list, each once, in order.
fn security_names<'a>(ctx: &mut Context<'a>, list: &'a Value, path: &[Seg]) -> Vec<String> {
    let Value::Sequence(requirements) = list else {
        ctx.error(
            path,
            "`security` must be a list of requirements, e.g. `- bearerAuth: []`",
        );
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    for (i, requirement) in requirements.iter().enumerate() {
        let Some(requirement) = ctx.mapping(requirement, &item(path, i), "a security requirement")
        else {
            continue;
        };
        for name in requirement.keys().filter_map(Value::as_str) {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// Every link's `operationId` names an operation of the document.
fn check_links(ctx: &mut Context<'_>, operations: &[ApiOperation], links: &[LinkTarget]) {
    let ids: HashSet<&str> = operations
        .iter()
        .filter_map(|o| o.operation_id.as_deref())
        .collect();
    for link in links {
        if !ids.contains(link.operation_id.as_str()) {
            ctx.error(
                &link.path,
                format!(
                    "link to operationId \"{}\": no operation has this operationId; fix the name or use `operationRef`",
                    link.operation_id
                ),
            );
        }
    }
}
