//! `POST /v1/assess`: a loan and a business date in, its assessment out.

use serde::{Deserialize, Serialize};
use spin_sdk::http::Response;

use crate::postloan::core::overdue::{self, Error};
use crate::postloan::core::types as wit;
use crate::problem::Problem;

/// The request body. Amounts and dates are strings, so no float ever touches money.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssessRequest {
    as_of: String,
    loan: LoanJson,
    #[serde(default)]
    policy: PolicyJson,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoanJson {
    id: String,
    currency: String,
    installments: Vec<InstallmentJson>,
    #[serde(default)]
    payments: Vec<PaymentJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InstallmentJson {
    seq: u32,
    due_date: String,
    principal: String,
    interest: String,
    fees: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentJson {
    id: String,
    value_date: String,
    amount: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PolicyJson {
    #[serde(default)]
    grace_days: u32,
}

/// Parses the body, asks the overdue component, and answers with the assessment as JSON.
pub fn handle(body: &[u8]) -> Result<Response, Problem> {
    let request = parse(body)?;
    let policy = wit::Policy {
        grace_days: request.policy.grace_days,
    };
    let assessment = overdue::assess(&loan(request.loan), &request.as_of, policy).map_err(
        |error| match error {
            Error::InvalidField(e) => Problem::invalid_field(e.field, &e.reason),
            Error::Other(detail) => {
                Problem::internal(format!("the overdue component failed: {detail}"))
            }
        },
    )?;
    Ok(crate::json(200, &AssessmentJson::from(assessment)))
}

fn parse(body: &[u8]) -> Result<AssessRequest, Problem> {
    let mut reader = serde_json::Deserializer::from_slice(body);
    let request: AssessRequest =
        serde_path_to_error::deserialize(&mut reader).map_err(|error| {
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

fn loan(loan: LoanJson) -> wit::Loan {
    wit::Loan {
        id: loan.id,
        currency: loan.currency,
        installments: loan
            .installments
            .into_iter()
            .map(|i| wit::Installment {
                seq: i.seq,
                due_date: i.due_date,
                principal: i.principal,
                interest: i.interest,
                fees: i.fees,
            })
            .collect(),
        payments: loan
            .payments
            .into_iter()
            .map(|p| wit::Payment {
                id: p.id,
                value_date: p.value_date,
                amount: p.amount,
            })
            .collect(),
    }
}

/// The response body: the WIT assessment under the HTTP API's JSON names.
#[derive(Serialize)]
struct AssessmentJson {
    loan_id: String,
    as_of: String,
    currency: String,
    dpd: u32,
    days_in_arrears: u32,
    overdue_since: Option<String>,
    overdue: BreakdownJson,
    outstanding: BreakdownJson,
    overpaid: String,
    installments: Vec<InstallmentAssessmentJson>,
    explanation: Vec<ReasonJson>,
}

#[derive(Serialize)]
struct BreakdownJson {
    principal: String,
    interest: String,
    fees: String,
    penalty: String,
    total: String,
}

#[derive(Serialize)]
struct InstallmentAssessmentJson {
    seq: u32,
    due_date: String,
    status: &'static str,
    paid: BreakdownJson,
    unpaid: BreakdownJson,
    paid_off_on: Option<String>,
    days_late: u32,
}

#[derive(Serialize)]
struct ReasonJson {
    rule: String,
    detail: String,
}

impl From<wit::Assessment> for AssessmentJson {
    fn from(a: wit::Assessment) -> Self {
        Self {
            loan_id: a.loan_id,
            as_of: a.as_of,
            currency: a.currency,
            dpd: a.dpd,
            days_in_arrears: a.days_in_arrears,
            overdue_since: a.overdue_since,
            overdue: a.overdue.into(),
            outstanding: a.outstanding.into(),
            overpaid: a.overpaid.amount,
            installments: a.installments.into_iter().map(Into::into).collect(),
            explanation: a
                .explanation
                .into_iter()
                .map(|r| ReasonJson {
                    rule: r.rule,
                    detail: r.detail,
                })
                .collect(),
        }
    }
}

impl From<wit::Breakdown> for BreakdownJson {
    fn from(b: wit::Breakdown) -> Self {
        Self {
            principal: b.principal,
            interest: b.interest,
            fees: b.fees,
            penalty: b.penalty,
            total: b.total,
        }
    }
}

impl From<wit::InstallmentAssessment> for InstallmentAssessmentJson {
    fn from(i: wit::InstallmentAssessment) -> Self {
        Self {
            seq: i.seq,
            due_date: i.due_date,
            status: match i.status {
                wit::InstallmentStatus::Paid => "paid",
                wit::InstallmentStatus::PartiallyPaid => "partially_paid",
                wit::InstallmentStatus::Overdue => "overdue",
                wit::InstallmentStatus::DueToday => "due_today",
                wit::InstallmentStatus::NotDue => "not_due",
            },
            paid: i.paid.into(),
            unpaid: i.unpaid.into(),
            paid_off_on: i.paid_off_on,
            days_late: i.days_late,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(body: &str) -> String {
        parse(body.as_bytes())
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
}
