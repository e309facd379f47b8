//! Rejected input, named by where it is and why.

use std::fmt;

/// An input field that was rejected: its path in the HTTP API's JSON names and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the offending field, such as `loan.installments[1].principal`.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FieldError {
    /// A rejection of `field` for `reason`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error for a loan found at `path` rather than at `loan`, such as `loans[2]`.
    pub fn rebased(self, path: &str) -> Self {
        match self.field.strip_prefix("loan") {
            Some(rest) => Self::new(format!("{path}{rest}"), self.reason),
            None => self,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for FieldError {}
