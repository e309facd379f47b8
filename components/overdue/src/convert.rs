//! WIT records to domain types and back. Field paths use the HTTP API's JSON names, so an
//! error found here points the caller at the field they sent.

use postloan_domain::FieldError;
use postloan_domain::date::parse_date;
use postloan_domain::loan::{Installment, Loan, Payment};
use postloan_domain::money::Currency;
use postloan_domain::overdue::{self, InstallmentStatus as Status};

use crate::exports::postloan::core::overdue::Error;
use crate::postloan::core::types as wit;

/// A rejected field, as the interface's `invalid-field` error.
pub fn field_error(error: FieldError) -> Error {
    Error::InvalidField(wit::FieldError {
        field: error.field,
        reason: error.reason,
    })
}

/// Parses and checks a WIT loan.
pub fn loan(loan: wit::Loan) -> Result<Loan, FieldError> {
    let currency = Currency::parse("loan.currency", &loan.currency)?;
    let installments = loan
        .installments
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let at = |name: &str| format!("loan.installments[{i}].{name}");
            Ok(Installment {
                seq: item.seq,
                due_date: parse_date(&at("due_date"), &item.due_date)?,
                principal: currency.parse_amount(&at("principal"), &item.principal)?,
                interest: currency.parse_amount(&at("interest"), &item.interest)?,
                fees: currency.parse_amount(&at("fees"), &item.fees)?,
            })
        })
        .collect::<Result<_, FieldError>>()?;
    let payments = loan
        .payments
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let at = |name: &str| format!("loan.payments[{i}].{name}");
            Ok(Payment {
                value_date: parse_date(&at("value_date"), &item.value_date)?,
                amount: currency.parse_amount(&at("amount"), &item.amount)?,
                id: item.id,
            })
        })
        .collect::<Result<_, FieldError>>()?;
    Loan::new(loan.id, currency, installments, payments)
}

/// The domain assessment as its WIT record, amounts written in the currency's minor unit.
pub fn assessment(a: overdue::Assessment) -> wit::Assessment {
    let currency = a.currency;
    let breakdown = |b: &overdue::Breakdown| wit::Breakdown {
        principal: currency.format(b.principal),
        interest: currency.format(b.interest),
        fees: currency.format(b.fees),
        penalty: currency.format(b.penalty),
        total: currency.format(b.total()),
    };
    wit::Assessment {
        loan_id: a.loan_id,
        as_of: a.as_of.to_string(),
        currency: currency.code().to_owned(),
        dpd: a.dpd,
        days_in_arrears: a.days_in_arrears,
        overdue_since: a.overdue_since.map(|d| d.to_string()),
        overdue: breakdown(&a.overdue),
        outstanding: breakdown(&a.outstanding),
        overpaid: wit::Money {
            amount: currency.format(a.overpaid),
            currency: currency.code().to_owned(),
        },
        installments: a
            .installments
            .iter()
            .map(|i| wit::InstallmentAssessment {
                seq: i.seq,
                due_date: i.due_date.to_string(),
                status: status(i.status),
                paid: breakdown(&i.paid),
                unpaid: breakdown(&i.unpaid),
                paid_off_on: i.paid_off_on.map(|d| d.to_string()),
                days_late: i.days_late,
            })
            .collect(),
        explanation: a
            .explanation
            .into_iter()
            .map(|r| wit::Reason {
                rule: r.rule.to_owned(),
                detail: r.detail,
            })
            .collect(),
    }
}

fn status(status: Status) -> wit::InstallmentStatus {
    match status {
        Status::Paid => wit::InstallmentStatus::Paid,
        Status::PartiallyPaid => wit::InstallmentStatus::PartiallyPaid,
        Status::Overdue => wit::InstallmentStatus::Overdue,
        Status::DueToday => wit::InstallmentStatus::DueToday,
        Status::NotDue => wit::InstallmentStatus::NotDue,
    }
}
