//! `POST /users` and `GET /users/{id}`.
//!
//! The buggy variant checks the email with a backtracking matcher before anything else
//! (slow on a long run without `@`), cuts the name for its log line at byte 16 (a panic
//! when that cuts a character), and reads back a `null` display name for names without an
//! ASCII letter or digit. The correct one validates the body against the `NewUser` schema,
//! cuts by characters and falls back to `user {id}`.

use http::header::{HeaderValue, LOCATION};
use http::request::Parts;
use http::{Response, StatusCode};
use serde::Serialize;
use serde_json::Value;

use crate::backtrack::{self, Outcome};
use crate::leaks;
use crate::respond::{self, ApiError, Body};
use crate::shop::Shop;
use crate::users::User;
use crate::validate::{self, BodySchema};
use crate::Variant;

/// Where the log line cuts a long name.
const SHORT_NAME: usize = 16;

/// `POST /users`, once its body has arrived.
pub(crate) async fn create(
    shop: &Shop,
    parts: &Parts,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    validate::require_json(&parts.headers)?;
    let value = validate::json(body)?;
    let name = value.get("name").and_then(Value::as_str);
    let short = match shop.variant {
        Variant::Buggy => {
            // Bug: a "quick" email pre-check, before any other validation, by a pattern
            // with a nested quantifier.
            if let Some(email) = value.get("email").and_then(Value::as_str) {
                if precheck_email(email).await != Outcome::Matched {
                    return Err(ApiError::BadRequest(
                        "email is not a valid address".to_owned(),
                    ));
                }
            }
            // Bug: the log line cuts the name at a byte index.
            match name.map(short_name_by_bytes) {
                Some(Err(panic)) => return Ok(respond::leaky_500(shop, panic)),
                Some(Ok(short)) => Some(short.to_owned()),
                None => None,
            }
        }
        Variant::Correct => name.map(short_name_by_chars),
    };
    validate::body(BodySchema::NewUser, &value)?;
    let (Some(name), Some(email)) = (
        value.get("name").and_then(Value::as_str),
        value.get("email").and_then(Value::as_str),
    ) else {
        // The schema requires both strings: this only guards against a schema edit.
        return Err(ApiError::BadRequest(
            "name and email are required strings".to_owned(),
        ));
    };
    let id = shop.users.add(name.to_owned(), email.to_owned());
    shop.log(format!(
        "created user {id} ({})",
        short.as_deref().unwrap_or_default()
    ));
    Ok(created(id))
}

/// `GET /users/{id}`.
pub(crate) fn get(shop: &Shop, raw_id: &str) -> Result<Response<Body>, ApiError> {
    let id = validate::integer::<u64>(raw_id)
        .ok()
        .filter(|&id| id >= 1)
        .ok_or_else(|| ApiError::BadRequest("id must be an integer of at least 1".to_owned()))?;
    let user = shop
        .users
        .get(id)
        .ok_or_else(|| ApiError::NotFound(format!("user {id} not found")))?;
    Ok(respond::json(
        StatusCode::OK,
        &UserView::of(&user, shop.variant),
    ))
}

/// A user as it goes on the wire.
#[derive(Debug, Serialize)]
struct UserView<'a> {
    id: u64,
    name: &'a str,
    email: &'a str,
    /// `None` (`null`) only in the buggy variant.
    display_name: Option<String>,
    created_at: &'a str,
}

impl<'a> UserView<'a> {
    fn of(user: &'a User, variant: Variant) -> UserView<'a> {
        UserView {
            id: user.id,
            name: &user.name,
            email: &user.email,
            display_name: display_name(user, variant),
            created_at: &user.created_at,
        }
    }
}

/// The name with only its ASCII letters, digits and spaces, trimmed. When nothing is left
/// the buggy variant has no display name at all; the correct one says `user {id}`.
fn display_name(user: &User, variant: Variant) -> Option<String> {
    let kept: String = user
        .name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .collect();
    let kept = kept.trim();
    match (kept.is_empty(), variant) {
        (false, _) => Some(kept.to_owned()),
        // Bug: nothing left is `null`, which the schema does not allow.
        (true, Variant::Buggy) => None,
        (true, Variant::Correct) => Some(format!("user {}", user.id)),
    }
}

/// The buggy variant's pre-check, off the async workers (it can burn a second of CPU).
async fn precheck_email(email: &str) -> Outcome {
    let head: String = email.chars().take(backtrack::WINDOW).collect();
    tokio::task::spawn_blocking(move || backtrack::check_email(&head))
        .await
        .unwrap_or(Outcome::NoMatch)
}

/// The buggy variant's short name: the first 16 bytes, as `&name[..16]` would cut them, or
/// the panic message that slice would print when byte 16 falls inside a character.
fn short_name_by_bytes(name: &str) -> Result<&str, String> {
    if name.len() <= SHORT_NAME {
        return Ok(name);
    }
    match name.get(..SHORT_NAME) {
        Some(short) => Ok(short),
        None => Err(leaks::byte_slice_panic(name, SHORT_NAME)
            .unwrap_or_else(|| leaks::SERVICE_PANICKED.to_owned())),
    }
}

/// The correct short name: the first 16 characters.
fn short_name_by_chars(name: &str) -> String {
    name.chars().take(SHORT_NAME).collect()
}

/// `201 Created` with `{"id": id}` and a `Location`.
fn created(id: u64) -> Response<Body> {
    #[derive(Serialize)]
    struct Created {
        id: u64,
    }
    let mut response = respond::json(StatusCode::CREATED, &Created { id });
    if let Ok(location) = HeaderValue::from_str(&format!("/users/{id}")) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> User {
        User {
            id: 7,
            name: name.to_owned(),
            email: "u@x.org".to_owned(),
            created_at: "2025-01-01T00:00:00.000Z".to_owned(),
        }
    }

    #[test]
    fn display_names_keep_ascii_letters_digits_and_spaces() {
        for variant in [Variant::Buggy, Variant::Correct] {
            let shown = |name: &str| display_name(&user(name), variant);
            assert_eq!(shown("Ada Lovelace"), Some("Ada Lovelace".into()));
            assert_eq!(shown("  Zoë 🎉 99 "), Some("Zo  99".into()));
            assert_eq!(
                shown("John_123__test_999999999"),
                Some("John123test999999999".into())
            );
        }
    }

    #[test]
    fn names_without_any_have_null_only_in_the_buggy_variant() {
        for name in ["🎉", "مرحبا", "\u{200b}", "   ", "李小龙", "-_-"] {
            assert_eq!(display_name(&user(name), Variant::Buggy), None, "{name}");
            assert_eq!(
                display_name(&user(name), Variant::Correct),
                Some("user 7".into()),
                "{name}"
            );
        }
    }

    #[test]
    fn short_names() {
        assert_eq!(short_name_by_bytes("Ada"), Ok("Ada"));
        assert_eq!(
            short_name_by_bytes(&"a".repeat(20)),
            Ok("a".repeat(16).as_str())
        );
        assert_eq!(short_name_by_bytes(&"🎉".repeat(5)), Ok("🎉🎉🎉🎉"));
        let cut = format!("{}é", "a".repeat(15));
        let panic = short_name_by_bytes(&cut).expect_err("byte 16 is inside é");
        assert!(
            panic.contains("byte index 16 is not a char boundary"),
            "{panic}"
        );
        assert_eq!(short_name_by_chars(&cut), cut);
        assert_eq!(short_name_by_chars(&"田".repeat(20)), "田".repeat(16));
    }
}
