//! RFC 9457 problem bodies: every error the API answers names its kind and, where one is at
//! fault, the field.

use serde::Serialize;
use spin_sdk::http::{Method, Response};

use crate::postloan::overdue::overdue::Error as OverdueError;
use crate::postloan::scoring::scoring::{Error as ScoringError, ModelInfo};

/// An error answered as `application/problem+json`.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

impl From<postloan_domain::FieldError> for Problem {
    fn from(error: postloan_domain::FieldError) -> Self {
        Self::invalid_field(error.field, &error.reason)
    }
}

impl Problem {
    /// A field of the request that is missing, unknown, malformed or inconsistent.
    pub fn invalid_field(field: String, reason: &str) -> Self {
        Self {
            kind: "urn:postloan:problem:invalid-field",
            title: "Invalid field",
            status: 400,
            detail: format!("{field}: {reason}"),
            field: Some(field),
        }
    }

    /// A body that is not JSON at all.
    pub fn malformed_json(field: String, reason: &str) -> Self {
        Self {
            kind: "urn:postloan:problem:malformed-json",
            title: "Malformed JSON",
            status: 400,
            detail: format!("the body is not valid JSON: {reason}"),
            field: Some(field),
        }
    }

    /// No route for the path.
    pub fn not_found(path: &str) -> Self {
        Self {
            kind: "urn:postloan:problem:not-found",
            title: "Not found",
            status: 404,
            detail: format!("no resource at {path}"),
            field: None,
        }
    }

    /// A route that exists, called with a method it does not take.
    pub fn method_not_allowed(method: &Method) -> Self {
        Self {
            kind: "urn:postloan:problem:method-not-allowed",
            title: "Method not allowed",
            status: 405,
            detail: format!("{method:?} is not allowed here"),
            field: None,
        }
    }

    /// A route that exists, called with a method it does not take; `allowed` are those it
    /// takes.
    pub fn method_not_allowed_here(method: &Method, allowed: &[String]) -> Self {
        let mut problem = Self::method_not_allowed(method);
        problem.detail = format!("{method:?} is not allowed here; {} are", allowed.join(", "));
        problem
    }

    /// A stored resource of the caller's tenant that does not exist.
    pub fn no_such(what: &str, id: &str) -> Self {
        Self {
            kind: "urn:postloan:problem:not-found",
            title: "Not found",
            status: 404,
            detail: format!("no {what} `{id}`"),
            field: None,
        }
    }

    /// A request without a valid API key.
    pub fn unauthorized(detail: &str) -> Self {
        Self {
            kind: "urn:postloan:problem:unauthorized",
            title: "Unauthorized",
            status: 401,
            detail: detail.to_owned(),
            field: None,
        }
    }

    /// A key whose role may not do this.
    pub fn forbidden(role: &str, needs: &str) -> Self {
        Self {
            kind: "urn:postloan:problem:forbidden",
            title: "Forbidden",
            status: 403,
            detail: format!("the role `{role}` may not do this; it needs {needs}"),
            field: None,
        }
    }

    /// A change that contradicts what is stored, naming the field.
    pub fn conflict(field: String, reason: &str) -> Self {
        Self {
            kind: "urn:postloan:problem:conflict",
            title: "Conflict",
            status: 409,
            detail: format!("{field}: {reason}"),
            field: Some(field),
        }
    }

    /// A body longer than the route takes.
    pub fn too_large(limit: usize) -> Self {
        Self {
            kind: "urn:postloan:problem:too-large",
            title: "Payload too large",
            status: 413,
            detail: format!("body: the body is longer than {limit} bytes"),
            field: Some("body".to_owned()),
        }
    }

    /// A failure that is not the caller's fault.
    pub fn internal(detail: String) -> Self {
        Self {
            kind: "urn:postloan:problem:internal",
            title: "Internal error",
            status: 500,
            detail,
            field: None,
        }
    }

    /// What the scorer plugged in answered instead of a score, naming it: `422` when it
    /// cannot score this loan, `500` when it failed or refused its settings.
    pub fn scorer(error: ScoringError, model: &ModelInfo) -> Self {
        let scorer = format!("scorer `{} {}`", model.name, model.version);
        let (status, kind, title, detail) = match error {
            ScoringError::Unscorable(why) => (
                422,
                "urn:postloan:problem:unscorable",
                "Unscorable loan",
                format!("{scorer} cannot score this loan: {why}"),
            ),
            ScoringError::InvalidSettings(e) => (
                500,
                "urn:postloan:problem:scorer-failed",
                "Scorer failed",
                format!(
                    "{scorer} refused the `scorecard` variable: {}: {}",
                    e.field, e.reason
                ),
            ),
            ScoringError::InvalidField(e) => (
                500,
                "urn:postloan:problem:scorer-failed",
                "Scorer failed",
                format!("{scorer} refused feature {}: {}", e.field, e.reason),
            ),
            ScoringError::Other(why) => (
                500,
                "urn:postloan:problem:scorer-failed",
                "Scorer failed",
                format!("{scorer} failed: {why}"),
            ),
        };
        Self {
            kind,
            title,
            status,
            detail,
            field: None,
        }
    }

    /// The same problem with its field named under `prefix`, for input nested in a larger
    /// document.
    pub fn under(mut self, prefix: &str) -> Self {
        if let Some(field) = self.field.take() {
            let nested = if field.is_empty() {
                prefix.to_owned()
            } else {
                format!("{prefix}.{field}")
            };
            self.detail = self.detail.replacen(&field, &nested, 1);
            self.field = Some(nested);
        }
        self
    }

    /// The same problem with `prefix` taken off its field, for input checked in a larger
    /// document than the one posted.
    pub fn unprefixed(mut self, prefix: &str) -> Self {
        if let Some(field) = self.field.take() {
            let bare = field.strip_prefix(prefix).unwrap_or(&field).to_owned();
            self.detail = self.detail.replacen(&field, &bare, 1);
            self.field = Some(bare);
        }
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// What went wrong, in words.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The field at fault, if any.
    #[cfg(test)]
    pub fn field(&self) -> &str {
        self.field.as_deref().unwrap_or_default()
    }

    /// The problem as an HTTP response.
    pub fn into_response(self) -> Response {
        // A problem body always serialises: it holds only strings and a number.
        let body = serde_json::to_vec_pretty(&self).unwrap_or_default();
        Response::builder()
            .status(self.status)
            .header("content-type", "application/problem+json")
            .body(body)
            .build()
    }
}

impl From<OverdueError> for Problem {
    fn from(error: OverdueError) -> Self {
        match error {
            OverdueError::InvalidField(e) => Problem::invalid_field(e.field, &e.reason),
            OverdueError::Other(detail) => {
                Problem::internal(format!("the overdue component failed: {detail}"))
            }
        }
    }
}
