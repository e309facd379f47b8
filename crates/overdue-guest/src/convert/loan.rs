//! A WIT loan, parsed and checked.

use postloan_domain::FieldError;
use postloan_domain::date::parse_date;
use postloan_domain::loan::{Installment, Loan, Pause, Payment};
use postloan_domain::money::{self, Currency, parse_non_negative};
use postloan_domain::reschedule::{ReAge, Relief, Reschedule, Restructure};

use super::field_error;
use super::schedule::{day_count, frequency, method};
use crate::exports::postloan::overdue::overdue::Error;
use crate::postloan::core::types as wit;

/// Parses and checks a WIT loan found at `path` (`loan`, or `loans[i]` for a borrower's).
pub fn loan(loan: wit::Loan, path: &str) -> Result<Loan, Error> {
    parse(loan).map_err(|e| field_error(e.rebased(path)))
}

/// Gives a field's error the field's path, built only then: building every field's path up
/// front was about a tenth of a page's assessment through Wasm (docs/benchmarks.md).
fn named<T>(parsed: Result<T, FieldError>, path: impl FnOnce() -> String) -> Result<T, FieldError> {
    parsed.map_err(|e| FieldError::new(path(), e.reason))
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
            let at = |name| move || at("installments", i, name);
            let amount = |text: &str| currency.parse_amount("", text);
            Ok(Installment {
                seq: item.seq,
                due_date: named(parse_date("", &item.due_date), at("due_date"))?,
                principal: named(amount(&item.principal), at("principal"))?,
                interest: named(amount(&item.interest), at("interest"))?,
                fees: named(amount(&item.fees), at("fees"))?,
            })
        })
        .collect::<Result<_, FieldError>>()?;
    let reversed = |id: &str| loan.reversals.iter().any(|r| r.payment_id == id);
    let payments = loan
        .payments
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let at = |name| move || at("payments", i, name);
            // A reversed payment counts as never made; its amount need only be an amount, so
            // that one posted before its loan was booked, in decimals the loan's currency
            // does not have, can be reversed and the loan booked.
            let amount = if reversed(&item.id) {
                money::parse_amount("", &item.amount)
            } else {
                currency.parse_amount("", &item.amount)
            };
            Ok(Payment {
                amount: named(amount, at("amount"))?,
                value_date: named(parse_date("", &item.value_date), at("value_date"))?,
                id: item.id,
            })
        })
        .collect::<Result<_, FieldError>>()?;
    let pauses = loan
        .pauses
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let at = |name| move || at("pauses", i, name);
            Ok(Pause {
                from: named(parse_date("", &item.from), at("from"))?,
                to: named(parse_date("", &item.to), at("to"))?,
                reason: item.reason,
            })
        })
        .collect::<Result<_, FieldError>>()?;
    let reschedules = loan
        .reschedules
        .into_iter()
        .enumerate()
        .map(|(i, item)| reschedule(item, || format!("loan.reschedules[{i}]")))
        .collect::<Result<_, FieldError>>()?;
    let reversals = loan.reversals.into_iter().map(|r| r.payment_id).collect();
    Loan::new(loan.id, currency, installments, payments)?
        .with_reversals(reversals)?
        .with_pauses(pauses)?
        .with_reschedules(reschedules)
}

fn reschedule(item: wit::Reschedule, path: impl Fn() -> String) -> Result<Reschedule, FieldError> {
    let at = |name: &'static str| {
        let path = &path;
        move || format!("{}.{name}", path())
    };
    let relief = match item.relief {
        wit::Relief::Restructure(r) => Relief::Restructure(Restructure {
            annual_rate: named(parse_non_negative("", &r.annual_rate), at("annual_rate"))?,
            term: r.term,
            frequency: frequency(r.frequency),
            method: method(r.method),
            first_due_date: named(parse_date("", &r.first_due_date), at("first_due_date"))?,
            day_count: day_count(r.day_count),
            capitalise: r.capitalise,
        }),
        wit::Relief::ReAge(r) => Relief::ReAge(ReAge {
            installments: r.installments,
            frequency: frequency(r.frequency),
            first_due_date: named(parse_date("", &r.first_due_date), at("first_due_date"))?,
        }),
    };
    Ok(Reschedule {
        on: named(parse_date("", &item.on), at("on"))?,
        relief,
    })
}
