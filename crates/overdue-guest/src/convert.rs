//! WIT records to domain types and back. Field paths use the HTTP API's JSON names, so an
//! error found here points the caller at the field they sent.

pub mod assessment;
pub mod behaviour;
pub mod loan;
pub mod policy;
pub mod schedule;

use postloan_domain::FieldError;

use crate::exports::postloan::overdue::overdue::Error;
use crate::postloan::core::types as wit;

/// A rejected field, as the interface's `invalid-field` error.
pub fn field_error(error: FieldError) -> Error {
    Error::InvalidField(wit::FieldError {
        field: error.field,
        reason: error.reason,
    })
}
