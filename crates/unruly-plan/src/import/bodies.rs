//! Request bodies and the `content` maps of bodies and responses.

use super::context::{child, Context};
use super::locate::Seg;
use super::normalize::to_json;
use super::parameters::flag;
use serde_yaml::{Mapping, Value};
use unruly_core::{ApiBody, MediaType};

/// The request body object `node` at `path` (refs followed); `None` when
/// broken (reported).
pub(crate) fn read_body<'a>(
    ctx: &mut Context<'a>,
    node: &'a Value,
    path: Vec<Seg>,
) -> Option<ApiBody> {
    let (node, path) = ctx.resolve(node, path)?;
    let map = ctx.mapping(node, &path, "`requestBody`")?;
    let required = flag(ctx, map, &path, "required")?.unwrap_or(false);
    Some(ApiBody {
        required,
        contents: read_contents(ctx, map, &path),
    })
}

/// The media types under `content` of `owner`, in document order.
pub(crate) fn read_contents(
    ctx: &mut Context<'_>,
    owner: &Mapping,
    owner_path: &[Seg],
) -> Vec<MediaType> {
    let path = child(owner_path, "content");
    let map = match owner.get("content") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Mapping(map)) => map,
        Some(_) => {
            ctx.error(
                &path,
                "`content` must map media types (e.g. application/json) to their schemas",
            );
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(map.len());
    for (content_type, media) in map {
        let content_type = content_type.as_str().unwrap_or_default();
        let schema = match media {
            Value::Null => None,
            Value::Mapping(media) => media.get("schema").map(to_json),
            _ => {
                ctx.error(
                    &child(&path, content_type),
                    format!("media type `{content_type}` must be a mapping, e.g. with a `schema`"),
                );
                continue;
            }
        };
        out.push(MediaType {
            content_type: content_type.to_string(),
            schema,
        });
    }
    out
}
