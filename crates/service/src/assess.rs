//! `POST /v1/assess` and `POST /v1/assess/borrower`: loans and a business date in, their
//! assessments out.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use spin_sdk::http::Response;

use crate::input::{HistoryJson, LoanJson, PolicyJson};
use crate::postloan::core::types as wit;
use crate::postloan::overdue::overdue;
use crate::problem::Problem;
use crate::request::parse;
use crate::score::{self, AssessedJson};

/// `POST /v1/assess`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessRequest {
    pub(crate) as_of: String,
    pub(crate) loan: LoanJson,
    #[serde(default)]
    pub(crate) policy: PolicyJson,
    #[serde(default)]
    pub(crate) history: HistoryJson,
}

/// `POST /v1/assess/borrower`: several loans of one borrower.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BorrowerRequest {
    as_of: String,
    loans: Vec<LoanJson>,
    #[serde(default)]
    policy: PolicyJson,
}

/// Assesses one loan and scores it with the plugged-in scorer.
pub fn loan(body: &[u8]) -> Result<Response, Problem> {
    let scored = score::assess_and_score(parse(body)?)?;
    Ok(crate::json(200, &AssessedJson::from(scored)))
}

/// Assesses a borrower's loans together, and scores each with the plugged-in scorer.
pub fn borrower(body: &[u8]) -> Result<Response, Problem> {
    let request: BorrowerRequest = parse(body)?;
    let policy = request.policy.into_wit()?;
    let loans: Vec<wit::Loan> = request.loans.into_iter().map(Into::into).collect();
    let assessed =
        overdue::assess_borrower(&loans, &request.as_of, &policy).map_err(Problem::from)?;
    let totals = totals(&assessed.loans)?;
    let scored = loans
        .iter()
        .zip(assessed.loans)
        .map(|(loan, assessment)| {
            score::score(
                loan,
                assessment,
                &request.as_of,
                &policy,
                HistoryJson::default().into(),
            )
            .map(AssessedJson::from)
        })
        .collect::<Result<_, _>>()?;
    Ok(crate::json(
        200,
        &BorrowerJson {
            loans: scored,
            worst_classification: assessed.worst_classification,
            contagion_applied: assessed.contagion_applied,
            totals,
        },
    ))
}

#[derive(Serialize)]
struct BorrowerJson {
    loans: Vec<AssessedJson>,
    worst_classification: String,
    contagion_applied: bool,
    totals: Vec<TotalJson>,
}

/// What a borrower owes in one currency, over all their loans in it.
#[derive(Serialize, Debug, PartialEq)]
struct TotalJson {
    currency: String,
    /// Everything still unpaid, due or not: the borrower's exposure.
    outstanding: String,
    /// What is past due.
    overdue: String,
}

/// The borrower's exposure and overdue amount per currency, currencies in order: amounts of
/// different currencies are never added.
fn totals(assessments: &[wit::Assessment]) -> Result<Vec<TotalJson>, Problem> {
    let mut by_currency: BTreeMap<&str, (Decimal, Decimal)> = BTreeMap::new();
    for a in assessments {
        let amount = |text: &str| {
            text.parse::<Decimal>().map_err(|_| {
                Problem::internal(format!("the overdue component wrote `{text}` as an amount"))
            })
        };
        let (outstanding, overdue) = by_currency.entry(&a.currency).or_default();
        let overflow =
            || Problem::invalid_field("loans".into(), "owe more in total than an amount holds");
        *outstanding = outstanding
            .checked_add(amount(&a.outstanding.total)?)
            .ok_or_else(overflow)?;
        *overdue = overdue
            .checked_add(amount(&a.overdue.total)?)
            .ok_or_else(overflow)?;
    }
    Ok(by_currency
        .into_iter()
        .map(|(currency, (outstanding, overdue))| TotalJson {
            currency: currency.to_owned(),
            outstanding: outstanding.to_string(),
            overdue: overdue.to_string(),
        })
        .collect())
}

/// The response body: the WIT assessment under the HTTP API's JSON names.
#[derive(Serialize)]
pub struct AssessmentJson {
    loan_id: String,
    as_of: String,
    currency: String,
    dpd: u32,
    days_in_arrears: u32,
    overdue_since: Option<String>,
    overdue: BreakdownJson,
    outstanding: BreakdownJson,
    bucket: String,
    classification: String,
    next_due: Option<NextDueJson>,
    overpaid: String,
    reschedules: Vec<RescheduledJson>,
    forborne: bool,
    installments: Vec<InstallmentAssessmentJson>,
    explanation: Vec<ReasonJson>,
}

/// A restructure or re-age as it took effect.
#[derive(Serialize)]
struct RescheduledJson {
    on: String,
    kind: &'static str,
    moved: BreakdownJson,
    capitalised: String,
    first_new_seq: Option<u32>,
    last_new_seq: Option<u32>,
}

impl From<wit::Rescheduled> for RescheduledJson {
    fn from(r: wit::Rescheduled) -> Self {
        Self {
            on: r.on,
            kind: match r.kind {
                wit::ReliefKind::Restructure => "restructure",
                wit::ReliefKind::ReAge => "re_age",
            },
            moved: r.moved.into(),
            capitalised: r.capitalised,
            first_new_seq: r.new_installments.map(|(first, _)| first),
            last_new_seq: r.new_installments.map(|(_, last)| last),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct BreakdownJson {
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
    effective_due_date: String,
    status: &'static str,
    paid: BreakdownJson,
    unpaid: BreakdownJson,
    paid_off_on: Option<String>,
    days_late: u32,
}

#[derive(Serialize)]
struct NextDueJson {
    date: String,
    amount: String,
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
            bucket: a.bucket,
            classification: a.classification,
            next_due: a.next_due.map(|n| NextDueJson {
                date: n.date,
                amount: n.amount,
            }),
            overpaid: a.overpaid.amount,
            reschedules: a.reschedules.into_iter().map(Into::into).collect(),
            forborne: a.forborne,
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
            effective_due_date: i.effective_due_date,
            status: match i.status {
                wit::InstallmentStatus::Paid => "paid",
                wit::InstallmentStatus::PartiallyPaid => "partially_paid",
                wit::InstallmentStatus::Overdue => "overdue",
                wit::InstallmentStatus::DueToday => "due_today",
                wit::InstallmentStatus::NotDue => "not_due",
                wit::InstallmentStatus::Rescheduled => "rescheduled",
            },
            paid: i.paid.into(),
            unpaid: i.unpaid.into(),
            paid_off_on: i.paid_off_on,
            days_late: i.days_late,
        }
    }
}
