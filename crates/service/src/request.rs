//! Request bodies: JSON parsed with the failing field's path, for problem bodies that name it.

use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// The longest body any route takes: room for a loan of [`postloan_domain::loan::MAX_INSTALLMENTS`]
/// installments and [`postloan_domain::loan::MAX_PAYMENTS`] payments, refused before parsing.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Parses a JSON body into `T`; a body over [`MAX_BODY_BYTES`] is a 413, any other failure a
/// 400 problem naming the field.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Problem::too_large(MAX_BODY_BYTES));
    }
    let mut reader = serde_json::Deserializer::from_slice(body);
    let request: T = serde_path_to_error::deserialize(&mut reader).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let reason = inner.to_string();
        if inner.is_syntax() || inner.is_eof() {
            Problem::malformed_json(field_path(&path, None), &reason)
        } else {
            Problem::invalid_field(field_path(&path, missing_field(&reason)), &reason)
        }
    })?;
    reader
        .end()
        .map_err(|error| Problem::malformed_json("body".to_owned(), &error.to_string()))?;
    Ok(request)
}

/// Reads `value`, the part of a request at `at` (empty for the whole of it), into `T`; a
/// failure is a 400 problem naming the field under `at`, as [`parse`] names it.
#[cfg(feature = "spin")]
pub fn from_value<T: DeserializeOwned>(value: &serde_json::Value, at: &str) -> Result<T, Problem> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = join(at, error.path().to_string().trim_end_matches(['?', '.']));
        let reason = error.into_inner().to_string();
        let field = match missing_field(&reason) {
            Some(child) => join(&path, child),
            None => path,
        };
        Problem::invalid_field(field, &reason)
    })
}

/// `parent.child`, `parent[i]` for an index, or either alone when the other is empty.
#[cfg(feature = "spin")]
fn join(parent: &str, child: &str) -> String {
    match (parent, child) {
        ("", child) => child.to_owned(),
        (parent, "") => parent.to_owned(),
        (parent, child) if child.starts_with('[') => format!("{parent}{child}"),
        (parent, child) => format!("{parent}.{child}"),
    }
}

/// The name in serde's "missing field `name`" error, whose path stops at the parent.
fn missing_field(reason: &str) -> Option<&str> {
    reason.strip_prefix("missing field `")?.split('`').next()
}

/// A field's path as the problem body names it: `body` for the whole document. serde marks a
/// key it never read (the input ended first) as `?`; the path then stops at its parent.
fn field_path(parent: &str, child: Option<&str>) -> String {
    let known = parent.trim_end_matches('?').trim_end_matches('.');
    match (known, child) {
        ("", None) => "body".to_owned(),
        ("", Some(child)) => child.to_owned(),
        (known, None) => known.to_owned(),
        (known, Some(child)) => format!("{known}.{child}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(body: &str) -> String {
        parse::<crate::assess::AssessRequest>(body.as_bytes())
            .err()
            .expect("refused")
            .field()
            .to_owned()
    }

    #[test]
    fn names_missing_unknown_and_mistyped_fields() {
        assert_eq!(field_of("{}"), "as_of");
        assert_eq!(
            field_of(r#"{"as_of": "x", "loan": {"id": "L"}}"#),
            "loan.currency"
        );
        assert_eq!(field_of(r#"{"as_of": "x", "colour": 1}"#), "colour");
        assert_eq!(
            field_of(
                r#"{"as_of": "x", "loan": {"id": "L", "currency": "CNY",
                    "installments": [{"seq": 1, "due_date": "d", "principal": 1}]}}"#
            ),
            "loan.installments[0].principal"
        );
        assert_eq!(field_of("not json"), "body");
        assert_eq!(field_of(r#"{"as_of": "x", "#), "body");
        assert_eq!(field_of(r#"{"as_of": "x", "loan": {"id": "#), "loan.id");
        assert_eq!(field_of(r#"{"as_of": "x", "loan": {"id": "L", "#), "loan");
        assert_eq!(field_of(r#"{"as_of": "x"}"#), "loan");
        let complete =
            r#"{"as_of": "x", "loan": {"id": "L", "currency": "C", "installments": []}}"#;
        assert_eq!(field_of(&format!("{complete} trailing")), "body");
    }

    #[test]
    fn a_value_inside_a_request_is_named_under_its_place() {
        let field = |value: serde_json::Value, at: &str| {
            from_value::<crate::assess::AssessRequest>(&value, at)
                .err()
                .expect("refused")
                .field()
                .to_owned()
        };
        assert_eq!(field(serde_json::json!({}), "data"), "data.as_of");
        assert_eq!(
            field(serde_json::json!({ "as_of": "x", "colour": 1 }), ""),
            "colour"
        );
        assert_eq!(
            field(
                serde_json::json!({ "as_of": "x", "loan": { "id": "L" } }),
                "data"
            ),
            "data.loan.currency"
        );
        assert_eq!(field(serde_json::json!("text"), "data"), "data");
    }
}
