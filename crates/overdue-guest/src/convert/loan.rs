//! A WIT loan, parsed and checked.

use postloan_domain::FieldError;
use postloan_domain::date::parse_date;
use postloan_domain::loan::{Installment, Loan, Pause, Payment};
use postloan_domain::money::{self, Currency};

use super::field_error;
use crate::exports::postloan::overdue::overdue::Error;
use crate::postloan::core::types as wit;

/// Parses and checks a WIT loan found at `path` (`loan`, or `loans[i]` for a borrower's).
pub fn loan(loan: wit::Loan, path: &str) -> Result<Loan, Error> {
    parse(loan).map_err(|e| field_error(e.rebased(path)))
}

/// Field errors come out with paths under `loan`; [`loan`] rebases them onto `path`.
fn parse(loan: wit::Loan) -> Result<Loan, FieldError> {
    let currency = Currency::parse("loan.currency", &loan.currency)?;
    let at = |list: &str, i: usize, name: &str| format!("loan.{list}[{i}].{name}");
    let installments = loan
        .installments
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let at = |name| at("installments", i, name);
            Ok(Installment {
                seq: item.seq,
                due_date: parse_date(&at("due_date"), &item.due_date)?,
                principal: currency.parse_amount(&at("principal"), &item.principal)?,
                interest: currency.parse_amount(&at("interest"), &item.interest)?,
                fees: currency.parse_amount(&at("fees"), &item.fees)?,
            })
        })
        .collect::<Result<_, FieldError>>()?;
    let reversed = |id: &str| loan.reversals.iter().any(|r| r.payment_id == id);
    let payments = loan
        .payments
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let at = |name| at("payments", i, name);
            let field = at("amount");
            // A reversed payment counts as never made; its amount need only be an amount, so
            // that one posted before its loan was booked, in decimals the loan's currency
            // does not have, can be reversed and the loan booked.
            let amount = if reversed(&item.id) {
                money::parse_amount(&field, &item.amount)?
            } else {
                currency.parse_amount(&field, &item.amount)?
            };
            Ok(Payment {
                value_date: parse_date(&at("value_date"), &item.value_date)?,
                amount,
                id: item.id,
            })
        })
        .collect::<Result<_, FieldError>>()?;
    let pauses = loan
        .pauses
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let at = |name| at("pauses", i, name);
            Ok(Pause {
                from: parse_date(&at("from"), &item.from)?,
                to: parse_date(&at("to"), &item.to)?,
                reason: item.reason,
            })
        })
        .collect::<Result<_, FieldError>>()?;
    let reversals = loan.reversals.into_iter().map(|r| r.payment_id).collect();
    Loan::new(loan.id, currency, installments, payments)?
        .with_reversals(reversals)?
        .with_pauses(pauses)
}
